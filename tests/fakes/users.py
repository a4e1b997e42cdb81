"""In memory: the `Users` port (layers_shared/domain/ports.py), held to
store/users.py by tests/unit/store/test_users_contract.py."""
from __future__ import annotations

from layers_shared.models.entities import User


class InMemoryUsers:
    def __init__(self) -> None:
        self._stored: dict[str, dict] = {}

    def add(self, user: User) -> None:
        self._stored[user.id] = user.model_dump(mode="json", exclude_none=True)

    def get(self, user_id: str) -> User | None:
        stored = self._stored.get(user_id)
        return None if stored is None else User.model_validate(stored)
