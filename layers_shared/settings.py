"""What each deployed function needs from its environment, checked at cold start.

Every handler module calls `load(...)` with its needs at import, so a function
deployed without something it needs refuses to start with one error that
lists every missing setting, instead of falling back to a test double or a
built-in value deep inside a request (docs/adr/0061-settings-and-secrets.md).

Secrets are never in the environment of a deployed function: only their ARNs
are, and the values are read from Secrets Manager on first use
(`layers_shared.secrets.managed`). A `local` stand-in (`CURSOR_SECRET`,
`TIKTOK_CLIENT_SECRET`) is a plain value that only the local stack and the
tests set, explicitly; template.yaml never does (tests/unit/test_settings.py).

No pydantic, no boto3 here: this runs on every cold start.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Iterable, Mapping

from layers_shared.secrets.managed import LocalValue, SecretValue


class ConfigurationError(RuntimeError):
    """The function is missing configuration it needs; it must not serve requests."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("refusing to start, configuration is incomplete: " + "; ".join(self.problems))


@dataclass(frozen=True)
class Need:
    env: str  # the variable a deployed function reads; template.yaml must set it
    why: str
    local: str | None = None  # an explicit plain stand-in for the local stack and tests
    when: str | None = None  # needed only when this other variable is set

    def problem(self, environ: Mapping[str, str]) -> str | None:
        if self.when and not _value(environ, self.when):
            return None
        if _value(environ, self.env) or (self.local and _value(environ, self.local)):
            return None
        return self.missing()

    def missing(self) -> str:
        condition = f" (because {self.when} is set)" if self.when else ""
        return f"{self.env} is not set: {self.why}{condition}"


TABLE = Need("TABLE_NAME", "the DynamoDB table every function reads")
PUBLISHER = Need("PUBLISHER_FUNCTION_ARN", "the publisher the trigger invokes for due posts")
SCHEDULE_GROUP = Need("SCHEDULE_GROUP", "the EventBridge Scheduler group slot schedules go to")
SCHEDULER_ROLE = Need("SCHEDULER_ROLE_ARN", "the role slot schedules invoke the publisher with")
CURSOR_KEY = Need("CURSOR_SECRET_ARN", "the Secrets Manager secret list cursors are signed with",
                  local="CURSOR_SECRET")
PUBLISH_QUEUE = Need("PUBLISH_QUEUE_URL", "the queue of post steps")
TOKEN_KEY = Need("TOKEN_KMS_KEY_ID", "the KMS key platform tokens are encrypted with")
TIKTOK_CLIENT_SECRET = Need("TIKTOK_CLIENT_SECRET_ARN",
                            "the Secrets Manager secret holding the TikTok app's client secret",
                            local="TIKTOK_CLIENT_SECRET", when="TIKTOK_CLIENT_KEY")
WEBHOOK_KEY = Need("WEBHOOK_KMS_KEY_ID", "the KMS key webhook signing secrets are encrypted with")
WEBHOOK_QUEUE = Need("WEBHOOK_QUEUE_URL", "the queue of webhook delivery attempts")

# What the handlers declare (functions/*/app.py).
SLOT_TRIGGER = (PUBLISHER, SCHEDULE_GROUP, SCHEDULER_ROLE)
# Publish-now posts are always due: the publisher is invoked, no schedule is created.
INVOKE_PUBLISHER = (PUBLISHER,)
LIST_CURSORS = (CURSOR_KEY,)
PUBLISHER_WORKER = (PUBLISH_QUEUE, TOKEN_KEY, TIKTOK_CLIENT_SECRET)
# Live TikTok targets read creator_info at schedule time (docs/adr/0013).
CREATOR_INFO_READER = (TOKEN_KEY, TIKTOK_CLIENT_SECRET)
WEBHOOK_SECRETS = (WEBHOOK_KEY,)  # create and rotate-secret encrypt; a replayed answer decrypts
WEBHOOK_DELIVERY = (WEBHOOK_KEY, WEBHOOK_QUEUE)
WEBHOOK_FANOUT = (WEBHOOK_QUEUE,)


def _value(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value if value not in (None, "") else None


@dataclass(frozen=True)
class Settings:
    table_name: str | None = None
    stage: str | None = None
    publisher_function_arn: str | None = None
    schedule_group: str | None = None
    scheduler_role_arn: str | None = None
    scheduler_dlq_arn: str | None = None
    cursor_secret_arn: str | None = None
    cursor_secret: str | None = None  # local stack and tests only
    tiktok_client_key: str | None = None
    tiktok_client_secret_arn: str | None = None
    tiktok_client_secret: str | None = None  # local stack and tests only
    publish_queue_url: str | None = None
    token_kms_key_id: str | None = None
    needs: tuple[Need, ...] = ()

    @classmethod
    def from_env(cls, *needs: Need, environ: Mapping[str, str] | None = None) -> "Settings":
        """The settings in `environ`; ConfigurationError listing every need that is not met."""
        environ = os.environ if environ is None else environ
        wanted = _unique((TABLE, *needs))
        problems = [p for p in (n.problem(environ) for n in wanted) if p]
        if problems:
            raise ConfigurationError(problems)
        return cls._read(environ, wanted)

    @classmethod
    def _read(cls, environ: Mapping[str, str], needs: tuple[Need, ...] = ()) -> "Settings":
        values = {f.name: _value(environ, f.name.upper()) for f in fields(cls) if f.name != "needs"}
        return cls(**values, needs=needs)

    def require(self, need: Need) -> None:
        """For code that runs whatever the handler declared (a backstop, not the check)."""
        problem = need.problem(self._environ())
        if problem:
            raise ConfigurationError([problem])

    def cursor_key(self) -> bytes:
        if self.cursor_secret_arn:
            return SecretValue(self.cursor_secret_arn).get().encode()
        if self.cursor_secret:
            return self.cursor_secret.encode()
        raise ConfigurationError([CURSOR_KEY.missing()])

    def tiktok_client_secret_source(self) -> SecretValue | LocalValue | None:
        """None when no TikTok app is configured (tokens are then never refreshed)."""
        if self.tiktok_client_secret_arn:
            return SecretValue(self.tiktok_client_secret_arn)
        if self.tiktok_client_secret:
            return LocalValue(self.tiktok_client_secret)
        return None

    def _environ(self) -> dict[str, str]:
        return {f.name.upper(): getattr(self, f.name) for f in fields(self)
                if f.name != "needs" and getattr(self, f.name)}

    def __repr__(self) -> str:  # local stand-ins are secret values
        shown = {k: v for k, v in self._environ().items() if k not in ("CURSOR_SECRET", "TIKTOK_CLIENT_SECRET")}
        return f"Settings({shown!r})"


def _unique(needs: Iterable[Need]) -> tuple[Need, ...]:
    return tuple(dict.fromkeys(needs))


def load(*needs: Need) -> Settings:
    """The handler's settings, at cold start: raises ConfigurationError when a need is not met."""
    return Settings.from_env(*needs)


def current() -> Settings:
    """The settings as the environment holds them now (Lambda fixes it for the
    container's life; the local stack and tests change it between worlds).
    Not checked: `load` did that at cold start."""
    return Settings._read(os.environ)
