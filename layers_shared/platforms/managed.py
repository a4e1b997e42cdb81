"""Managed-distribution provider adapter (platform-apis.md §4).

One JSON document per scheduled post, POSTed to the provider named by the
layer's `config.provider`. The provider dedupes on `Idempotency-Key` (the
scheduled post id), which is what makes resending after a timeout safe here,
unlike the direct platform adapters.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from layers_shared import config
from layers_shared.http_client import HttpClient, HttpResponse, NotSent, OutcomeUnknown
from layers_shared.models.entities import ScheduledPost
from layers_shared.platforms.port import Delivery, Outcome

log = logging.getLogger(__name__)


class ManagedProviderAdapter:
    def __init__(self, providers: dict[str, str] | None = None, *, connect_timeout: float = 3.0,
                 read_timeout: float = 10.0):
        self.providers = providers if providers is not None else _providers_from_env()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._clients: dict[str, HttpClient] = {}

    def submit(self, delivery: Delivery) -> Outcome:
        name = delivery.provider or delivery.post.managedProvider
        base = self.providers.get(name) if name else None
        if not base:
            return Outcome.failed("PROVIDER_NOT_CONFIGURED",
                                  f"The managed provider {name!r} is not configured in this deployment."
                                  if name else "The layer names no managed provider.")
        post = delivery.post
        try:
            resp = self._client(base).request("POST", "", json_body=document(post),
                                              headers={"Idempotency-Key": post.id})
        except NotSent:
            return Outcome.retry("NETWORK_ERROR", "The managed provider could not be reached.")
        except OutcomeUnknown:
            return Outcome.retry("NETWORK_ERROR", "The managed provider did not answer in time.")
        return _outcome(resp)

    def poll(self, delivery: Delivery, state: dict[str, Any]) -> Outcome:
        # Nothing to poll: a hand-off is done or not. Resending is safe (Idempotency-Key).
        return self.submit(delivery)

    def confirm(self, delivery: Delivery, state: dict[str, Any]) -> Outcome:
        return self.submit(delivery)

    def _client(self, base: str) -> HttpClient:
        if base not in self._clients:
            self._clients[base] = HttpClient(base, connect_timeout=self.connect_timeout,
                                             read_timeout=self.read_timeout)
        return self._clients[base]


def document(post: ScheduledPost) -> dict[str, Any]:
    """The hand-off document of platform-apis.md §4."""
    music = post.tiktokMusic or {}
    return {
        "scheduledPostId": post.id,
        "socialAccountId": post.socialAccountId,
        "platform": post.platform,
        "handle": post.handle,
        "scheduledFor": post.scheduledFor,
        "mediaType": post.mediaType,
        "caption": post.caption,
        "firstComment": post.firstComment,
        "media": [m.url for m in post.media],
        "tiktokPostSettings": post.tiktokPostSettings,
        # Managed targets honour the exact track (seed), unlike direct publish.
        "tiktokMusicLink": music.get("link") if music.get("mode") == "manual" else None,
        "shareReelToFeed": post.shareReelToFeed,
    }


def _outcome(resp: HttpResponse) -> Outcome:
    body = resp.json()
    body = body if isinstance(body, dict) else {}
    if 200 <= resp.status < 300:
        external_id = body.get("id")
        external_url = body.get("url")
        return Outcome("published", external_id=str(external_id) if external_id is not None else None,
                       external_url=str(external_url) if external_url else None)
    if resp.status == 429 or resp.status >= 500:
        return Outcome.retry("PLATFORM_UNAVAILABLE", f"The managed provider answered HTTP {resp.status}.",
                             platform_code=str(resp.status), retry_after=resp.retry_after())
    return Outcome.failed("PROVIDER_REJECTED", _message(body, resp), platform_code=_code(body, resp))


def _message(body: dict[str, Any], resp: HttpResponse) -> str:
    error = body.get("error")
    message = error.get("message") if isinstance(error, dict) else (error if isinstance(error, str) else None)
    message = message or body.get("message")
    return str(message)[:1000] if message else f"The managed provider answered HTTP {resp.status}."


def _code(body: dict[str, Any], resp: HttpResponse) -> str:
    error = body.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code is not None else str(resp.status)


def _providers_from_env() -> dict[str, str]:
    raw = config.env("MANAGED_PROVIDERS")
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        log.error("MANAGED_PROVIDERS is not valid JSON; no managed provider is configured")
        return {}
    if not isinstance(parsed, dict):
        log.error("MANAGED_PROVIDERS must be a JSON object of provider name to base URL")
        return {}
    return {str(k): str(v) for k, v in parsed.items() if isinstance(v, str) and v}
