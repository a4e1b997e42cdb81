"""The in-memory table's own guarantees: what the contract test against moto
cannot show (where moto is not DynamoDB), and what the simulation relies on."""
from __future__ import annotations

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from layers_shared.store.table import ConditionFailed, fault_kind
from tests.fakes import dynamo_expressions
from tests.fakes.memory_table import PAGE_BYTES, MemoryTable
from tests.fakes.table_schema import indexes_from_template


def _key(n: str) -> dict[str, str]:
    return {"PK": f"T#{n}", "SK": "META"}


def _code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


@pytest.fixture
def table(template) -> MemoryTable:
    return MemoryTable("t", template=template)


def test_indexes_come_from_the_template_with_their_projections(template):
    found = {i.name: i for i in indexes_from_template(template)}
    assert set(found) == {"ALLX", "KEYSX", "INCX"}
    assert (found["KEYSX"].hash_key, found["KEYSX"].range_key, found["KEYSX"].projection) == ("KH", "KR", "KEYS_ONLY")
    assert found["INCX"].non_key_attributes == ("status",)


def test_the_repository_template_is_read_as_it_stands():
    from local.routes import load_template

    declared = load_template()["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"]
    assert [(i.name, i.projection) for i in indexes_from_template()] == [
        (g["IndexName"], g["Projection"]["ProjectionType"]) for g in declared]


def test_a_query_returns_what_each_projection_carries(table):
    table.put({**_key("a"), "AH": "p", "AR": "1", "KH": "p", "KR": "1", "IH": "p", "IR": 1, "status": "queued",
               "body": "x"})
    everything = table.get(_key("a"))
    assert table.query("ALLX", "AH", "p")[0] == [everything]
    assert table.query("KEYSX", "KH", "p")[0] == [{**_key("a"), "KH": "p", "KR": "1"}]
    assert table.query("INCX", "IH", "p")[0] == [{**_key("a"), "IH": "p", "IR": 1, "status": "queued"}]


def test_indexes_are_sparse_and_follow_key_changes(table):
    table.put({**_key("a"), "KH": "p", "KR": "1"})
    table.put({**_key("b"), "KH": "p"})  # no sort key: not in the index
    table.update(_key("a"), "SET KH = :q", values={":q": "q"})
    assert table.query("KEYSX", "KH", "p")[0] == []
    assert [i["PK"] for i in table.query("KEYSX", "KH", "q")[0]] == ["T#a"]
    table.update(_key("a"), "REMOVE KR")
    assert table.query("KEYSX", "KH", "q")[0] == []


def test_a_page_that_stops_on_its_limit_has_a_last_key_even_at_the_end(table):
    """DynamoDB does not look ahead (moto does): the caller pays one more, empty, call."""
    for n in range(4):
        table.put({**_key(f"{n}"), "AH": "p", "AR": f"{n}"})
    page, last = table.query("ALLX", "AH", "p", limit=4)
    assert len(page) == 4 and last == {**_key("3"), "AH": "p", "AR": "3"}
    assert table.query("ALLX", "AH", "p", limit=4, start=last) == ([], None)
    assert table.query("ALLX", "AH", "p", limit=5)[1] is None


def test_the_limit_counts_items_read_before_the_filter(table):
    for n in range(6):
        table.put({**_key(f"{n}"), "AH": "p", "AR": f"{n}", "status": "queued" if n == 5 else "done"})
    page, last = table.query("ALLX", "AH", "p", limit=3, filter_expression="#s = :q", filter_names={"#s": "status"},
                             filter_values={":q": "queued"})
    assert page == [] and last["AR"] == "2"
    page, last = table.query("ALLX", "AH", "p", limit=3, start=last, filter_expression="#s = :q",
                             filter_names={"#s": "status"}, filter_values={":q": "queued"})
    assert [i["AR"] for i in page] == ["5"]


def test_a_query_reads_at_most_a_megabyte_per_call(table):
    body = "x" * 100_000
    for n in range(25):
        table.put({**_key(f"{n:02d}"), "AH": "p", "AR": f"{n:02d}", "body": body})
    size = table.stored_size(("T#00", "META"))  # 100,023 bytes: 10 fit in 1 MB
    pages, start = [], None
    while True:
        page, start = table.query("ALLX", "AH", "p", start=start)
        pages.append(len(page))
        if not start:
            break
    assert size == 100_023 and PAGE_BYTES // size == 10 and pages == [10, 10, 5]


def test_values_come_back_as_the_codec_gives_them(table):
    table.put({**_key("n"), "f": 3.0, "d": Decimal("2.50"), "t": (1, "a"), "m": {1: True}})
    assert table.get(_key("n")) == {**_key("n"), "f": 3, "d": 2.5, "t": [1, "a"], "m": {"1": True}}
    assert type(table.get(_key("n"))["f"]) is int
    with pytest.raises(TypeError):
        table.put({**_key("s"), "set": {1, 2}})  # the codec cannot send a set either


