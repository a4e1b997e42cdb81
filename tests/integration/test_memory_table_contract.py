"""The in-memory table (tests/fakes/memory_table.py) answers as the real
`Table` does on DynamoDB (moto, the table made from template.yaml): each test
runs one scenario on both and compares every answer, every exception and the
items left in the table.

The scenarios use the expression forms of layers_shared, most through its own
code (the publisher's leases, pacing, Idempotency-Key records), the rest as
the store modules write them. Where moto is known to differ from DynamoDB
(a Query page that stops exactly at the end of its partition: DynamoDB and
the fake give a LastEvaluatedKey, moto does not) the scenarios stay off it;
tests/unit/fakes/test_memory_table.py pins the fake's side.
"""
from __future__ import annotations

import importlib
import itertools
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterator

import pytest

from layers_shared import clock
from layers_shared.store import codec, keys
from layers_shared.store.table import ConditionFailed, Table, TransactionCanceled
from tests.fakes.memory_table import MemoryTable
from tests.fakes.table_schema import indexes_from_template

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def moto() -> Iterator[None]:
    from moto import mock_aws

    from layers_shared import aws

    mock = mock_aws()
    mock.start()
    aws.reset()
    yield
    mock.stop()
    aws.reset()


@pytest.fixture
def tables(moto: None) -> Iterator[list[tuple[str, Any]]]:
    from local.aws_world import create_table

    name = f"contract-{uuid.uuid4().hex[:8]}"
    create_table(name, streams=False)
    clock.set_now(NOW)
    try:
        yield [("dynamodb", Table(name)), ("memory", MemoryTable(name))]
    finally:
        clock.set_now(None)


def outcome(run: Callable[[], Any]) -> Any:
    """An answer or the exception, in a form both sides can be compared on."""
    try:
        return ("ok", run())
    except ConditionFailed:
        return ("ConditionFailed",)
    except TransactionCanceled as exc:
        return ("TransactionCanceled", exc.reasons)
    except Exception as exc:  # noqa: BLE001 - botocore's ClientError, by its code
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        return (type(exc).__name__, code)


