"""The social-accounts list query: filters, limit, cursor (pure parts)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from layers_shared.domain.errors import ValidationFailed
from layers_shared.domain import pagination
from layers_shared.models.entities import SocialAccount
from layers_shared.services import accounts

PRJ = "prj_33333333-3333-4333-8333-000000000001"
SK = "2026-01-01T00:00:00.000Z#sa_55555555-5555-4555-8555-000000000001"


def parse(**query: list[str]) -> accounts.AccountQuery:
    return accounts.parse_query(query, PRJ)


def issues(**query: list[str]) -> list[dict[str, str]]:
    with pytest.raises(ValidationFailed) as info:
        parse(**query)
    return info.value.details["issues"]


def test_defaults():
    q = parse()
    assert (q.platforms, q.statuses, q.limit, q.after) == ((), (), 50, "")


def test_repeated_and_comma_separated_filters():
    q = parse(platform=["tiktok"], status=["connected,reauth_required", "connected"])
    assert q.platforms == ("tiktok",) and q.statuses == ("connected", "reauth_required")


def test_every_issue_at_once():
    found = issues(platform=["tiktok,youtube"], status=["gone"], limit=["500"])
    assert [(i["path"], i["code"]) for i in found] == [("platform", "invalid_enum"), ("status", "invalid_enum"),
                                                       ("limit", "out_of_range")]


def test_cursor_round_trip_and_binding():
    q = parse(platform=["instagram"])
    cursor = pagination.encode({"sk": SK}, q.digest())
    assert parse(platform=["instagram"], cursor=[cursor]).after == SK
    assert issues(platform=["tiktok"], cursor=[cursor])[0]["path"] == "cursor"
    with pytest.raises(ValidationFailed):
        accounts.parse_query({"platform": ["instagram"], "cursor": [cursor]}, "prj_other")


def test_a_signed_cursor_with_a_strange_position_is_still_refused():
    q = parse()
    assert issues(cursor=[pagination.encode({"sk": "SP#whatever"}, q.digest())])[0]["code"] == "invalid_cursor"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_cursor_text_is_a_clean_answer(text):
    try:
        parse(cursor=[text])
    except ValidationFailed as exc:
        assert exc.details["issues"][0]["path"] == "cursor"


def test_matches():
    acct = SocialAccount(id="sa_1", projectId=PRJ, organizationId="org", platform="tiktok", handle="h",
                         status="reauth_required")
    assert parse().matches(acct)
    assert parse(platform=["tiktok"], status=["reauth_required"]).matches(acct)
    assert not parse(platform=["instagram"]).matches(acct)
    assert not parse(status=["connected"]).matches(acct)
