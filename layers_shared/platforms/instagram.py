"""Instagram Graph API content publishing adapter (platform-apis.md §2).

Publishing is two-step: a media container is created (Meta fetches and
processes the media), then `media_publish` makes it live. Creating containers
is harmless to repeat (an unpublished one expires after 24 h); `media_publish`
is not, so after a lost answer we read the container's `status_code` and only
publish while it still says FINISHED.

`draft` mode has no Graph equivalent: the media and caption are texted to the
organization's primary operator through the messaging port.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from layers_shared import clock, config
from layers_shared.http_client import HttpClient, HttpResponse, NotSent, OutcomeUnknown
from layers_shared.messaging.port import (
    Message, MessagingPort, Part, ProviderRejected, ProviderUnavailable, SendOutcomeUnknown,
)
from layers_shared.models.entities import LastError, ScheduledPost
from layers_shared.platforms.port import Delivery, Outcome

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://graph.facebook.com/v21.0"
RECENT_MEDIA_LIMIT = 25
# Media published before the claim (minus clock slack) cannot be ours.
RECOVERY_SLACK = timedelta(minutes=10)
# Tries at a first comment Instagram refuses for now; the post is live meanwhile.
FIRST_COMMENT_TRIES = 3

_RATE_LIMIT_CODES = {4, 17, 32, 613}
_PERMISSION_CODES = {10, 200}
_TRANSIENT_SUBCODES = {2207001, 2207032, 2207053, 2207003, 2207008}
_PERMANENT_SUBCODES = {2207051, 2207050}  # spam restriction, restricted account


class InstagramAdapter:
    def __init__(self, base_url: str | None = None, messaging: MessagingPort | None = None, *,
                 connect_timeout: float = 3.0, read_timeout: float = 10.0, http: HttpClient | None = None):
        self.base_url = base_url or config.env("INSTAGRAM_GRAPH_BASE", DEFAULT_BASE) or DEFAULT_BASE
        self.messaging = messaging
        self.http = http or HttpClient(self.base_url, connect_timeout=connect_timeout, read_timeout=read_timeout)

    # -- the port -------------------------------------------------------

    def submit(self, delivery: Delivery) -> Outcome:
        post = delivery.post
        if post.mode == "draft":
            return self._draft(delivery, {}, confirming=False)
        if post.mode != "publish":
            return Outcome.failed("UNSUPPORTED_MODE", f"The Instagram adapter does not deliver mode {post.mode!r}.")
        if not post.media:
            return Outcome.failed("NO_MEDIA", "The post has no media.")
        held = delivery.pacing.held_by_platform() if delivery.pacing is not None else None
        if held is not None:  # Meta's usage headers asked for a pause (issue 13)
            return held
        graph = self._graph(delivery)
        if isinstance(graph, Outcome):
            return graph
        if (post.platformState or {}).get("containerId"):
            # A resubmit after media_publish failed: a 5xx does not prove that
            # nothing went live, so read the container (and publish it) first.
            return self._advance(graph, delivery, dict(post.platformState or {}))
        left = graph.quota_left() if graph.pacing is not None else None
        if left is not None and left <= 0:
            # Wait before the container exists: it expires 24 h after it is
            # made, about when the quota's window frees a post.
            from layers_shared.platforms.pacing import quota_full

            return quota_full({})
        if post.mediaType == "slideshow":
            return self._create_carousel_items(graph, post)
        media = post.media[0]
        if post.mediaType == "video":
            share = True if post.shareReelToFeed is None else post.shareReelToFeed
            params = {"media_type": "REELS", "video_url": media.url, "caption": post.caption or "",
                      "share_to_feed": _bool(share)}
        else:
            params = {"image_url": media.url, "caption": post.caption or ""}
        created = graph.create_container(params)
        if isinstance(created, Outcome):
            return created
        return Outcome("processing", state={"containerId": created})

    def poll(self, delivery: Delivery, state: dict[str, Any]) -> Outcome:
        if delivery.post.mode == "draft":
            return self._draft(delivery, state, confirming=True)
        held = delivery.pacing.held_by_platform() if delivery.pacing is not None else None
        if held is not None:  # the publisher keeps the container ids it holds
            return held
        graph = self._graph(delivery)
        if isinstance(graph, Outcome):
            return graph
        if state.get("mediaId"):  # live already; only its first comment is pending
            return self._first_comment(graph, delivery, dict(state))
        if state.get("containerId"):
            return self._advance(graph, delivery, dict(state))
        if state.get("childIds"):
            return self._children(graph, delivery, dict(state))
        return Outcome.failed("INVALID_STATE", "no Instagram container to poll")

    def confirm(self, delivery: Delivery, state: dict[str, Any]) -> Outcome:
        if delivery.post.mode == "draft":
            return self._draft(delivery, state, confirming=True)
        if not state.get("containerId") and not state.get("childIds") and not state.get("mediaId"):
            # A submit publishes only a container it recorded beforehand (a
            # resubmit after a failed media_publish), so with none recorded
            # the lost answer was a container creation: nothing is live, and
            # an orphan container is never published and expires.
            return Outcome.retry("NOT_PUBLISHED", "The answer from Instagram was lost before a media container "
                                 "was recorded; nothing was published.")
        # Polling reads the container first, so it never publishes twice:
        # PUBLISHED recovers the media, FINISHED means the lost publish did not happen.
        return self.poll(delivery, state)

    # -- publish mode ---------------------------------------------------

    def _graph(self, delivery: Delivery) -> "_Graph | Outcome":
        creds = delivery.credentials
        ig_user = (creds.platform_user_id if creds else None) or delivery.account.platformUserId
        if creds is None or not creds.access_token or not ig_user:
            return Outcome.failed("NO_CREDENTIALS", "The Instagram account has no stored token or user id.",
                                  account_status="reauth_required")
        graph = _Graph(self.http, creds.access_token, ig_user)
        graph.pacing = delivery.pacing
        return graph

    def _create_carousel_items(self, graph: "_Graph", post: ScheduledPost) -> Outcome:
        child_ids: list[str] = []
        for media in post.media:
            params = ({"media_type": "VIDEO", "video_url": media.url} if media.kind == "video"
                      else {"image_url": media.url})
            params["is_carousel_item"] = "true"
            created = graph.create_container(params)
            if isinstance(created, Outcome):
                return created
            child_ids.append(created)
        state: dict[str, Any] = {"childIds": child_ids}
        if any(m.kind == "video" for m in post.media):
            # Video items must finish processing before the carousel may name them.
            return Outcome("processing", state=state)
        return self._create_carousel(graph, post, state)

    def _create_carousel(self, graph: "_Graph", post: ScheduledPost, state: dict[str, Any]) -> Outcome:
        created = graph.create_container({"media_type": "CAROUSEL", "children": ",".join(state["childIds"]),
                                          "caption": post.caption or ""})
        if isinstance(created, Outcome):
            return _keep_polling(created, state)
        return Outcome("processing", state={**state, "containerId": created})

    def _children(self, graph: "_Graph", delivery: Delivery, state: dict[str, Any]) -> Outcome:
        for child in state["childIds"]:
            status = graph.container_status(child)
            if isinstance(status, Outcome):
                return _keep_polling(status, state)
            code, text = status
            if code in ("ERROR", "EXPIRED"):
                return _container_failed(code, text)
            if code != "FINISHED":
                return Outcome("processing", state=state)
        return self._create_carousel(graph, delivery.post, state)

    def _advance(self, graph: "_Graph", delivery: Delivery, state: dict[str, Any]) -> Outcome:
        status = graph.container_status(state["containerId"])
        if isinstance(status, Outcome):
            return _keep_polling(status, state)
        code, text = status
        if code == "FINISHED":
            return self._publish(graph, delivery, state)
        if code == "PUBLISHED":
            return self._recover(graph, delivery, state)
        if code in ("ERROR", "EXPIRED"):
            return _container_failed(code, text)
        return Outcome("processing", state=state)

    def _publish(self, graph: "_Graph", delivery: Delivery, state: dict[str, Any]) -> Outcome:
        left = graph.quota_left() if graph.pacing is not None else None
        if left is not None and left <= 0:
            # Over the quota media_publish is refused anyway (and the refusal
            # is one more call against the app's usage).
            from layers_shared.platforms.pacing import quota_full

            return quota_full(state)
        try:
            resp = graph.post(f"/{graph.ig_user}/media_publish", {"creation_id": state["containerId"]})
        except NotSent:
            # Never left: the container is still FINISHED and the next poll publishes it.
            return Outcome("processing", state=state,
                           error=LastError(code="NETWORK_ERROR", message="media_publish did not reach Instagram"))
        except OutcomeUnknown:
            return Outcome("unknown", state=state, error=LastError(
                code="SUBMIT_OUTCOME_UNKNOWN", message="media_publish was sent but no answer came back."))
        if not _ok(resp):
            outcome = graph.error(resp)
            if graph.pacing is not None and outcome.error is not None and outcome.error.code == "QUOTA_REACHED":
                from layers_shared.platforms.pacing import quota_full

                return quota_full(state)  # nothing went live: wait for the window, spend no attempt
            if outcome.kind in ("retry", "processing"):
                outcome.state = state
            return outcome
        media_id = _json(resp).get("id")
        if not media_id:
            return Outcome("unknown", state=state, error=LastError(
                code="SUBMIT_OUTCOME_UNKNOWN", message="media_publish answered without a media id."))
        media_id = str(media_id)
        return self._first_comment(graph, delivery, {"mediaId": media_id, "permalink": graph.permalink(media_id)},
                                   checked=True)

    def _first_comment(self, graph: "_Graph", delivery: Delivery, live: dict[str, Any], *,
                       checked: bool = False) -> Outcome:
        """The post is live: post its first comment, trying again on later
        polls while Instagram refuses it for now (a few times, then the post is
        published without it). `checked`: we know there is no comment yet;
        otherwise read first, so a comment whose answer was lost is not doubled."""
        media_id, message = str(live["mediaId"]), delivery.post.firstComment
        published = Outcome("published", external_id=media_id, external_url=live.get("permalink"))
        if not message or (not checked and graph.has_comment(media_id, message)):
            return published
        tries = int(live.get("commentTries") or 0) + 1
        if graph.comment(media_id, message) != "later" or tries >= FIRST_COMMENT_TRIES:
            return published
        return Outcome("processing", state={**live, "commentTries": tries}, error=LastError(
            code="FIRST_COMMENT_PENDING", message="The post is live; its first comment is tried again."))

    def _recover(self, graph: "_Graph", delivery: Delivery, state: dict[str, Any]) -> Outcome:
        """The container is PUBLISHED but we never saw the media id (a lost
        answer or a crash after publish). Find the media; never publish again."""
        try:
            resp = graph.get(f"/{graph.ig_user}/media",
                             {"fields": "id,caption,permalink,timestamp", "limit": str(RECENT_MEDIA_LIMIT)})
        except (NotSent, OutcomeUnknown):
            return Outcome("processing", state=state,
                           error=LastError(code="NETWORK_ERROR", message="Instagram media list read failed"))
        if not _ok(resp):
            outcome = graph.error(resp)
            if outcome.kind in ("retry", "processing"):
                return Outcome("processing", state=state, error=outcome.error, retry_after=outcome.retry_after)
            log.warning("instagram post is live but its media id could not be read (%s)",
                        outcome.error.platformCode if outcome.error else None)
            return Outcome("published")
        match = _match_media(_json(resp).get("data"), delivery.post)
        if match is None:
            log.warning("instagram post is live but no recent media matched its caption")
            return Outcome("published")
        media_id = str(match["id"])
        permalink = match.get("permalink") or graph.permalink(media_id)
        return self._first_comment(graph, delivery, {"mediaId": media_id, "permalink": permalink})

    # -- draft mode -----------------------------------------------------

    def _draft(self, delivery: Delivery, state: dict[str, Any], *, confirming: bool) -> Outcome:
        """Text the media, then the caption, to the primary operator. Each send
        carries a stable idempotency key; when confirming after a lost answer
        the chat is read back before anything is sent again.

        Confirming runs in a later invocation whose messaging adapter knows
        nothing it sent, and Linq does not echo idempotency keys: every
        read-back names the parts it looks for and the time this draft's
        attempt started, so an identical older draft to the same operator
        (the same content posted before) does not pass for this one."""
        post = delivery.post
        phone = delivery.operator_phone
        if not phone:
            return Outcome.failed("OPERATOR_PHONE_UNVERIFIED",
                                  "The organization's primary operator has no verified phone number.")
        if self.messaging is None:
            return Outcome.failed("SMS_PROVIDER_UNAVAILABLE", "No messaging provider is configured.")
        if not post.media:
            return Outcome.failed("NO_MEDIA", "The post has no media.")
        media_key, caption_key = f"{post.id}:ig-draft:media", f"{post.id}:ig-draft:caption"
        media = tuple(Part("media", m.url) for m in post.media)
        text = _draft_text(post)
        caption = (Part("text", text),)
        # When the sends began: as the submit recorded it, else the post's first
        # attempt (a submit that died recorded nothing, and it started after that).
        started = ((_instant(state.get("draftStartedAt")) or _instant(post.attemptedAt)) if confirming
                   else clock.now())
        kept = {"draftStartedAt": clock.to_storage(started)} if started else {}
        chat_id = state.get("chatId")
        try:
            if not chat_id and confirming:
                chat_id = self.messaging.find_chat(phone, media_key, parts=media, not_before=started)
                if not chat_id:
                    # The read succeeded and holds no media of this attempt:
                    # nothing reached the phone, so the post may go on.
                    return Outcome.retry("NOT_DELIVERED", "The draft text was not delivered; it will be sent again.")
            if not chat_id:
                try:
                    chat_id = self.messaging.create_chat(phone, Message(parts=media, idempotency_key=media_key)).chat_id
                except SendOutcomeUnknown:
                    return Outcome("unknown", state={"draftStep": "media", **kept}, error=LastError(
                        code="SUBMIT_OUTCOME_UNKNOWN", message="The draft text was sent but no answer came back."))
            if text and not (confirming and self.messaging.has_message(chat_id, caption_key, parts=caption,
                                                                       not_before=started)):
                try:
                    self.messaging.send(chat_id, Message(parts=caption, idempotency_key=caption_key))
                except (SendOutcomeUnknown, ProviderUnavailable):
                    # The media already went out: continue through confirm, which
                    # reads the chat before sending the caption again.
                    return Outcome("unknown", state={"draftStep": "caption", "chatId": chat_id, **kept},
                                   error=LastError(code="SUBMIT_OUTCOME_UNKNOWN",
                                                   message="The caption text could not be confirmed."))
        except ProviderRejected as exc:
            return Outcome.failed("PROVIDER_REJECTED", exc.message[:1000],
                                  platform_code=str(exc.code) if exc.code is not None else None)
        except (ProviderUnavailable, SendOutcomeUnknown):
            if confirming:
                # Something may already be on the phone: keep confirming, never resubmit.
                return Outcome("unknown", state=dict(state), error=LastError(
                    code="SMS_PROVIDER_UNAVAILABLE", message="The messaging provider could not be read."))
            return Outcome.retry("SMS_PROVIDER_UNAVAILABLE", "The messaging provider is unavailable.")
        return Outcome("draft", state={"chatId": chat_id})


class _Graph:
    """Graph calls for one delivery. The token travels only in the
    Authorization header, never in a URL that could end up in a log."""

    pacing: Any = None  # platforms/pacing.TokenPacing: Meta's usage headers and the publishing quota

    def __init__(self, http: HttpClient, token: str, ig_user: str):
        self.http = http
        self.token = token
        self.ig_user = ig_user

    def get(self, path: str, query: dict[str, str]) -> HttpResponse:
        return self._saw(self.http.request("GET", path, query=query, headers=self._auth()))

    def post(self, path: str, form: dict[str, str]) -> HttpResponse:
        return self._saw(self.http.request("POST", path, form=form, headers=self._auth()))

    def _saw(self, resp: HttpResponse) -> HttpResponse:
        if self.pacing is not None:
            try:
                self.pacing.saw_usage(resp.headers)
            except Exception:
                # The answer itself is good; a pause we failed to record only
                # means the next call may find Meta's limit the hard way.
                log.warning("could not record Meta's usage headers")
        return resp

    def quota_left(self) -> int | None:
        from layers_shared.domain.pacing import publishing_quota_left

        try:
            resp = self.get(f"/{self.ig_user}/content_publishing_limit", {"fields": "quota_usage,config"})
        except (NotSent, OutcomeUnknown):
            return None
        return publishing_quota_left(_json(resp)) if _ok(resp) else None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def create_container(self, params: dict[str, str]) -> "str | Outcome":
        # A lost or failed container creation is safe to redo: an orphan
        # container is never published and expires after 24 h.
        try:
            resp = self.post(f"/{self.ig_user}/media", params)
        except (NotSent, OutcomeUnknown):
            return Outcome.retry("NETWORK_ERROR", "Creating the Instagram media container failed.")
        if _ok(resp) and _json(resp).get("id"):
            return str(_json(resp)["id"])
        if _ok(resp):
            return Outcome.retry("PLATFORM_UNAVAILABLE", "Instagram created no container id.")
        outcome = self.error(resp)
        if outcome.kind == "processing":
            # "Not ready" only makes sense for media_publish; here it means try again.
            return Outcome.retry("PLATFORM_UNAVAILABLE", outcome.error.message if outcome.error else "not ready",
                                 platform_code=outcome.error.platformCode if outcome.error else None)
        return outcome

    def container_status(self, container_id: str) -> "tuple[str, str] | Outcome":
        try:
            resp = self.get(f"/{container_id}", {"fields": "status_code,status"})
        except (NotSent, OutcomeUnknown):
            return Outcome.retry("NETWORK_ERROR", "Reading the Instagram container failed.")
        if not _ok(resp):
            return self.error(resp)
        body = _json(resp)
        return str(body.get("status_code") or ""), str(body.get("status") or "")

    def permalink(self, media_id: str) -> str | None:
        # The post is live whatever happens here; a failed read leaves externalUrl null.
        try:
            resp = self.get(f"/{media_id}", {"fields": "permalink"})
        except (NotSent, OutcomeUnknown):
            return None
        link = _json(resp).get("permalink") if _ok(resp) else None
        return str(link) if link else None

    def comment(self, media_id: str, message: str) -> str:
        """"done", "later" (refused for now or not sent: try again after reading
        the comments) or "never" (refused for good)."""
        try:
            resp = self.post(f"/{media_id}/comments", {"message": message})
        except (NotSent, OutcomeUnknown):
            log.warning("instagram first comment not confirmed")
            return "later"
        if _ok(resp):
            return "done"
        log.warning("instagram first comment refused (HTTP %s)", resp.status)
        return "later" if self.error(resp).kind in ("retry", "processing") else "never"

    def has_comment(self, media_id: str, message: str) -> bool:
        """Whether the first comment is already there. When that cannot be
        read we answer True: a missing comment beats a duplicate one."""
        try:
            resp = self.get(f"/{media_id}/comments", {"fields": "id,text"})
        except (NotSent, OutcomeUnknown):
            return True
        if not _ok(resp):
            return True
        data = _json(resp).get("data")
        return any(isinstance(c, dict) and c.get("text") == message for c in data or [])

    def error(self, resp: HttpResponse) -> Outcome:
        """Map a Graph error answer (platform-apis.md §2.7)."""
        error = _json(resp).get("error")
        error = error if isinstance(error, dict) else {}
        code, sub = _int(error.get("code")), _int(error.get("error_subcode"))
        message = error.get("message")
        text = str(message).replace(self.token, "[redacted]")[:1000] if message \
            else f"Instagram answered HTTP {resp.status}."
        platform_code = (f"{code}/{sub}" if sub is not None else str(code)) if code is not None \
            else f"http_{resp.status}"
        retry_after = resp.retry_after()
        if code == 190:
            return Outcome.failed("REAUTH_REQUIRED", "The Instagram token is no longer valid; "
                                  "the account must be reconnected.", platform_code=platform_code,
                                  account_status="reauth_required")
        if code == 9007 or sub == 2207027:
            return Outcome("processing", error=LastError(code="NOT_READY", message=text, platformCode=platform_code))
        if sub in _PERMANENT_SUBCODES:
            return Outcome.failed("PLATFORM_REJECTED", text, platform_code=platform_code)
        if code == 9 or sub == 2207042:
            return Outcome.retry("QUOTA_REACHED", text, platform_code=platform_code, retry_after=retry_after)
        if code in _RATE_LIMIT_CODES or resp.status == 429:
            return Outcome.retry("RATE_LIMITED", text, platform_code=platform_code, retry_after=retry_after)
        if code in _PERMISSION_CODES:
            return Outcome.failed("PERMISSION_DENIED", text, platform_code=platform_code)
        if error.get("is_transient") is True or resp.status >= 500 or code in (-1, -2) \
                or sub in _TRANSIENT_SUBCODES:
            return Outcome.retry("PLATFORM_UNAVAILABLE", text, platform_code=platform_code, retry_after=retry_after)
        return Outcome.failed("PLATFORM_REJECTED", text, platform_code=platform_code)


# -- helpers --------------------------------------------------------------

def _keep_polling(outcome: Outcome, state: dict[str, Any]) -> Outcome:
    """A failed read while polling: transient means poll again (a resubmit
    would waste the containers); permanent ends the post."""
    if outcome.kind in ("retry", "processing"):
        return Outcome("processing", state=state, error=outcome.error, retry_after=outcome.retry_after)
    return outcome


def _container_failed(code: str, text: str) -> Outcome:
    if code == "EXPIRED":
        return Outcome.failed("CONTAINER_EXPIRED", "The Instagram media container expired before publishing.",
                              platform_code="EXPIRED")
    subcode = re.search(r"\b(22\d{5})\b", text)
    return Outcome.failed("CONTAINER_FAILED", f"Instagram could not process the media: {text or 'ERROR'}"[:1000],
                          platform_code=subcode.group(1) if subcode else "ERROR")


def _match_media(items: Any, post: ScheduledPost) -> dict[str, Any] | None:
    """Newest recent media whose caption is the post's (Graph lists newest first)."""
    caption = (post.caption or "").strip()
    not_before = _instant(post.attemptedAt)
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        if (item.get("caption") or "").strip() != caption:
            continue
        published = _instant(item.get("timestamp"))
        if not_before and published and published < not_before - RECOVERY_SLACK:
            continue
        return item
    return None


def _draft_text(post: ScheduledPost) -> str:
    parts = [p for p in (post.caption, f"First comment: {post.firstComment}" if post.firstComment else None) if p]
    return "\n\n".join(parts)


def _instant(value: Any) -> datetime | None:
    try:
        return clock.parse_instant(value) if value else None
    except ValueError:
        return None


def _ok(resp: HttpResponse) -> bool:
    return 200 <= resp.status < 300


def _json(resp: HttpResponse) -> dict[str, Any]:
    body = resp.json()
    return body if isinstance(body, dict) else {}


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _bool(value: bool) -> str:
    return "true" if value else "false"
