"""Move posts stored before GSI3 existed onto it (docs/adr/0043).

Such a post carries the listing's keys as `GSI1PK`/`GSI1SK` and is not listed
until they are copied to `GSI3PK`/`GSI3SK`; removing them from GSI1 also
ends its index writes there. Run once after the deploy that adds GSI3:

    AWS_PROFILE=... python tools/backfill_post_listing.py --table layers-publishing-prod

Safe beside live traffic and safe to run again: each post is one conditional
UpdateItem that copies the keys as they are at that moment (a reschedule by
old code in between is carried over); a post that already has GSI3 keys (set
by a reschedule since the deploy, whose GSI1SK is stale) only loses its GSI1
keys.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from layers_shared import aws  # noqa: E402
from layers_shared.store import codec  # noqa: E402
from layers_shared.store.table import ConditionFailed, Table  # noqa: E402

_LEGACY = {"#pk": "PK", "#g1": "GSI1PK", "#g1s": "GSI1SK", "#g3": "GSI3PK", "#g3s": "GSI3SK"}


def legacy_posts(table: Table) -> Any:
    """Keys of the posts still on GSI1, page by page (a Scan: reads the whole table once)."""
    client = aws.client("dynamodb")
    kwargs: dict[str, Any] = {
        "TableName": table.name, "ProjectionExpression": "PK, SK",
        "FilterExpression": "begins_with(#pk, :sp) AND attribute_exists(#g1)",
        "ExpressionAttributeNames": {"#pk": "PK", "#g1": "GSI1PK"},
        "ExpressionAttributeValues": codec.serialize({":sp": "SP#"}),
    }
    while True:
        answer = client.scan(**kwargs)
        for raw in answer.get("Items", []):
            yield codec.deserialize(raw)
        if not answer.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def move(table: Table, key: dict[str, str]) -> str:
    """"moved", "unlisted" (GSI3 keys already there: only GSI1's removed) or "gone"."""
    try:
        table.update(key, "SET #g3 = #g1, #g3s = #g1s REMOVE #g1, #g1s", names=_LEGACY,
                     condition="attribute_exists(#pk) AND attribute_exists(#g1) AND attribute_not_exists(#g3)")
        return "moved"
    except ConditionFailed:
        pass
    try:
        table.update(key, "REMOVE #g1, #g1s", names={k: _LEGACY[k] for k in ("#pk", "#g1", "#g1s", "#g3")},
                     condition="attribute_exists(#pk) AND attribute_exists(#g1) AND attribute_exists(#g3)")
        return "unlisted"
    except ConditionFailed:
        return "gone"  # deleted, or moved by another run meanwhile


def backfill(table: Table) -> dict[str, int]:
    counts = {"moved": 0, "unlisted": 0, "gone": 0}
    for key in legacy_posts(table):
        counts[move(table, {"PK": key["PK"], "SK": key["SK"]})] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", required=True, help="the stack's table, layers-publishing-<stage>")
    args = parser.parse_args(argv)
    print(backfill(Table(args.table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
