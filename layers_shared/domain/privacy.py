"""TikTok privacy levels against what `creator_info` offers (decisions.md,
"Platform limits"): pure, so schedule time and the publisher decide alike."""
from __future__ import annotations

from typing import Iterable

# What a public account is offered; also the sandbox's default.
PUBLIC_OPTIONS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
PRIVATE_OPTIONS = ("FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")
# Most open first: every mutual friend is a follower, every follower is everyone.
OPENNESS = ("PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY")


def most_open(options: Iterable[str]) -> str | None:
    offered = set(options)
    return next((level for level in OPENNESS if level in offered), None)


def resolve(requested: str | None, options: Iterable[str] | None) -> tuple[str | None, bool]:
    """(the level to use, whether it is allowed). Unknown options (None):
    the requested level stands (or None) and the publisher checks later."""
    if options is None:
        return requested, True
    offered = tuple(options)
    if requested is not None:
        return requested, requested in offered
    level = most_open(offered)
    return level, level is not None


def not_allowed_message(requested: str | None, options: Iterable[str]) -> str:
    allowed = ", ".join(options) or "none"
    if requested is None:
        return f"the account offers no privacy level TikTok can post with (allowed: {allowed})"
    return f"{requested} is not offered by this TikTok account; allowed: {allowed}"
