"""A post already submitted keeps being read when its account's authorization
goes bad (found by `make campaign-live`).

- An account turned `reauth_required` by another post (a refresh that failed)
  does not end a submitted post `failed`: the publisher still reads it with
  the stored token, and a post that is live ends `published`.
- TikTok rotates the refresh token on every refresh: the new pair is stored
  the moment TikTok answers, so a worker that dies after the refresh does not
  take the only valid refresh token with it.
- When the read itself is refused for authorization, a submitted post ends
  `SUBMIT_OUTCOME_UNKNOWN` (it may be live), never "failed" as if it were not.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from layers_shared import clock
from layers_shared.platforms.port import Credentials
from layers_shared.platforms.tiktok import TikTokAdapter
from layers_shared.store import keys
from tests.fakes.tiktok import FakeTikTok
from tests.support import TIKTOK


@pytest.fixture
def tiktok():
    with FakeTikTok() as fake:
        fake.add_account("act.local-example", "rft.local-example")
        fake.processing_polls = 1
        yield fake


def _publisher(world, tiktok):
    adapter = TikTokAdapter(tiktok.url, "ck_test", "cs_test", connect_timeout=0.5, read_timeout=0.3)
    return world.publisher(adapter_for=lambda post: adapter), adapter


def _submit(world, publisher, now):
    pid = world.post(TIKTOK, when=now, env="live")
    assert publisher.publish(pid, clock.to_storage(now)) == "wait:poll"
    return pid


def _next_step(world, publisher, now):
    (step,) = world.queue.take()
    now += timedelta(seconds=step.delay)
    clock.set_now(now)
    return publisher.handle(step.body), now


def test_a_submitted_post_is_still_read_after_its_account_turned_reauth_required(world, now, tiktok):
    clock.set_now(now)
    publisher, _ = _publisher(world, tiktok)
    pid = _submit(world, publisher, now)
    world.table.update(keys.social_account(TIKTOK), "SET #s = :s", names={"#s": "status"},
                       values={":s": "reauth_required"})
    result, now = _next_step(world, publisher, now)
    while result.startswith("wait:"):
        result, now = _next_step(world, publisher, now)
    item = world.read(pid)
    assert item["status"] == "published", item
    assert len(tiktok.inits()) == 1


def test_a_rotated_token_survives_the_worker_that_refreshed_it(world, now, tiktok):
    clock.set_now(now)
    publisher, adapter = _publisher(world, tiktok)
    _submit(world, publisher, now)
    # The stored access token expires now: the next read refreshes it first.
    before = world.vault.get(TIKTOK)
    world.vault.put(TIKTOK, Credentials(before.access_token, before.refresh_token, clock.to_storage(now),
                                        before.platform_user_id))

    real_poll = adapter.poll

    def poll_then_die(delivery, state):
        real_poll(delivery, state)  # refreshes (TikTok rotates the refresh token), reads ...
        raise SystemExit("worker killed before recording anything")

    adapter.poll = poll_then_die  # type: ignore[method-assign]
    (step,) = world.queue.take()
    now += timedelta(seconds=step.delay)
    clock.set_now(now)
    with pytest.raises(SystemExit):
        publisher.handle(step.body)
    adapter.poll = real_poll  # type: ignore[method-assign]

    stored = world.vault.get(TIKTOK)
    assert stored.refresh_token != before.refresh_token          # the rotated pair was kept at once
    assert stored.refresh_token in tiktok.refresh_tokens


def test_a_read_refused_for_authorization_leaves_a_submitted_post_unknown_not_failed(world, now, tiktok):
    clock.set_now(now)
    publisher, _ = _publisher(world, tiktok)
    pid = _submit(world, publisher, now)
    tiktok.revoke_access("act.local-example")          # the access token dies ...
    tiktok.refresh_tokens.clear()                       # ... and so does the refresh token
    result, now = _next_step(world, publisher, now)
    item = world.read(pid)
    assert item["status"] == "failed" and item["lastError"]["code"] == "SUBMIT_OUTCOME_UNKNOWN", item
    account = world.table.get(keys.social_account(TIKTOK))
    assert account["status"] == "reauth_required"
