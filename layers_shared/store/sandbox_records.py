"""What the sandbox platform created and how many submits it saw, in the single
table (`SBXPOST#<postId>`), so it survives across invocations and workers: the
DynamoDB side of the `SandboxRecords` port."""
from __future__ import annotations

from layers_shared.store.table import Table


def state_key(post_id: str) -> dict[str, str]:
    return {"PK": f"SBXPOST#{post_id}", "SK": "META"}


class DynamoSandboxRecords:
    def __init__(self, table: Table):
        self.table = table

    def count_submit(self, post_id: str) -> int:
        item = self.table.update(state_key(post_id), "ADD submits :one SET #t = :t",
                                 names={"#t": "type"}, values={":one": 1, ":t": "SBXPOST"}, return_new=True)
        return int((item or {}).get("submits") or 0)

    def record_created(self, post_id: str, external_id: str) -> None:
        self.table.update(state_key(post_id), "ADD created :one SET externalId = :x, #t = :t",
                          names={"#t": "type"}, values={":one": 1, ":x": external_id, ":t": "SBXPOST"})

    def created(self, post_id: str) -> str | None:
        item = self.table.get(state_key(post_id), consistent=True)
        return str(item["externalId"]) if item and int(item.get("created") or 0) > 0 else None
