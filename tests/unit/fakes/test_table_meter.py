"""The capacity meter (tests/fakes/table_meter.py): units consumed as DynamoDB
bills them, per table, index and partition, and throttling at a partition's
limit within one simulated second, with nothing applied."""
from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from layers_shared import clock
from layers_shared.store.table import ConditionFailed, TransactionCanceled, fault_kind
from tests.fakes.memory_table import MemoryTable
from tests.fakes.table_meter import TableMeter, read_units, write_units

SMALL = "x" * 100
KB = 1024


def _key(n: str, pk: str | None = None) -> dict[str, str]:
    return {"PK": pk or f"T#{n}", "SK": f"S#{n}"}


@pytest.fixture
def meter(now) -> TableMeter:
    return TableMeter()


@pytest.fixture
def table(template, meter) -> MemoryTable:
    return MemoryTable("t", template=template, observer=meter)


def wru(meter: TableMeter) -> dict[str, float]:
    return {name: t.wru for name, t in meter.report().targets.items() if t.wru}


def rru(meter: TableMeter) -> dict[str, float]:
    return {name: t.rru for name, t in meter.report().targets.items() if t.rru}


def charged(meter: TableMeter, run) -> dict[str, float]:
    """The write units one operation adds, per table/index."""
    before = wru(meter)
    run()
    after = wru(meter)
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0)}


def test_unit_rounding():
    assert [write_units(s) for s in (0, 1, KB, KB + 1, 3 * KB)] == [1, 1, 1, 2, 3]
    assert [read_units(s, True) for s in (0, 4 * KB, 4 * KB + 1)] == [1, 1, 2]
    assert [read_units(s, False) for s in (0, 4 * KB, 4 * KB + 1)] == [0.5, 0.5, 1]


# -- writes ----------------------------------------------------------------------------------


def test_a_write_costs_a_unit_per_kilobyte_of_the_larger_version(table, meter):
    assert charged(meter, lambda: table.put({**_key("a"), "body": SMALL})) == {"t": 1}
    assert charged(meter, lambda: table.put({**_key("a"), "body": "x" * 1500})) == {"t": 2}
    assert charged(meter, lambda: table.update(_key("a"), "SET body = :b", values={":b": SMALL})) == {"t": 2}
    assert charged(meter, lambda: table.delete(_key("a"))) == {"t": 1}
    assert charged(meter, lambda: table.delete(_key("never"))) == {"t": 1}


def test_a_failed_condition_still_costs_the_write_and_no_index_write(table, meter):
    table.put({**_key("a"), "AH": "p", "AR": "1", "body": "x" * 1500})

    def fails() -> None:
        with pytest.raises(ConditionFailed):
            table.update(_key("a"), "SET AR = :s", values={":s": "2", ":no": "no"}, condition="body = :no")
    assert charged(meter, fails) == {"t": 2}


def test_a_transaction_costs_twice_and_its_condition_check_is_a_write(table, meter):
    table.put({**_key("checked"), "body": "x" * 1500})
    cost = charged(meter, lambda: table.transact([
        table.tx_put({**_key("a"), "body": SMALL}),
        table.tx_check(_key("checked"), "attribute_exists(PK)")]))
    assert cost == {"t": 2 * 1 + 2 * 2}


def test_a_cancelled_transaction_is_charged_on_the_table_and_writes_no_index(table, meter):
    def cancelled() -> None:
        with pytest.raises(TransactionCanceled):
            table.transact([table.tx_put({**_key("a"), "AH": "p", "AR": "1"}),
                            table.tx_check(_key("missing"), "attribute_exists(PK)")])
    assert charged(meter, cancelled) == {"t": 4} and len(table) == 0


def test_a_transactions_index_writes_are_not_doubled(table, meter):
    assert charged(meter, lambda: table.transact([table.tx_put({**_key("a"), "AH": "p", "AR": "1"})])) == {
        "t": 2, "ALLX": 1}


# -- index writes per projection ---------------------------------------------------------------


@pytest.fixture
def indexed(table) -> MemoryTable:
    table.put({**_key("a"), "AH": "p", "AR": "1", "KH": "p", "KR": "1", "IH": "p", "IR": 1, "status": "queued",
               "body": SMALL})
    return table


