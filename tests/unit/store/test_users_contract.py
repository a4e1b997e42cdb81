"""The `Users` port: the DynamoDB adapter (on the package's moto table) and
the in-memory fake read a user alike, and a missing one as None."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from layers_shared.models.entities import User


@pytest.fixture(params=["dynamodb", "memory"])
def users(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    """(the port, how a test stores a user)"""
    if request.param == "dynamodb":
        from layers_shared.store import items
        from layers_shared.store.users import DynamoUsers

        table = request.getfixturevalue("moto_table")
        return DynamoUsers(table), lambda user: table.put(items.to_item(user))
    from tests.fakes.users import InMemoryUsers

    fake = InMemoryUsers()
    return fake, fake.add


def test_a_user_is_read_back_as_stored_and_a_missing_one_is_none(users):
    port, add = users
    ident = f"usr_{uuid.uuid4()}"
    assert port.get(ident) is None
    add(User(id=ident, organizationId="org_1", phoneNumber="+15551234567", phoneVerified=True))
    found = port.get(ident)
    assert (found.id, found.organizationId, found.phoneNumber, found.phoneVerified) == \
        (ident, "org_1", "+15551234567", True)
    add(User(id=f"usr_{uuid.uuid4()}", organizationId="org_1"))
    assert port.get(ident).phoneNumber == "+15551234567"
