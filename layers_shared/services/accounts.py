"""GET /v1/projects/{projectId}/social-accounts: the project's accounts, with
publish readiness per mode (the one place a partner sees it before a 422).

Accounts are read from GSI1 (`PRJ#<projectId>#SA`, ordered by `connectedAt`
then id). The cursor (domain/pagination.py) holds the sort key of the last
item shown and a digest of the project and filters, under a MAC: an edited
cursor, or one from another query, is a 422.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from layers_shared import clock, ids
from layers_shared.domain import pagination
from layers_shared.domain.errors import ValidationFailed, issue
from layers_shared.domain.readiness import all_modes
from layers_shared.http.api import Request, Response
from layers_shared.models.entities import SocialAccount
from layers_shared.store import keys, repo
from layers_shared.store.table import Table

PLATFORMS = ("tiktok", "instagram")
STATUSES = ("connected", "reauth_required", "disconnected")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_POSITION = re.compile(r"^[0-9T:.\-Z]{0,40}#sa_[0-9a-fA-F-]{36}$")


@dataclass(frozen=True)
class AccountQuery:
    project_id: str
    platforms: tuple[str, ...]  # empty: any
    statuses: tuple[str, ...]
    limit: int
    after: str = ""  # sort key to continue after; "" for the first page

    def digest(self) -> str:
        return pagination.query_digest({"project": self.project_id, "kind": "social-accounts",
                                        "platform": sorted(self.platforms), "status": sorted(self.statuses)})

    def matches(self, account: SocialAccount) -> bool:
        return (not self.platforms or account.platform in self.platforms) and \
            (not self.statuses or account.status in self.statuses)


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


def list_accounts(req: Request) -> Response:
    raw = req.path["projectId"]
    project_id = ids.normalize_path_id(raw, "prj")
    query = parse_query(req.query, project_id or raw)
    project = repo.project_of(req.table, req.principal.organization_id, project_id, raw)
    found, more = page_of(req.table, project.id, query)
    layers = repo.layers(req.table, [lid for a, _ in found for lid in a.layerIds])
    body = {
        "items": [account_view(a, layers) for a, _ in found],
        "nextCursor": pagination.encode({"sk": found[-1][1]}, query.digest()) if more and found else None,
    }
    return Response(200, body)


def page_of(table: Table, project_id: str, query: AccountQuery) -> tuple[list[tuple[SocialAccount, str]], bool]:
    """Up to `limit` matching accounts (with their sort keys) and whether more follow.

    Filters apply after the read, so a sparse filter may take a few reads;
    each read asks for one more than still needed."""
    found: list[tuple[SocialAccount, str]] = []
    after = query.after
    while True:
        position = {"sort_name": "GSI1SK", "sort_condition": "#sk > :after", "sort_values": {":after": after}}
        rows, last = table.query("GSI1", "GSI1PK", keys.project_accounts(project_id),
                                 limit=query.limit + 1 - len(found), **(position if after else {}))
        for row in rows:
            if row.get("type") != "SA":
                continue
            account = SocialAccount.model_validate(row)
            if query.matches(account):
                found.append((account, str(row["GSI1SK"])))
        if len(found) > query.limit:
            return found[:query.limit], True
        if last is None or not rows:
            return found, False
        after = str(rows[-1]["GSI1SK"])


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
