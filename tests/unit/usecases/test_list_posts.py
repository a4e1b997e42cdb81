"""Listing a project's posts on the in-memory ports: pages chain through
cursors bound to their filters, another organization's project is not found,
and every bad query parameter is named at once."""
from __future__ import annotations

import uuid

import pytest

from layers_shared.domain.errors import NotFound, ValidationFailed
from layers_shared.models.entities import Project, ScheduledPost
from layers_shared.services import posts as use_case
from tests.fakes.store import InMemoryPosts, InMemoryProjects

ORG = "org_11111111-1111-4111-8111-111111111111"
PRJ = "prj_44444444-4444-4444-8444-000000000001"


def world(n: int) -> tuple[InMemoryPosts, InMemoryProjects, list[str]]:
    posts, projects = InMemoryPosts(), InMemoryProjects()
    projects.add(Project(id=PRJ, organizationId=ORG))
    made = []
    for minute in range(n):
        post = ScheduledPost(id=f"sp_{uuid.uuid4()}", organizationId=ORG, projectId=PRJ, containerId="cnt_x",
                             socialAccountId="sa_x", platform="tiktok", handle="@pour", mode="publish",
                             env="test", status="failed" if minute % 2 else "queued",
                             scheduledFor=f"2026-06-01T12:{minute:02d}:00.000Z", mediaType="video",
                             createdAt="2026-05-01T00:00:00.000Z", updatedAt="2026-05-01T00:00:00.000Z")
        posts.add(post)
        made.append(post.id)
    return posts, projects, made[::-1]  # newest first


def listing(posts, projects, org: str = ORG, **query: list[str]):
    command = use_case.ListPosts(org, PRJ, PRJ, use_case.parse_list_query(query, PRJ))
    return use_case.list_posts(posts, projects, command)


def test_pages_chain_through_cursors_until_the_last_says_null():
    posts, projects, newest_first = world(5)
    seen, cursor = [], None
    while True:
        page = listing(posts, projects, limit=["2"], **({"cursor": [cursor]} if cursor else {}))
        seen += [p.id for p in page.posts]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == newest_first


def test_a_cursor_is_bound_to_its_filters():
    posts, projects, _ = world(5)
    cursor = listing(posts, projects, limit=["1"], status=["failed"]).next_cursor
    assert cursor is not None
    with pytest.raises(ValidationFailed) as refused:
        listing(posts, projects, limit=["1"], status=["queued"], cursor=[cursor])
    assert refused.value.issues[0]["path"] == "cursor"


def test_filters_apply():
    posts, projects, newest_first = world(4)
    assert [p.status for p in listing(posts, projects, status=["failed"]).posts] == ["failed", "failed"]


def test_another_organizations_project_is_not_found():
    posts, projects, _ = world(1)
    with pytest.raises(NotFound):
        listing(posts, projects, org="org_22222222-2222-4222-8222-222222222222")


def test_every_bad_parameter_is_named_at_once():
    with pytest.raises(ValidationFailed) as refused:
        use_case.parse_list_query({"status": ["gone"], "socialAccountId": ["x"], "from": ["yesterday"],
                                   "limit": ["0"]}, PRJ)
    assert [i["path"] for i in refused.value.issues] == ["status", "socialAccountId", "from", "limit"]
