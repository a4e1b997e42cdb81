"""The `Containers` and `Projects` ports: the DynamoDB adapters and the
in-memory fakes answer alike (each test runs on both, conftest.py `world`)."""
from __future__ import annotations

import uuid

from layers_shared.models.entities import Container, Media, Project

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
