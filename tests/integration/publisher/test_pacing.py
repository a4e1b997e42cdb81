"""Pacing per platform token (issue 13), against the fake TikTok that
enforces 6 inits, 30 status reads and 20 creator_info calls per minute per
token, on simulated time: every message is handled at the instant SQS would
deliver it (its delay rounded up to whole seconds, as SqsQueue sends it)."""
from __future__ import annotations

import heapq
import itertools
from datetime import timedelta

import pytest

from layers_shared import clock
from layers_shared.platforms.pacing import TokenPacing, WINDOW_MS
from layers_shared.platforms.port import Credentials, Delivery
from layers_shared.platforms.tiktok import TikTokAdapter
from layers_shared.publisher.queue import delay_seconds
from layers_shared.store.pacing import PaceStore
from tests.fakes.tiktok import FakeTikTok
from tests.support import TIKTOK


@pytest.fixture
def tiktok():
    with FakeTikTok() as fake:
        fake.add_account("act.local-example", "rft.local-example")
        fake.processing_polls = 0
        fake.clock = lambda: clock.now().timestamp()
        yield fake


def _deliver_all(world, publisher, start, first):
    """Run until the queue is empty; returns how many messages were handled."""
    seq = itertools.count()
    due = [(start, next(seq), body) for body in first]
    heapq.heapify(due)
    handled = 0
    while due:
        at, _, body = heapq.heappop(due)
        clock.set_now(at)
        publisher.handle(body)
        handled += 1
        assert handled < 5000, "no end"
        for message in world.queue.take():
            heapq.heappush(due, (at + timedelta(seconds=delay_seconds(message.delay)), next(seq), message.body))
    return handled


def test_one_hundred_posts_for_one_account_due_at_once_are_all_published_at_the_tokens_pace(world, now, tiktok):
    from layers_shared.publisher import messages

    clock.set_now(now)
    adapter = TikTokAdapter(tiktok.url, "ck_test", "cs_test", connect_timeout=0.5, read_timeout=2.0)
    publisher = world.publisher(adapter_for=lambda post: adapter)
    posts = [world.post(TIKTOK, when=now, env="live") for _ in range(100)]

    handled = _deliver_all(world, publisher, now, [messages.publish(p, clock.to_storage(now)) for p in posts])

    items = [world.read(p) for p in posts]
    assert [i["status"] for i in items] == ["published"] * 100, {i["status"] for i in items}
    assert tiktok.limited == {} or set(tiktok.limited.values()) == {0}      # 0 rate_limit_exceeded
    assert tiktok.creator_info_limited == 0
    assert len(tiktok.inits()) == 100                                       # each init once
    assert all(i["attempts"] == 1 and "lastError" not in i for i in items)  # pacing spent no attempt
    # Paced at the token's limit: full minutes of 6 inits, 17 rounds for 100 posts.
    assert tiktok.max_per_minute("init") == 6
    init_times = sorted(t for (kind, _), times in tiktok.limited_times.items() if kind == "init" for t in times)
    span = init_times[-1] - init_times[0]
    assert span == 16 * WINDOW_MS / 1000, span
    # Each post waited once: publish, one deferred submit (not the first 6),
    # one status read; the 10 posts of the 16th and 17th rounds wait 945 s and
    # 1,008 s, longer than one SQS delay (900 s), so theirs takes two hops.
    assert handled == 100 * 3 - 6 + 10, handled


def test_a_post_with_its_slot_reserved_does_not_reserve_again(world, now):
    clock.set_now(now)
    pacing = TokenPacing(PaceStore(world.table), TIKTOK, {"tiktok_init": 1})
    assert pacing.before("tiktok_init", {}) is None
    held = pacing.before("tiktok_init", {})
    assert held.kind == "deferred" and held.retry_after == WINDOW_MS / 1000
    clock.set_now(now + timedelta(milliseconds=WINDOW_MS))
    assert pacing.before("tiktok_init", held.state) is None                # its own slot
    assert pacing.before("tiktok_init", {}).retry_after == WINDOW_MS / 1000  # the next caller's is later


