"""TikTokAdapter against the fake Content Posting API."""
from __future__ import annotations

import logging
from typing import Any, Callable

import pytest

from layers_shared import clock
from layers_shared.platforms.port import Credentials, Delivery, Outcome
from layers_shared.platforms.tiktok import TikTokAdapter
from tests.fakes.http_server import Fault, closed_port_url
from tests.fakes.tiktok import FakeTikTok, error_fault

ACCESS, REFRESH = "act.initial-SECRET-access", "rft.initial-SECRET-refresh"
FUTURE = "2099-01-01T00:00:00Z"
VIDEO_INIT = "/v2/post/publish/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS = "/v2/post/publish/status/fetch/"
TOKEN = "/v2/oauth/token/"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
PHOTOS = [{"url": "https://media.example.com/1.jpg", "kind": "image"},
          {"url": "https://media.example.com/2.jpg", "kind": "image"}]


@pytest.fixture
def adapter(tiktok_server: FakeTikTok, timeouts: dict[str, float]) -> TikTokAdapter:
    return TikTokAdapter(base_url=tiktok_server.url, client_key="ck_test", client_secret="cs_test", **timeouts)


@pytest.fixture
def delivery(tiktok_server: FakeTikTok, make_post: Callable, make_account: Callable) -> Callable[..., Delivery]:
    tiktok_server.add_account(ACCESS, REFRESH)

    def build(expires_at: str | None = FUTURE, refresh_token: str | None = REFRESH, **post: Any) -> Delivery:
        return Delivery(post=make_post(**post), account=make_account(),
                        credentials=Credentials(ACCESS, refresh_token, expires_at, "open_fake_1"))
    return build


def run(adapter: TikTokAdapter, delivery: Delivery, max_polls: int = 10) -> Outcome:
    """Submit, then poll like the publisher would (persisting rotated credentials)."""
    outcome = adapter.submit(delivery)
    for _ in range(max_polls):
        if outcome.new_credentials:
            delivery.credentials = outcome.new_credentials
        if outcome.kind != "processing":
            break
        outcome = adapter.poll(delivery, outcome.state)
    return outcome


# -- success per media type and mode -------------------------------------

def test_video_publish_goes_through_processing_to_published(adapter, delivery, tiktok_server):
    tiktok_server.processing_polls = 3
    outcome = adapter.submit(delivery())
    assert outcome.kind == "processing" and outcome.state["publishId"].startswith("v_pub_url~v2.")

    kinds = []
    for _ in range(5):
        outcome = adapter.poll(delivery(), outcome.state)
        kinds.append(outcome.kind)
        if outcome.kind != "processing":
            break
    assert kinds == ["processing", "processing", "processing", "published"]
    assert outcome.external_id == "7385912341234567890"
    assert outcome.external_url == "https://www.tiktok.com/@acme/video/7385912341234567890"
    assert len(tiktok_server.inits()) == 1

    init = tiktok_server.calls("POST", VIDEO_INIT)[0]
    assert init.bearer == ACCESS
    assert init.headers["content-type"].startswith("application/json")
    assert init.json == {
        "post_info": {"title": "Morning pour #coffee", "privacy_level": "PUBLIC_TO_EVERYONE",
                      "disable_comment": False, "disable_duet": False, "disable_stitch": False,
                      "brand_content_toggle": False, "brand_organic_toggle": False},
        "source_info": {"source": "PULL_FROM_URL", "video_url": "https://media.example.com/a.mp4"},
    }


def test_video_settings_map_to_post_info_and_the_whole_caption_is_the_title(adapter, delivery, tiktok_server):
    caption = "a" * 2198 + "😀"  # exactly 2200 UTF-16 units: the emoji counts twice
    settings = {"privacyLevel": "SELF_ONLY", "disableComment": True, "disableDuet": True,
                "disableStitch": True, "isBrandedContent": True, "isBrandOrganic": True}
    assert run(adapter, delivery(caption=caption, tiktokPostSettings=settings)).kind == "published"
    info = tiktok_server.calls("POST", VIDEO_INIT)[0].json["post_info"]
    assert info["title"] == caption
    assert info["privacy_level"] == "SELF_ONLY"
    assert info["disable_comment"] and info["disable_duet"] and info["disable_stitch"]
    assert info["brand_content_toggle"] is True and info["brand_organic_toggle"] is True


