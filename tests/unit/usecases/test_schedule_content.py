"""Schedule and publish-now on the in-memory ports: rows with their events and
slots, or a stash while approval is pending; dry runs write nothing; a taken
id is named; the Idempotency-Key's answer is kept with the write."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterator

import pytest

from layers_shared.domain import schedule as rules
from layers_shared.domain.errors import ApprovalRequired, DuplicateId, NotFound
from layers_shared.domain.ports import Remember
from layers_shared.models.entities import Container, Project, ScheduledPost, SocialAccount
from layers_shared.scheduling import trigger
from layers_shared.services import schedule_content as use_case
from layers_shared.services.queries import ById
from tests.fakes.store import (
    InMemoryAccounts, InMemoryContainers, InMemoryMusicCatalog, InMemoryPosts, InMemoryProjects,
    InMemoryReservation, InMemoryScheduleWorlds,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
ORG = "org_11111111-1111-4111-8111-111111111111"
PRJ = "prj_33333333-3333-4333-8333-000000000001"
CNT = "cnt_66666666-6666-4666-8666-000000000001"
SA = ["sa_55555555-5555-4555-8555-000000000001", "sa_55555555-5555-4555-8555-000000000002"]
SUPPLIED = "sp_99999999-9999-4999-8999-000000000001"


@pytest.fixture(autouse=True)
def slots() -> Iterator[trigger.InMemoryTrigger]:
    recorded = trigger.InMemoryTrigger()
    trigger.use(recorded)
    yield recorded
    trigger.use(None)


class World:
    def __init__(self, *, requires_approval: bool = False, approval: str = "not_required") -> None:
        self.posts, projects, accounts = InMemoryPosts(), InMemoryProjects(), InMemoryAccounts()
        self.containers = InMemoryContainers(self.posts)
        projects.add(Project(id=PRJ, organizationId=ORG, requiresApproval=requires_approval))
        self.containers.add(Container(id=CNT, projectId=PRJ, organizationId=ORG, status="completed",
                                      approvalStatus=approval, mediaType="video"))
        for ident in SA:
            accounts.add(SocialAccount(id=ident, projectId=PRJ, organizationId=ORG, platform="tiktok", handle="@h",
                                       grantedScopes=["video.publish", "video.upload"]))
        self.ports = use_case.Ports(self.containers, self.posts,
                                    InMemoryScheduleWorlds(projects, accounts, InMemoryMusicCatalog()))

    def schedule(self, *, publish_now: bool = False, dry_run: bool = False, org: str = ORG, remember=None,
                 supplied: str | None = None):
        targets = [{"socialAccountId": SA[0], "mode": "draft"}, {"socialAccountId": SA[1], "mode": "draft"}]
        if supplied:
            targets[1]["scheduledPostId"] = supplied
        body = {"targets": targets} if publish_now else {"targets": targets, "scheduledFor": "2026-06-01T13:00:00Z"}
        intent = rules.parse_schedule_body(body, NOW, publish_now=publish_now)
        command = use_case.Schedule(ById(org, CNT, CNT), intent, publish_now, "test", "key_1", dry_run)
        return use_case.schedule(self.ports, command, NOW, remember)


def test_scheduling_writes_every_post_raises_their_events_and_asks_for_the_slot(slots):
    world = World()
    done = world.schedule(supplied=SUPPLIED)
    assert isinstance(done, use_case.Scheduled) and done.gate == "queued" and done.post_ids[1] == SUPPLIED
    assert [world.posts.get(i).socialAccountId for i in done.post_ids] == SA
    [events] = world.posts.events.values()
    assert [e["type"] for e in events.events] == ["post.scheduled", "post.scheduled"]
    assert slots.slots == [trigger.slot_of("2026-06-01T13:00:00.000Z")]


def test_pending_approval_stashes_the_intent_and_writes_no_post(slots):
    world = World(requires_approval=True, approval="pending")
    done = world.schedule()
    assert done.gate == "blocked_on_approval"
    stashed = world.containers.get(CNT).pendingSchedule
    assert [t["scheduledPostId"] for t in stashed["targets"]] == done.post_ids
    assert world.posts.taken(done.post_ids) == set() and world.posts.events == {} and slots.slots == []


def test_publishing_now_needs_the_approval_first():
    with pytest.raises(ApprovalRequired):
        World(requires_approval=True, approval="pending").schedule(publish_now=True)


@pytest.mark.parametrize("approval", [False, True])
def test_a_supplied_id_already_taken_is_named_and_nothing_is_written(approval):
    world = World(requires_approval=approval, approval="pending" if approval else "not_required")
    world.posts.add(ScheduledPost(id=SUPPLIED, organizationId=ORG, projectId=PRJ, containerId=CNT,
                                  socialAccountId=SA[0], platform="tiktok", handle="@h", mode="draft", env="test",
                                  scheduledFor="2026-06-01T13:00:00.000Z", mediaType="video",
                                  createdAt="2026-05-01T00:00:00.000Z", updatedAt="2026-05-01T00:00:00.000Z"))
    reservation = InMemoryReservation()
    with pytest.raises(DuplicateId) as refused:
        world.schedule(supplied=SUPPLIED, remember=lambda done: Remember(reservation, {}))
    assert refused.value.ids == [SUPPLIED]
    assert world.posts.events == {} and world.containers.get(CNT).pendingSchedule is None
    assert not reservation.completed


def test_a_dry_run_plans_without_writing(slots):
    world = World()
    planned = world.schedule(dry_run=True)
    assert isinstance(planned, use_case.DryRun) and [p.socialAccountId for p in planned.posts] == SA
    assert world.posts.events == {} and world.posts.taken(p.id for p in planned.posts) == set()
    assert slots.slots == []


def test_the_answer_is_kept_with_the_posts():
    world, reservation = World(), InMemoryReservation()
    done = world.schedule(remember=lambda result: Remember(reservation, {"ids": result.post_ids}))
    assert reservation.completed and world.posts.answers == [{"ids": done.post_ids}]


def test_another_organizations_content_is_not_found():
    with pytest.raises(NotFound):
        World().schedule(org="org_22222222-2222-4222-8222-222222222222")
