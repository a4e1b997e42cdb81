"""Reading one post, container or project, on the in-memory ports: found in
the caller's organization, else NotFound echoing what the partner wrote."""
from __future__ import annotations

import pytest

from layers_shared.domain.errors import NotFound
from layers_shared.models.entities import Container, Project, ScheduledPost
from layers_shared.services import queries
from layers_shared.services.queries import ById
from tests.fakes.store import InMemoryContainers, InMemoryPosts, InMemoryProjects

ORG = "org_11111111-1111-4111-8111-111111111111"
OTHER_ORG = "org_22222222-2222-4222-8222-222222222222"
SP = "sp_33333333-3333-4333-8333-000000000001"
CNT = "cnt_66666666-6666-4666-8666-000000000001"
PRJ = "prj_44444444-4444-4444-8444-000000000001"


def a_post(org: str = ORG) -> ScheduledPost:
    return ScheduledPost(id=SP, organizationId=org, projectId=PRJ, containerId=CNT,
                         socialAccountId="sa_x", platform="tiktok", handle="@pour", mode="publish", env="test",
                         scheduledFor="2026-06-01T12:00:00.000Z", mediaType="video",
                         createdAt="2026-05-01T00:00:00.000Z", updatedAt="2026-05-01T00:00:00.000Z")


def test_a_post_of_the_callers_organization_is_found():
    posts = InMemoryPosts()
    posts.add(a_post())
    assert queries.get_scheduled_post(posts, ById(ORG, SP, SP)) == a_post()


@pytest.mark.parametrize("stored_org,ident", [
    (OTHER_ORG, SP),   # another organization's post
    (ORG, "sp_33333333-3333-4333-8333-000000000009"),  # no such post
    (ORG, None),       # the path could not be an id at all
])
def test_otherwise_not_found_echoing_what_was_written(stored_org, ident):
    posts = InMemoryPosts()
    posts.add(a_post(stored_org))
    with pytest.raises(NotFound) as refused:
        queries.get_scheduled_post(posts, ById(ORG, ident, "SP_Typed-As-Given"))
    assert refused.value.details == {"scheduledPostId": "SP_Typed-As-Given"}
    assert refused.value.message == "Scheduled post SP_Typed-As-Given was not found."


def test_content_is_found_only_in_the_callers_organization():
    containers = InMemoryContainers()
    containers.add(Container(id=CNT, projectId=PRJ, organizationId=ORG, status="completed", mediaType="video"))
    assert queries.get_content(containers, ById(ORG, CNT, CNT)).id == CNT
    with pytest.raises(NotFound) as refused:
        queries.get_content(containers, ById(OTHER_ORG, CNT, CNT))
    assert refused.value.details == {"containerId": CNT}


def test_a_project_is_found_only_in_the_callers_organization():
    projects = InMemoryProjects()
    projects.add(Project(id=PRJ, organizationId=ORG))
    assert queries.get_project(projects, ById(ORG, PRJ, PRJ)).id == PRJ
    with pytest.raises(NotFound) as refused:
        queries.get_project(projects, ById(OTHER_ORG, PRJ, PRJ))
    assert refused.value.details == {"projectId": PRJ}
