"""An in-memory stand-in for `layers_shared.store.table.Table`, fast enough
to run the real publisher through 100,000 posts (moto is far too slow).

Same public methods, arguments, answers and exceptions as `Table`; the
contract test (tests/integration/test_memory_table_contract.py) runs the same
operations on both and compares them. What it keeps of DynamoDB:

- values come back as the codec returns them (whole numbers int, others
  float, no Decimal), always as copies;
- expressions are DynamoDB's (tests/fakes/dynamo_expressions.py), parsed
  once per distinct string; undefined or unused placeholders, reserved words,
  overlapping paths and writes to key attributes are ValidationExceptions
  (botocore ClientError), as DynamoDB answers them;
- GSIs are read from template.yaml: sparse, with their projection (a query
  on a KEYS_ONLY index returns the table's and the index's keys only), and
  queried in sort-key order with DynamoDB's pagination: `limit` counts items
  read before the filter, a page stops at 1 MB read, and a page that stops
  on `limit` has a LastEvaluatedKey even when nothing follows (DynamoDB does
  not look ahead; moto does, so the contract test stays off that boundary);
- transactions: up to 100 actions on distinct items, all conditions checked
  before anything is written, TransactionCanceled with one reason per action
  ("None", "ConditionalCheckFailed", "ValidationError", "ThrottlingError");
- the client's retries: a throttled call (ProvisionedThroughputExceeded) is
  tried again as botocore's standard mode does with layers_shared.aws's
  `max_attempts=3`, sleeping `sleep(seconds)` in between; BatchGetItem's
  unprocessed keys are retried the way `Table.batch_get` does.

An optional observer (tests/fakes/table_meter.py) sees every request before
it is applied, may refuse it (throttling), and hears of every AWS call.
"""
from __future__ import annotations

import random
import threading
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from botocore.exceptions import ClientError

from layers_shared.store import codec
from layers_shared.store.table import ConditionFailed, Table, TransactionCanceled, query_condition
from tests.fakes import dynamo_expressions as expressions
from tests.fakes.dynamo_values import (
    MISSING, InvalidData, InvalidExpression, ValidationError, copy_item, equal, kind, normalize,
)
from tests.fakes.item_size import item_size
from tests.fakes.table_schema import Index, Schema, schema_from_template

PAGE_BYTES = 1024 * 1024  # a Query reads at most 1 MB per call
MAX_TRANSACTION_ITEMS = 100
BATCH_GET_KEYS = 100
CLIENT_ATTEMPTS = 3  # layers_shared.aws: botocore retries, standard mode, max_attempts=3
_first = itemgetter(0)


@dataclass(slots=True)
class Write:
    """An item a write request touches, shown to the observer before anything is applied."""

    key: tuple
    old: dict[str, Any] | None
    new: dict[str, Any] | None  # None when deleted; the item itself for a ConditionCheck
    kind: str  # "put", "update", "delete" or "check"
    ok: bool  # its condition held (and it was valid): it will be written
    changed: frozenset[str] | None  # top-level attributes whose value changes (given to an observer)
    new_size: int | None = None  # the observer may fill it; kept as the stored item's size
    touched: tuple | None = None  # the attributes an update wrote (None: any)


@dataclass(slots=True)
class Read:
    """Bytes a read request reads from one partition of the table or an index."""

    target: str  # the table's name, or an index's
    partition: Any  # the partition key value
    size: int
    consistent: bool
    items: int


class Throttled(Exception):
    """Raised by an observer to refuse a request: nothing is applied. `reads`
    and `writes` are the indexes (in the request) of what it refused."""

    def __init__(self, reads: Iterable[int] = (), writes: Iterable[int] = ()):
        super().__init__("throttled")
        self.reads, self.writes = set(reads), set(writes)


class Observer(Protocol):
    def admit(self, table: MemoryTable, operation: str, reads: list[Read], writes: list[Write],
              transactional: bool) -> None:
        """Take the request's capacity, or raise Throttled (then take none)."""

    def called(self, operation: str) -> None:
        """One AWS call was made (after it answered, whatever it answered)."""


