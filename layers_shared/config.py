"""Tunables read from the environment when first needed.

What a deployed function cannot run without (the table, ARNs, secrets) is in
`layers_shared.settings`, checked at cold start; nothing here may default it.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache

from layers_shared import settings


def table_name() -> str:
    name = settings.current().table_name
    if not name:  # a built-in name would read another stage's table, or none
        raise settings.ConfigurationError([settings.TABLE.missing()])
    return name


def stage() -> str:
    return os.environ.get("STAGE", "dev")


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@lru_cache(maxsize=1)
def rate_limits() -> dict[str, dict[str, int]]:
    """Requests per minute per tier and endpoint class (decisions.md)."""
    limits = {
        "standard": {"read-light": 120, "write-light": 60},
        "pilot": {"read-light": 1200, "write-light": 600},
        "partner": {"read-light": 6000, "write-light": 3000},
    }
    override = os.environ.get("RATE_LIMITS_JSON")
    if override:
        for tier, classes in json.loads(override).items():
            limits.setdefault(tier, {}).update(classes)
    return limits


def work_queue_shards() -> int:
    return int(os.environ.get("WORK_QUEUE_SHARDS", "32"))