@pytest.mark.parametrize("music, expected", [({"mode": "auto"}, True), ({"mode": "manual", "trackId": "t"}, True),
                                             ({"mode": "none"}, False), (None, False)])
def test_photo_publish_is_a_direct_photo_post_with_music_flag(adapter, delivery, tiktok_server, music, expected):
    post = delivery(mediaType="slideshow", media=PHOTOS, tiktokMusic=music,
                    caption="Two pours\nand a long description #coffee")
    outcome = run(adapter, post)
    assert outcome.kind == "published" and outcome.external_id == "7385912341234567890"
    body = tiktok_server.calls("POST", CONTENT_INIT)[0].json
    assert body["media_type"] == "PHOTO" and body["post_mode"] == "DIRECT_POST"
    assert body["source_info"] == {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                                   "photo_images": [m["url"] for m in PHOTOS]}
    info = body["post_info"]
    assert info["auto_add_music"] is expected
    assert info["title"] == "Two pours"
    assert info["description"] == "Two pours\nand a long description #coffee"
    assert info["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert info["brand_content_toggle"] is False and info["brand_organic_toggle"] is False


def test_single_image_publish(adapter, delivery, tiktok_server):
    outcome = run(adapter, delivery(mediaType="image", media=PHOTOS[:1]))
    assert outcome.kind == "published"
    assert tiktok_server.calls("POST", CONTENT_INIT)[0].json["source_info"]["photo_images"] == [PHOTOS[0]["url"]]


def test_video_draft_goes_to_the_inbox_and_ends_draft(adapter, delivery, tiktok_server):
    outcome = run(adapter, delivery(mode="draft"))
    assert outcome.kind == "draft"
    init = tiktok_server.calls("POST", "/v2/post/publish/inbox/video/init/")
    assert len(init) == 1
    assert init[0].json == {"source_info": {"source": "PULL_FROM_URL", "video_url": "https://media.example.com/a.mp4"}}
    assert not tiktok_server.calls("POST", VIDEO_INIT)


def test_photo_draft_is_a_media_upload_without_music_or_privacy(adapter, delivery, tiktok_server):
    outcome = run(adapter, delivery(mode="draft", mediaType="slideshow", media=PHOTOS))
    assert outcome.kind == "draft"
    body = tiktok_server.calls("POST", CONTENT_INIT)[0].json
    assert body["post_mode"] == "MEDIA_UPLOAD"
    assert "auto_add_music" not in body["post_info"] and "privacy_level" not in body["post_info"]


def test_publish_complete_without_public_id_uses_publish_id(adapter, delivery, tiktok_server):
    tiktok_server.post_ids = []  # a private / friends-only post
    outcome = run(adapter, delivery(tiktokPostSettings={"privacyLevel": "SELF_ONLY"}))
    assert outcome.kind == "published"
    assert outcome.external_id == next(iter(tiktok_server.publishes))
    assert outcome.external_url is None


def test_video_in_a_photo_post_is_refused_before_any_call(adapter, delivery, tiktok_server):
    media = PHOTOS + [{"url": "https://media.example.com/v.mp4", "kind": "video"}]
    outcome = adapter.submit(delivery(mediaType="slideshow", media=media))
    assert outcome.kind == "failed" and outcome.error.code == "UNSUPPORTED_MEDIA"
    assert tiktok_server.requests == []


# -- processing failures ---------------------------------------------------

@pytest.mark.parametrize("reason, kind", [("internal", "retry"), ("video_pull_failed", "retry"),
                                          ("file_format_check_failed", "failed"), ("spam_risk_text", "failed")])
def test_failed_status_maps_fail_reason(adapter, delivery, tiktok_server, reason, kind):
    tiktok_server.fail_reason = reason
    outcome = run(adapter, delivery())
    assert outcome.kind == kind
    assert outcome.error.platformCode == reason


def test_failed_draft_handoff_is_not_retried(adapter, delivery, tiktok_server):
    tiktok_server.fail_reason = "internal"  # retryable for direct posts, but a draft handoff never retries (seed)
    outcome = run(adapter, delivery(mode="draft"))
    assert outcome.kind == "failed" and outcome.error.platformCode == "internal"


def test_unknown_publish_id_fails(adapter, delivery):
    outcome = adapter.poll(delivery(), {"publishId": "v_pub_url~v2.nope"})
    assert outcome.kind == "failed" and outcome.error.platformCode == "invalid_publish_id"


def test_draft_that_the_creator_already_posted_is_still_a_draft(adapter, delivery, tiktok_server):
    state = adapter.submit(delivery(mode="draft")).state
    tiktok_server.publishes[state["publishId"]].final = {"status": "PUBLISH_COMPLETE",
                                                         "publicaly_available_post_id": [42]}
    tiktok_server.publishes[state["publishId"]].polls_left = 0
    outcome = adapter.poll(delivery(mode="draft"), state)
    assert outcome.kind == "draft" and outcome.external_id == "42"


# -- transient and permanent errors -----------------------------------------

def test_429_then_success(adapter, delivery, tiktok_server):
    tiktok_server.fault("POST", VIDEO_INIT, error_fault(429, "rate_limit_exceeded", headers={"Retry-After": "7"}))
    first = adapter.submit(delivery())
    assert first.kind == "retry" and first.error.code == "RATE_LIMITED"
    assert first.error.platformCode == "rate_limit_exceeded" and first.retry_after == 7.0
    assert run(adapter, delivery()).kind == "published"
    assert len(tiktok_server.publishes) == 1


@pytest.mark.parametrize("fault", [error_fault(500, "internal_error"), Fault(status=503, body="<html>busy</html>"),
                                   Fault(status=502)])
def test_server_errors_are_retried(adapter, delivery, tiktok_server, fault):
    tiktok_server.fault("POST", VIDEO_INIT, fault)
    outcome = adapter.submit(delivery())
    assert outcome.kind == "retry" and outcome.error.code == "PLATFORM_UNAVAILABLE"
    assert tiktok_server.publishes == {}


@pytest.mark.parametrize("status, code", [(403, "privacy_level_option_mismatch"), (400, "invalid_param"),
                                          (403, "unaudited_client_can_only_post_to_private_accounts"),
                                          (200, "spam_risk_too_many_posts")])  # HTTP 200, error anyway
def test_permanent_errors_fail_with_tiktok_code(adapter, delivery, tiktok_server, status, code):
    tiktok_server.fault("POST", VIDEO_INIT, error_fault(status, code, "explained by TikTok"))
    outcome = adapter.submit(delivery())
    assert outcome.kind == "failed"
    assert outcome.error.code == "PLATFORM_REJECTED" and outcome.error.platformCode == code
    assert outcome.error.message == "explained by TikTok"
    assert outcome.account_status is None


def test_status_read_errors_keep_polling_instead_of_resubmitting(adapter, delivery, tiktok_server):
    state = adapter.submit(delivery()).state
    tiktok_server.fault("POST", STATUS, error_fault(503, "internal_error"))
    tiktok_server.fault("POST", STATUS, Fault(delay=1.0))
    assert adapter.poll(delivery(), state).kind == "processing"
    assert adapter.poll(delivery(), state).kind == "processing"
    assert len(tiktok_server.inits()) == 1


# -- tokens ----------------------------------------------------------------

def test_invalid_token_is_refreshed_with_rotation_and_retried_once(adapter, delivery, tiktok_server):
    clock.set_now(clock.parse_instant("2026-03-01T10:00:00Z"))
    try:
        tiktok_server.revoke_access(ACCESS)
        outcome = adapter.submit(delivery())
    finally:
        clock.set_now(None)
    assert outcome.kind == "processing"
    creds = outcome.new_credentials
    assert creds is not None and creds.access_token.startswith("act.rotated")
    assert creds.refresh_token.startswith("rft.rotated") and creds.refresh_token != REFRESH
    assert creds.expires_at == "2026-03-01T12:00:00.000Z"  # now + expires_in (7200 s)
    assert creds.platform_user_id == "open_fake_1"
    assert REFRESH not in tiktok_server.refresh_tokens  # the old one no longer works

    token_call = tiktok_server.calls("POST", TOKEN)[0]
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token_call.form == {"client_key": "ck_test", "client_secret": "cs_test",
                               "grant_type": "refresh_token", "refresh_token": REFRESH}
    # The refused call is creator_info, read before the init; no init is ever refused.
    info_calls = tiktok_server.creator_info_calls()
    assert [r.bearer for r in info_calls] == [ACCESS, creds.access_token]
    assert [r.bearer for r in tiktok_server.inits()] == [creds.access_token]
    assert len(tiktok_server.publishes) == 1


def test_expired_credentials_are_refreshed_before_the_call(adapter, delivery, tiktok_server):
    outcome = adapter.submit(delivery(expires_at="2020-01-01T00:00:00Z"))
    assert outcome.kind == "processing" and outcome.new_credentials is not None
    assert [r.path for r in tiktok_server.requests] == [TOKEN, CREATOR_INFO, VIDEO_INIT]  # nothing refused first
    assert tiktok_server.inits()[0].bearer == outcome.new_credentials.access_token


def test_refresh_during_poll_carries_new_credentials(adapter, delivery, tiktok_server):
    tiktok_server.processing_polls = 0
    state = adapter.submit(delivery()).state
    tiktok_server.revoke_access(ACCESS)
    outcome = adapter.poll(delivery(), state)
    assert outcome.kind == "published" and outcome.new_credentials is not None


@pytest.mark.parametrize("fault", [Fault(status=503), Fault(drop=True)])
def test_transient_refresh_failure_while_polling_keeps_polling(adapter, delivery, tiktok_server, fault):
    # The init went out and TikTok holds a publish_id: a "retry" here would make
    # the publisher init again (a second post). A failed refresh is only a failed read.
    state = adapter.submit(delivery()).state
    tiktok_server.revoke_access(ACCESS)
    tiktok_server.fault("POST", TOKEN, fault)
    outcome = adapter.poll(delivery(), state)
    assert outcome.kind == "processing" and outcome.state == state
    assert outcome.error is not None and outcome.account_status is None
    assert len(tiktok_server.inits()) == 1


def test_rotated_credentials_are_kept_even_when_the_call_then_fails(adapter, delivery, tiktok_server):
    tiktok_server.fault("POST", VIDEO_INIT, error_fault(429, "rate_limit_exceeded"))
    outcome = adapter.submit(delivery(expires_at="2020-01-01T00:00:00Z"))
    assert outcome.kind == "retry"
    assert outcome.new_credentials is not None  # the old refresh token is dead: never lose the new one


def test_a_refresh_raced_by_another_worker_uses_the_stored_rotation(adapter, delivery, tiktok_server):
    # Two posts of one account, both holding the expired token: the first
    # refresh rotates the refresh token, so the second one's refresh is refused.
    # That is not a revoked authorization: the vault already holds the new pair.
    first = adapter.submit(delivery(expires_at="2020-01-01T00:00:00Z"))
    stored = first.new_credentials
    assert first.kind == "processing" and stored is not None
    second = delivery(expires_at="2020-01-01T00:00:00Z")
    second.reload_credentials = lambda: stored
    outcome = adapter.submit(second)
    assert outcome.kind == "processing" and outcome.account_status is None
    assert [r.bearer for r in tiktok_server.inits()] == [stored.access_token] * 2
    assert len(tiktok_server.calls("POST", TOKEN)) == 2


def test_a_refused_refresh_with_nothing_newer_stored_still_requires_reauth(adapter, delivery, tiktok_server):
    lost = delivery(expires_at="2020-01-01T00:00:00Z", refresh_token="rft.unknown")
    lost.reload_credentials = lambda: Credentials(ACCESS, "rft.unknown", "2020-01-01T00:00:00Z")
    outcome = adapter.submit(lost)
    assert outcome.kind == "failed" and outcome.account_status == "reauth_required"
    assert tiktok_server.inits() == []


@pytest.mark.parametrize("refresh_token", ["rft.unknown", None])
def test_refresh_failure_requires_reauth(adapter, delivery, tiktok_server, refresh_token):
    tiktok_server.revoke_access(ACCESS)
    outcome = adapter.submit(delivery(refresh_token=refresh_token))
    assert outcome.kind == "failed" and outcome.account_status == "reauth_required"
    if refresh_token:
        assert outcome.error.platformCode == "invalid_grant"
    assert len(tiktok_server.publishes) == 0


def test_refresh_rejected_by_http_200_error_field_requires_reauth(adapter, delivery, tiktok_server):
    tiktok_server.fault("POST", TOKEN, Fault(status=200, body={"error": "invalid_grant",
                                                              "error_description": "expired", "log_id": "x"}))
    outcome = adapter.submit(delivery(expires_at="2020-01-01T00:00:00Z"))
    assert outcome.kind == "failed" and outcome.account_status == "reauth_required"
    assert tiktok_server.inits() == []


@pytest.mark.parametrize("code", ["scope_not_authorized", "scope_permission_missed"])
def test_missing_scope_requires_reauth(adapter, delivery, tiktok_server, code):
    tiktok_server.fault("POST", VIDEO_INIT, error_fault(401, code))
    outcome = adapter.submit(delivery())
    assert outcome.kind == "failed" and outcome.account_status == "reauth_required"
    assert outcome.error.platformCode == code
    assert tiktok_server.calls("POST", TOKEN) == []  # refreshing cannot add a scope


def test_scope_missing_on_the_fake_account(tiktok_server, timeouts, make_post, make_account):
    tiktok_server.add_account("act.upload-only", scopes=("video.upload",))
    adapter = TikTokAdapter(base_url=tiktok_server.url, client_key="ck_test", client_secret="cs_test", **timeouts)
    outcome = adapter.submit(Delivery(make_post(), make_account(), Credentials("act.upload-only")))
    assert outcome.account_status == "reauth_required" and outcome.error.platformCode == "scope_not_authorized"


def test_tokens_never_reach_errors_or_logs(adapter, delivery, tiktok_server, caplog):
    caplog.set_level(logging.DEBUG)
    leaky = f"token {ACCESS} rejected; client secret cs_test"
    tiktok_server.fault("POST", VIDEO_INIT, error_fault(403, "url_ownership_unverified", leaky))
    rejected = adapter.submit(delivery())
    assert rejected.error.message == "token [redacted] rejected; client secret [redacted]"
    tiktok_server.revoke_access(ACCESS)
    refreshed = adapter.submit(delivery())
    refused = adapter.submit(delivery(refresh_token="rft.unknown"))
    texts = [rejected.error.message, refused.error.message, repr(refreshed), repr(refused)]
    texts += [r.getMessage() for r in caplog.records]
    for text in texts:
        for secret in (ACCESS, REFRESH, "cs_test", "act.rotated", "rft.rotated"):
            assert secret not in text
    assert refreshed.new_credentials is not None


# -- lost answers: never a second init ---------------------------------------

def test_timeout_after_init_is_unknown_and_confirm_never_reinits(adapter, delivery, tiktok_server, slow):
    tiktok_server.fault("POST", VIDEO_INIT, Fault(delay=slow))  # TikTok creates the post, the answer is late
    outcome = adapter.submit(delivery())
    assert outcome.kind == "unknown" and outcome.state == {}
    assert len(tiktok_server.publishes) == 1

    confirmed = adapter.confirm(delivery(), outcome.state)
    assert confirmed.kind == "failed" and confirmed.error.code == "SUBMIT_OUTCOME_UNKNOWN"
    assert len(tiktok_server.inits()) == 1


def test_dropped_connection_after_init_is_unknown(adapter, delivery, tiktok_server):
    tiktok_server.fault("POST", CONTENT_INIT, Fault(drop=True))
    assert adapter.submit(delivery(mediaType="slideshow", media=PHOTOS)).kind == "unknown"
    assert len(tiktok_server.inits()) == 1


def test_confirm_with_a_publish_id_reads_the_status(adapter, delivery, tiktok_server):
    tiktok_server.processing_polls = 0
    state = adapter.submit(delivery()).state
    outcome = adapter.confirm(delivery(), state)
    assert outcome.kind == "published"
    assert len(tiktok_server.inits()) == 1


def test_init_that_never_left_is_retried(make_post, make_account, timeouts):
    adapter = TikTokAdapter(base_url=closed_port_url(), client_key="k", client_secret="s", **timeouts)
    outcome = adapter.submit(Delivery(make_post(), make_account(), Credentials(ACCESS, REFRESH, FUTURE)))
    assert outcome.kind == "retry" and outcome.error.code == "NETWORK_ERROR"


def test_base_url_and_app_credentials_come_from_the_environment(monkeypatch, tiktok_server, delivery):
    monkeypatch.setenv("TIKTOK_API_BASE", tiktok_server.url)
    monkeypatch.setenv("TIKTOK_CLIENT_KEY", "ck_test")
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET", "cs_test")
    outcome = TikTokAdapter(read_timeout=0.3).submit(delivery(expires_at="2020-01-01T00:00:00Z"))
    assert outcome.kind == "processing" and outcome.new_credentials is not None
    monkeypatch.delenv("TIKTOK_API_BASE")
    assert TikTokAdapter().base_url == "https://open.tiktokapis.com"
