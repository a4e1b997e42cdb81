"""The `ScheduleWorlds` port: the DynamoDB adapter and the in-memory fake load
the same world for the schedule rules (each test runs on both; no creator_info,
which only live keys read)."""
from __future__ import annotations

import uuid

import pytest

from layers_shared import clock
from layers_shared.domain.errors import NotFound
from layers_shared.domain.schedule import ScheduleIntent
from layers_shared.models.entities import Container, Layer, MusicTrack, Project, SocialAccount
from layers_shared.models.requests import Target

ORG = "org_11111111-1111-4111-8111-111111111111"


def intent(*targets: dict) -> ScheduleIntent:
    return ScheduleIntent(clock.parse_instant("2026-06-01T12:00:00Z"), tuple(Target.model_validate(t) for t in targets))


def test_the_world_holds_what_the_targets_name(world, project_id):
    layer = Layer(id=f"lyr_{uuid.uuid4()}", projectId=project_id, templateId="tpl")
    named, other = (SocialAccount(id=f"sa_{uuid.uuid4()}", projectId=project_id, organizationId=ORG,
                                  platform="tiktok", handle="@h", layerIds=[layer.id]) for _ in range(2))
    track = MusicTrack(id=str(uuid.uuid4()), title="t", userCount=3)
    container = Container(id=f"cnt_{uuid.uuid4()}", projectId=project_id, organizationId=ORG, status="completed",
                          mediaType="video")
    for entity in (Project(id=project_id, organizationId=ORG, requiresApproval=True), layer, named, other, track):
        world.seed(entity)
    music = {"mode": "manual", "trackId": track.id}
    loaded, project = world.ports["worlds"].load(ORG, container, intent(
        {"socialAccountId": named.id, "mode": "publish", "tiktokMusic": music}))
    assert project.requiresApproval and (loaded.container, loaded.organization_id) == (container, ORG)
    assert (list(loaded.accounts), list(loaded.tracks), loaded.layers) == ([named.id], [track.id], {})
    loaded, _ = world.ports["worlds"].load(ORG, container, intent({"socialAccountId": named.id, "mode": "managed"}))
    assert loaded.layers == {layer.id: layer}


def test_a_container_whose_project_is_elsewhere_is_not_found(world, project_id):
    world.seed(Project(id=project_id, organizationId="org_22222222-2222-4222-8222-222222222222"))
    container = Container(id=f"cnt_{uuid.uuid4()}", projectId=project_id, organizationId=ORG, status="completed",
                          mediaType="video")
    with pytest.raises(NotFound):
        world.ports["worlds"].load(ORG, container, intent({"socialAccountId": f"sa_{uuid.uuid4()}", "mode": "draft"}))
