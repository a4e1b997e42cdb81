"""Social accounts and their layers in the single table: the DynamoDB side of
the `Accounts` port. A project's accounts sit on GSI1 (`PRJ#<id>#SA`, sorted by
`<connectedAt>#<id>`); a layer is `LYR#<id>`."""
from __future__ import annotations

from typing import Iterable

from layers_shared.domain.ports import AccountListQuery, AccountPage
from layers_shared.models.entities import Layer, SocialAccount
from layers_shared.store import keys
from layers_shared.store.table import Table


class DynamoAccounts:
    def __init__(self, table: Table):
        self.table = table

    def list_for_project(self, query: AccountListQuery) -> AccountPage:
        """Filters apply after the read, so a sparse filter may take a few reads;
        each read asks for one more than still needed."""
        found: list[SocialAccount] = []
        after = query.after
        while True:
            position = {"sort_name": "GSI1SK", "sort_condition": "#sk > :after", "sort_values": {":after": after}}
            rows, last = self.table.query("GSI1", "GSI1PK", keys.project_accounts(query.project_id),
                                          limit=query.limit + 1 - len(found), **(position if after else {}))
            for row in rows:
                if row.get("type") != "SA":
                    continue
                account = SocialAccount.model_validate(row)
                if query.matches(account):
                    found.append(account)
            if len(found) > query.limit:
                return AccountPage(found[:query.limit], True)
            if last is None or not rows:
                return AccountPage(found, False)
            after = str(rows[-1]["GSI1SK"])

    def layers(self, layer_ids: Iterable[str]) -> dict[str, Layer]:
        wanted = sorted(set(layer_ids))
        if not wanted:
            return {}
        found = self.table.batch_get(keys.layer(i) for i in wanted)
        return {item["id"]: Layer.model_validate(item) for item in found.values()}
