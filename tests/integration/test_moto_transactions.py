"""The local stack's cheaper rollback of moto transactions (local/moto_transactions.py)
keeps TransactWriteItems all-or-nothing: items, their index entries and
earlier items of the same transaction all come back as they were."""
from __future__ import annotations

import pytest

from layers_shared.store.table import Table, TransactionCanceled


@pytest.fixture
def table():
    from local import aws_world

    mock = aws_world.start("moto-transactions-test")
    try:
        yield Table()
    finally:
        mock.stop()


def _key(n: str) -> dict[str, str]:
    return {"PK": f"T#{n}", "SK": "META"}


def test_a_cancelled_transaction_leaves_every_item_as_it_was(table):
    table.put({**_key("kept"), "v": 1, "GSI1PK": "G", "GSI1SK": "kept"})
    table.put({**_key("gone"), "v": 1})
    with pytest.raises(TransactionCanceled) as caught:
        table.transact([
            table.tx_put({**_key("new"), "v": 9, "GSI1PK": "G", "GSI1SK": "new"}),
            table.tx_update(_key("kept"), "SET v = :v, GSI1SK = :s", values={":v": 2, ":s": "moved"}),
            table.tx_update(_key("gone"), "REMOVE v"),
            table.tx_check(_key("missing"), "attribute_exists(PK)"),
        ])
    assert caught.value.reasons == ["None", "None", "None", "ConditionalCheckFailed"]
    assert table.get(_key("new")) is None
    assert table.get(_key("kept"))["v"] == 1 and table.get(_key("gone"))["v"] == 1
    found, _ = table.query("GSI1", "GSI1PK", "G")
    assert [i["GSI1SK"] for i in found] == ["kept"]


def test_a_transaction_that_holds_commits_every_item(table):
    table.put({**_key("a"), "v": 1})
    table.transact([table.tx_put({**_key("b"), "v": 2}),
                    table.tx_update(_key("a"), "SET v = :v", condition="v = :one", values={":v": 3, ":one": 1}),
                    ])
    assert table.get(_key("a"))["v"] == 3 and table.get(_key("b"))["v"] == 2