class ProvisionedThroughputExceededException(ClientError):
    """Named as botocore's modeled exception (a ClientError with this code)."""


def _client_error(code: str, message: str, operation: str, kind: type[ClientError] = ClientError) -> ClientError:
    return kind({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                operation)


def _throttled(operation: str) -> ClientError:
    return _client_error("ProvisionedThroughputExceededException",
                         "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically "
                         "scaling your table or index so please try again shortly.", operation,
                         ProvisionedThroughputExceededException)


class MemoryTable:
    """A drop-in for `Table` (see the module docstring). `template` or
    `schema` give the keys and indexes (default: the repository's
    template.yaml); `observer` meters and throttles; `sleep` is what the
    client's retries wait with (default: not at all)."""

    def __init__(self, name: str = "layers-memory", *, template: Path | str | None = None,
                 schema: Schema | None = None, observer: Observer | None = None,
                 sleep: Callable[[float], None] | None = None, seed: int = 0):
        self.name = name
        self.schema = schema or schema_from_template(template)
        self.observer = observer
        self._sleep = sleep or (lambda seconds: None)
        self._random = random.Random(seed)
        self._lock = threading.RLock()
        self._items: dict[tuple, dict[str, Any]] = {}
        self._sizes: dict[tuple, int] = {}
        # Sorted entries (sort value, hash, range) per partition; None is the table itself.
        self._partitions: dict[str | None, dict[Any, list[tuple]]] = {None: {}}
        for index in self.schema.indexes:
            self._partitions[index.name] = {}
        self._hash, self._range = self.schema.hash_key, self.schema.range_key
        self._key_names = self.schema.key_names
        self._key_set = frozenset(self._key_names)
        self._plain_keys = all(self.schema.types.get(n, "S") == "S" for n in self._key_names)
        self._index_keys = frozenset(n for i in self.schema.indexes for n in (i.hash_key, i.range_key) if n)
        self._plans: dict[tuple, tuple] = {}

    # -- the Table interface -----------------------------------------------------------

    def get(self, key: dict[str, str], consistent: bool = False) -> dict[str, Any] | None:
        def run() -> dict[str, Any] | None:
            k = self._key(key)
            item = self._items.get(k)
            self._admit("GetItem", [Read(self.name, k[0], self._stored_size(k, item), consistent, 1)], [])
            return None if item is None else copy_item(item)
        return self._call("GetItem", run)

    def batch_get(self, keys: Iterable[dict[str, str]],
                  attributes: Iterable[str] | None = None) -> dict[tuple[str, str], dict[str, Any]]:
        """As `Table.batch_get`: up to 100 keys a call, unprocessed keys (throttled)
        asked again; `attributes`: only these (and the keys) of each item."""
        unique = {(k[self._hash], k[self._range]): k for k in keys}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        pending = list(unique.values())
        shape = None if attributes is None else tuple(dict.fromkeys([*self._key_names, *attributes]))
        while pending:
            chunk, pending = pending[:BATCH_GET_KEYS], pending[BATCH_GET_KEYS:]
            request = chunk
            delay = 0.05
            while request:
                request = self._call("BatchGetItem", lambda: self._batch_get_once(request, found, shape))
                if request:
                    self._sleep(delay)
                    delay = min(delay * 2, 1.0)
        return found

    def put(self, item: dict[str, Any], condition: str | None = None,
            names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> None:
        def run() -> None:
            k, new = self._new_item(item)
            test = self._condition(condition, names, values)
            old = self._items.get(k)
            ok = test is None or test(old or {}, names or {}, values or {})
            write = Write(k, old, new, "put", ok, self._changed(old, new) if self.observer else None)
            self._admit("PutItem", [], [write])
            if not ok:
                raise ConditionFailed()
            self._commit(write)
        self._call("PutItem", run)

    def update(self, key: dict[str, str], expression: str, names: dict[str, str] | None = None,
               values: dict[str, Any] | None = None, condition: str | None = None,
               return_new: bool = False) -> dict[str, Any] | None:
        def run() -> dict[str, Any] | None:
            k = self._key(key)
            write, error = self._update_write(k, expression, condition, names, values)
            if error is not None:
                raise error  # the condition held, the update cannot be applied to this item
            self._admit("UpdateItem", [], [write])
            if not write.ok:
                raise ConditionFailed()
            self._commit(write)
            return copy_item(write.new) if return_new and write.new is not None else None
        return self._call("UpdateItem", run)

    def delete(self, key: dict[str, str], condition: str | None = None,
               names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> None:
        def run() -> None:
            k = self._key(key)
            test = self._condition(condition, names, values)
            old = self._items.get(k)
            ok = test is None or test(old or {}, names or {}, values or {})
            write = Write(k, old, None, "delete", ok, frozenset(old) if old and self.observer else None)
            self._admit("DeleteItem", [], [write])
            if not ok:
                raise ConditionFailed()
            self._commit(write)
        self._call("DeleteItem", run)

    def transact(self, items: list[dict[str, Any]]) -> None:
        """Items are built with the `tx_*` helpers (DynamoDB's wire form); all or nothing."""
        if not items:
            return
        self._call("TransactWriteItems", lambda: self._transact_once(items))

    def query(self, index: str | None, key_name: str, key_value: str, *,
              sort_name: str | None = None, sort_condition: str | None = None,
              sort_values: dict[str, Any] | None = None, forward: bool = True,
              limit: int | None = None, start: dict[str, Any] | None = None,
              filter_expression: str | None = None, filter_names: dict[str, str] | None = None,
              filter_values: dict[str, Any] | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """`limit` counts items read, before `filter_expression` drops any."""
        # The request Table.query sends, built by the same function.
        expression, names, values = query_condition(key_name, key_value, sort_name, sort_condition, sort_values,
                                                    filter_expression, filter_names, filter_values)
        return self._call("Query", lambda: self._query_once(index, expression, filter_expression or None, names,
                                                             values, forward, limit or None, start or None))

    # -- transaction item builders (the wire form Table builds) -----------------------

    # Table's own builders (they only read `self.name`): the same wire form by construction.
    tx_put = Table.tx_put
    tx_update = Table.tx_update
    tx_check = Table.tx_check

    # -- for tests and the simulation: not part of Table --------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def scan(self) -> list[dict[str, Any]]:
        """Every item (copies), in key order; no AWS call is counted."""
        with self._lock:
            return [copy_item(self._items[k]) for k in sorted(self._items)]

    def stored_size(self, key: tuple) -> int:
        """The DynamoDB size of the item stored at (hash, range), 0 when none."""
        return self._stored_size(key, self._items.get(key))

    # -- calls --------------------------------------------------------------------------

    def _call(self, operation: str, run: Callable[[], Any]) -> Any:
        """One request as the client sends it: throttled attempts are retried
        like botocore's standard mode (random * 2^(attempt-1) s, at most 20 s)."""
        attempt = 1
        while True:
            try:
                return self._attempt(operation, run)
            except Throttled:
                if attempt >= CLIENT_ATTEMPTS:
                    raise _throttled(operation) from None
                self._sleep(min(self._random.random() * 2 ** (attempt - 1), 20.0))
                attempt += 1

    def _attempt(self, operation: str, run: Callable[[], Any]) -> Any:
        try:
            with self._lock:
                return run()
        except InvalidExpression as exc:
            raise _client_error("ValidationException", str(exc), operation) from None
        except InvalidData as exc:
            raise _client_error("ValidationException", str(exc), operation) from None
        finally:
            if self.observer is not None:
                self.observer.called(operation)

    def _admit(self, operation: str, reads: list[Read], writes: list[Write], transactional: bool = False) -> None:
        if self.observer is not None:
            self.observer.admit(self, operation, reads, writes, transactional)

    # -- keys and items -----------------------------------------------------------------

    def _key(self, key: Any) -> tuple:
        names = self._key_names
        if self._plain_keys and type(key) is dict and len(key) == 2:
            h, r = key.get(self._hash), key.get(self._range)
            if type(h) is str and type(r) is str and h and r:
                return (h, r)
        if not isinstance(key, dict) or len(key) != len(names) or any(n not in key for n in names):
            raise InvalidExpression("The provided key element does not match the schema")
        return self._key_values({n: normalize(key[n]) for n in names})

    def _key_values(self, item: dict[str, Any]) -> tuple:
        out = []
        for name in (self._hash, self._range):
            if name is None:
                out.append(None)
                continue
            if name not in item:
                raise InvalidData(f"One or more parameter values were invalid: Missing the key {name} in the item")
            value = item[name]
            wanted = self.schema.types.get(name, "S")
            if kind(value) != wanted:
                raise InvalidData(f"One or more parameter values were invalid: Type mismatch for key {name} "
                                  f"expected: {wanted} actual: {kind(value)}")
            if wanted in ("S", "B") and not value:
                raise InvalidData(f"One or more parameter values are not valid. The AttributeValue for a key "
                                  f"attribute cannot contain an empty string value. Key: {name}")
            out.append(value)
        return tuple(out)

    def _new_item(self, raw: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
        if not isinstance(raw, dict):
            raise TypeError("an item is a dict")
        item = {k: normalize(v) for k, v in raw.items()}
        key = self._key_values(item)
        self._check_index_keys(item)
        return key, item

    def _check_index_keys(self, item: dict[str, Any]) -> None:
        for index in self.schema.indexes:
            for name in (index.hash_key, index.range_key):
                if name is None or name not in item:
                    continue
                value, wanted = item[name], self.schema.types.get(name, "S")
                if kind(value) != wanted:
                    raise InvalidData(f"One or more parameter values were invalid: Type mismatch for Index Key "
                                      f"{name} Expected: {wanted} Actual: {kind(value)} IndexName: {index.name}")
                if wanted in ("S", "B") and not value:
                    raise InvalidData(f"One or more parameter values are not valid. A value specified for a "
                                      f"secondary index key is not supported. The AttributeValue for a key "
                                      f"attribute cannot contain an empty string value. IndexName: {index.name}, "
                                      f"IndexKey: {name}")

    def _stored_size(self, key: tuple, item: dict[str, Any] | None) -> int:
        if item is None:
            return 0
        size = self._sizes.get(key)
        if size is None:
            size = self._sizes[key] = item_size(item)
        return size

    @staticmethod
    def _changed(old: dict[str, Any] | None, new: dict[str, Any] | None,
                 names: Iterable[str] | None = None) -> frozenset[str]:
        """Top-level attributes whose value differs between two versions of an item."""
        before, after = old or {}, new or {}
        out = []
        for name in (names if names is not None else set(before) | set(after)):
            a, b = before.get(name, MISSING), after.get(name, MISSING)
            if a is b:
                continue
            if a is MISSING or b is MISSING or not equal(a, b):
                out.append(name)
        return frozenset(out)

    # -- expressions --------------------------------------------------------------------

    def _condition(self, condition: str | None, names: dict | None, values: dict | None,
                   update: expressions.Update | None = None) -> Callable | None:
        parsed = expressions.condition(condition) if condition else None
        used_names = parsed.names if parsed else frozenset()
        used_values = parsed.values if parsed else frozenset()
        if update is not None:
            used_names, used_values = used_names | update.names, used_values | update.values
        expressions.check_placeholders(names, values, used_names, used_values)
        return parsed.test if parsed else None

    def _update_write(self, k: tuple, expression: str, condition: str | None,
                      names: dict | None, values: dict | None) -> tuple[Write, ValidationError | None]:
        """The write an update makes (not applied), and the error it meets on this item, if any."""
        plan = self._plans.get((expression, condition))
        if plan is None:
            parsed = expressions.update(expression)
            tested = expressions.condition(condition) if condition else None
            plan = self._plans[(expression, condition)] = (
                parsed, tested.test if tested else None, parsed.names | (tested.names if tested else frozenset()),
                parsed.values | (tested.values if tested else frozenset()))
        parsed, test, used_names, used_values = plan
        expressions.check_placeholders(names, values, used_names, used_values)
        names, values = names or {}, values or {}
        old = self._items.get(k)
        ok = test is None or test(old or {}, names, values)
        base = old if old is not None else {self._hash: k[0], **({self._range: k[1]} if self._range else {})}
        error: ValidationError | None = None
        try:
            new, touched = parsed.apply(base, names, values)
            if old is None or not self._index_keys.isdisjoint(touched):
                self._check_index_keys(new)
            if not self._key_set.isdisjoint(touched):
                keys = sorted(self._key_set.intersection(touched))
                raise InvalidExpression(f"One or more parameter values were invalid: Cannot update attribute "
                                        f"{keys[0]}. This attribute is part of the key")
        except InvalidData as exc:
            new, touched, error = None, (), exc
        changed = self._changed(old, new, touched) if self.observer and new is not None else None
        return Write(k, old, new, "update", ok and error is None, changed, touched=touched), error if ok else None

    # -- writes ---------------------------------------------------------------------------

    def _commit(self, write: Write) -> None:
        k, old, new = write.key, write.old, write.new
        if new is None:
            if old is None:
                return
            del self._items[k]
            self._unplace(None, k[0], (k[1], k[0], k[1]))
        else:
            self._items[k] = new
            if old is None:
                self._place(None, k[0], (k[1], k[0], k[1]))
        if old is not None and new is not None and write.touched is not None \
                and self._index_keys.isdisjoint(write.touched):
            indexes: tuple = ()  # no index key written: every entry stays where it is
        else:
            indexes = self.schema.indexes
        for index in indexes:
            before, after = self._entry(index, k, old), self._entry(index, k, new)
            if before != after:
                if before is not None:
                    self._unplace(index.name, before[0], before[1])
                if after is not None:
                    self._place(index.name, after[0], after[1])
        if new is not None and write.new_size is not None:
            self._sizes[k] = write.new_size
        else:
            self._sizes.pop(k, None)

    @staticmethod
    def _entry(index: Index, k: tuple, item: dict[str, Any] | None) -> tuple | None:
        """(partition, entry) of an item in an index, None when it is not in it."""
        if item is None or not index.holds(item):
            return None
        return item[index.hash_key], (item[index.range_key] if index.range_key else "", k[0], k[1])

    def _place(self, target: str | None, partition: Any, entry: tuple) -> None:
        entries = self._partitions[target].get(partition)
        if entries is None:
            self._partitions[target][partition] = [entry]
        else:
            insort(entries, entry)

    def _unplace(self, target: str | None, partition: Any, entry: tuple) -> None:
        entries = self._partitions[target][partition]
        del entries[bisect_left(entries, entry)]
        if not entries:
            del self._partitions[target][partition]

    def _transact_once(self, items: list[dict[str, Any]]) -> None:
        operation = "TransactWriteItems"
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise InvalidExpression(f"1 validation error detected: Value at 'transactItems' failed to satisfy "
                                    f"constraint: Member must have length less than or equal to "
                                    f"{MAX_TRANSACTION_ITEMS}")
        actions = [self._action(item) for item in items]
        keys = [a[1] for a in actions]
        if len(set(keys)) != len(keys):
            raise InvalidExpression("Transaction request cannot include multiple operations on one item")
        writes: list[Write] = []
        reasons: list[str] = []
        for verb, k, body, names, values in actions:
            old = self._items.get(k)
            error: ValidationError | None = None
            if verb == "Update":
                write, error = self._update_write(k, body["UpdateExpression"], body.get("ConditionExpression"),
                                                  names, values)
            else:
                test = self._condition(body.get("ConditionExpression"), names, values)
                ok = test is None or test(old or {}, names or {}, values or {})
                if verb == "Put":
                    new: dict[str, Any] | None = body["_item"]
                    changed = self._changed(old, new) if self.observer else None
                    write = Write(k, old, new, "put", ok, changed)
                elif verb == "Delete":
                    write = Write(k, old, None, "delete", ok, frozenset(old) if old and self.observer else None)
                else:
                    write = Write(k, old, old, "check", ok, frozenset())
            writes.append(write)
            reasons.append("None" if write.ok else "ValidationError" if error is not None
                           else "ConditionalCheckFailed")
        try:
            self._admit(operation, [], writes, transactional=True)
        except Throttled as refused:
            # Not retried by the client: TransactionCanceledException is no throttling error code.
            raise TransactionCanceled(["ThrottlingError" if i in refused.writes else "None"
                                       for i in range(len(writes))]) from None
        if any(r != "None" for r in reasons):
            raise TransactionCanceled(reasons)
        for write in writes:
            if write.kind != "check":
                self._commit(write)

    def _action(self, item: dict[str, Any]) -> tuple[str, tuple, dict[str, Any], dict | None, dict | None]:
        if not isinstance(item, dict) or len(item) != 1:
            raise InvalidExpression("TransactItems can only contain one of Check, Put, Update or Delete")
        (verb, body), = item.items()
        if verb not in ("Put", "Update", "Delete", "ConditionCheck"):
            raise InvalidExpression(f"Unknown transaction action: {verb}")
        if body.get("TableName") != self.name:
            raise InvalidExpression(f"Requested resource not found: Table: {body.get('TableName')} not found")
        names = body.get("ExpressionAttributeNames")
        values = codec.deserialize(body.get("ExpressionAttributeValues"))
        if verb == "ConditionCheck" and not body.get("ConditionExpression"):
            raise InvalidExpression("ConditionCheck requires a ConditionExpression")
        if verb == "Put":
            k, new = self._new_item(codec.deserialize(body["Item"]) or {})
            body = {**body, "_item": new}
        else:
            k = self._key(codec.deserialize(body["Key"]))
        if verb == "Update":
            # The static checks (syntax, placeholders) refuse the whole request.
            self._condition(body.get("ConditionExpression"), names, values,
                            expressions.update(body["UpdateExpression"]))
        return verb, k, body, names, values

    # -- reads ----------------------------------------------------------------------------

    def _batch_get_once(self, request: list[dict[str, Any]], found: dict,
                        shape: tuple[str, ...] | None) -> list[dict[str, Any]]:
        """One BatchGetItem call; returns the keys left unprocessed."""
        keys = [self._key(k) for k in request]
        if len(set(keys)) != len(keys):
            raise InvalidExpression("Provided list of item keys contains duplicates")
        reads = [Read(self.name, k[0], self._stored_size(k, self._items.get(k)), False, 1) for k in keys]
        refused: set[int] = set()
        try:
            self._admit("BatchGetItem", reads, [])
        except Throttled as exc:
            if len(exc.reads) >= len(reads):
                raise  # none could be read: the call itself is throttled
            refused = exc.reads
            self._admit("BatchGetItem", [r for i, r in enumerate(reads) if i not in refused], [])
        for i, k in enumerate(keys):
            item = self._items.get(k)
            if i not in refused and item is not None:
                # A projection reads (and costs) the whole item, and returns part of it.
                kept = item if shape is None else {n: item[n] for n in shape if n in item}
                found[(item[self._hash], item[self._range])] = copy_item(kept)
        return [request[i] for i in sorted(refused)]

    def _query_once(self, index_name: str | None, expression: str, filter_expression: str | None,
                    names: dict[str, str], values: dict[str, Any], forward: bool, limit: int | None,
                    start: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        key = expressions.key_condition(expression)
        filtered = expressions.condition(filter_expression) if filter_expression else None
        expressions.check_placeholders(names, values, key.names | (filtered.names if filtered else frozenset()),
                                       key.values | (filtered.values if filtered else frozenset()))
        index: Index | None = None
        if index_name is not None:
            index = self.schema.index(index_name)
            if index is None:
                raise InvalidExpression(f"The table does not have the specified index: {index_name}")
            hash_name, range_name, target = index.hash_key, index.range_key, index_name
        else:
            hash_name, range_name, target = self._hash, self._range, self.name
        if expressions.resolve(key.hash_path, names) != (hash_name,):
            raise InvalidExpression(f"Query condition missed key schema element: {hash_name}")
        if key.sort_path is not None and expressions.resolve(key.sort_path, names) != (range_name,):
            raise InvalidExpression("Query key condition not supported")
        partition = normalize(values[key.hash_value])
        bounds = [normalize(values[v]) for v in key.sort_values]
        for name, value in [(hash_name, partition)] + [(range_name, b) for b in bounds]:
            if kind(value) != self.schema.types.get(name, "S"):  # type: ignore[arg-type]
                raise InvalidExpression("One or more parameter values were invalid: Condition parameter type "
                                        "does not match schema type")
        if filtered is not None:
            for path in filtered.paths:
                first = expressions.resolve(path, names)[0]
                if first in (hash_name, range_name):
                    raise InvalidExpression(f"Filter Expression can only contain non-primary key attributes: "
                                            f"Primary key attribute: {first}")
        if key.sort_op == "between" and not bounds[0] <= bounds[1]:
            raise InvalidExpression("Invalid KeyConditionExpression: The BETWEEN operator requires upper bound "
                                    "to be greater than or equal to lower bound")
        entries = self._partitions[index_name].get(partition, [])
        low, high = self._bounds(entries, key.sort_op, bounds)
        if start is not None:
            position = self._start_position(index, start)
            if forward:
                low = max(low, bisect_right(entries, position))
            else:
                high = min(high, bisect_left(entries, position))
        found: list[dict[str, Any]] = []
        read, count, last, stopped = 0, 0, None, False
        for i in (range(low, high) if forward else range(high - 1, low - 1, -1)):
            entry = entries[i]
            k = (entry[1], entry[2])
            item = self._items[k]
            projected = index.project(item) if index is not None else item
            size = self._stored_size(k, item) if projected is item else item_size(projected)
            if count and read + size > PAGE_BYTES:
                stopped = True  # the 1 MB page is full: the next call continues after `last`
                break
            read, count, last = read + size, count + 1, item
            if filtered is None or filtered.test(projected, names, values):
                found.append(projected)
            if limit is not None and count >= limit:
                stopped = True  # even if nothing follows: DynamoDB does not look ahead
                break
        self._admit("Query", [Read(target, partition, read, False, count)], [])
        return [copy_item(p) for p in found], (self._last_key(index, last) if stopped and last else None)

    @staticmethod
    def _bounds(entries: list[tuple], op: str | None, bounds: list[Any]) -> tuple[int, int]:
        if op is None:
            return 0, len(entries)
        value = bounds[0]
        if op == "=":
            return bisect_left(entries, value, key=_first), bisect_right(entries, value, key=_first)
        if op == "<":
            return 0, bisect_left(entries, value, key=_first)
        if op == "<=":
            return 0, bisect_right(entries, value, key=_first)
        if op == ">":
            return bisect_right(entries, value, key=_first), len(entries)
        if op == ">=":
            return bisect_left(entries, value, key=_first), len(entries)
        if op == "begins_with":
            low = high = bisect_left(entries, value, key=_first)
            while high < len(entries) and _begins(entries[high][0], value):
                high += 1
            return low, high
        return bisect_left(entries, value, key=_first), bisect_right(entries, bounds[1], key=_first)

    def _start_position(self, index: Index | None, start: dict[str, Any]) -> tuple:
        wanted = index.keys if index is not None else self._key_names
        if set(start) != set(wanted):
            raise InvalidExpression("The provided starting key is invalid: The provided key element does not "
                                    "match the schema")
        start = {k: normalize(v) for k, v in start.items()}
        sort = (start[index.range_key] if index.range_key else "") if index is not None else start[self._range]
        return (sort, start[self._hash], start[self._range])

    def _last_key(self, index: Index | None, item: dict[str, Any]) -> dict[str, Any]:
        names = index.keys if index is not None else self._key_names
        return {n: item[n] for n in names}


def _begins(value: Any, prefix: Any) -> bool:
    return isinstance(value, (str, bytes)) and type(value) is type(prefix) and value.startswith(prefix)
