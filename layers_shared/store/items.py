"""Entities <-> table items: the keys and index attributes each entity carries."""
from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from layers_shared import config
from layers_shared.models.entities import (
    ApiKey, Container, Layer, MusicTrack, Organization, Project, ScheduledPost, SocialAccount, User,
)
from layers_shared.store import keys

E = TypeVar("E", bound=BaseModel)

_KIND = {
    Organization: "ORG", User: "USER", Project: "PRJ", Layer: "LYR", SocialAccount: "SA",
    Container: "CNT", ScheduledPost: "SP", MusicTrack: "MUSIC",
}


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def to_item(entity: BaseModel) -> dict[str, Any]:
    data = _drop_none(entity.model_dump(mode="json"))
    if isinstance(entity, ApiKey):
        return {**keys.api_key(entity.keyId), "type": "KEY", **data}
    kind = _KIND[type(entity)]
    item = {**keys.key(kind, data["id"]), "type": kind, **data}
    if isinstance(entity, SocialAccount):
        item["GSI1PK"] = keys.project_accounts(entity.projectId)
        item["GSI1SK"] = f"{entity.connectedAt or ''}#{entity.id}"
    elif isinstance(entity, MusicTrack):
        item["GSI1PK"] = keys.MUSIC_INDEX
        item["GSI1SK"] = f"{entity.userCount:012d}#{entity.id}"
    elif isinstance(entity, ScheduledPost):
        item.update(post_listing_attrs(entity.projectId, entity.scheduledFor, entity.id))
        if entity.status == "queued":
            item.update(work_queue_attrs(entity.id, "queued", entity.scheduledFor))
    return item


def post_listing_attrs(project_id: str, scheduled_for: str, post_id: str) -> dict[str, str]:
    """GSI3 attributes of a post: its place in its project's listing (docs/adr/0043).
    Keys only: only writes that set these two cost an index write."""
    return {"GSI3PK": keys.project_posts(project_id), "GSI3SK": f"{scheduled_for}#{post_id}"}


def work_queue_attrs(post_id: str, status: str, at: str) -> dict[str, str]:
    """GSI2 attributes of a post waiting for the publisher (sparse index)."""
    shard = keys.shard_of(post_id, config.work_queue_shards())
    return {"GSI2PK": keys.work_queue(status, shard), "GSI2SK": f"{at}#{post_id}"}


def from_item(model: type[E], item: dict[str, Any] | None) -> E | None:
    if item is None:
        return None
    return model.model_validate(item)
