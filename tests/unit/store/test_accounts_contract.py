"""The `Accounts` port: the DynamoDB adapter and the in-memory fake answer alike
(each test runs on both, conftest.py `world`)."""
from __future__ import annotations

import uuid

from layers_shared.domain.ports import AccountListQuery, account_position
from layers_shared.models.entities import Layer, SocialAccount

ORG = "org_11111111-1111-4111-8111-111111111111"


def account(project_id: str, day: int | None, *, platform: str = "tiktok", status: str = "connected",
            ident: str | None = None) -> SocialAccount:
    return SocialAccount(id=ident or f"sa_{uuid.uuid4()}", projectId=project_id, organizationId=ORG,
                         platform=platform, handle="@pour", status=status, layerIds=["lyr_1"],
                         connectedAt=None if day is None else f"2026-05-{day:02d}T00:00:00.000Z")


def page(world, project_id: str, *, limit: int = 50, after: str = "", platforms=(), statuses=()):
    return world.ports["accounts"].list_for_project(AccountListQuery(project_id, platforms, statuses, limit, after))


def test_oldest_connection_first_and_pages_continue_after_the_last(world, project_id):
    made = [account(project_id, d) for d in (3, 1, 2)] + [account(project_id, None)]  # never connected: first
    for a in made:
        world.seed(a)
    world.seed(account(f"prj_{uuid.uuid4()}", 1))  # another project's account is never listed
    in_order = [a.id for a in sorted(made, key=account_position)]
    first = page(world, project_id, limit=3)
    assert [a.id for a in first.accounts] == in_order[:3] and first.more
    rest = page(world, project_id, limit=3, after=account_position(first.accounts[-1]))
    assert [a.id for a in rest.accounts] == in_order[3:] and not rest.more


def test_filters_hold_across_reads(world, project_id):
    wanted = [account(project_id, d, platform="instagram", status="reauth_required") for d in (5, 6)]
    for d in range(1, 10):  # many accounts that do not match, before and between
        world.seed(account(project_id, d))
    for a in wanted:
        world.seed(a)
    found = page(world, project_id, limit=1, platforms=("instagram",), statuses=("reauth_required", "disconnected"))
    assert [a.id for a in found.accounts] == [wanted[0].id] and found.more
    found = page(world, project_id, limit=1, platforms=("instagram",), after=account_position(wanted[0]))
    assert [a.id for a in found.accounts] == [wanted[1].id] and not found.more
    assert page(world, project_id, statuses=("disconnected",)).accounts == []


def test_a_stored_account_reads_back_whole(world, project_id):
    stored = account(project_id, 1, platform="instagram")
    stored = stored.model_copy(update={"instagramAccountType": "business", "grantedScopes": ["a", "b"],
                                       "tokenExpiresAt": "2026-07-01T00:00:00.000Z"})
    world.seed(stored)
    assert page(world, project_id).accounts == [stored]


def test_layers_found_by_id_missing_ones_left_out(world, project_id):
    layer = Layer(id=f"lyr_{uuid.uuid4()}", projectId=project_id, templateId="tpl", config={"provider": "acme"})
    world.seed(layer)
    assert world.ports["accounts"].layers([layer.id, layer.id, f"lyr_{uuid.uuid4()}"]) == {layer.id: layer}
    assert world.ports["accounts"].layers([]) == {}
