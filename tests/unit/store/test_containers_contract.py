"""The `Containers` and `Projects` ports: the DynamoDB adapters and the
in-memory fakes answer alike (each test runs on both, conftest.py `world`)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from layers_shared import idempotency
from layers_shared.domain.ports import ChangeEvents, IdsTaken, Remember, StaleWrite
from layers_shared.models.entities import Container, Media, Project, ScheduledPost

ORG = "org_11111111-1111-4111-8111-111111111111"


def test_a_missing_container_or_project_is_none(world):
    assert world.ports["containers"].get(f"cnt_{uuid.uuid4()}") is None
    assert world.ports["projects"].get(f"prj_{uuid.uuid4()}") is None


def test_a_stored_container_reads_back_whole(world, project_id):
    stored = Container(id=f"cnt_{uuid.uuid4()}", projectId=project_id, organizationId=ORG, status="completed",
                       approvalStatus="pending", mediaType="slideshow", caption="Three pours",
                       media=[Media(url="https://media.example.com/1.jpg"), Media(url="https://media.example.com/2.jpg")],
                       pendingSchedule={"targets": [{"mode": "draft"}]}, createdAt="2026-05-01T00:00:00.000Z")
    world.seed(stored)
    assert world.ports["containers"].get(stored.id) == stored


def test_a_stored_project_reads_back_whole(world, project_id):
    stored = Project(id=project_id, organizationId=ORG, name="Pour-over", requiresApproval=True)
    world.seed(stored)
    assert world.ports["projects"].get(project_id) == stored


# -- stashing a schedule while approval is pending ------------------------------------

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=timezone.utc)
STAMP = "2026-05-20T09:00:00.000Z"
PENDING = {"scheduledFor": "2026-06-01T12:00:00.000Z", "apiKeyId": "key_1", "env": "test",
           "stashedAt": "2026-05-20T09:00:00.000Z", "targets": [{"socialAccountId": "sa_1", "mode": "draft",
                                                                 "scheduledPostId": "sp_1"}]}


def awaiting(project_id: str, approval: str = "pending", status: str = "completed") -> Container:
    return Container(id=f"cnt_{uuid.uuid4()}", projectId=project_id, organizationId=ORG, status=status,
                     approvalStatus=approval, mediaType="video")


def test_a_stash_is_kept_on_a_container_awaiting_approval(world, project_id):
    container = awaiting(project_id)
    world.seed(container)
    reservation = world.reservation()
    world.ports["containers"].stash(container, PENDING, [f"sp_{uuid.uuid4()}"], NOW,
                                    Remember(reservation, idempotency.StoredResponse(202, {}, {})))
    assert world.ports["containers"].get(container.id).pendingSchedule == PENDING
    assert reservation.completed


@pytest.mark.parametrize("approval,status", [("approved", "completed"), ("not_required", "completed"),
                                             ("pending", "processing"), ("missing", "completed")])
def test_a_container_not_awaiting_approval_is_left_alone(world, project_id, approval, status):
    container = awaiting(project_id, "pending" if approval == "missing" else approval, status)
    if approval != "missing":
        world.seed(container)
    reservation = world.reservation()
    with pytest.raises(StaleWrite):
        world.ports["containers"].stash(container, PENDING, [], NOW,
                                        Remember(reservation, idempotency.StoredResponse(202, {}, {})))
    assert world.ports["containers"].get(container.id) == (None if approval == "missing" else container)
    assert not reservation.completed


def test_a_supplied_post_id_already_taken_is_named(world, project_id):
    container = awaiting(project_id)
    world.seed(container)
    taken = ScheduledPost(id=f"sp_{uuid.uuid4()}", organizationId=ORG, projectId=project_id, containerId=container.id,
                          socialAccountId="sa_1", platform="tiktok", handle="@h", mode="draft", env="test",
                          scheduledFor="2026-06-01T12:00:00.000Z", mediaType="video",
                          createdAt="2026-05-01T00:00:00.000Z", updatedAt="2026-05-01T00:00:00.000Z")
    world.seed(taken)
    with pytest.raises(IdsTaken) as refused:
        world.ports["containers"].stash(container, PENDING, [f"sp_{uuid.uuid4()}", taken.id], NOW)
    assert refused.value.ids == [taken.id]
    assert world.ports["containers"].get(container.id) == container


# -- approving and rejecting the container as read ------------------------------------


def decided_events(change: str) -> ChangeEvents:
    return ChangeEvents(change, ORG, [{"id": f"evt_{uuid.uuid4()}", "type": "content.approved", "data": {}}], NOW)


def stashed_container(world, project_id: str) -> Container:
    container = awaiting(project_id)
    world.seed(container)
    world.ports["containers"].stash(container, PENDING, [], NOW)
    return world.ports["containers"].get(container.id, consistent=True)


def promoted(container: Container) -> ScheduledPost:
    return ScheduledPost(id=f"sp_{uuid.uuid4()}", organizationId=ORG, projectId=container.projectId,
                         containerId=container.id, socialAccountId="sa_1", platform="tiktok", handle="@h",
                         mode="draft", env="test", scheduledFor="2026-06-01T12:00:00.000Z", mediaType="video",
                         createdAt="2026-05-20T09:00:00.000Z", updatedAt="2026-05-20T09:00:00.000Z")


def test_approve_writes_the_promoted_posts_and_drops_the_stash(world, project_id):
    container = stashed_container(world, project_id)
    assert world.ports["containers"].stashed(container) == PENDING
    row, reservation = promoted(container), world.reservation()
    world.ports["containers"].approve(container, STAMP, "key_1", "looks good", [row], None,
                                      decided_events(f"{container.id}#approved"),
                                      Remember(reservation, idempotency.StoredResponse(200, {}, {})))
    after = world.ports["containers"].get(container.id, consistent=True)
    assert (after.approvalStatus, after.approvedAt, after.approvedBy, after.approvalNote, after.pendingSchedule) == \
        ("approved", STAMP, "key_1", "looks good", None)
    assert world.ports["posts"].get(row.id, consistent=True) == row
    assert world.raised(f"{container.id}#approved") and reservation.completed


def test_a_decision_on_a_stash_replaced_since_it_was_read_writes_nothing(world, project_id):
    read = stashed_container(world, project_id)
    newer = {**PENDING, "stashedAt": "2026-05-20T09:05:00.000Z"}
    world.ports["containers"].stash(read, newer, [], NOW)
    row = promoted(read)
    with pytest.raises(StaleWrite):
        world.ports["containers"].approve(read, STAMP, "key_1", None, [row], None,
                                          decided_events(f"{read.id}#approved"))
    with pytest.raises(StaleWrite):
        world.ports["containers"].reject(read, STAMP, "key_1", "no", decided_events(f"{read.id}#rejected"))
    assert world.ports["containers"].get(read.id, consistent=True).pendingSchedule == newer
    assert world.ports["posts"].get(row.id, consistent=True) is None
    assert not world.raised(f"{read.id}#approved") and not world.raised(f"{read.id}#rejected")


def test_approve_with_a_taken_post_id_names_it_and_writes_nothing(world, project_id):
    container = stashed_container(world, project_id)
    taken = promoted(container)
    world.seed(taken)
    with pytest.raises(IdsTaken) as refused:
        world.ports["containers"].approve(container, STAMP, "key_1", None, [promoted(container), taken], None,
                                          decided_events(f"{container.id}#approved"))
    assert refused.value.ids == [taken.id]
    assert world.ports["containers"].get(container.id, consistent=True) == container


def test_reject_drops_the_stash(world, project_id):
    container = stashed_container(world, project_id)
    world.ports["containers"].reject(container, STAMP, "key_1", "off-brand", decided_events(f"{container.id}#r"))
    after = world.ports["containers"].get(container.id, consistent=True)
    assert (after.approvalStatus, after.rejectedAt, after.rejectedBy, after.rejectionReason, after.pendingSchedule) \
        == ("rejected", STAMP, "key_1", "off-brand", None)
    assert world.raised(f"{container.id}#r")
