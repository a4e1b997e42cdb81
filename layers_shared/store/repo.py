"""Typed reads of the entities the API needs, tenancy applied.

Anything that belongs to another organization is returned as missing, so the
caller answers 404 exactly as for an id that does not exist.
"""
from __future__ import annotations

from typing import Iterable

from layers_shared.domain.errors import NotFound
from layers_shared.models.entities import (
    Container, Layer, MusicTrack, Project, ScheduledPost, SocialAccount, User,
)
from layers_shared.store import items, keys
from layers_shared.store.table import Table


def container_of(table: Table, organization_id: str, container_id: str | None, raw: str) -> Container:
    found = items.from_item(Container, table.get(keys.container(container_id))) if container_id else None
    if found is None or found.organizationId != organization_id:
        raise NotFound("Content container", raw, containerId=raw)
    return found


def scheduled_post_of(table: Table, organization_id: str, post_id: str | None, raw: str,
                      consistent: bool = False) -> ScheduledPost:
    found = items.from_item(ScheduledPost, table.get(keys.scheduled_post(post_id), consistent)) if post_id else None
    if found is None or found.organizationId != organization_id:
        raise NotFound("Scheduled post", raw, scheduledPostId=raw)
    return found


def project_of(table: Table, organization_id: str, project_id: str | None, raw: str) -> Project:
    found = items.from_item(Project, table.get(keys.project(project_id))) if project_id else None
    if found is None or found.organizationId != organization_id:
        raise NotFound("Project", raw, projectId=raw)
    return found


def user(table: Table, user_id: str | None) -> User | None:
    return items.from_item(User, table.get(keys.user(user_id))) if user_id else None


def layers(table: Table, layer_ids: Iterable[str]) -> dict[str, Layer]:
    wanted = sorted(set(layer_ids))
    if not wanted:
        return {}
    found = table.batch_get(keys.layer(i) for i in wanted)
    return {item["id"]: Layer.model_validate(item) for item in found.values()}


def split(found: dict[tuple[str, str], dict]) -> dict[str, list[dict]]:
    """Items of one batch read, grouped by their `type`."""
    groups: dict[str, list[dict]] = {}
    for item in found.values():
        groups.setdefault(item.get("type", ""), []).append(item)
    return groups


def typed(groups: dict[str, list[dict]], kind: str, model: type) -> dict[str, object]:
    return {item["id"]: model.model_validate(item) for item in groups.get(kind, [])}


__all__ = ["container_of", "scheduled_post_of", "project_of", "user", "layers", "split", "typed",
           "MusicTrack", "SocialAccount", "Project"]