def test_a_slot_come_back_to_far_too_late_is_taken_again(world, now):
    clock.set_now(now)
    pacing = TokenPacing(PaceStore(world.table), TIKTOK, {"tiktok_init": 1})
    pacing.before("tiktok_init", {})
    held = pacing.before("tiktok_init", {})
    # Lost for a while (the sweeper recovered it): the old slot no longer keeps the minute.
    clock.set_now(now + timedelta(milliseconds=WINDOW_MS * 2 + 10_000))
    pacing.before("tiktok_init", {})                                        # someone else, on time
    again = pacing.before("tiktok_init", held.state)
    assert again is not None and again.kind == "deferred"


def test_a_second_worker_needing_a_refresh_waits_for_the_first_and_uses_its_rotated_token(world, now, tiktok):
    """Worker A is mid-refresh (TikTok has rotated the refresh token, A has not
    stored the new pair yet); worker B finds the token expired too."""
    clock.set_now(now)
    expired = Credentials("act.local-example", "rft.local-example",
                          clock.to_storage(now - timedelta(minutes=1)), "open_fake_1")
    world.vault.put(TIKTOK, expired)
    adapter = TikTokAdapter(tiktok.url, "ck_test", "cs_test", connect_timeout=0.5, read_timeout=2.0)
    store = PaceStore(world.table)
    assert TokenPacing(store, TIKTOK).hold_refresh()                        # A holds the account's refresh
    rotated = _refresh_as_worker_a(tiktok, "rft.local-example", now)       # ... and TikTok answered A

    def delivery(pacing):
        from layers_shared.models.entities import ScheduledPost, SocialAccount
        from layers_shared.store import items, keys

        post = ScheduledPost.model_validate(world.read(world.post(TIKTOK, when=now, env="live", mode="draft")))
        account = items.from_item(SocialAccount, world.table.get(keys.social_account(TIKTOK)))
        return Delivery(post=post, account=account, credentials=expired,
                        reload_credentials=lambda: world.vault.get(TIKTOK), pacing=pacing)

    b = adapter.submit(delivery(TokenPacing(store, TIKTOK)))
    assert b.kind == "deferred" and b.account_status is None and tiktok.inits() == []
    # Without the lease B would have refreshed with the dead token: reauth.
    unpaced = adapter.submit(delivery(None))
    assert unpaced.account_status == "reauth_required"

    world.vault.put(TIKTOK, rotated)                                        # A stores what TikTok gave it
    clock.set_now(now + timedelta(seconds=b.retry_after))
    again = adapter.submit(delivery(TokenPacing(store, TIKTOK)))
    assert again.kind == "processing" and again.new_credentials is None
    assert [r.bearer for r in tiktok.inits()] == [rotated.access_token]


def _refresh_as_worker_a(tiktok, refresh_token, now):
    import json
    import urllib.parse
    import urllib.request

    form = urllib.parse.urlencode({"client_key": "ck_test", "client_secret": "cs_test",
                                   "grant_type": "refresh_token", "refresh_token": refresh_token}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{tiktok.url}/v2/oauth/token/", data=form)) as resp:
        body = json.loads(resp.read())
    return Credentials(body["access_token"], body["refresh_token"],
                       clock.to_storage(now + timedelta(hours=2)), body["open_id"])


def test_creator_info_shares_the_sliding_minute_budget(world, now):
    """creator_info's 20 a minute is the same kind of budget: 20 at once, the
    21st only when the first leaves the minute, even across a minute boundary
    (a fixed window would allow 40 within one sliding minute)."""
    from layers_shared.platforms.creator_info import Store

    store = Store(world.table)
    late_in_a_minute = now.replace(second=59)
    clock.set_now(late_in_a_minute)
    assert [store.take_call(TIKTOK) for _ in range(20)] == [None] * 20
    clock.set_now(late_in_a_minute + timedelta(seconds=2))  # the next calendar minute
    assert store.take_call(TIKTOK) == pytest.approx(WINDOW_MS / 1000 - 2)
    clock.set_now(late_in_a_minute + timedelta(milliseconds=WINDOW_MS))
    assert store.take_call(TIKTOK) is None


def test_a_clock_that_ran_ahead_does_not_block_creator_info_calls_now(world, now):
    from layers_shared.platforms.creator_info import Store

    store = Store(world.table)
    clock.set_now(now + timedelta(minutes=10))
    assert [store.take_call(TIKTOK) for _ in range(20)] == [None] * 20
    clock.set_now(now)
    assert store.take_call(TIKTOK) is None
