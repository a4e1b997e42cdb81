"""TikTok `creator_info` (platform-apis.md §1.2): a table-backed cache per
account and a per-token call budget, shared by schedule time and the publisher.

Both live in the table, not in a container's memory: the schedule function,
the publish function and the publisher each run in many Lambda containers, and
TikTok's 20 calls/min is per token, across all of them
(docs/adr/0013-platform-limits-and-creator-info.md).
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from layers_shared import clock
from layers_shared.store.table import Table

log = logging.getLogger(__name__)

CACHE_SECONDS = 600          # decisions.md: cached per account for 10 minutes
CALLS_PER_MINUTE = 20        # TikTok's creator_info limit per token
WINDOW_SECONDS = 60
# Small on purpose: a batch of 50 cold accounts is ~13 rounds of 4 calls,
# far below the per-token limit (one call per account) and kind to Lambda's CPU.
MAX_WORKERS = 4


@dataclass(frozen=True)
class CreatorInfo:
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> "CreatorInfo":
        options = data.get("privacy_level_options")
        return cls(tuple(str(o) for o in options) if isinstance(options, list) else (),
                   bool(data.get("comment_disabled")), bool(data.get("duet_disabled")),
                   bool(data.get("stitch_disabled")))


def cache_key(account_id: str) -> dict[str, str]:
    return {"PK": f"SA#{account_id}", "SK": "CREATORINFO"}


def from_cache_item(item: dict[str, Any] | None, now_epoch: int) -> CreatorInfo | None:
    """A cached answer still within its 10 minutes (TTL deletion lags, so the
    age is checked here, not left to DynamoDB)."""
    if not item or now_epoch - int(item.get("readAt", 0)) >= CACHE_SECONDS:
        return None
    return CreatorInfo(tuple(item.get("privacyLevelOptions") or ()), bool(item.get("commentDisabled")),
                       bool(item.get("duetDisabled")), bool(item.get("stitchDisabled")))


class Store:
    def __init__(self, table: Table):
        self.table = table

    def cached(self, account_id: str) -> CreatorInfo | None:
        return from_cache_item(self.table.get(cache_key(account_id)), clock.epoch_seconds(clock.now()))

    def remember(self, account_id: str, info: CreatorInfo) -> None:
        now = clock.epoch_seconds(clock.now())
        self.table.put({**cache_key(account_id), "type": "CREATORINFO", "id": account_id, "readAt": now,
                        "expiresAt": now + CACHE_SECONDS + WINDOW_SECONDS,
                        "privacyLevelOptions": list(info.privacy_level_options),
                        "commentDisabled": info.comment_disabled, "duetDisabled": info.duet_disabled,
                        "stitchDisabled": info.stitch_disabled})

    def take_call(self, account_id: str) -> float | None:
        """Spend one of the token's calls in the sliding minute (TikTok's
        window, §1.7): None when granted, else the seconds until one is free.
        The same budget as the publisher's init and status pacing
        (platforms/pacing.py), keyed by account: an account holds exactly one
        token at a time, and a rotated token is the same user's budget anyway."""
        from layers_shared.platforms.pacing import WINDOW_MS
        from layers_shared.store.pacing import Contended, PaceStore

        now = int(clock.now().timestamp() * 1000)
        try:
            slot = PaceStore(self.table).reserve("tiktok_creator_info", account_id, CALLS_PER_MINUTE, WINDOW_MS,
                                                 now, later=False)
        except Contended:
            return 1.0
        return None if slot <= now else max(1.0, (slot - now) / 1000.0)


Reader = Callable[[str], CreatorInfo | None]


def read_many(account_ids: Iterable[str], read: Reader, workers: int = MAX_WORKERS) -> dict[str, CreatorInfo]:
    """`read` for every account, a few at a time; accounts whose read failed are
    left out (the schedule goes on; the publisher reads again)."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    if len(wanted) == 1:
        found = {wanted[0]: _safely(read, wanted[0])}
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(wanted))) as pool:
            found = dict(zip(wanted, pool.map(lambda a: _safely(read, a), wanted)))
    return {a: info for a, info in found.items() if info is not None}


def _safely(read: Reader, account_id: str) -> CreatorInfo | None:
    try:
        return read(account_id)
    except Exception:
        # A read that broke is a read that could not be made now: the schedule
        # must not fail for it (decisions.md).
        log.exception("creator_info read failed for an account")
        return None


def schedule_time_options(table: Table, account_ids: Iterable[str],
                          found: dict[tuple[str, str], dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Privacy options of live TikTok accounts for a schedule call: from the
    cache items already in `found` (the call's one batch read), else read from
    TikTok a few accounts at a time. An account whose creator_info cannot be
    read now (no token, budget spent, TikTok down) is left out: the schedule
    goes on and the publisher checks before its init."""
    now = clock.epoch_seconds(clock.now())
    options: dict[str, tuple[str, ...]] = {}
    misses: list[str] = []
    for account_id in sorted(set(account_ids)):
        key = cache_key(account_id)
        info = from_cache_item(found.get((key["PK"], key["SK"])), now)
        if info is not None:
            options[account_id] = info.privacy_level_options
        else:
            misses.append(account_id)
    if misses:
        for account_id, info in read_many(misses, _live_reader(table)).items():
            options[account_id] = info.privacy_level_options
    return options


def _live_reader(table: Table) -> Reader:
    from layers_shared.platforms.port import Outcome
    from layers_shared.platforms.tiktok import TikTokAdapter
    from layers_shared.secrets.vault import KmsTokenVault

    store, vault, adapter = Store(table), KmsTokenVault(table), TikTokAdapter()

    def read(account_id: str) -> CreatorInfo | None:
        if store.take_call(account_id) is not None:
            return None
        credentials = vault.get(account_id)
        if credentials is None:
            return None
        answer, rotated = adapter.creator_info(credentials, reload=lambda: vault.get(account_id))
        if rotated is not None:
            vault.put(account_id, rotated)  # TikTok rotated the refresh token: the old one is dead
        if isinstance(answer, Outcome):
            log.info("creator_info not readable at schedule time: %s", answer.error.code if answer.error else "?")
            return None
        store.remember(account_id, answer)
        return answer
    return read