def test_an_item_entering_every_index_is_one_put_in_each(table, meter):
    cost = charged(meter, lambda: table.put({**_key("a"), "AH": "p", "AR": "1", "KH": "p", "KR": "1", "IH": "p",
                                             "IR": 1, "body": "x" * 1500}))
    assert cost == {"t": 2, "ALLX": 2, "KEYSX": 1, "INCX": 1}  # ALL carries the 1.5 KB, the others the keys


def test_a_change_to_an_unprojected_attribute_writes_only_the_all_index(indexed, meter):
    assert charged(meter, lambda: indexed.update(_key("a"), "SET body = :b", values={":b": "y"})) == {
        "t": 1, "ALLX": 1}


def test_a_change_to_an_included_attribute_writes_the_include_index(indexed, meter):
    assert charged(meter, lambda: indexed.update(_key("a"), "SET #s = :s", names={"#s": "status"},
                                                 values={":s": "done"})) == {"t": 1, "ALLX": 1, "INCX": 1}


def test_a_write_that_changes_nothing_projected_writes_no_index(indexed, meter):
    assert charged(meter, lambda: indexed.update(_key("a"), "SET #s = :s", names={"#s": "status"},
                                                 values={":s": "queued"})) == {"t": 1}


def test_a_sort_key_change_is_a_delete_and_a_put(indexed, meter):
    assert charged(meter, lambda: indexed.update(_key("a"), "SET KR = :k", values={":k": "2"})) == {
        "t": 1, "ALLX": 1, "KEYSX": 2}


def test_a_partition_key_change_writes_both_partitions(indexed, meter, now):
    indexed.update(_key("a"), "SET KH = :k", values={":k": "q"})
    second = int(now.timestamp())
    assert meter.used("KEYSX", "p", second)[0] == 2  # the put when created, the delete now
    assert meter.used("KEYSX", "q", second)[0] == 1


def test_leaving_an_index_is_one_delete(indexed, meter):
    assert charged(meter, lambda: indexed.update(_key("a"), "REMOVE IR")) == {"t": 1, "ALLX": 1, "INCX": 1}
    assert charged(meter, lambda: indexed.delete(_key("a"))) == {"t": 1, "ALLX": 1, "KEYSX": 1}


# -- reads ------------------------------------------------------------------------------------------


def test_reads_cost_a_unit_per_4_kilobytes_halved_when_eventually_consistent(table, meter):
    table.put({**_key("a", "P"), "AH": "p", "AR": "1", "body": "x" * (5 * KB)})
    table.put({**_key("b", "P"), "AH": "p", "AR": "2", "body": "x" * (2 * KB)})
    table.get(_key("a", "P"), consistent=True)  # 2
    table.get(_key("a", "P"))  # 1
    table.get(_key("none"))  # 0.5: a miss costs the minimum
    table.batch_get([_key("a", "P"), _key("b", "P")])  # 1 + 0.5
    table.query(None, "PK", "P")  # 7 KB: 1
    table.query("ALLX", "AH", "p")  # 1, on the index
    table.query("KEYSX", "KH", "nothing")  # 0.5
    assert rru(meter) == {"t": 2 + 1 + 0.5 + 1.5 + 1, "ALLX": 1, "KEYSX": 0.5}


def test_calls_are_counted_and_the_latency_hook_hears_each(template, now):
    heard: list[str] = []
    meter = TableMeter(latency=heard.append)
    table = MemoryTable("t", template=template, observer=meter)
    table.put({**_key("a")})
    table.get(_key("a"))
    table.batch_get([_key(f"{n}") for n in range(150)])
    table.transact([table.tx_put({**_key("b")})])
    table.transact([])  # no call, as Table makes none
    with pytest.raises(ConditionFailed):
        table.put({**_key("a")}, condition="attribute_not_exists(PK)")
    assert heard == ["PutItem", "GetItem", "BatchGetItem", "BatchGetItem", "TransactWriteItems", "PutItem"]
    assert meter.report().calls == {"PutItem": 2, "GetItem": 1, "BatchGetItem": 2, "TransactWriteItems": 1}


# -- throttling ------------------------------------------------------------------------------------


def test_a_partition_throttles_at_its_limit_within_a_second_and_not_in_the_next(template, now):
    meter = TableMeter(wcu_limit=3)
    table = MemoryTable("t", template=template, observer=meter)
    for n in range(3):
        table.put({**_key(f"{n}", "HOT")})
    table.put({**_key("other")})  # another partition has its own limit
    with pytest.raises(ClientError) as refused:
        table.put({**_key("3", "HOT")})
    assert fault_kind(refused.value) == "busy"
    assert table.get(_key("3", "HOT")) is None  # nothing applied
    assert meter.report().throttled == {"PutItem": 3}  # the client tried three times
    assert meter.report().calls["PutItem"] == 4 + 3
    clock.set_now(now + timedelta(seconds=1))
    table.put({**_key("3", "HOT")})
    assert table.get(_key("3", "HOT")) is not None


