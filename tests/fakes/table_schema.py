"""The single table's keys and global secondary indexes, as template.yaml
declares them (never written out here: the indexes are being redesigned, and
the in-memory table must follow whatever the template says)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@dataclass(frozen=True)
class Index:
    """A GSI: its key schema and projection (ALL, KEYS_ONLY or INCLUDE)."""

    name: str
    hash_key: str
    range_key: str | None
    projection: str = "ALL"
    non_key_attributes: tuple[str, ...] = ()
    table_keys: tuple[str, ...] = ("PK", "SK")
    # What a KEYS_ONLY / INCLUDE entry keeps: the table's keys, the index's, the included.
    kept: frozenset[str] = field(init=False)
    keys: tuple[str, ...] = field(init=False)  # table keys then index keys: an entry's full key

    def __post_init__(self) -> None:
        own = tuple(k for k in (self.hash_key, self.range_key) if k)
        keys = tuple(dict.fromkeys(self.table_keys + own))
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "kept", frozenset(keys + self.non_key_attributes))

    def holds(self, item: dict[str, Any] | None) -> bool:
        """Sparse: an item is in the index only when it has the index's key attributes."""
        return item is not None and self.hash_key in item and (self.range_key is None or self.range_key in item)

    def project(self, item: dict[str, Any]) -> dict[str, Any]:
        """The index entry of an item in the index (not copied)."""
        if self.projection == "ALL":
            return item
        kept = self.kept
        return {k: v for k, v in item.items() if k in kept}

    def projects(self, attribute: str) -> bool:
        return self.projection == "ALL" or attribute in self.kept


@dataclass(frozen=True)
class Schema:
    hash_key: str
    range_key: str | None
    types: dict[str, str]  # AttributeDefinitions: name -> S, N or B
    indexes: tuple[Index, ...]

    def index(self, name: str) -> Index | None:
        return next((i for i in self.indexes if i.name == name), None)

    @property
    def key_names(self) -> tuple[str, ...]:
        return tuple(k for k in (self.hash_key, self.range_key) if k)


def _table_properties(path: Path | str | None, logical_id: str | None) -> dict[str, Any]:
    from local.routes import load_template  # the loader that reads !Sub, !Ref, !GetAtt as data

    resources = load_template(Path(path) if path else TEMPLATE)["Resources"]
    tables = {name: r.get("Properties") or {} for name, r in resources.items()
              if r.get("Type") == "AWS::DynamoDB::Table"}
    if logical_id:
        return tables[logical_id]
    if len(tables) != 1:
        raise ValueError(f"{len(tables)} DynamoDB tables in the template: name one ({sorted(tables)})")
    return next(iter(tables.values()))


def _keys(schema: list[dict[str, str]]) -> tuple[str, str | None]:
    hash_key = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
    range_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
    return hash_key, range_key


def indexes_from_template(path: Path | str | None = None, logical_id: str | None = None) -> list[Index]:
    """The table's GSIs as template.yaml declares them: names, key schema, projection."""
    return list(schema_from_template(path, logical_id).indexes)


def schema_from_template(path: Path | str | None = None, logical_id: str | None = None) -> Schema:
    props = _table_properties(path, logical_id)
    hash_key, range_key = _keys(props["KeySchema"])
    table_keys = tuple(k for k in (hash_key, range_key) if k)
    indexes = []
    for gsi in props.get("GlobalSecondaryIndexes") or []:
        own_hash, own_range = _keys(gsi["KeySchema"])
        projection = gsi.get("Projection") or {}
        indexes.append(Index(gsi["IndexName"], own_hash, own_range, projection.get("ProjectionType", "ALL"),
                             tuple(projection.get("NonKeyAttributes") or ()), table_keys))
    types = {d["AttributeName"]: d["AttributeType"] for d in props.get("AttributeDefinitions") or []}
    return Schema(hash_key, range_key, types, tuple(indexes))
