"""The `Containers` and `Projects` ports: the DynamoDB adapters and the
in-memory fakes answer alike (each test runs on both, conftest.py `world`)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from layers_shared import idempotency
from layers_shared.domain.ports import IdsTaken, Remember, StaleWrite
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