def test_answers_are_copies(table):
    table.put({**_key("c"), "m": {"l": [1]}})
    got = table.get(_key("c"))
    got["m"]["l"].append(2)
    item = {**_key("d"), "m": {"l": [1]}}
    table.put(item)
    item["m"]["l"].append(2)
    assert table.get(_key("c"))["m"] == {"l": [1]} and table.get(_key("d"))["m"] == {"l": [1]}
    new = table.update(_key("c"), "SET x = :x", values={":x": 1}, return_new=True)
    new["m"]["l"].append(3)
    assert table.get(_key("c"))["m"] == {"l": [1]}


def test_types_compare_as_dynamodb_compares_them(table):
    """Where moto answers otherwise: a Boolean is not a number, and values of
    different types are never < one another (moto raises a TypeError)."""
    table.put({**_key("t"), "flag": True, "n": 5})
    for condition, values in [("flag = :one", {":one": 1}), ("n < :s", {":s": "6"}), ("n = :s", {":s": "5"})]:
        with pytest.raises(ConditionFailed):
            table.update(_key("t"), "SET x = :x", values={**values, ":x": 1}, condition=condition)
    table.update(_key("t"), "SET x = :x", values={":x": 1, ":s": "5"}, condition="n <> :s")


def test_what_dynamodb_refuses_and_moto_accepts_is_refused(table):
    with pytest.raises(ClientError) as refused:
        table.put({**_key("v")}, values={":unused": 1})  # values without an expression
    assert _code(refused) == "ValidationException"
    with pytest.raises(ClientError) as refused:
        table.put({**_key("v"), "AH": 5, "AR": "x"})  # an index key of the wrong type
    assert _code(refused) == "ValidationException"
    with pytest.raises(ClientError) as refused:
        table.query("NOPE", "X", "x")
    assert _code(refused) == "ValidationException"
    with pytest.raises(ClientError) as refused:
        table.query("ALLX", "AH", "p", filter_expression="AR = :a", filter_values={":a": "1"})
    assert _code(refused) == "ValidationException"  # a filter on a key attribute
    with pytest.raises(ClientError) as refused:
        table.query("ALLX", "AH", "p", sort_name="AR", sort_condition="#sk BETWEEN :lo AND :hi",
                    sort_values={":lo": "b", ":hi": "a"})
    assert _code(refused) == "ValidationException"


def test_a_reserved_word_needs_a_placeholder(table):
    with pytest.raises(ClientError) as refused:
        table.update(_key("r"), "SET status = :s", values={":s": "x"})
    assert "reserved keyword" in str(refused.value)
    table.update(_key("r"), "SET #s = :s", names={"#s": "status"}, values={":s": "x"})


def test_a_transaction_reports_a_data_error_as_that_items_reason(table):
    from layers_shared.store.table import TransactionCanceled

    table.put({**_key("a"), "n": 1})
    with pytest.raises(TransactionCanceled) as cancelled:
        table.transact([table.tx_update(_key("a"), "SET n = n + :one", values={":one": 1}),
                        table.tx_update(_key("b"), "SET n = n + :one", values={":one": 1})])
    assert cancelled.value.reasons == ["None", "ValidationError"] and not cancelled.value.busy
    assert table.get(_key("a"))["n"] == 1


def test_a_transaction_of_more_than_100_items_is_refused(table):
    with pytest.raises(ClientError) as refused:
        table.transact([table.tx_put({**_key(f"{n}")}) for n in range(101)])
    assert _code(refused) == "ValidationException" and len(table) == 0


def test_each_distinct_expression_is_parsed_once(table):
    table.update(_key("p"), "SET a = :a", values={":a": 1})
    parsed = dynamo_expressions.update("SET a = :a")
    table.update(_key("p"), "SET a = :a", values={":a": 2})
    assert dynamo_expressions.update("SET a = :a") is parsed
    assert dynamo_expressions.condition("a = :a") is dynamo_expressions.condition("a = :a")


def test_an_update_reads_the_item_as_it_was(table):
    table.put({**_key("u"), "a": 1, "b": 2})
    assert table.update(_key("u"), "SET a = b, b = a", return_new=True) == {**_key("u"), "a": 2, "b": 1}


def test_a_throttled_call_is_what_table_calls_busy(table, now):
    from tests.fakes.table_meter import TableMeter

    table.observer = TableMeter(wcu_limit=1)
    table.put({**_key("a")})
    with pytest.raises(ClientError) as refused:
        table.put({**_key("a"), "x": 1})
    assert fault_kind(refused.value) == "busy"
    assert type(refused.value).__name__ == "ProvisionedThroughputExceededException"


def test_it_has_tables_public_methods_with_the_same_signatures():
    import inspect

    from layers_shared.store.table import Table

    public = [name for name, member in vars(Table).items() if callable(member) and not name.startswith("_")]
    assert public  # get, batch_get, put, update, delete, transact, query, tx_put, tx_update, tx_check
    for name in public:
        theirs = inspect.signature(getattr(Table, name))
        mine = inspect.signature(getattr(MemoryTable, name))
        assert [(p.name, p.kind, p.default) for p in mine.parameters.values()] == \
            [(p.name, p.kind, p.default) for p in theirs.parameters.values()], name
