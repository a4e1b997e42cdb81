"""Approve and reject on the in-memory ports: a stash becomes posts (or the
answer says why not) in the same write as the decision, a decision on a stash
replaced since it was read is taken again on the newer one."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

import pytest

from layers_shared import clock
from layers_shared.domain import schedule as rules
from layers_shared.domain.errors import ContentRejected
from layers_shared.domain.ports import Remember
from layers_shared.models.entities import Container, Project, ScheduledPost, SocialAccount
from layers_shared.scheduling import trigger
from layers_shared.services import approval
from layers_shared.services.queries import ById
from tests.fakes.store import (
    InMemoryAccounts, InMemoryContainers, InMemoryMusicCatalog, InMemoryPosts, InMemoryProjects,
    InMemoryReservation, InMemoryScheduleWorlds,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
ORG = "org_11111111-1111-4111-8111-111111111111"
PRJ = "prj_33333333-3333-4333-8333-000000000001"
CNT = "cnt_66666666-6666-4666-8666-000000000001"
SA = "sa_55555555-5555-4555-8555-000000000001"


@pytest.fixture(autouse=True)
def fixed() -> Iterator[trigger.InMemoryTrigger]:
    recorded = trigger.InMemoryTrigger()
    trigger.use(recorded)
    clock.set_now(NOW)
    yield recorded
    trigger.use(None)
    clock.set_now(None)


class World:
    def __init__(self, approval_status: str = "pending", *, stashed: int = 1) -> None:
        self.posts, self.accounts = InMemoryPosts(), InMemoryAccounts()
        self.containers = InMemoryContainers(self.posts)
        projects = InMemoryProjects()
        projects.add(Project(id=PRJ, organizationId=ORG, requiresApproval=True))
        self.accounts.add(SocialAccount(id=SA, projectId=PRJ, organizationId=ORG, platform="tiktok", handle="@h",
                                        grantedScopes=["video.publish", "video.upload"]))
        pending = None
        if stashed:
            intent = rules.parse_schedule_body({"scheduledFor": "2026-06-01T13:00:00Z", "targets": [
                {"socialAccountId": SA, "mode": mode} for mode in ("draft", "publish")[:stashed]]}, NOW, publish_now=False)
            pending = rules.stash(intent, rules.assign_ids(intent), key_id="key_0", env="test", now=NOW)
        self.containers.add(Container(id=CNT, projectId=PRJ, organizationId=ORG, status="completed",
                                      approvalStatus=approval_status, mediaType="video", pendingSchedule=pending))
        self.ports = approval.Ports(self.containers, InMemoryScheduleWorlds(projects, self.accounts,
                                                                            InMemoryMusicCatalog()))

    def stashed_ids(self) -> list[str]:
        return [t["scheduledPostId"] for t in self.containers.get(CNT).pendingSchedule["targets"]]

    def approve(self, remember=None) -> approval.Approved:
        return approval.approve(self.ports, approval.Decide(ById(ORG, CNT, CNT), "key_1", "ok"), remember)


def test_approval_promotes_the_stash_with_the_events_and_the_slot(fixed):
    world = World()
    ids = world.stashed_ids()
    done = world.approve()
    assert done.container.approvalStatus == "approved"
    assert done.promotion == {"status": "ok", "scheduledPostIds": ids}
    assert world.posts.get(ids[0]).status == "queued" and world.containers.get(CNT).pendingSchedule is None
    [events] = world.posts.events.values()
    assert [e["type"] for e in events.events] == ["content.approved", "post.scheduled"]
    assert fixed.slots == [trigger.slot_of("2026-06-01T13:00:00.000Z")]


def test_without_a_stash_approval_is_just_the_decision():
    world = World(stashed=0)
    assert world.approve().promotion is None and world.containers.get(CNT).approvalStatus == "approved"


def test_approving_twice_answers_the_first_decision_and_writes_nothing_more():
    world = World()
    world.approve()
    again = world.approve()
    assert again.promotion is None and len(world.posts.events) == 1


def test_rejected_content_cannot_be_approved():
    with pytest.raises(ContentRejected):
        World("rejected", stashed=0).approve()


def test_a_stash_that_no_longer_holds_is_dropped_and_the_answer_says_why():
    world = World()
    account = world.accounts.get(SA)
    world.accounts.add(account.model_copy(update={"status": "reauth_required"}))
    done = world.approve()
    assert done.promotion["status"] == "failed"
    assert done.promotion["reason"] == "SOCIAL_ACCOUNT_NOT_PUBLISH_READY"
    assert done.container.approvalStatus == "approved" and not world.posts._stored


def test_a_stashed_id_taken_meanwhile_approves_without_rows():
    world = World()
    [taken] = world.stashed_ids()
    world.posts.add(ScheduledPost(id=taken, organizationId=ORG, projectId=PRJ, containerId="cnt_other",
                                  socialAccountId=SA, platform="tiktok", handle="@h", mode="draft", env="test",
                                  scheduledFor="2026-06-01T13:00:00.000Z", mediaType="video",
                                  createdAt="2026-05-01T00:00:00.000Z", updatedAt="2026-05-01T00:00:00.000Z"))
    reservation = InMemoryReservation()
    done = world.approve(lambda result: Remember(reservation, result.promotion))
    assert done.promotion["reason"] == "CONFLICT_DUPLICATE_ID" and done.promotion["details"] == {
        "scheduledPostIds": [taken]}
    assert world.posts.get(taken).containerId == "cnt_other" and reservation.completed


class StaleFirstRead(InMemoryContainers):
    """Approve's first read sees the stash a later schedule has replaced since."""

    def __init__(self, source: InMemoryContainers, stale: Container) -> None:
        super().__init__(source.posts)
        self._stored, self.stale = source._stored, stale

    def get(self, ident: str, *, consistent: bool = False):
        stale, self.stale = self.stale, None
        return stale or super().get(ident, consistent=consistent)


def test_a_stash_replaced_after_it_was_read_is_the_one_promoted():
    world, newer = World(stashed=1), World(stashed=2)
    stale = world.containers.get(CNT)
    world.containers.add(newer.containers.get(CNT))  # a second schedule replaced the stash
    world.ports = approval.Ports(StaleFirstRead(world.containers, stale), world.ports.worlds)
    done = world.approve()
    assert done.promotion["scheduledPostIds"] == newer.stashed_ids()


def test_reject_drops_the_stash_and_says_which_posts_will_never_be():
    world = World(stashed=2)
    ids = world.stashed_ids()
    done = approval.reject(world.containers, approval.Decide(ById(ORG, CNT, CNT), "key_1", "off-brand"))
    assert done.dropped == ids and done.container.rejectionReason == "off-brand"
    assert world.containers.get(CNT).pendingSchedule is None
    [events] = world.posts.events.values()
    assert [e["type"] for e in events.events] == ["content.rejected"]