def stored(table: Any) -> list[dict[str, Any]]:
    if isinstance(table, MemoryTable):
        return table.scan()
    from layers_shared import aws

    found, start = [], None
    while True:
        page = aws.client("dynamodb").scan(TableName=table.name, **({"ExclusiveStartKey": start} if start else {}))
        found += [codec.deserialize(i) for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return sorted(found, key=lambda i: (i["PK"], i["SK"]))


def same_on_both(tables: list[tuple[str, Any]], scenario: Callable[[Any], list[Any]]) -> list[Any]:
    answers = {}
    for side, table in tables:
        answers[side] = (scenario(table), stored(table))
    for i, (mine, theirs) in enumerate(zip(answers["memory"][0], answers["dynamodb"][0])):
        assert mine == theirs, f"answer {i} differs"
    assert answers["memory"] == answers["dynamodb"]
    return answers["memory"][0]


def _key(n: str) -> dict[str, str]:
    return {"PK": f"T#{n}", "SK": "META"}


def _leases() -> Any:
    """The publisher's lease writes (moving from publisher/claim.py to store/post_leases.py)."""
    for name in ("layers_shared.store.post_leases", "layers_shared.publisher.claim"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError("no post leases module")


def _post(post_id: str, scheduled_for: str) -> dict[str, Any]:
    from layers_shared.store import items

    return {**keys.scheduled_post(post_id), "type": "SP", "id": post_id, "status": "queued",
            "scheduledFor": scheduled_for, "projectId": "prj_1", "caption": "Morning pour ☕",
            "media": [{"url": "https://media.example.com/pour.mp4", "kind": "video"}],
            "platformState": {"step": 0}, "createdAt": scheduled_for,
            **items.work_queue_attrs(post_id, "queued", scheduled_for)}


# -- the publisher's leases and outcome writes -------------------------------------------


def test_claim_take_step_recover_and_finish_answer_alike(tables, monkeypatch):
    leases = _leases()
    stamp = clock.to_storage(NOW)

    def scenario(table: Any) -> list[Any]:
        counter = itertools.count()
        monkeypatch.setattr(leases, "new_token", lambda: f"tok{next(counter)}")
        table.put(_post("sp_1", stamp))
        table.put(_post("sp_2", clock.to_storage(NOW + timedelta(hours=1))))
        claimed = leases.claim(table, "sp_1", stamp, NOW, 60)
        log = [claimed,
               outcome(lambda: leases.claim(table, "sp_1", stamp, NOW, 60)),  # a duplicate firing
               outcome(lambda: leases.claim(table, "sp_2", stamp, NOW, 60)),  # rescheduled
               outcome(lambda: leases.claim(table, "sp_404", stamp, NOW, 60))]
        token = claimed[0]
        stepped = leases.take_step(table, "sp_1", token, "submit", NOW, 60)
        log += [stepped, outcome(lambda: leases.take_step(table, "sp_1", token, "submit", NOW, 60))]  # stale
        token = stepped[0]
        log.append(outcome(lambda: leases.start_submit(table, "sp_1", token, NOW)))  # started at the claim
        later = NOW + timedelta(seconds=120)
        item = table.get(keys.scheduled_post("sp_1"), consistent=True)
        log.append(outcome(lambda: leases.recover(table, item, NOW, 60)))  # the lease still runs
        recovered = leases.recover(table, item, later, 60)
        log.append(recovered)
        token = recovered[0]
        # An outcome write, as the publisher builds it: numbered names, a map, a removal.
        expression = "SET #f0 = :v0, #f1 = :v1, #f2 = :v2 REMOVE #r0, #r1"
        values = {":v0": "processing", ":v1": {"publishId": "v_1", "polls": 1, "ratio": 0.5},
                  ":v2": clock.to_storage(later)}
        names = {"#f0": "platformStatus", "#f1": "platformState", "#f2": "updatedAt",
                 "#r0": "submitStartedAt", "#r1": "notThere"}
        log.append(outcome(lambda: leases.finish(table, "sp_1", token, expression, values, extra_names=names)))
        log.append(outcome(lambda: leases.finish(table, "sp_1", "stale", expression, values, extra_names=names)))
        # A terminal outcome with its event, one transaction: held, then by a stale token, then again.
        event = table.tx_put({**keys.key("EVT", "sp_1#terminal"), "type": "EVT", "events": [{"type": "published"}]},
                             condition="attribute_not_exists(PK)")
        terminal = "SET #f0 = :v0, #f1 = :v1 REMOVE #r0, #r1"
        done = {":v0": "published", ":v1": clock.to_storage(later)}
        done_names = {"#f0": "status", "#f1": "publishedAt", "#r0": "GSI2PK", "#r1": "GSI2SK"}
        for holder in ("stale", token, token):
            log.append(outcome(lambda: leases.finish(table, "sp_1", holder, terminal, done, extra_names=done_names,
                                                     also=[event])))
        return log

    log = same_on_both(tables, scenario)
    assert log[1] == ("ok", None) and log[-3:] == [("ok", False), ("ok", True), ("ok", False)]


# -- the store's other writes ---------------------------------------------------------------


def test_pacing_budgets_leases_and_pauses_answer_alike(tables):
    from layers_shared.store.pacing import PaceStore

    def scenario(table: Any) -> list[Any]:
        pace = PaceStore(table)
        now_ms = int(NOW.timestamp() * 1000)
        log = [outcome(lambda: [pace.reserve("init", "sa_1", 2, 60_000, now_ms) for _ in range(4)]),
               outcome(lambda: pace.reserve("status", "sa_1", 2, 60_000, now_ms, later=False)),
               outcome(lambda: pace.hold("refresh", "sa_1", "worker-a", 30, now_ms)),
               outcome(lambda: pace.hold("refresh", "sa_1", "worker-b", 30, now_ms + 1000)),
               outcome(lambda: pace.hold("refresh", "sa_1", "worker-a", 30, now_ms + 2000)),
               outcome(lambda: pace.hold("refresh", "sa_1", "worker-b", 30, now_ms + 40_000)),
               outcome(lambda: pace.pause("graph", "sa_1", now_ms + 5000)),
               outcome(lambda: pace.pause("graph", "sa_1", now_ms + 3000)),
               outcome(lambda: pace.paused_until("graph", "sa_1"))]
        return log

    same_on_both(tables, scenario)


def test_idempotency_records_answer_alike(tables, monkeypatch):
    from layers_shared.idempotency import StoredResponse
    from layers_shared.store import idempotency

    def scenario(table: Any) -> list[Any]:
        counter = itertools.count()
        monkeypatch.setattr(idempotency, "secrets", type("S", (), {"token_hex": staticmethod(
            lambda n: f"t{next(counter)}")}))
        records = idempotency.DynamoIdempotencyRecords(table)
        first = records.reserve("org#key-1", "fp")
        log = [outcome(lambda: type(first).__name__),
               outcome(lambda: type(records.reserve("org#key-1", "fp")).__name__),
               outcome(lambda: type(records.reserve("org#key-1", "other")).__name__)]
        first.complete(StoredResponse(201, {"id": "sp_1", "n": 2.5}, {"Location": "/v1/posts/sp_1"}))
        log.append(outcome(lambda: vars(records.reserve("org#key-1", "fp"))))
        second = records.reserve("org#key-2", "fp")
        second.abandon()
        log.append(outcome(lambda: table.get(keys.idempotency("org#key-2"), consistent=True)))
        third = records.reserve("org#key-3", "fp")
        tx = [table.tx_put({**_key("made"), "v": 1}, condition="attribute_not_exists(PK)")]
        log.append(outcome(lambda: idempotency.commit(table, tx, third, StoredResponse(200, {}, {}))))
        log.append(outcome(lambda: idempotency.commit(table, tx, None, StoredResponse(200, {}, {}))))
        return log

    same_on_both(tables, scenario)


def test_conditional_puts_updates_and_deletes_answer_alike(tables):
    def scenario(table: Any) -> list[Any]:
        log = [outcome(lambda: table.put({**_key("a"), "chatId": "c1", "n": 1}, condition="attribute_not_exists(PK)")),
               outcome(lambda: table.put({**_key("a"), "chatId": "c2"}, condition="attribute_not_exists(PK)")),
               outcome(lambda: table.put({**_key("a"), "chatId": "c2", "n": 1}, condition="chatId = :old",
                                         values={":old": "c1"})),
               outcome(lambda: table.put({**_key("a"), "chatId": "c3"}, condition="chatId = :old",
                                         values={":old": "c1"})),
               # send records: a lease taken unless sent, or when the old lease ran out
               outcome(lambda: table.update(
                   _key("a"), "SET leaseToken = :tok, leaseUntil = :until, #st = :sending, updatedAt = :now",
                   names={"#st": "status"}, values={":tok": "l1", ":until": 100, ":sending": "sending",
                                                    ":sent": "sent", ":now": "t", ":epoch": 50},
                   condition="attribute_exists(PK) AND #st <> :sent AND "
                             "(attribute_not_exists(leaseUntil) OR leaseUntil < :epoch)", return_new=True)),
               outcome(lambda: table.update(
                   _key("a"), "SET leaseToken = :tok, leaseUntil = :until, #st = :sending, updatedAt = :now",
                   names={"#st": "status"}, values={":tok": "l2", ":until": 200, ":sending": "sending",
                                                    ":sent": "sent", ":now": "t", ":epoch": 60},
                   condition="attribute_exists(PK) AND #st <> :sent AND "
                             "(attribute_not_exists(leaseUntil) OR leaseUntil < :epoch)", return_new=True)),
               outcome(lambda: table.update(_key("missing"), "SET consecutiveFailureCount = :zero",
                                            values={":zero": 0},
                                            condition="attribute_exists(PK) AND consecutiveFailureCount > :zero")),
               outcome(lambda: table.update(_key("a"), "ADD consecutiveFailureCount :one", values={":one": 1},
                                            condition="attribute_exists(PK)", return_new=True)),
               outcome(lambda: table.update(_key("a"), "ADD consecutiveFailureCount :one", values={":one": 1},
                                            condition="attribute_exists(PK)", return_new=True)),
               # webhook deliveries: take unless delivered, or the delivering lease ran out
               outcome(lambda: table.update(
                   _key("a"), "SET #s = :delivering, leaseUntil = :lease",
                   names={"#s": "status", "#n": "attempt"},
                   values={":delivering": "delivering", ":pending": "pending", ":made": 0, ":now": "b",
                           ":lease": "c"},
                   condition="#n = :made AND (#s = :pending OR (#s = :delivering AND leaseUntil < :now))")),
               outcome(lambda: table.update(_key("a"), "SET #s = :a, abandonedAt = :now REMOVE nextRetryAt, leaseUntil",
                                            names={"#s": "status"}, values={":a": "abandoned", ":now": "x",
                                                                            ":p": "sending", ":d": "delivering"},
                                            condition="#s IN (:p, :d)")),
               outcome(lambda: table.delete(_key("a"), condition="#tok = :tok AND #st = :prog",
                                            names={"#tok": "leaseToken", "#st": "status"},
                                            values={":tok": "l1", ":prog": "abandoned"})),
               outcome(lambda: table.delete(_key("a"), condition="#tok = :tok AND #st = :prog",
                                            names={"#tok": "leaseToken", "#st": "status"},
                                            values={":tok": "l2", ":prog": "abandoned"})),
               outcome(lambda: table.delete(_key("never"))),
               outcome(lambda: table.get(_key("a"), consistent=True))]
        return log

    same_on_both(tables, scenario)


def test_update_expression_forms_answer_alike(tables):
    def scenario(table: Any) -> list[Any]:
        log = [outcome(lambda: table.update(_key("rate"), "ADD #n :one SET expiresAt = if_not_exists(expiresAt, :exp)",
                                            names={"#n": "count"}, values={":one": 1, ":exp": 1000},
                                            return_new=True)) for _ in range(2)]
        log += [outcome(lambda: table.update(_key("sandbox"), "ADD submits :one SET #t = :t", names={"#t": "ttl"},
                                             values={":one": 1, ":t": 99}, return_new=True)),
                outcome(lambda: table.update(_key("sandbox"), "ADD created :one SET externalId = :x, #t = :t",
                                             names={"#t": "ttl"}, values={":one": 1, ":x": "ext", ":t": 100},
                                             return_new=True)),
                outcome(lambda: table.update(_key("list"), "SET events = list_append(if_not_exists(events, :empty), "
                                                           ":more)", values={":empty": [], ":more": ["a", 1]},
                                             return_new=True)),
                outcome(lambda: table.update(_key("list"), "SET events = list_append(events, :more)",
                                             values={":more": [{"k": True}, None]}, return_new=True)),
                outcome(lambda: table.update(_key("count"), "SET #n = if_not_exists(#n, :zero) + :one",
                                             names={"#n": "count"}, values={":zero": 0, ":one": 1, ":max": 2},
                                             condition="attribute_not_exists(#n) OR #n < :max")),
                outcome(lambda: table.update(_key("count"), "SET #n = #n - :one", names={"#n": "count"},
                                             values={":one": 1.5, ":zero": 0}, condition="#n > :zero",
                                             return_new=True)),
                outcome(lambda: table.update(_key("count"), "SET #n = #n + :half", names={"#n": "count"},
                                             values={":half": Decimal("0.5")}, return_new=True)),
                # numbers as the codec brings them back: 3.0 and Decimal("2.50") are 3 and 2.5
                outcome(lambda: table.put({**_key("numbers"), "f": 3.0, "d": Decimal("2.50"), "big": 10 ** 20,
                                           "neg": -0.25, "flag": True, "none": None, "b": b"\x00\x01",
                                           "nested": {"l": [1, 2.0, "x", [False]], "m": {}}})),
                outcome(lambda: table.get(_key("numbers"))),
                outcome(lambda: table.update(_key("numbers"), "SET nested.m.k = :v, nested.l[1] = :w "
                                                              "REMOVE nested.l[0]",
                                             values={":v": "deep", ":w": 7}, return_new=True))]
        return log

    same_on_both(tables, scenario)


def test_condition_forms_answer_alike(tables):
    def scenario(table: Any) -> list[Any]:
        table.put({**_key("c"), "status": "queued", "n": 5, "flag": True, "tags": ["a", "b"], "name": "hello",
                   "pendingSchedule": {"targetsStashId": "st_1", "targetsChunks": 2, "stashedAt": "t",
                                       "targets": [{"scheduledPostId": "sp_1"}]}, "when": "2026-05-01"})
        conditions = [
            ("#s = :v", {"#s": "status"}, {":v": "queued"}),
            ("#s <> :v", {"#s": "status"}, {":v": "queued"}),
            ("missing <> :v", None, {":v": "queued"}),  # a missing attribute is not equal
            ("n = :v", None, {":v": True}),  # a number is not a Boolean
            ("n BETWEEN :lo AND :hi", None, {":lo": 1, ":hi": 5}),
            ("n > :v AND NOT (#s = :q)", {"#s": "status"}, {":v": 4, ":q": "done"}),
            ("n < :v OR #w >= :d", {"#w": "when"}, {":v": 1, ":d": "2026-05-01"}),
            ("begins_with(#nm, :p)", {"#nm": "name"}, {":p": "he"}),
            ("contains(tags, :t)", None, {":t": "b"}),
            ("contains(#nm, :t)", {"#nm": "name"}, {":t": "ll"}),
            ("size(tags) = :two", None, {":two": 2}),
            ("attribute_type(n, :t)", None, {":t": "N"}),
            ("#ps.targetsStashId = :stashId", {"#ps": "pendingSchedule"}, {":stashId": "st_1"}),
            ("(attribute_not_exists(#ps) OR attribute_not_exists(#ps.targetsStashId))", {"#ps": "pendingSchedule"},
             None),
            ("tags[1] = :b", None, {":b": "b"}),
            ("#a = :p AND #ps.stashedAt = :stashedAt AND #ps.targets[0].scheduledPostId = :first",
             {"#a": "status", "#ps": "pendingSchedule"}, {":p": "queued", ":stashedAt": "t", ":first": "sp_1"}),
            ("#ps.targets[1].scheduledPostId = :first", {"#ps": "pendingSchedule"}, {":first": "sp_1"}),
            ("#s IN (:a, :b, :c)", {"#s": "status"}, {":a": "x", ":b": "queued", ":c": "y"}),
        ]
        return [outcome(lambda c=c, n=n, v=v: table.update(_key("c"), "SET seen = :seen", names=n,
                                                          values={**(v or {}), ":seen": c}, condition=c))
                for c, n, v in conditions]

    same_on_both(tables, scenario)


def test_transactions_cancel_with_one_reason_per_item_alike(tables):
    def scenario(table: Any) -> list[Any]:
        table.put({**_key("kept"), "v": 1, "GSI1PK": "G", "GSI1SK": "kept"})
        table.put({**_key("counter"), "count": 1})
        delete = {"Delete": {"TableName": table.name, "Key": codec.serialize(_key("kept")),
                             "ConditionExpression": "attribute_exists(PK)"}}
        counted = table.tx_update(_key("counter"), "SET #n = if_not_exists(#n, :zero) + :one", names={"#n": "count"},
                                  values={":zero": 0, ":one": 1, ":max": 2},
                                  condition="attribute_not_exists(#n) OR #n < :max")
        log = [outcome(lambda: table.transact([
            table.tx_put({**_key("new"), "v": 9, "GSI1PK": "G", "GSI1SK": "new"}, condition="attribute_not_exists(PK)"),
            table.tx_update(_key("kept"), "SET v = :v, GSI1SK = :s", values={":v": 2, ":s": "moved"}),
            table.tx_check(_key("missing"), "attribute_exists(PK)"),
            table.tx_check(_key("counter"), "#n = :one", names={"#n": "count"}, values={":one": 1})]))]
        log.append(outcome(lambda: table.query("GSI1", "GSI1PK", "G")))
        log.append(outcome(lambda: table.transact([counted, table.tx_put({**_key("made"), "v": 1})])))
        log.append(outcome(lambda: table.transact([counted, table.tx_put({**_key("made2"), "v": 1})])))
        log.append(outcome(lambda: table.transact([delete, table.tx_update(
            _key("counter"), "SET #n = #n - :one", names={"#n": "count"}, values={":one": 1, ":zero": 0},
            condition="#n > :zero")])))
        log.append(outcome(lambda: table.transact([delete])))
        log.append(outcome(lambda: table.transact([table.tx_put({**_key("dup"), "v": 1}),
                                                   table.tx_check(_key("dup"), "attribute_not_exists(PK)")])))
        return log

    log = same_on_both(tables, scenario)
    assert log[0] == ("TransactionCanceled", ["None", "None", "ConditionalCheckFailed", "None"])


def test_requests_dynamodb_refuses_are_refused_alike(tables):
    def scenario(table: Any) -> list[Any]:
        table.put({**_key("v"), "n": 1, "m": {"a": 1}})
        return [
            outcome(lambda: table.update(_key("v"), "SET n = :one", values={":one": 1, ":unused": 2})),
            outcome(lambda: table.update(_key("v"), "SET n = :one", names={"#x": "x"}, values={":one": 1})),
            outcome(lambda: table.update(_key("v"), "SET n = :undefined", values={":one": 1})),
            outcome(lambda: table.update(_key("v"), "SET #k = :one", names={"#k": "PK"}, values={":one": "x"})),
            outcome(lambda: table.update(_key("v"), "SET missing = missing + :one", values={":one": 1})),
            outcome(lambda: table.update(_key("v"), "SET n = :a, n = :b", values={":a": 1, ":b": 2})),
            outcome(lambda: table.update(_key("v"), "SET m = :a REMOVE m.a", values={":a": 1})),
            outcome(lambda: table.put({**_key("v"), "GSI1PK": "", "GSI1SK": "x"})),
            outcome(lambda: table.put({"PK": "only"})),
            outcome(lambda: table.get({**_key("v"), "extra": "x"})),
        ]

    same_on_both(tables, scenario)


# -- reads ------------------------------------------------------------------------------------


def test_queries_on_every_index_answer_alike(tables):
    """Every index of the template (ALL and KEYS_ONLY alike), both directions,
    sort conditions, a filter counted after the limit, pages resumed from the
    last key (never ending exactly at the end of a partition: see the module)."""
    indexes = indexes_from_template()

    def scenario(table: Any) -> list[Any]:
        for n in range(7):
            item = {**_key(f"q{n}"), "status": "queued" if n % 2 else "published", "n": n, "body": "x" * n}
            for index in indexes:
                item[index.hash_key] = "P"
                if index.range_key:
                    item[index.range_key] = f"2026-05-0{n + 1}#{n}"
            table.put(item)
        table.put({**_key("sparse"), "status": "queued"})  # in no index
        log = []
        for index in indexes:
            sort = index.range_key
            log += [outcome(lambda: table.query(index.name, index.hash_key, "P")),
                    outcome(lambda: table.query(index.name, index.hash_key, "P", forward=False, limit=3)),
                    outcome(lambda: table.query(index.name, index.hash_key, "P", sort_name=sort,
                                                sort_condition="#sk <= :upper",
                                                sort_values={":upper": "2026-05-03#~"})),
                    outcome(lambda: table.query(index.name, index.hash_key, "P", sort_name=sort,
                                                sort_condition="#sk BETWEEN :lo AND :hi",
                                                sort_values={":lo": "2026-05-02", ":hi": "2026-05-05"},
                                                forward=False)),
                    outcome(lambda: table.query(index.name, index.hash_key, "P", sort_name=sort,
                                                sort_condition="#sk >= :lo", sort_values={":lo": "2026-05-06"})),
                    outcome(lambda: table.query(index.name, index.hash_key, "P", sort_name=sort,
                                                sort_condition="#sk < :hi", sort_values={":hi": "2026-05-02"})),
                    outcome(lambda: table.query(index.name, index.hash_key, "P", sort_name=sort,
                                                sort_condition="begins_with(#sk, :p)", sort_values={":p": "2026-05-0"},
                                                limit=4)),
                    outcome(lambda: table.query(index.name, index.hash_key, "nothing"))]
            pages, start = [], None
            while True:
                page, start = table.query(index.name, index.hash_key, "P", limit=3, start=start,
                                          filter_expression="#st IN (:q)", filter_names={"#st": "status"},
                                          filter_values={":q": "queued"}, forward=False)
                pages.append((page, start))
                if not start:
                    break
            log.append(pages)
        listing = indexes[0]  # posts.py's cursor: a start key built from the last item's sort key
        if listing.range_key:
            start = {listing.hash_key: "P", listing.range_key: "2026-05-04#3", **_key("q3")}
            log.append(outcome(lambda: table.query(listing.name, listing.hash_key, "P", start=start, forward=False,
                                                   limit=2)))
        log.append(outcome(lambda: table.query(None, "PK", "T#q3")))
        log.append(outcome(lambda: table.query(None, "PK", "T#q3", sort_name="SK", sort_condition="#sk = :m",
                                               sort_values={":m": "META"})))
        return log

    same_on_both(tables, scenario)


def test_batch_get_answers_alike(tables):
    def scenario(table: Any) -> list[Any]:
        for n in range(150):
            table.put({**_key(f"b{n}"), "n": n})
        wanted = [_key(f"b{n}") for n in range(0, 160, 1)] + [_key("b1"), _key("b2")]
        table.put({**_key("b1"), "n": 1, "status": "queued", "m": {"a": 1}})
        return [outcome(lambda: table.batch_get(wanted)), outcome(lambda: table.batch_get([])),
                outcome(lambda: table.batch_get(wanted[:3], attributes=["status", "m", "absent"]))]

    same_on_both(tables, scenario)
