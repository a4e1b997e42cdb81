"""`lp_live_` schedule calls read TikTok creator_info through the live adapter,
against the fake TikTok server (decisions.md, "Platform limits"): once per
account per 10 minutes, never more than 20 calls a minute per token, and a
post whose options changed after scheduling fails before any init."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from layers_shared import clock
from layers_shared.models.entities import SocialAccount
from layers_shared.platforms.port import Credentials
from layers_shared.secrets.vault import KmsTokenVault
from layers_shared.store import items
from tests.fakes.http_server import Fault
from tests.fakes.tiktok import CREATOR_INFO, PRIVATE_OPTIONS, FakeTikTok, envelope
from tests.integration.test_publisher import at, wait_for
from tests.support import FAST_PUBLISHER_TIMINGS, FIXTURE, IMAGE, LIVE_KEY, TIKTOK, VIDEO, Client, environment, future

PROJECT = "prj_33333333-3333-4333-8333-000000000001"
ORG = "org_11111111-1111-4111-8111-111111111111"


def _token(account_id: str) -> str:
    return next(a["credentials"]["accessToken"] for a in FIXTURE["socialAccounts"] if a["id"] == account_id)


@pytest.fixture(scope="module")
def tiktok():
    with FakeTikTok() as fake:
        creds = next(a["credentials"] for a in FIXTURE["socialAccounts"] if a["id"] == TIKTOK)
        fake.add_account(creds["accessToken"], creds["refreshToken"])
        yield fake


@pytest.fixture(scope="module", autouse=True)
def live_env(tiktok):
    with environment(TIKTOK_API_BASE=tiktok.url, **FAST_PUBLISHER_TIMINGS):
        yield


@pytest.fixture(scope="module")
def live(stack) -> Client:
    return Client(stack.base_url, key=LIVE_KEY)


@pytest.fixture(scope="module")
def fifty(stack, tiktok) -> list[str]:
    """50 connected live TikTok accounts of the default project, one token each."""
    vault = KmsTokenVault(stack.table)
    made = []
    for n in range(50):
        account_id = f"sa_55555555-5555-4555-8555-{500 + n:012d}"
        stack.table.put(items.to_item(SocialAccount(
            id=account_id, projectId=PROJECT, organizationId=ORG, platform="tiktok", handle=f"bulk{n}",
            grantedScopes=["video.publish", "video.upload"])))
        token = f"act.bulk-{n}"
        vault.put(account_id, Credentials(token, f"rft.bulk-{n}", "2099-01-01T00:00:00Z", f"open_bulk_{n}"))
        tiktok.add_account(token, f"rft.bulk-{n}")
        if n % 2:
            tiktok.set_creator(token, PRIVATE_OPTIONS)
        made.append(account_id)
    return made


def dry_run(live: Client, container: str, targets: list[dict]):
    return live.post(f"/v1/content/{container}/schedule?dryRun=true",
                     {"scheduledFor": future(120), "targets": targets})


def test_a_50_target_batch_reads_each_account_once_per_10_minutes(live, tiktok, fifty):
    targets = [{"socialAccountId": a, "mode": "publish"} for a in fifty]
    before = len(tiktok.creator_info_calls())
    reply = live.schedule(IMAGE, targets, when=future(120))  # not due when the clock jumps 10 minutes
    assert reply.status == 200, reply.body
    assert len(tiktok.creator_info_calls()) - before == 50
    assert {r.bearer for r in tiktok.creator_info_calls()[before:]} == {f"act.bulk-{n}" for n in range(50)}
    levels = [live.get(f"/v1/scheduled-posts/{i}").body["privacyLevel"] for i in reply.body["scheduledPostIds"]]
    assert levels == ["FOLLOWER_OF_CREATOR" if n % 2 else "PUBLIC_TO_EVERYONE" for n in range(50)]

    again = dry_run(live, VIDEO, targets)  # within 10 minutes: all from the cache
    assert again.status == 200 and len(tiktok.creator_info_calls()) - before == 50
    clock.set_now(clock.now() + timedelta(minutes=10, seconds=1))
    try:
        assert dry_run(live, VIDEO, targets).status == 200
    finally:
        clock.set_now(None)
    assert len(tiktok.creator_info_calls()) - before == 100
    assert tiktok.creator_info_limited == 0 and not tiktok.errors


def test_never_more_than_20_calls_a_minute_per_token(live, tiktok):
    # creator_info keeps failing, so nothing is cached and every call would read again.
    tiktok.fault("POST", CREATOR_INFO, Fault(status=503, body=envelope({}, "internal_error")), times=100)
    try:
        before = len(tiktok.creator_info_calls(_token(TIKTOK)))
        for _ in range(25):
            reply = dry_run(live, VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}])
            assert reply.status == 200 and reply.body["targets"][0]["privacyLevel"] is None  # the schedule goes on
        assert len(tiktok.creator_info_calls(_token(TIKTOK))) - before <= 20
        assert tiktok.max_creator_info_per_minute() <= 20
    finally:
        with tiktok._lock:
            tiktok._faults.clear()


def test_an_explicit_level_outside_the_live_options_is_422(live, tiktok, fifty):
    reply = dry_run(live, VIDEO, [{"socialAccountId": fifty[1], "mode": "publish",
                                   "tiktokPostSettings": {"privacyLevel": "PUBLIC_TO_EVERYONE"}}])
    assert reply.status == 422 and reply.body["error"]["details"]["issues"][0]["code"] == "privacy_level_not_allowed"


def test_options_changed_after_scheduling_fail_without_an_init(live, tiktok, fifty):
    account, token = fifty[10], "act.bulk-10"  # public when scheduled
    reply = live.schedule(VIDEO, [{"socialAccountId": account, "mode": "publish"}], when=at(2),
                          headers={"Idempotency-Key": str(uuid.uuid4())})
    assert reply.status == 200, reply.body
    [post_id] = reply.body["scheduledPostIds"]
    assert live.get(f"/v1/scheduled-posts/{post_id}").body["privacyLevel"] == "PUBLIC_TO_EVERYONE"
    tiktok.set_creator(token, PRIVATE_OPTIONS)  # the creator made the account private
    inits = len(tiktok.inits())
    post = wait_for(live, post_id, timeout=30)
    assert post["status"] == "failed" and post["lastError"]["code"] == "PRIVACY_LEVEL_NOT_ALLOWED", post
    assert len(tiktok.inits()) == inits
