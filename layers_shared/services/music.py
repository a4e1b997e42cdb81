"""GET /v1/tiktok-music: the catalog, most used first (GSI1 `MUSIC`, whose sort
key is the zero-padded `userCount`)."""
from __future__ import annotations

from typing import Any

from layers_shared.http.api import Request, Response
from layers_shared.models.entities import MusicTrack
from layers_shared.store import keys
from layers_shared.store.table import Table


def catalog(table: Table) -> list[MusicTrack]:
    tracks: list[MusicTrack] = []
    start: dict[str, Any] | None = None
    while True:
        rows, start = table.query("GSI1", "GSI1PK", keys.MUSIC_INDEX, forward=False, start=start)
        tracks += [MusicTrack.model_validate(r) for r in rows if r.get("type") == "MUSIC"]
        if start is None:
            return tracks


def track_view(track: MusicTrack) -> dict[str, Any]:
    duration = track.duration
    return {
        "id": track.id,
        "title": track.title,
        "author": track.author,
        "album": track.album,
        "duration": int(duration) if float(duration).is_integer() else duration,
        "previewUrl": track.previewUrl,
        "coverUrl": track.coverUrl,
        "language": track.language,
        "userCount": track.userCount,
        "isCommerceMusic": track.isCommerceMusic,
    }


def list_music(req: Request) -> Response:
    tracks = catalog(req.table)
    return Response(200, {"tracks": [track_view(t) for t in tracks], "total": len(tracks)})
