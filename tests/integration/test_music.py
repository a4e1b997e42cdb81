"""GET /v1/tiktok-music over HTTP: the catalog, most used first."""
from __future__ import annotations

from tests.support import NO_SCOPE_KEY, READ_KEY, WRITE_KEY, assert_envelope, track


def test_tracks_sorted_by_popularity_with_the_documented_fields(api):
    reply = api.get("/v1/tiktok-music", key=READ_KEY)
    assert reply.status == 200, reply.body
    tracks = reply.body["tracks"]
    assert reply.body["total"] == len(tracks) == 3
    assert [t["id"] for t in tracks] == [track(3), track(1), track(2)]
    assert [t["userCount"] for t in tracks] == [1500000, 412980, 98000]
    sunset = tracks[1]
    assert sunset == {
        "id": track(1), "title": "Sunset Drive", "author": "Mae & Co", "album": "", "duration": 28,
        "previewUrl": "https://media.example.com/music/1.mp3", "coverUrl": "https://media.example.com/music/1.jpg",
        "language": "en", "userCount": 412980, "isCommerceMusic": True,
    }
    assert tracks[0]["isCommerceMusic"] is False and tracks[0]["language"] == "pt"


def test_new_tracks_take_their_place_by_user_count(api, stack):
    from layers_shared.models.entities import MusicTrack
    from layers_shared.store import items

    stack.table.put(items.to_item(MusicTrack(id=track(40), title="Middle", userCount=200000, duration=12.5)))
    stack.table.put(items.to_item(MusicTrack(id=track(41), title="Viral", userCount=99_000_000)))
    tracks = api.get("/v1/tiktok-music", key=READ_KEY).body["tracks"]
    assert [t["userCount"] for t in tracks] == sorted((t["userCount"] for t in tracks), reverse=True)
    assert tracks[0]["id"] == track(41)
    assert next(t for t in tracks if t["id"] == track(40))["duration"] == 12.5


def test_scope_publish_read(api):
    assert assert_envelope(api.get("/v1/tiktok-music", key=WRITE_KEY), 403, "FORBIDDEN_SCOPE") == \
        {"requiredScope": "publish:read"}
    assert_envelope(api.get("/v1/tiktok-music", key=NO_SCOPE_KEY), 403, "FORBIDDEN_SCOPE")