def test_the_clients_retries_sleep_and_may_land_in_the_next_second(template, now):
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.set_now(clock.now() + timedelta(seconds=1))

    meter = TableMeter(wcu_limit=1)
    table = MemoryTable("t", template=template, observer=meter, sleep=sleep)
    table.put({**_key("a", "HOT")})
    table.put({**_key("b", "HOT")})
    assert len(slept) == 1 and 0 <= slept[0] <= 1  # standard mode: random * 2^0 s
    assert meter.report().throttled == {"PutItem": 1}


def test_an_index_partition_throttles_the_whole_write(template, now):
    meter = TableMeter(wcu_limit=2)
    table = MemoryTable("t", template=template, observer=meter)
    table.put({**_key("a"), "KH": "hot", "KR": "1"})
    table.put({**_key("b"), "KH": "hot", "KR": "2"})
    with pytest.raises(ClientError):
        table.put({**_key("c"), "KH": "hot", "KR": "3"})
    assert table.get(_key("c")) is None and len(table.query("KEYSX", "KH", "hot")[0]) == 2
    assert meter.used("t", "T#c", int(now.timestamp()))[0] == 0  # a refused write consumes nothing
    report = meter.report()
    assert report.targets["KEYSX"].throttled == 3 and report.targets["KEYSX"].peak_wcu.units == 2


def test_a_throttled_transaction_is_cancelled_with_throttling_reasons_and_writes_nothing(template, now):
    meter = TableMeter(wcu_limit=2)
    table = MemoryTable("t", template=template, observer=meter)
    table.put({**_key("a", "HOT")})
    with pytest.raises(TransactionCanceled) as cancelled:
        table.transact([table.tx_put({**_key("x")}), table.tx_put({**_key("b", "HOT")})])
    assert cancelled.value.reasons == ["None", "ThrottlingError"] and cancelled.value.busy
    assert fault_kind(cancelled.value) == "busy"
    assert table.get(_key("x")) is None and len(table) == 1
    assert meter.report().throttled == {"TransactWriteItems": 1}  # not retried by the client


def test_reads_throttle_at_the_read_limit(template, now):
    meter = TableMeter(rcu_limit=1)
    table = MemoryTable("t", template=template, observer=meter)
    table.put({**_key("a")})
    table.get(_key("a"))
    table.get(_key("a"))
    with pytest.raises(ClientError) as refused:
        table.get(_key("a"))
    assert refused.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"


def test_a_batch_get_rereads_its_throttled_keys_as_table_does(template, now):
    def sleep(seconds: float) -> None:
        clock.set_now(clock.now() + timedelta(seconds=1))

    meter = TableMeter(rcu_limit=0.5)
    table = MemoryTable("t", template=template, observer=meter, sleep=sleep)
    table.put({**_key("a", "HOT")})
    table.put({**_key("b", "HOT")})
    table.put({**_key("c", "COLD")})
    table.get(_key("a", "HOT"))  # HOT's half unit of this second is gone
    found = table.batch_get([_key("b", "HOT"), _key("c", "COLD")])
    assert set(found) == {("HOT", "S#b"), ("COLD", "S#c")}
    assert meter.report().calls["BatchGetItem"] == 2  # COLD read at once, HOT once the second had passed


def test_the_report_names_peaks_totals_and_dollars(table, meter, now):
    for n in range(3):
        table.put({**_key(f"{n}", "HOT"), "AH": "shard-0", "AR": f"{n}"})
    clock.set_now(now + timedelta(seconds=1))
    table.put({**_key("x"), "AH": "shard-1", "AR": "1"})
    report = meter.report()
    hot = report.targets["t"].peak_wcu
    assert (hot.units, hot.partition, hot.second) == (3, "HOT", int(now.timestamp()))
    assert report.targets["ALLX"].peak_wcu.partition == "shard-0"
    assert report.targets["t"].peak_total_wcu.units == 3
    assert report.total_wru == 8 and report.total_rru == 0
    assert report.dollars() == pytest.approx(8 * 0.625 / 1e6)
    assert "HOT" in report.text() and "ALLX" in report.text()
