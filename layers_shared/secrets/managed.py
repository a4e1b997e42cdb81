"""Secrets Manager values, read on first use and kept per execution environment.

Only the secret's ARN lives in a function's environment; the value is fetched
the first time a request needs it (a cold start that serves requests which
never need it pays no network call) and then kept for the warm container's
life. `invalidate` drops it, for a caller that learns the secret was rotated.
Values never appear in logs, exception texts or reprs.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)

# ARN -> value, per execution environment.
CACHE: dict[str, str] = {}
_lock = threading.Lock()


class SecretUnavailable(Exception):
    """The secret could not be read, or holds nothing usable (the text says which, never the value)."""


def _stripped(raw: str) -> str:
    return raw.strip()


def read(arn: str, extract: Callable[[str], str] = _stripped) -> str:
    """The value of secret `arn`, through `extract` (e.g. a field of a JSON secret)."""
    cached = CACHE.get(arn)
    if cached:
        return cached
    with _lock:
        if arn not in CACHE:
            from layers_shared import aws  # boto3 only when a secret is really needed

            try:
                raw = aws.client("secretsmanager").get_secret_value(SecretId=arn).get("SecretString")
            except Exception as exc:  # no detail: the exception text could carry anything
                log.warning("secret unreadable: %s", type(exc).__name__)
                raise SecretUnavailable("could not be read from Secrets Manager.") from None
            value = extract(raw or "")
            if not value:
                raise SecretUnavailable("secret is empty.")
            CACHE[arn] = value
        return CACHE[arn]


class SecretValue:
    """A secret read lazily by ARN (the `get`/`invalidate` shape adapters take)."""

    refreshable = True  # a rejected credential may mean the secret was rotated: read it again once

    def __init__(self, arn: str, extract: Callable[[str], str] = _stripped):
        self._arn = arn
        self._extract = extract

    def get(self) -> str:
        return read(self._arn, self._extract)

    def invalidate(self) -> None:
        CACHE.pop(self._arn, None)

    def __repr__(self) -> str:
        return f"SecretValue(arn={self._arn!r})"


class LocalValue:
    """A value the local stack or a test passes in explicitly; never used by a deployed function."""

    refreshable = False

    def __init__(self, value: str):
        self._value = value

    def get(self) -> str:
        return self._value

    def invalidate(self) -> None:
        pass

    def __repr__(self) -> str:
        return "LocalValue(***)"
