"""The sandbox platform and the slot fan-out, through the publisher."""
from __future__ import annotations

from datetime import timedelta

from layers_shared import clock
from layers_shared.publisher import sweep
from layers_shared.publisher.settings import timings
from tests.support import FLAKY, IG_PERSONAL, INSTAGRAM, REJECTS, TIKTOK, UNKNOWN


def run(world, publisher, rounds: int = 20) -> None:
    """Deliver queued messages, jumping the clock over their delays."""
    for _ in range(rounds):
        batch = world.queue.take()
        if not batch:
            return
        clock.set_now(clock.now() + timedelta(seconds=max(m.delay for m in batch)))
        for message in batch:
            publisher.handle(message.body)


def test_a_fifty_post_slot_fans_out_in_batches_of_ten(world, now):
    ids = {world.post(TIKTOK, when=now) for _ in range(50)}
    later = world.post(TIKTOK, when=now + timedelta(seconds=1))
    count = sweep.fan_out(world.table, world.queue, clock.to_storage(now), now)
    sent = world.queue.take()
    assert count == 50 and {m.body["postId"] for m in sent} == ids and later not in ids
    assert all(m.body["kind"] == "publish" for m in sent)


def test_an_early_slot_parks_itself_until_its_time(world, now):
    pid = world.post(TIKTOK, when=now + timedelta(seconds=30))
    assert sweep.fan_out(world.table, world.queue, clock.to_storage(now + timedelta(seconds=30)), now) == 0
    (parked,) = world.queue.take()
    assert parked.body["kind"] == "slot" and parked.delay == 30
    assert world.read(pid)["status"] == "queued"


def test_sandbox_outcomes(world, now):
    clock.set_now(now)
    publisher = world.publisher()
    ids = {name: world.post(acct, when=now) for name, acct in
           [("ok", TIKTOK), ("flaky", FLAKY), ("unknown", UNKNOWN), ("reject", REJECTS), ("personal", IG_PERSONAL),
            ("ig", INSTAGRAM)]}
    ids["draft"] = world.post(TIKTOK, when=now, mode="draft")
    sweep.fan_out(world.table, world.queue, clock.to_storage(now), now)
    run(world, publisher)
    got = {name: world.read(pid) for name, pid in ids.items()}
    assert got["ok"]["status"] == "published"
    assert got["ok"]["externalUrl"] == f"https://www.tiktok.com/@acmecoffee/video/{got['ok']['externalId']}"
    assert got["ig"]["externalUrl"].startswith("https://www.instagram.com/p/") and len(got["ig"]["externalId"]) == 17
    assert got["flaky"]["status"] == "published" and got["flaky"]["attempts"] == 3
    assert got["unknown"]["status"] == "published" and got["unknown"]["attempts"] == 1
    assert got["reject"]["status"] == "failed" and got["reject"]["lastError"]["code"] == "PLATFORM_REJECTED"
    assert got["personal"]["lastError"]["platformCode"] == "10"
    assert got["draft"]["status"] == "draft" and "externalUrl" not in got["draft"]
    for name in ("ok", "flaky", "unknown", "draft", "ig"):
        assert len(world.deliveries(ids[name])) == 1, name
    for name in ("reject", "personal"):
        assert world.deliveries(ids[name]) == [], name
    assert all("GSI2PK" not in item for item in got.values())


def test_sweeper_publishes_what_no_trigger_fired_and_recovers_expired_leases(world, now):
    clock.set_now(now)
    forgotten = world.post(TIKTOK, when=now - timedelta(minutes=2))
    found = sweep.sweep(world.table, world.queue, now, timings())
    assert found == {"queued": 1, "recovered": 0, "reindexed": 0}
    run(world, world.publisher())
    assert world.read(forgotten)["status"] == "published"


def test_a_disconnected_account_fails_without_a_platform_call(world, now):
    clock.set_now(now)
    pid = world.post(TIKTOK, when=now)
    world.table.update({"PK": f"SA#{TIKTOK}", "SK": "META"}, "SET #s = :d", names={"#s": "status"},
                       values={":d": "disconnected"})
    world.publisher().publish(pid, clock.to_storage(now))
    item = world.read(pid)
    assert item["status"] == "failed" and item["lastError"]["code"] == "SOCIAL_ACCOUNT_NOT_CONNECTED"
    assert world.deliveries(pid) == []


def test_live_outcome_side_effects_reach_the_account_and_the_vault(world, now):
    from layers_shared.platforms.port import Credentials, Outcome

    class RefreshesThenLosesAuth:
        def submit(self, delivery):
            assert delivery.credentials is not None and delivery.credentials.access_token == "act.local-example"
            return Outcome.failed("REAUTH_REQUIRED", "reconnect", "access_token_invalid",
                                  new_credentials=Credentials("act.new", "rft.new", None, "local-open-id"),
                                  account_status="reauth_required")

    clock.set_now(now)
    pid = world.post(TIKTOK, when=now, env="live")
    world.publisher(adapter_for=lambda p: RefreshesThenLosesAuth()).publish(pid, clock.to_storage(now))
    assert world.read(pid)["lastError"]["code"] == "REAUTH_REQUIRED"
    assert world.table.get({"PK": f"SA#{TIKTOK}", "SK": "META"})["status"] == "reauth_required"
    assert world.vault.get(TIKTOK).access_token == "act.new"


def test_a_live_delivery_can_reread_the_stored_credentials(world, now):
    from layers_shared.platforms.port import Credentials, Outcome

    seen = []

    class ReadsTheVaultAgain:
        def submit(self, delivery):
            world.vault.put(TIKTOK, Credentials("act.rotated-elsewhere", "rft.rotated-elsewhere"))
            seen.append(delivery.reload_credentials())
            return Outcome("processing", state={"publishId": "p1"})

    clock.set_now(now)
    pid = world.post(TIKTOK, when=now, env="live")
    world.publisher(adapter_for=lambda p: ReadsTheVaultAgain()).publish(pid, clock.to_storage(now))
    assert [c.refresh_token for c in seen] == ["rft.rotated-elsewhere"]
