"""A fake Instagram Graph API for content publishing (platform-apis.md §2).

Base URL is `<server>/v21.0`. Tokens arrive as `Authorization: Bearer`;
errors use Graph's `{"error": {"message", "type", "code", "error_subcode",
"is_transient", "fbtrace_id"}}`. Video containers stay IN_PROGRESS for
`container_polls` status reads; images and carousels are FINISHED at once.
"""
from __future__ import annotations

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_server import Fault, FakeServer, Request, Response

VERSION = "v21.0"
PERSONAL_ACCOUNT_MESSAGE = "(#10) Application does not have permission for this action"


def graph_error(code: int, message: str, subcode: int | None = None, *, is_transient: bool = False,
                type: str = "OAuthException") -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": type, "code": code, "is_transient": is_transient,
                             "fbtrace_id": "AFakeTraceId"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def error_fault(status: int, code: int, message: str, subcode: int | None = None, **kw: Any) -> Fault:
    """A scripted Graph error answer (the request has no effect)."""
    is_transient = kw.pop("is_transient", False)
    return Fault(status=status, body=graph_error(code, message, subcode, is_transient=is_transient), **kw)


@dataclass
class Container:
    id: str
    owner: str
    params: dict[str, str]
    status_code: str = "FINISHED"
    polls_left: int = 0
    media_id: str | None = None


@dataclass
class Media:
    id: str
    owner: str
    caption: str
    permalink: str
    timestamp: str
    comments: list[dict[str, str]] = field(default_factory=list)


