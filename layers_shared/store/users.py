"""Users in the single table (`USER#<id>`): the DynamoDB side of the `Users` port."""
from __future__ import annotations

from layers_shared.models.entities import User
from layers_shared.store import items, keys
from layers_shared.store.table import Table


class DynamoUsers:
    def __init__(self, table: Table):
        self.table = table

    def get(self, user_id: str) -> User | None:
        return items.from_item(User, self.table.get(keys.user(user_id)))
