"""Schedule and publish-now: validate everything, then one transaction."""
from __future__ import annotations

from typing import Any

from layers_shared import clock, errors, idempotency
from layers_shared.clock import to_wire
from layers_shared.domain import schedule as rules
from layers_shared.domain.readiness import readiness
from layers_shared.http.api import Request, Response
from layers_shared.models.entities import Container, MusicTrack, Project, ScheduledPost, SocialAccount
from layers_shared.platforms import creator_info
from layers_shared.scheduling import trigger
from layers_shared.services import stash_store
from layers_shared.store import items, keys, repo
from layers_shared.store.table import Table
from layers_shared.webhooks import outbox


def schedule(req: Request, *, publish_now: bool) -> Response:
    now = clock.now()
    intent = rules.parse_schedule_body(req.json_body(), now, publish_now=publish_now)
    principal = req.principal
    container = repo.container_of(req.table, req.principal.organization_id, req.path_id("containerId", "cnt"),
                                  req.path["containerId"])
    rules.check_container(container)
    world, project = load_world(req.table, principal.organization_id, container, intent, env=principal.env)
    gate = rules.approval_gate(container, project, publish_now=publish_now)
    post_ids = rules.assign_ids(intent)
    posts = rules.plan_posts(intent, world, env=principal.env, key_id=principal.key_id, now=now, post_ids=post_ids)
    if req.dry_run:
        return dry_run(req.table, intent, posts, gate)
    body = {"scheduledPostIds": post_ids, "gateStatus": gate, "scheduledFor": to_wire(intent.scheduled_for)}
    if gate == "blocked_on_approval":
        pending = rules.stash(intent, post_ids, key_id=principal.key_id, env=principal.env, now=now)
        supplied = [p for p, t in zip(post_ids, intent.targets) if t.scheduledPostId]
        write_stash(req.table, container, pending, supplied, req.reservation, Response(202, body), now)
        return Response(202, body)
    write_posts(req.table, posts, req.reservation, Response(200, body))
    trigger.safely_schedule(posts)
    return Response(200, body)


def load_world(table: Table, organization_id: str, container: Container,
               intent: rules.ScheduleIntent, env: str | None = None) -> tuple[rules.World, Project]:
    """One batch read for the project, every target account and every track,
    plus one for layers when a target is managed: the call count does not grow
    with the number of targets. With `env="live"`, the same read brings the
    cached creator_info of `publish` targets; only misses go to TikTok."""
    account_ids = {rules.normalize_account_id(t.socialAccountId) for t in intent.targets} - {None}
    track_ids = {t.tiktokMusic.trackId for t in intent.targets if t.tiktokMusic and t.tiktokMusic.trackId}
    direct = {rules.normalize_account_id(t.socialAccountId) for t in intent.targets if t.mode == "publish"} - {None}
    wanted = [keys.project(container.projectId)]
    wanted += [keys.social_account(a) for a in account_ids if a]
    wanted += [keys.music(t) for t in track_ids if t]
    if env == "live":
        wanted += [creator_info.cache_key(a) for a in direct if a]
    found = table.batch_get(wanted)
    groups = repo.split(found)
    projects = repo.typed(groups, "PRJ", Project)
    project = projects.get(container.projectId)
    if project is None or project.organizationId != organization_id:
        raise errors.not_found("Content container", container.id, containerId=container.id)
    accounts: dict[str, SocialAccount] = repo.typed(groups, "SA", SocialAccount)  # type: ignore[assignment]
    tracks: dict[str, MusicTrack] = repo.typed(groups, "MUSIC", MusicTrack)  # type: ignore[assignment]
    layer_ids = []
    if any(t.mode == "managed" for t in intent.targets):
        layer_ids = [lid for a in accounts.values() for lid in a.layerIds]
    options: dict[str, tuple[str, ...]] = {}
    if env == "live":
        readable = [a.id for a in accounts.values() if a.id in direct and a.platform == "tiktok"
                    and a.organizationId == organization_id and a.projectId == container.projectId
                    and readiness(a, "publish", {}).ready]
        options = creator_info.schedule_time_options(table, readable, found)
    world = rules.World(organization_id, container, accounts, tracks, repo.layers(table, layer_ids), options)
    return world, project


def dry_run(table: Table, intent: rules.ScheduleIntent, posts: list[ScheduledPost], gate: str) -> Response:
    """Every check passed; say what the real call would do, write nothing.
    The one check left is the commit's: a partner-supplied id already taken."""
    supplied = [p.id for p, t in zip(posts, intent.targets) if t.scheduledPostId]
    if supplied:
        taken = sorted({item["id"] for item in table.batch_get(keys.scheduled_post(i) for i in supplied).values()})
        if taken:
            raise errors.duplicate_id(taken)
    return Response(200, {
        "dryRun": True, "valid": True, "gateStatus": gate, "scheduledFor": to_wire(intent.scheduled_for),
        "targets": [{"socialAccountId": p.socialAccountId, "platform": p.platform, "mode": p.mode,
                     "privacyLevel": p.privacyLevel if rules.is_direct_tiktok(p.platform, p.mode) else None}
                    for p in posts],
    })


def write_posts(table: Table, posts: list[ScheduledPost], reservation: idempotency.Reservation | None,
                response: Response) -> None:
    """All rows, their post.scheduled events (one outbox item) and the
    idempotency record in one TransactWriteItems."""
    tx = [table.tx_put(items.to_item(p), condition="attribute_not_exists(PK)") for p in posts]
    if posts:
        now = clock.now()
        change = f"{posts[0].id}#scheduled"  # new rows: their ids name the change
        tx.append(outbox.tx_put(table, change, posts[0].organizationId,
                                outbox.scheduled_events(change, [p.model_dump(mode="json") for p in posts], now),
                                now))
    _commit(table, tx, reservation, response, ids=[p.id for p in posts])


def write_stash(table: Table, container: Container, pending: dict[str, Any], supplied_ids: list[str],
                reservation: idempotency.Reservation | None, response: Response, now: Any) -> None:
    inline, chunks = stash_store.split(container.id, pending, now)  # large stashes do not fit on one item
    names = {"#a": "approvalStatus", "#s": "status"}
    values = {":p": inline, ":now": clock.to_storage(now), ":pending": "pending", ":done": "completed"}
    # The replaced stash's chunks go in this transaction, so it must still be the one we read.
    replaced = stash_store.same_chunks_condition(container.pendingSchedule, names, values)
    tx = [table.tx_update(
        keys.container(container.id), "SET pendingSchedule = :p, updatedAt = :now",
        names=names, values=values, condition="#a = :pending AND #s = :done AND " + replaced,
    )]
    tx += [table.tx_check(keys.scheduled_post(i), "attribute_not_exists(PK)") for i in supplied_ids]
    tx += [table.tx_put(chunk) for chunk in chunks]
    tx += stash_store.drop_items(table, container.id, container.pendingSchedule)
    _commit(table, tx, reservation, response, ids=[""] + supplied_ids)


def _commit(table: Table, tx: list[dict[str, Any]], reservation: idempotency.Reservation | None, response: Response,
            ids: list[str]) -> None:
    """`ids[i]` names the post behind `tx[i]` ('' for other items)."""
    try:
        idempotency.commit(table, tx, reservation,
                           idempotency.StoredResponse(response.status, response.body, response.headers))
    except idempotency.CommitFailed as exc:
        taken = [ids[i] for i in sorted(exc.failed) if i < len(ids) and ids[i]]
        if taken:
            raise errors.duplicate_id(taken) from None
        raise errors.conflict("CONCURRENT_UPDATE", "The content container changed during this call; retry.") from None
