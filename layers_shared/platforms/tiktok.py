"""TikTok Content Posting API adapter (platform-apis.md §1).

Every post goes out as a PULL_FROM_URL init; TikTok then downloads the media on
its own time, so `submit` only learns a `publish_id` and `poll` reads the status
until it is terminal. An init is not idempotent on TikTok's side: when its
answer is lost we never send it again.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from layers_shared import clock, config, settings
from layers_shared.domain import platform_limits, privacy
from layers_shared.http_client import HttpClient, HttpResponse, NotSent, OutcomeUnknown
from layers_shared.models.entities import LastError, ScheduledPost
from layers_shared.platforms.creator_info import CreatorInfo
from layers_shared.platforms.port import Credentials, Delivery, Outcome
from layers_shared.secrets.managed import LocalValue, SecretUnavailable

log = logging.getLogger(__name__)

DEFAULT_BASE = "https://open.tiktokapis.com"
VIDEO_INIT = "/v2/post/publish/video/init/"
INBOX_VIDEO_INIT = "/v2/post/publish/inbox/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
STATUS_FETCH = "/v2/post/publish/status/fetch/"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
TOKEN = "/v2/oauth/token/"

# Refresh a little before the recorded expiry: a token that dies in flight
# costs a rejected init and a second round trip.
REFRESH_SKEW = timedelta(seconds=60)

_REAUTH_CODES = {"scope_not_authorized", "scope_permission_missed", "access_token_invalid"}
_TRANSIENT_CODES = {"rate_limit_exceeded", "internal_error"}
_RETRYABLE_FAIL_REASONS = {"internal", "video_pull_failed", "photo_pull_failed"}
_PROCESSING = {"PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"}


class _Stop(Exception):
    """Ends the call with a ready outcome (used where the token refresh fails)."""

    def __init__(self, outcome: Outcome):
        super().__init__(outcome.kind)
        self.outcome = outcome


class TikTokAdapter:
    def __init__(self, base_url: str | None = None, client_key: str | None = None,
                 client_secret: str | None = None, *, connect_timeout: float = 3.0,
                 read_timeout: float = 10.0, http: HttpClient | None = None):
        self.base_url = base_url or config.env("TIKTOK_API_BASE", DEFAULT_BASE) or DEFAULT_BASE
        app = settings.current()
        self.client_key = client_key if client_key is not None else app.tiktok_client_key
        # Only the secret's ARN is configured; its value is read on the first refresh.
        self._client_secret = LocalValue(client_secret) if client_secret is not None \
            else app.tiktok_client_secret_source()
        self.http = http or HttpClient(self.base_url, connect_timeout=connect_timeout, read_timeout=read_timeout)

    @property
    def client_secret(self) -> str | None:
        if self._client_secret is None:
            return None
        try:
            return self._client_secret.get()
        except SecretUnavailable:
            # Secrets Manager unreachable for now: a later attempt may read it.
            raise _Stop(Outcome.retry("TIKTOK_APP_SECRET_UNAVAILABLE",
                                      "The TikTok client secret could not be read; trying again later.")) from None

    # -- the port -------------------------------------------------------

    def submit(self, delivery: Delivery) -> Outcome:
        request = _init_request(delivery.post)
        if isinstance(request, Outcome):
            return request
        path, body = request
        if delivery.pacing is not None:  # 6 inits/min per token (§1.7): wait for a slot, spend nothing
            held = delivery.pacing.before("tiktok_init", delivery.post.platformState)
            if held is not None:
                return held
        session = _Session(self, delivery)
        try:
            refused = self._settle_privacy(session, delivery, body) if delivery.post.mode == "publish" else None
            outcome = refused or self._init(session, path, body)
        except _Stop as stop:
            outcome = stop.outcome
        return session.finish(outcome)

    def creator_info(self, credentials: Credentials | None,
                     reload: Any = None) -> tuple[CreatorInfo | Outcome, Credentials | None]:
        """What TikTok offers this creator now, or why it could not be read;
        and the rotated credentials if the token had to be refreshed (the
        caller must store them: the old refresh token is dead)."""
        session = _Session.of(self, credentials, reload)
        try:
            answer: CreatorInfo | Outcome = self._creator_info(session)
        except _Stop as stop:
            answer = stop.outcome
        return answer, session.refreshed

    def poll(self, delivery: Delivery, state: dict[str, Any]) -> Outcome:
        publish_id = state.get("publishId")
        if not publish_id:
            return Outcome.failed("INVALID_STATE", "no TikTok publish_id to poll")
        if delivery.pacing is not None:  # 30 status reads/min per token (§1.7)
            held = delivery.pacing.before("tiktok_status", state)
            if held is not None:
                return held
        session = _Session(self, delivery)
        try:
            outcome = self._status(session, delivery, str(publish_id))
        except _Stop as stop:
            # A refresh that failed for now: the init went out, so this is only
            # a failed read; "retry" would make the publisher init again.
            outcome = _keep_polling(stop.outcome, str(publish_id))
        return session.finish(outcome)

    def confirm(self, delivery: Delivery, state: dict[str, Any]) -> Outcome:
        if not state.get("publishId"):
            # The init's answer (and with it the publish_id) was lost. TikTok has
            # no lookup by anything else, and a second init could double-post.
            return Outcome.failed(
                "SUBMIT_OUTCOME_UNKNOWN",
                "The request to TikTok was sent but its answer was lost; the post may or may not "
                "exist on the account. It was not sent again to avoid a duplicate.")
        return self.poll(delivery, state)

    # -- steps ----------------------------------------------------------

    def _creator_info(self, session: "_Session") -> CreatorInfo | Outcome:
        try:
            resp = session.post(CREATOR_INFO, {})
        except (NotSent, OutcomeUnknown):
            return Outcome.retry("NETWORK_ERROR", "TikTok creator_info could not be read; nothing was posted.")
        # Errors such as spam_risk_too_many_posts come with HTTP 200 (§1.2): decide on the code.
        if 200 <= resp.status < 300 and _error_code(resp) in ("ok", None):
            return CreatorInfo.from_api(_data(resp))
        return _error_outcome(resp, session.secrets())

    def _settle_privacy(self, session: "_Session", delivery: Delivery, body: dict[str, Any]) -> Outcome | None:
        """Read creator_info before a direct-post init and fill in the privacy
        level and the interactions; an Outcome when the init must not go out.
        A level TikTok would refuse fails here: an init spent on
        privacy_level_option_mismatch counts against 6/min and the daily cap."""
        post, store = delivery.post, delivery.creator_info_store
        if store is not None:
            wait = store.take_call(delivery.account.id)
            if wait is not None:
                # Our own budget held it back: deferred, no attempt spent (issue 13).
                return Outcome("deferred", retry_after=wait, error=LastError(
                    code="CREATOR_INFO_RATE_LIMITED", message="TikTok creator_info budget for this account "
                    "is spent for this minute; nothing was posted."))
        info = self._creator_info(session)
        if isinstance(info, Outcome):
            return info
        if store is not None:
            try:
                store.remember(delivery.account.id, info)
            except Exception:
                log.warning("could not cache creator_info")  # a cache miss later, nothing worse
        settings = post.tiktokPostSettings or {}
        level, allowed = privacy.resolve(post.privacyLevel or settings.get("privacyLevel"),
                                         info.privacy_level_options)
        if not allowed:
            return Outcome.failed("PRIVACY_LEVEL_NOT_ALLOWED",
                                  privacy.not_allowed_message(level, info.privacy_level_options) +
                                  " (the account's options changed after scheduling); nothing was posted.")
        post_info = body["post_info"]
        post_info["privacy_level"] = level
        # Interactions the creator disabled are sent disabled, whatever was asked.
        post_info["disable_comment"] = post_info.get("disable_comment", False) or info.comment_disabled
        if "disable_duet" in post_info:
            post_info["disable_duet"] = post_info["disable_duet"] or info.duet_disabled
            post_info["disable_stitch"] = post_info["disable_stitch"] or info.stitch_disabled
        return None

    def _init(self, session: "_Session", path: str, body: dict[str, Any]) -> Outcome:
        try:
            resp = session.post(path, body)
        except NotSent:
            return Outcome.retry("NETWORK_ERROR", "The post did not reach TikTok; nothing was created.")
        except OutcomeUnknown:
            return _unknown()
        code = _error_code(resp)
        if 200 <= resp.status < 300 and code in ("ok", None):
            publish_id = _data(resp).get("publish_id")
            if not publish_id:
                # TikTok accepted something but did not say what: treat like a lost answer.
                return _unknown()
            return Outcome("processing", state={"publishId": str(publish_id)})
        return _error_outcome(resp, session.secrets())

    def _status(self, session: "_Session", delivery: Delivery, publish_id: str) -> Outcome:
        state = {"publishId": publish_id}
        try:
            resp = session.post(STATUS_FETCH, {"publish_id": publish_id})
        except (NotSent, OutcomeUnknown):
            # A status read is safe to repeat; a resubmit is not. Keep polling.
            return Outcome("processing", state=state,
                           error=LastError(code="NETWORK_ERROR", message="TikTok status read failed"))
        if not (200 <= resp.status < 300 and _error_code(resp) in ("ok", None)):
            return _keep_polling(_error_outcome(resp, session.secrets()), publish_id)
        return _status_outcome(delivery, publish_id, _data(resp))


class _Session:
    """One adapter call's view of the account's tokens. Refreshes at most once,
    and remembers the rotated credentials so that whatever the call ends with
    carries them (the old refresh token is dead once TikTok rotates it)."""

    def __init__(self, adapter: TikTokAdapter, delivery: Delivery):
        self.adapter = adapter
        self.credentials = delivery.credentials
        self.reload = delivery.reload_credentials
        self.pacing = delivery.pacing
        self.save = delivery.save_credentials
        self.refreshed: Credentials | None = None

    @classmethod
    def of(cls, adapter: TikTokAdapter, credentials: Credentials | None, reload: Any = None) -> "_Session":
        """A session outside a delivery (schedule-time creator_info: the caller stores a rotation)."""
        session = cls.__new__(cls)
        session.adapter, session.credentials, session.reload, session.refreshed = adapter, credentials, reload, None
        session.save = None
        return session

    def secrets(self) -> list[str]:
        found: list[str] = []
        for creds in (self.credentials, self.refreshed):
            if creds is not None:
                found += [t for t in (creds.access_token, creds.refresh_token) if t]
        return found + [s for s in (self.adapter.client_secret,) if s]

    def finish(self, outcome: Outcome) -> Outcome:
        if self.refreshed is not None:
            outcome.new_credentials = self.refreshed
        return outcome

    def post(self, path: str, body: dict[str, Any]) -> HttpResponse:
        if self.credentials is None or not self.credentials.access_token:
            raise _Stop(_reauth("NO_CREDENTIALS", "The TikTok account has no stored token."))
        if (self.refreshed is None and self.credentials.refresh_token
                and _expired(self.credentials.expires_at)):
            self._refresh()
        resp = self._send(path, body)
        if (_error_code(resp) == "access_token_invalid" and self.refreshed is None
                and self.credentials.refresh_token):
            # Rejected before anything was created, so sending again is safe.
            self._refresh()
            resp = self._send(path, body)
        return resp

    def _token(self) -> str:
        creds = self.refreshed or self.credentials
        assert creds is not None
        return creds.access_token

    def _send(self, path: str, body: dict[str, Any]) -> HttpResponse:
        return self.adapter.http.request("POST", path, json_body=body,
                                         headers={"Authorization": f"Bearer {self._token()}"})

    def _refresh(self) -> None:
        creds = self.credentials
        assert creds is not None
        if not creds.refresh_token:
            raise _Stop(_reauth("TOKEN_EXPIRED", "The TikTok token expired and there is no refresh token."))
        if not (self.adapter.client_key and self.adapter.client_secret):
            raise _Stop(Outcome.failed("TIKTOK_APP_NOT_CONFIGURED",
                                       "TikTok app credentials are not configured; cannot refresh the token."))
        if getattr(self, "pacing", None) is not None and not self.pacing.hold_refresh():
            # Another worker is refreshing this account: a second refresh with
            # the same refresh token would be refused once TikTok rotates it.
            if self._adopt_stored_rotation(creds):
                return
            from layers_shared.platforms.pacing import refresh_busy

            raise _Stop(refresh_busy())
        form = {"client_key": self.adapter.client_key, "client_secret": self.adapter.client_secret,
                "grant_type": "refresh_token", "refresh_token": creds.refresh_token}
        try:
            resp = self.adapter.http.request("POST", TOKEN, form=form)
        except NotSent:
            raise _Stop(Outcome.retry("NETWORK_ERROR", "The token refresh did not reach TikTok.")) from None
        except OutcomeUnknown:
            # If TikTok rotated the refresh token we have now lost it; the next
            # refresh tells (invalid_grant → reauth). Nothing better to do here.
            log.warning("tiktok token refresh answer lost")
            raise _Stop(Outcome.retry("TOKEN_REFRESH_UNKNOWN", "The token refresh answer was lost.")) from None
        body = _envelope(resp)
        if resp.status == 429 or resp.status >= 500:
            raise _Stop(Outcome.retry("PLATFORM_UNAVAILABLE", f"TikTok token refresh answered HTTP {resp.status}",
                                      retry_after=resp.retry_after()))
        error = body.get("error")
        code = error.get("code") if isinstance(error, dict) else error
        if (code and code != "ok") or not body.get("access_token"):
            code = str(code) if code else f"http_{resp.status}"
            log.info("tiktok token refresh refused: %s", code)
            if self._adopt_stored_rotation(creds):
                return
            raise _Stop(_reauth("REAUTH_REQUIRED",
                                f"TikTok refused the token refresh ({code}); the account must be reconnected.",
                                platform_code=code))
        expires_in = body.get("expires_in")
        expires_at = None
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
            expires_at = clock.to_storage(clock.now() + timedelta(seconds=float(expires_in)))
        self.refreshed = Credentials(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or creds.refresh_token),
            expires_at=expires_at,
            platform_user_id=str(body.get("open_id") or creds.platform_user_id or "") or None,
        )
        log.info("tiktok token refreshed")
        self._keep(self.refreshed)

    def _keep(self, rotated: Credentials) -> None:
        """Store the rotated pair the moment TikTok answers: the old refresh
        token is dead, and a worker that dies before its outcome is recorded
        must not take the only valid one with it."""
        if self.save is None:
            return
        try:
            self.save(rotated)
        except Exception:
            log.exception("could not store the rotated tiktok token now; the outcome write stores it")

    def _adopt_stored_rotation(self, used: Credentials) -> bool:
        """Another post of the account may have refreshed first: TikTok rotated
        the refresh token we used, and the new pair is already stored. Use it
        (refreshing it once more if needed) instead of asking for reauth."""
        reload, self.reload = self.reload, None  # once per call
        try:
            stored = reload() if reload is not None else None
        except Exception:
            log.warning("could not re-read the stored tiktok credentials")
            return False
        if stored is None or not stored.access_token or stored.refresh_token == used.refresh_token:
            return False
        self.credentials = stored
        if stored.refresh_token and _expired(stored.expires_at):
            self._refresh()
        return True


# -- requests -------------------------------------------------------------

def _init_request(post: ScheduledPost) -> tuple[str, dict[str, Any]] | Outcome:
    if post.mode not in ("publish", "draft"):
        return Outcome.failed("UNSUPPORTED_MODE", f"The TikTok adapter does not deliver mode {post.mode!r}.")
    if not post.media:
        return Outcome.failed("NO_MEDIA", "The post has no media.")
    settings = post.tiktokPostSettings or {}
    caption = post.caption or ""
    # The schedule-time rules again: a post that breaks them fails here, it is never cut to fit.
    broken = platform_limits.issues("", platform_limits.Effective(
        "tiktok", post.mediaType, len(post.media), caption, ""))
    if broken:
        return Outcome.failed("PLATFORM_LIMIT_EXCEEDED",
                              f"TikTok would refuse this post: {platform_limits.summary(broken)}.")
    # Direct posts: the level is settled against creator_info before the init (_settle_privacy).
    level = post.privacyLevel or settings.get("privacyLevel") or "PUBLIC_TO_EVERYONE"
    if post.mediaType == "video":
        source = {"source": "PULL_FROM_URL", "video_url": post.media[0].url}
        if post.mode == "draft":
            # Inbox uploads take no post_info: the creator finishes the post in the app.
            return INBOX_VIDEO_INIT, {"source_info": source}
        post_info = {
            "title": caption,
            "privacy_level": level,
            "disable_comment": bool(settings.get("disableComment", False)),
            "disable_duet": bool(settings.get("disableDuet", False)),
            "disable_stitch": bool(settings.get("disableStitch", False)),
            # The reference marks the toggles required but omits them in its
            # examples; always send both.
            "brand_content_toggle": bool(settings.get("isBrandedContent", False)),
            "brand_organic_toggle": bool(settings.get("isBrandOrganic", False)),
        }
        return VIDEO_INIT, {"post_info": post_info, "source_info": source}

    if any(m.kind == "video" for m in post.media):
        return Outcome.failed("UNSUPPORTED_MEDIA", "TikTok photo posts accept images only.")
    post_info: dict[str, Any] = {"title": platform_limits.photo_title(caption), "description": caption}
    if post.mode == "publish":
        music = (post.tiktokMusic or {}).get("mode")
        post_info.update({
            "privacy_level": level,
            "disable_comment": bool(settings.get("disableComment", False)),
            # manual degrades to auto on direct publish (seed): TikTok wants a
            # Commercial Music Library id that our catalog does not have.
            "auto_add_music": music in ("auto", "manual"),
            "brand_content_toggle": bool(settings.get("isBrandedContent", False)),
            "brand_organic_toggle": bool(settings.get("isBrandOrganic", False)),
        })
    return CONTENT_INIT, {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST" if post.mode == "publish" else "MEDIA_UPLOAD",
        "post_info": post_info,
        "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                        "photo_images": [m.url for m in post.media]},
    }


# -- answers --------------------------------------------------------------

def _status_outcome(delivery: Delivery, publish_id: str, data: dict[str, Any]) -> Outcome:
    status = data.get("status")
    draft = delivery.post.mode == "draft"
    if status == "PUBLISH_COMPLETE":
        ids = data.get("publicaly_available_post_id") or []
        if ids:
            post_id = str(ids[0])
            handle = (delivery.account.handle or delivery.post.handle).lstrip("@")
            url: str | None = f"https://www.tiktok.com/@{handle}/video/{post_id}"
        else:
            # Private and friends-only posts never get a public id.
            post_id, url = publish_id, None
        # A draft the creator already posted is still, from our side, a delivered draft.
        return Outcome("draft" if draft else "published", external_id=post_id, external_url=url)
    if status == "SEND_TO_USER_INBOX":
        return Outcome("draft", external_id=publish_id)
    if status == "FAILED":
        reason = str(data.get("fail_reason") or "unknown")
        message = f"TikTok could not publish the post ({reason})."
        # Drafts never retry: a failed handoff lands at failed (seed, "draft" mode).
        if reason in _RETRYABLE_FAIL_REASONS and not draft:
            return Outcome.retry("PLATFORM_PROCESSING_FAILED", message, platform_code=reason)
        return Outcome.failed("PUBLISH_FAILED", message, platform_code=reason)
    if status not in _PROCESSING:
        log.warning("tiktok status %r not understood; still polling", status)
    return Outcome("processing", state={"publishId": publish_id})


def _error_outcome(resp: HttpResponse, secrets: list[str]) -> Outcome:
    code = _error_code(resp)
    error = _envelope(resp).get("error")
    message = error.get("message") if isinstance(error, dict) else None
    text = _scrub(str(message), secrets) if message else f"TikTok answered HTTP {resp.status}."
    if resp.status == 429 or code == "rate_limit_exceeded":
        return Outcome.retry("RATE_LIMITED", "TikTok rate limit reached.", platform_code=code,
                             retry_after=resp.retry_after())
    if resp.status >= 500 or code in _TRANSIENT_CODES:
        return Outcome.retry("PLATFORM_UNAVAILABLE", f"TikTok answered HTTP {resp.status}.",
                             platform_code=code, retry_after=resp.retry_after())
    if code in _REAUTH_CODES:
        return _reauth("REAUTH_REQUIRED", "TikTok no longer accepts this account's authorization; "
                       "the account must be reconnected.", platform_code=code)
    return Outcome.failed("PLATFORM_REJECTED", text, platform_code=code or f"http_{resp.status}")


def _keep_polling(outcome: Outcome, publish_id: str) -> Outcome:
    """A failure while reading a post TikTok already accepted. Transient: read
    again later. Anything else (authorization lost, the read refused) leaves
    us unable to know: the post may be live, so it ends unknown, never
    "failed" as if nothing went out (the account's reauth still applies)."""
    if outcome.kind == "retry":
        return Outcome("processing", state={"publishId": publish_id}, error=outcome.error,
                       retry_after=outcome.retry_after)
    if outcome.kind == "failed":
        why = outcome.error.code if outcome.error else "READ_REFUSED"
        return Outcome.failed("SUBMIT_OUTCOME_UNKNOWN",
                              f"TikTok accepted the post but its status could not be read ({why}); it may "
                              "be live on the account.",
                              platform_code=outcome.error.platformCode if outcome.error else None,
                              account_status=outcome.account_status, new_credentials=outcome.new_credentials)
    return outcome


def _reauth(code: str, message: str, platform_code: str | None = None) -> Outcome:
    return Outcome.failed(code, message, platform_code=platform_code, account_status="reauth_required")


def _unknown() -> Outcome:
    return Outcome("unknown", state={}, error=LastError(
        code="SUBMIT_OUTCOME_UNKNOWN", message="The post was sent to TikTok but no answer came back."))


def _envelope(resp: HttpResponse) -> dict[str, Any]:
    body = resp.json()
    return body if isinstance(body, dict) else {}


def _data(resp: HttpResponse) -> dict[str, Any]:
    data = _envelope(resp).get("data")
    return data if isinstance(data, dict) else {}


def _error_code(resp: HttpResponse) -> str | None:
    error = _envelope(resp).get("error")
    if isinstance(error, dict) and error.get("code") is not None:
        return str(error["code"])
    return None


def _expired(expires_at: str | None) -> bool:
    if not expires_at:
        return False
    try:
        return clock.parse_instant(expires_at) <= clock.now() + REFRESH_SKEW
    except ValueError:
        return False


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:1000]
