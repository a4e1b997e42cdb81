"""The platform port: what the publisher asks of TikTok, Instagram, the managed
provider and the sandbox.

A delivery may take several invocations (platform processing). The adapter
returns an `Outcome`; when it is `processing`, the publisher persists
`Outcome.state` on the post and calls `poll` later with it. When a submit's
answer was lost (`unknown`), the publisher calls `confirm` with the last state:
the adapter reads the platform and never submits again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Protocol

from layers_shared.models.entities import LastError, ScheduledPost, SocialAccount

# deferred: our own pacing held the call back; nothing was sent, and the
# publisher waits `retry_after` without spending an attempt (platforms/pacing.py).
OutcomeKind = Literal["published", "draft", "processing", "retry", "failed", "unknown", "deferred"]


@dataclass
class Credentials:
    access_token: str
    refresh_token: str | None = None
    expires_at: str | None = None  # ISO instant (UTC Z)
    platform_user_id: str | None = None

    def __repr__(self) -> str:  # never print tokens
        return f"Credentials(platform_user_id={self.platform_user_id!r}, expires_at={self.expires_at!r})"


@dataclass
class Delivery:
    post: ScheduledPost
    account: SocialAccount
    credentials: Credentials | None = None
    provider: str | None = None          # managed: the layer's config.provider
    operator_phone: str | None = None    # instagram draft: the org's verified primary operator phone
    # Reads the account's credentials as stored now: another worker may have
    # rotated them since `credentials` was read.
    reload_credentials: Callable[[], Credentials | None] | None = None
    # Stores rotated credentials at once (TikTok's refresh kills the old pair).
    save_credentials: Callable[[Credentials], None] | None = None
    # Live TikTok direct posts: the shared creator_info cache and per-token
    # budget (platforms/creator_info.Store); None reads without a budget.
    creator_info_store: Any = None
    # Live TikTok: the account's per-token call budgets and refresh lease
    # (platforms/pacing.TokenPacing); None calls unpaced.
    pacing: Any = None


@dataclass
class Outcome:
    kind: OutcomeKind
    external_id: str | None = None
    external_url: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    error: LastError | None = None
    retry_after: float | None = None
    new_credentials: Credentials | None = None
    account_status: Literal["reauth_required"] | None = None

    @classmethod
    def failed(cls, code: str, message: str, platform_code: str | None = None, **kw: Any) -> "Outcome":
        return cls("failed", error=LastError(code=code, message=message, platformCode=platform_code), **kw)

    @classmethod
    def retry(cls, code: str, message: str, platform_code: str | None = None,
              retry_after: float | None = None, **kw: Any) -> "Outcome":
        return cls("retry", error=LastError(code=code, message=message, platformCode=platform_code),
                   retry_after=retry_after, **kw)


class PlatformAdapter(Protocol):
    def submit(self, delivery: Delivery) -> Outcome: ...

    def poll(self, delivery: Delivery, state: dict[str, Any]) -> Outcome: ...

    def confirm(self, delivery: Delivery, state: dict[str, Any]) -> Outcome: ...
