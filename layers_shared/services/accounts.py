"""GET /v1/projects/{projectId}/social-accounts: the project's accounts, with
publish readiness per mode (the one place a partner sees it before a 422).

Accounts come oldest connection first, then by id (the `Accounts` port). The
cursor (domain/pagination.py) holds the position of the last item shown and a
digest of the project and filters, under a MAC: an edited cursor, or one from
another query, is a 422.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from layers_shared import clock
from layers_shared.domain import pagination
from layers_shared.domain.errors import ValidationFailed, issue
from layers_shared.domain.readiness import all_modes
from layers_shared.domain.ports import AccountListQuery, Accounts, Projects, account_position
from layers_shared.models.entities import Layer, SocialAccount
from layers_shared.services import queries

PLATFORMS = ("tiktok", "instagram")
STATUSES = ("connected", "reauth_required", "disconnected")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_POSITION = re.compile(r"^[0-9T:.\-Z]{0,40}#sa_[0-9a-fA-F-]{36}$")


class AccountQuery(AccountListQuery):
    def digest(self) -> str:
        """What a cursor is bound to: the project and the filters."""
        return pagination.query_digest({"project": self.project_id, "kind": "social-accounts",
                                        "platform": sorted(self.platforms), "status": sorted(self.statuses)})


def _enum_filter(query: dict[str, list[str]], name: str, allowed: tuple[str, ...],
                 problems: list[dict[str, str]]) -> tuple[str, ...]:
    """`?status=a&status=b` and `?status=a,b` both mean any of the values."""
    chosen: list[str] = []
    for raw in query.get(name, []):
        for value in raw.split(","):
            if value not in allowed:
                problems.append(issue(name, "invalid_enum",
                                             f"'{value[:64]}' is not one of {', '.join(allowed)}"))
            elif value not in chosen:
                chosen.append(value)
    return tuple(chosen)


def parse_query(query: dict[str, list[str]], project_id: str) -> AccountQuery:
    """Every query parameter at once; unknown ones are ignored."""
    problems: list[dict[str, str]] = []
    platforms = _enum_filter(query, "platform", PLATFORMS, problems)
    statuses = _enum_filter(query, "status", STATUSES, problems)
    limit = DEFAULT_LIMIT
    try:
        limit = pagination.parse_limit((query.get("limit") or [None])[-1], default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    except ValidationFailed as exc:
        problems += exc.issues
    if problems:
        raise ValidationFailed(problems)
    parsed = AccountQuery(project_id, platforms, statuses, limit)
    cursor = (query.get("cursor") or [None])[-1]
    if cursor is None:
        return parsed
    after = pagination.decode(cursor, parsed.digest()).get("sk", "")
    if not _POSITION.match(after):
        raise ValidationFailed([issue("cursor", "invalid_cursor", "not a cursor returned by this endpoint")])
    return AccountQuery(project_id, platforms, statuses, limit, after)


@dataclass(frozen=True)
class ListAccounts:
    """A page of one project's accounts: the project as the partner wrote it
    (`project_id` None when it cannot be a prj_<uuid>) and the parsed query."""

    organization_id: str
    project_id: str | None
    raw_project_id: str
    query: AccountQuery


@dataclass(frozen=True)
class AccountListing:
    accounts: list[SocialAccount]
    layers: dict[str, Layer]  # the accounts' layers, for their managed-mode readiness
    next_cursor: str | None


def list_accounts(accounts: Accounts, projects: Projects, command: ListAccounts) -> AccountListing:
    project = queries.get_project(projects, queries.ById(command.organization_id, command.project_id,
                                                         command.raw_project_id))
    query = command.query
    page = accounts.list_for_project(AccountListQuery(project.id, query.platforms, query.statuses, query.limit,
                                                      query.after))
    layers = accounts.layers(lid for a in page.accounts for lid in a.layerIds)
    more = page.more and page.accounts
    cursor = pagination.encode({"sk": account_position(page.accounts[-1])}, query.digest()) if more else None
    return AccountListing(page.accounts, layers, cursor)


def _instant(value: str | None) -> str | None:
    try:
        return clock.to_wire(value)
    except clock.InstantError:
        return None


def account_view(account: SocialAccount, layers: dict[str, Any]) -> dict[str, Any]:
    return {
        "socialAccountId": account.id,
        "platform": account.platform,
        "handle": account.handle,
        "avatarUrl": account.avatarUrl,
        "status": account.status,
        "leased": False,
        "connectedAt": _instant(account.connectedAt),
        "tokenExpiresAt": _instant(account.tokenExpiresAt),
        "instagramAccountType": account.instagramAccountType,
        "publishReadiness": all_modes(account, layers),
    }
