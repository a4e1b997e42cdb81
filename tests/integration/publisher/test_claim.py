"""The conditional writes against DynamoDB (moto): one winner, always."""
from __future__ import annotations

from datetime import timedelta

from layers_shared import clock
from layers_shared.store import post_leases as claim
from tests.support import TIKTOK


def test_claim_wins_once(world, now):
    pid = world.post(TIKTOK, when=now)
    expected = clock.to_storage(now)
    first = claim.claim(world.table, pid, expected, now, 60)
    assert first is not None
    token, item = first
    assert item["status"] == "publishing" and item["attemptToken"] == token
    assert item["submitStartedAt"] == expected and item["attempts"] == 1
    assert item["GSI2PK"].startswith("WQ#publishing#")
    assert item["GSI2SK"].startswith(clock.to_storage(now + timedelta(seconds=60)))
    assert claim.claim(world.table, pid, expected, now, 60) is None


def test_claim_refuses_early_stale_and_canceled(world, now):
    due_later = world.post(TIKTOK, when=now + timedelta(seconds=30))
    assert claim.claim(world.table, due_later, clock.to_storage(now + timedelta(seconds=30)), now, 60) is None
    moved = world.post(TIKTOK, when=now)
    assert claim.claim(world.table, moved, clock.to_storage(now - timedelta(seconds=5)), now, 60) is None
    canceled = world.post(TIKTOK, when=now)
    world.table.update({"PK": f"SP#{canceled}", "SK": "META"}, "SET #s = :c", names={"#s": "status"},
                       values={":c": "canceled"})
    assert claim.claim(world.table, canceled, clock.to_storage(now), now, 60) is None
    assert world.read(moved)["status"] == "queued" and world.read(due_later)["status"] == "queued"


def test_a_step_token_is_good_for_one_step(world, now):
    pid = world.post(TIKTOK, when=now)
    token, _ = claim.claim(world.table, pid, clock.to_storage(now), now, 60)
    world.table.update({"PK": f"SP#{pid}", "SK": "META"}, "SET nextAction = :p", values={":p": "poll"})
    first = claim.take_step(world.table, pid, token, "poll", now, 60)
    assert first is not None
    assert claim.take_step(world.table, pid, token, "poll", now, 60) is None  # the duplicate
    assert claim.take_step(world.table, pid, first[0], "confirm", now, 60) is None  # wrong action


def test_start_submit_needs_no_submit_in_flight(world, now):
    pid = world.post(TIKTOK, when=now)
    token, _ = claim.claim(world.table, pid, clock.to_storage(now), now, 60)
    assert claim.start_submit(world.table, pid, token, now) is None  # the claim started one
    world.table.update({"PK": f"SP#{pid}", "SK": "META"}, "REMOVE submitStartedAt")
    started = claim.start_submit(world.table, pid, token, now)
    assert started is not None and started["attempts"] == 2


def test_recovery_waits_for_the_lease_and_only_confirms_a_started_submit(world, now):
    pid = world.post(TIKTOK, when=now)
    token, item = claim.claim(world.table, pid, clock.to_storage(now), now, 60)
    assert claim.recover(world.table, item, now + timedelta(seconds=59), 60) is None
    taken = claim.recover(world.table, item, now + timedelta(seconds=61), 60)
    assert taken is not None and taken[1] == "confirm"
    assert claim.recover(world.table, item, now + timedelta(seconds=200), 60) is None  # old token is gone
    assert claim.finish(world.table, pid, token, "SET #s = :x", {":x": "published"}) is False


def test_recovery_resubmits_only_when_no_submit_started(world, now):
    pid = world.post(TIKTOK, when=now)
    _, item = claim.claim(world.table, pid, clock.to_storage(now), now, 60)
    world.table.update({"PK": f"SP#{pid}", "SK": "META"}, "REMOVE submitStartedAt")
    item = world.read(pid)
    assert claim.recover(world.table, item, now + timedelta(seconds=61), 60)[1] == "submit"
