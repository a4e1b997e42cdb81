"""Key schema of the single table (see docs/adr/0002-single-table.md).

Every entity lives at PK=`<TYPE>#<id>`, SK=`META`. Three sparse GSIs:
- GSI1 (children of a project or an organization, ordered): accounts by
  `connectedAt`, music by popularity, webhook endpoints and deliveries;
- GSI2 (work queue): posts waiting for the publisher, sharded, ordered by the
  time they become due (`queued`) or their lease ends (`publishing`);
- GSI3 (post listing, keys only): a project's posts by `scheduledFor`.
"""
from __future__ import annotations

import hashlib

META = "META"


def key(kind: str, ident: str) -> dict[str, str]:
    return {"PK": f"{kind}#{ident}", "SK": META}


def org(ident: str) -> dict[str, str]:
    return key("ORG", ident)


def user(ident: str) -> dict[str, str]:
    return key("USER", ident)


def api_key(key_id: str) -> dict[str, str]:
    return key("KEY", key_id)


def project(ident: str) -> dict[str, str]:
    return key("PRJ", ident)


def layer(ident: str) -> dict[str, str]:
    return key("LYR", ident)


def social_account(ident: str) -> dict[str, str]:
    return key("SA", ident)


def container(ident: str) -> dict[str, str]:
    return key("CNT", ident)


def scheduled_post(ident: str) -> dict[str, str]:
    return key("SP", ident)


def music(ident: str) -> dict[str, str]:
    return key("MUSIC", ident)


def credentials(account_id: str) -> dict[str, str]:
    return key("CRED", account_id)


def idempotency(scope: str) -> dict[str, str]:
    return key("IDEM", scope)


def project_posts(project_id: str) -> str:
    return f"PRJ#{project_id}#SP"


def project_accounts(project_id: str) -> str:
    return f"PRJ#{project_id}#SA"


MUSIC_INDEX = "MUSIC"


def shard_of(ident: str, shards: int) -> int:
    return int(hashlib.sha1(ident.encode()).hexdigest()[:8], 16) % shards


def work_queue(status: str, shard: int) -> str:
    return f"WQ#{status}#{shard}"
