"""Listing a project's social accounts, and the music catalog, on the in-memory
ports: pages chain through cursors, readiness sees the accounts' layers,
another organization's project is not found."""
from __future__ import annotations

import pytest

from layers_shared.domain.errors import NotFound
from layers_shared.models.entities import Layer, MusicTrack, Project, SocialAccount
from layers_shared.services import accounts as use_case
from layers_shared.services import music
from tests.fakes.store import InMemoryAccounts, InMemoryMusicCatalog, InMemoryProjects

ORG = "org_11111111-1111-4111-8111-111111111111"
PRJ = "prj_44444444-4444-4444-8444-000000000001"
LAYER = "lyr_55555555-5555-4555-8555-000000000001"


def world(n: int) -> tuple[InMemoryAccounts, InMemoryProjects]:
    accounts, projects = InMemoryAccounts(), InMemoryProjects()
    projects.add(Project(id=PRJ, organizationId=ORG))
    accounts.add(Layer(id=LAYER, projectId=PRJ, templateId="af058068-ad85-4fb8-92a1-f531b40bfcbc"))
    for day in range(1, n + 1):
        accounts.add(SocialAccount(id=f"sa_22222222-2222-4222-8222-{day:012d}", projectId=PRJ, organizationId=ORG,
                                   platform="tiktok", handle=f"@h{day}", layerIds=[LAYER],
                                   connectedAt=f"2026-05-{day:02d}T00:00:00.000Z"))
    return accounts, projects


def listing(accounts, projects, org: str = ORG, **query: list[str]):
    command = use_case.ListAccounts(org, PRJ, PRJ, use_case.parse_query(query, PRJ))
    return use_case.list_accounts(accounts, projects, command)


def test_pages_chain_until_the_last_says_null_and_carry_the_layers():
    accounts, projects = world(5)
    handles, cursor = [], None
    while True:
        page = listing(accounts, projects, limit=["2"], **({"cursor": [cursor]} if cursor else {}))
        handles += [a.handle for a in page.accounts]
        assert set(page.layers) == {LAYER}
        cursor = page.next_cursor
        if cursor is None:
            break
    assert handles == ["@h1", "@h2", "@h3", "@h4", "@h5"]


def test_a_full_last_page_says_null():
    accounts, projects = world(2)
    assert listing(accounts, projects, limit=["2"]).next_cursor is None


def test_another_organizations_project_is_not_found():
    accounts, projects = world(1)
    with pytest.raises(NotFound) as refused:
        listing(accounts, projects, org="org_22222222-2222-4222-8222-222222222222")
    assert refused.value.details == {"projectId": PRJ}


def test_music_most_used_first():
    catalog = InMemoryMusicCatalog()
    for ident, count in (("a", 1), ("b", 30), ("c", 7)):
        catalog.add(MusicTrack(id=ident, title=ident, userCount=count))
    assert [t.id for t in music.list_music(catalog)] == ["b", "c", "a"]
