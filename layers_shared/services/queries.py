"""Reading one scheduled post or one content container: typed queries in,
entities or `NotFound` out, on the storage ports (no HTTP, no DynamoDB)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from layers_shared.domain.errors import NotFound

if TYPE_CHECKING:
    from layers_shared.domain.ports import Containers, Posts, Projects
    from layers_shared.models.entities import Container, Project, ScheduledPost


@dataclass(frozen=True)
class ById:
    """One entity of the caller's organization.

    `ident` is the normalized id, None when what the partner wrote cannot be
    one (it is then simply not found); `raw` is what they wrote, echoed back in
    the refusal so that they recognise it."""

    organization_id: str
    ident: str | None
    raw: str


def get_scheduled_post(posts: Posts, query: ById, *, consistent: bool = False) -> ScheduledPost:
    found = posts.get(query.ident, consistent=consistent) if query.ident else None
    # Another organization's post answers exactly like one that does not exist.
    if found is None or found.organizationId != query.organization_id:
        raise NotFound("Scheduled post", query.raw, scheduledPostId=query.raw)
    return found


def get_content(containers: Containers, query: ById) -> Container:
    found = containers.get(query.ident) if query.ident else None
    if found is None or found.organizationId != query.organization_id:
        raise NotFound("Content container", query.raw, containerId=query.raw)
    return found


def get_project(projects: Projects, query: ById) -> Project:
    found = projects.get(query.ident) if query.ident else None
    if found is None or found.organizationId != query.organization_id:
        raise NotFound("Project", query.raw, projectId=query.raw)
    return found