class FakeInstagram(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, str] = {}        # token → ig user id
        self.account_types: dict[str, str] = {}  # ig user id → business | creator | personal
        self.containers: dict[str, Container] = {}
        self.media: list[Media] = []             # newest first, like Graph lists them
        self.container_polls = 2
        self._ids = itertools.count(17890000000001)
        # The publishing quota (§2.6): media_publish calls per account in a
        # moving 24 h; a test on simulated time replaces the clock.
        self.quota_total = 50
        self.clock = time.time
        self.published_at: dict[str, list[float]] = defaultdict(list)
        self.quota_refused = 0

    @property
    def base_url(self) -> str:
        return f"{self.url}/{VERSION}"

    def add_account(self, token: str, ig_user_id: str, account_type: str = "business") -> None:
        self.tokens[token] = ig_user_id
        self.account_types[ig_user_id] = account_type

    def add_media(self, owner: str, caption: str, timestamp: str = "2020-01-01T00:00:00+0000") -> Media:
        media = Media(str(next(self._ids)), owner, caption, f"https://www.instagram.com/p/OLD{len(self.media)}/",
                      timestamp)
        self.media.insert(0, media)
        return media

    def publishes(self) -> list[Request]:
        return self.calls("POST", rf"/{VERSION}/[^/]+/media_publish")

    # -- protocol -------------------------------------------------------

    def handle(self, request: Request) -> Response:
        prefix = f"/{VERSION}/"
        if not request.path.startswith(prefix):
            return Response(400, graph_error(2500, "Unknown path components"))
        if "access_token" in request.params:
            return Response(400, graph_error(100, "this fake expects the token in the header only"))
        user = self.tokens.get(request.bearer or "")
        if user is None:
            return Response(400, graph_error(190, "Error validating access token: Session has expired.", 463))
        parts = request.path[len(prefix):].strip("/").split("/")
        if len(parts) == 1 and request.method == "GET":
            return self._read(parts[0], request)
        if len(parts) == 2:
            node, edge = parts
            if edge in ("media", "media_publish") and node != user:
                return Response(400, graph_error(
                    100, "Unsupported request - object does not exist, cannot be loaded due to missing permissions",
                    33, type="GraphMethodException"))
            if edge in ("media", "media_publish") and self.account_types.get(user) == "personal":
                return Response(400, graph_error(10, PERSONAL_ACCOUNT_MESSAGE))
            if (edge, request.method) == ("media", "POST"):
                return self._create(user, request.params)
            if (edge, request.method) == ("media", "GET"):
                return self._list(user)
            if (edge, request.method) == ("media_publish", "POST"):
                return self._publish(user, request.params)
            if edge == "comments":
                return self._comments(node, request)
            if (edge, request.method) == ("content_publishing_limit", "GET") and node == user:
                return Response(200, {"data": [{"quota_usage": self._used(user), "config": {
                    "quota_total": self.quota_total, "quota_duration": 86400}}]})
        return Response(400, graph_error(100, "Unsupported request"))

    def _create(self, user: str, params: dict[str, str]) -> Response:
        media_type = params.get("media_type")
        polls = 0
        if params.get("is_carousel_item") == "true":
            if not (params.get("image_url") or (media_type == "VIDEO" and params.get("video_url"))):
                return Response(400, graph_error(100, "The parameter image_url or video_url is required"))
            polls = self.container_polls if media_type == "VIDEO" else 0
        elif media_type == "CAROUSEL":
            children = [c for c in params.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 10:
                return Response(400, graph_error(100, "Carousel must have 2 to 10 children", 2207028))
            for child in children:
                container = self.containers.get(child)
                if container is None or container.owner != user or container.status_code != "FINISHED":
                    return Response(400, graph_error(9007, "Media ID is not available", 2207027))
        elif media_type == "REELS":
            if not params.get("video_url") or params.get("share_to_feed") not in (None, "true", "false"):
                return Response(400, graph_error(100, "Invalid parameter"))
            polls = self.container_polls
        elif media_type in (None, "IMAGE"):
            if not params.get("image_url"):
                return Response(400, graph_error(100, "The parameter image_url is required"))
        else:
            return Response(400, graph_error(100, f"media_type {media_type} is not supported"))
        container = Container(str(next(self._ids)), user, dict(params),
                              "IN_PROGRESS" if polls else "FINISHED", polls)
        self.containers[container.id] = container
        return Response(200, {"id": container.id})

    def _read(self, node: str, request: Request) -> Response:
        fields = request.query.get("fields", "id").split(",")
        container = self.containers.get(node)
        if container is not None:
            if container.status_code == "IN_PROGRESS":
                if container.polls_left > 0:
                    container.polls_left -= 1
                else:
                    container.status_code = "FINISHED"
            status = {"IN_PROGRESS": "In Progress", "FINISHED": "Finished", "PUBLISHED": "Published",
                      "EXPIRED": "Expired", "ERROR": "Error: The video format is not supported. 2207026"}
            return Response(200, _pick({"id": container.id, "status_code": container.status_code,
                                        "status": status.get(container.status_code, "")}, fields))
        media = self._media(node)
        if media is not None:
            return Response(200, _pick({"id": media.id, "caption": media.caption, "permalink": media.permalink,
                                        "timestamp": media.timestamp}, fields))
        return Response(400, graph_error(100, "Unsupported get request. Object does not exist", 33,
                                         type="GraphMethodException"))

    def _publish(self, user: str, params: dict[str, str]) -> Response:
        container = self.containers.get(params.get("creation_id", ""))
        if container is None or container.owner != user:
            return Response(400, graph_error(100, "Invalid parameter"))
        if container.status_code == "IN_PROGRESS":
            return Response(400, graph_error(9007, "Media ID is not available", 2207027))
        if container.status_code != "FINISHED":
            return Response(400, graph_error(100, "The media has already been published or is not publishable"))
        if self._used(user) >= self.quota_total:
            self.quota_refused += 1
            return Response(400, graph_error(9, "Application request limit reached", 2207042))
        self.published_at[user].append(self.clock())
        kind = "reel" if container.params.get("media_type") == "REELS" else "p"
        media = Media(str(next(self._ids)), user, container.params.get("caption", ""),
                      f"https://www.instagram.com/{kind}/C{len(self.media):04d}xyz/", "2026-01-01T00:00:05+0000")
        self.media.insert(0, media)
        container.status_code, container.media_id = "PUBLISHED", media.id
        return Response(200, {"id": media.id})

    def _list(self, user: str) -> Response:
        data = [{"id": m.id, "caption": m.caption, "permalink": m.permalink, "timestamp": m.timestamp}
                for m in self.media if m.owner == user]
        return Response(200, {"data": data[:25], "paging": {}})

    def _comments(self, node: str, request: Request) -> Response:
        media = self._media(node)
        if media is None:
            return Response(400, graph_error(100, "Unsupported request"))
        if request.method == "POST":
            message = request.params.get("message")
            if not message:
                return Response(400, graph_error(100, "The parameter message is required"))
            comment = {"id": str(next(self._ids)), "text": message}
            media.comments.append(comment)
            return Response(200, {"id": comment["id"]})
        return Response(200, {"data": list(media.comments)})

    def _used(self, user: str) -> int:
        now = self.clock()
        return sum(1 for t in self.published_at[user] if now - t < 86400)

    def _media(self, media_id: str) -> Media | None:
        return next((m for m in self.media if m.id == media_id), None)


def _pick(obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k in fields or k == "id"}
