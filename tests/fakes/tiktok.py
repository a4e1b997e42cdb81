"""A fake TikTok Content Posting API (platform-apis.md §1).

Answers in TikTok's envelope `{"data", "error": {"code", "message", "log_id"}}`,
checks bearer tokens and scopes, rotates refresh tokens on refresh, and walks
each publish through PROCESSING_DOWNLOAD for `processing_polls` status reads
before its final status.
"""
from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_server import Fault, FakeServer, Request, Response

PRIVACY_LEVELS = {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"}
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
PRIVATE_OPTIONS = ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
CREATOR_INFO_PER_MINUTE = 20  # per token, one-minute sliding window (§1.7)
# The other per-token limits (§1.7): every init endpoint shares one budget.
LIMITED = {"init": 6, "status": 30}
INIT_PATHS = {"/v2/post/publish/video/init/", "/v2/post/publish/inbox/video/init/", "/v2/post/publish/content/init/"}
STATUS = "/v2/post/publish/status/fetch/"


def envelope(data: dict[str, Any] | None = None, code: str = "ok", message: str = "") -> dict[str, Any]:
    return {"data": data or {}, "error": {"code": code, "message": message, "log_id": "202601010000000000FAKE"}}


def error_fault(status: int, code: str, message: str = "", **kw: Any) -> Fault:
    """A scripted TikTok error answer (the request has no effect)."""
    return Fault(status=status, body=envelope({}, code, message or code.replace("_", " ")), **kw)


@dataclass
class Publish:
    publish_id: str
    kind: str  # video | photo | inbox_video | inbox_photo
    body: dict[str, Any]
    polls_left: int
    final: dict[str, Any] = field(default_factory=dict)


class FakeTikTok(FakeServer):
    def __init__(self, client_key: str = "ck_test", client_secret: str = "cs_test") -> None:
        super().__init__()
        self.client_key = client_key
        self.client_secret = client_secret
        self.access_tokens: dict[str, set[str]] = {}   # token → scopes
        self.refresh_tokens: dict[str, set[str]] = {}  # refresh token → scopes
        self.open_id = "open_fake_1"
        self.expires_in = 7200
        self.publishes: dict[str, Publish] = {}
        self.processing_polls = 2
        # Final status: FAILED when fail_reason is set, else SEND_TO_USER_INBOX
        # for inbox uploads and PUBLISH_COMPLETE with these ids for direct posts.
        self.post_ids: list[int] = [7385912341234567890]
        self.fail_reason: str | None = None
        self._ids = itertools.count(123456789)
        # creator_info per access token (default: a public account, interactions on).
        self.creator: dict[str, dict[str, Any]] = {}
        self.creator_info_times: dict[str, list[float]] = defaultdict(list)  # token → call times
        self.creator_info_limited = 0  # calls refused with 429 for going over 20/min
        # Time for the sliding windows; a test on simulated time replaces it.
        self.clock = time.monotonic
        self.limited_times: dict[tuple[str, str], list[float]] = defaultdict(list)  # (kind, token) → call times
        self.limited: dict[str, int] = defaultdict(int)  # kind → calls refused with 429

    # -- test setup -----------------------------------------------------

    def add_account(self, access_token: str, refresh_token: str | None = None,
                    scopes: tuple[str, ...] = ("video.publish", "video.upload")) -> None:
        self.access_tokens[access_token] = set(scopes)
        if refresh_token:
            self.refresh_tokens[refresh_token] = set(scopes)

    def revoke_access(self, access_token: str) -> None:
        """The access token expired on TikTok's side (refresh still works)."""
        self.access_tokens.pop(access_token, None)

    def inits(self) -> list[Request]:
        return self.calls("POST", r"/v2/post/publish/(video|inbox/video|content)/init/")

    def set_creator(self, access_token: str, options: list[str] | None = None, **flags: bool) -> None:
        """What creator_info answers for this token: privacy options and
        comment_disabled / duet_disabled / stitch_disabled."""
        self.creator[access_token] = {"options": list(options or PUBLIC_OPTIONS), **flags}

    def creator_info_calls(self, access_token: str | None = None) -> list[Request]:
        return [r for r in self.calls("POST", CREATOR_INFO) if access_token is None or r.bearer == access_token]

    def max_per_minute(self, kind: str) -> int:
        """The most `kind` calls ("init", "status") any one token had accepted within 60 seconds."""
        worst = 0
        for (k, _), times in self.limited_times.items():
            if k == kind:
                for i, start in enumerate(times):
                    worst = max(worst, sum(1 for t in times[i:] if t - start < 60))
        return worst

    def max_creator_info_per_minute(self) -> int:
        """The most creator_info calls any one token made within 60 seconds."""
        worst = 0
        for times in self.creator_info_times.values():
            for i, start in enumerate(times):
                worst = max(worst, sum(1 for t in times[i:] if t - start < 60))
        return worst

    # -- protocol -------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(404, envelope({}, "not_found", "no such endpoint"))
        if request.path == "/v2/oauth/token/":
            return self._token(request)
        routes = {
            "/v2/post/publish/video/init/": self._video_init,
            "/v2/post/publish/inbox/video/init/": self._inbox_init,
            "/v2/post/publish/content/init/": self._content_init,
            "/v2/post/publish/status/fetch/": self._status,
            CREATOR_INFO: self._creator_info,
        }
        route = routes.get(request.path)
        if route is None:
            return Response(404, envelope({}, "not_found", "no such endpoint"))
        scopes = self.access_tokens.get(request.bearer or "")
        if scopes is None:
            return Response(401, envelope({}, "access_token_invalid",
                                          "The access token is invalid or not found in the request."))
        if not request.headers.get("content-type", "").startswith("application/json"):
            return Response(400, envelope({}, "invalid_param", "Content-Type must be application/json"))
        body = request.json if isinstance(request.json, dict) else {}
        kind = "init" if request.path in INIT_PATHS else "status" if request.path == STATUS else None
        if kind is not None and not self._within_limit(kind, request.bearer or ""):
            return Response(429, envelope({}, "rate_limit_exceeded", f"{kind}: {LIMITED[kind]} calls per minute"))
        if route == self._creator_info:
            return self._creator_info(request.bearer or "", scopes)
        level = (body.get("post_info") or {}).get("privacy_level")
        options = self.creator.get(request.bearer or "", {"options": PUBLIC_OPTIONS})["options"]
        if level in PRIVACY_LEVELS and level not in options:
            # What TikTok does with a level outside creator_info's options (§1.2).
            return Response(403, envelope({}, "privacy_level_option_mismatch",
                                          "privacy_level is not one of the creator's options"))
        return route(body, scopes)

    def _within_limit(self, kind: str, token: str) -> bool:
        now = self.clock()
        times = self.limited_times[(kind, token)]
        if sum(1 for t in times if now - t < 60) >= LIMITED[kind]:
            self.limited[kind] += 1
            return False
        times.append(now)
        return True

    def _creator_info(self, token: str, scopes: set[str]) -> Response:
        now = self.clock()
        recent = [t for t in self.creator_info_times[token] if now - t < 60]
        if len(recent) >= CREATOR_INFO_PER_MINUTE:
            self.creator_info_limited += 1
            return Response(429, envelope({}, "rate_limit_exceeded", "creator_info: 20 calls per minute"))
        self.creator_info_times[token].append(now)
        if "video.publish" not in scopes:
            return _scope_missing()
        creator = self.creator.get(token, {"options": PUBLIC_OPTIONS})
        return Response(200, envelope({
            "creator_avatar_url": "https://p16.tiktokcdn.example/avatar.jpeg", "creator_username": "fake.creator",
            "creator_nickname": "Fake Creator", "privacy_level_options": list(creator["options"]),
            "comment_disabled": bool(creator.get("comment_disabled")),
            "duet_disabled": bool(creator.get("duet_disabled")),
            "stitch_disabled": bool(creator.get("stitch_disabled")), "max_video_post_duration_sec": 600}))

    def _token(self, request: Request) -> Response:
        form = request.form
        if form.get("client_key") != self.client_key or form.get("client_secret") != self.client_secret:
            return Response(401, {"error": "invalid_client", "error_description": "Client key or secret is invalid.",
                                  "log_id": "fake"})
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "", "log_id": "fake"})
        scopes = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
        if scopes is None:
            return Response(400, {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired.",
                                  "log_id": "fake"})
        # Rotation: the old refresh token is gone, a new pair is issued.
        n = next(self._ids)
        access, refresh = f"act.rotated{n}", f"rft.rotated{n}"
        self.access_tokens[access] = scopes
        self.refresh_tokens[refresh] = scopes
        return Response(200, {"access_token": access, "expires_in": self.expires_in, "open_id": self.open_id,
                              "refresh_token": refresh, "refresh_expires_in": 15552000,
                              "scope": ",".join(sorted(scopes)), "token_type": "Bearer"})

    def _video_init(self, body: dict[str, Any], scopes: set[str]) -> Response:
        if "video.publish" not in scopes:
            return _scope_missing()
        post_info = body.get("post_info") or {}
        if post_info.get("privacy_level") not in PRIVACY_LEVELS:
            return Response(400, envelope({}, "invalid_param", "privacy_level is required"))
        if len(post_info.get("title", "").encode("utf-16-le")) // 2 > 2200:
            return Response(400, envelope({}, "invalid_param", "title too long"))
        error = _check_video_source(body)
        return error or self._created("v_pub_url~v2.", "video", body)

    def _inbox_init(self, body: dict[str, Any], scopes: set[str]) -> Response:
        if "video.upload" not in scopes:
            return _scope_missing()
        error = _check_video_source(body)
        return error or self._created("v_inbox_url~v2.", "inbox_video", body)

    def _content_init(self, body: dict[str, Any], scopes: set[str]) -> Response:
        mode = body.get("post_mode")
        if mode not in ("DIRECT_POST", "MEDIA_UPLOAD") or body.get("media_type") != "PHOTO":
            return Response(400, envelope({}, "invalid_param", "media_type/post_mode"))
        if ("video.publish" if mode == "DIRECT_POST" else "video.upload") not in scopes:
            return _scope_missing()
        source = body.get("source_info") or {}
        images = source.get("photo_images")
        if (source.get("source") != "PULL_FROM_URL" or not isinstance(images, list) or not 1 <= len(images) <= 35
                or not isinstance(source.get("photo_cover_index"), int)):
            return Response(400, envelope({}, "invalid_param", "source_info"))
        post_info = body.get("post_info") or {}
        if mode == "DIRECT_POST" and post_info.get("privacy_level") not in PRIVACY_LEVELS:
            return Response(400, envelope({}, "invalid_param", "privacy_level is required"))
        if len(post_info.get("description", "").encode("utf-16-le")) // 2 > 4000:
            return Response(400, envelope({}, "invalid_param", "description too long"))
        if len(post_info.get("title", "").encode("utf-16-le")) // 2 > 90:
            return Response(400, envelope({}, "invalid_param", "title too long"))
        if mode == "DIRECT_POST":
            return self._created("p_pub_url~v2.", "photo", body)
        return self._created("p_inbox_url~v2.", "inbox_photo", body)

    def _created(self, prefix: str, kind: str, body: dict[str, Any]) -> Response:
        publish_id = f"{prefix}{next(self._ids)}"
        if self.fail_reason:
            final = {"status": "FAILED", "fail_reason": self.fail_reason}
        elif kind.startswith("inbox"):
            final = {"status": "SEND_TO_USER_INBOX"}
        else:
            final = {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": list(self.post_ids)}
        self.publishes[publish_id] = Publish(publish_id, kind, body, self.processing_polls, final)
        return Response(200, envelope({"publish_id": publish_id}))

    def _status(self, body: dict[str, Any], scopes: set[str]) -> Response:
        publish = self.publishes.get(str(body.get("publish_id")))
        if publish is None:
            return Response(400, envelope({}, "invalid_publish_id", "The publish_id does not exist."))
        data: dict[str, Any] = {"status": "PROCESSING_DOWNLOAD", "fail_reason": "",
                                "publicaly_available_post_id": [], "uploaded_bytes": 0, "downloaded_bytes": 0}
        if publish.polls_left > 0:
            publish.polls_left -= 1
        else:
            data.update(publish.final, downloaded_bytes=10000)
        return Response(200, envelope(data))


def _scope_missing() -> Response:
    return Response(401, envelope({}, "scope_not_authorized",
                                  "The user did not authorize the scope required for completing this request."))


def _check_video_source(body: dict[str, Any]) -> Response | None:
    source = body.get("source_info") or {}
    if source.get("source") != "PULL_FROM_URL" or not str(source.get("video_url", "")).startswith("https://"):
        return Response(400, envelope({}, "invalid_param", "source_info.video_url must be an https URL"))
    return None
