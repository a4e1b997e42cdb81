"""In-memory implementations of the storage ports (layers_shared/domain/ports.py).

Unit tests run use cases on these instead of moto. The contract suites in
tests/unit/store/ run the same tests against these and the DynamoDB adapters,
so what a fake accepts, refuses and returns is what DynamoDB does.

Entities are kept as their stored (JSON) form and rebuilt on every read, as a
round trip through the table would: a caller that changes what it read does
not change what is stored.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any, Iterable

from layers_shared import clock
from layers_shared.domain.errors import IdempotencyConflict, IdempotencyInProgress, NotFound
from layers_shared.domain.schedule import ScheduleIntent, World, normalize_account_id
from layers_shared.idempotency import LEASE_SECONDS, TTL_SECONDS, StoredResponse, canonical_json
from layers_shared.domain.ports import (
    AccountListQuery, AccountPage, ChangeEvents, IdsTaken, PostListQuery, PostPage, Remember, StaleWrite,
    account_position, position_of,
)
from layers_shared.models.entities import Container, Layer, MusicTrack, Project, ScheduledPost, SocialAccount


class _Entities:
    model: Any

    def __init__(self) -> None:
        self._stored: dict[str, dict[str, Any]] = {}

    def add(self, entity: Any) -> None:
        """Arrange a test's world (the table's seed, for DynamoDB)."""
        self._stored[entity.id] = entity.model_dump(mode="json", exclude_none=True)

    def get(self, ident: str, *, consistent: bool = False) -> Any:
        stored = self._stored.get(ident)
        return None if stored is None else self.model.model_validate(stored)

    def _all(self) -> list[Any]:
        return [self.model.model_validate(s) for s in self._stored.values()]


class InMemoryIdempotencyRecords:
    """Idempotency-Key records with the DynamoDB side's conditions: a record can be
    taken when missing, expired (TTL deletes late, so expiry is checked) or when
    its holder's lease ran out; answers are kept as JSON, as the table keeps them."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def reserve(self, scope: str, fingerprint: str) -> InMemoryReservation | StoredResponse:
        now = clock.epoch_seconds(clock.now())
        found = self.records.get(scope)
        if found is None or found["expiresAt"] < now or (found["status"] == "in_progress"
                                                         and found["leaseUntil"] < now):
            token = secrets.token_hex(16)
            self.records[scope] = {"status": "in_progress", "fingerprint": fingerprint, "token": token,
                                   "leaseUntil": now + LEASE_SECONDS, "expiresAt": now + TTL_SECONDS}
            return InMemoryReservation(self, scope, token)
        if found["fingerprint"] != fingerprint:
            raise IdempotencyConflict()
        if found["status"] == "completed":
            kept = found["response"]
            return StoredResponse(kept["status"], json.loads(kept["body"]), dict(kept["headers"]))
        raise IdempotencyInProgress()


class InMemoryReservation:
    """A key held while a request runs. Without records (a use case's unit test
    that only needs something to complete) it stands for a record of its own."""

    def __init__(self, records: InMemoryIdempotencyRecords | None = None, scope: str = "", token: str = "") -> None:
        self.records, self.scope, self.token = records, scope, token
        self.completed = False

    def held(self) -> bool:
        if self.records is None:
            return True
        found = self.records.records.get(self.scope)
        return found is not None and found["token"] == self.token

    def complete(self, response: StoredResponse) -> None:
        if self.completed:
            return
        if self.held() and self.records is not None:  # else another request took over: it will answer
            found = self.records.records[self.scope]
            found.pop("leaseUntil", None)
            found.update(status="completed", response={"status": response.status, "headers": response.headers,
                                                       "body": canonical_json(response.body)})
        self.completed = True

    def abandon(self) -> None:
        # Only while in progress: a completed answer stays for the retry to replay.
        if self.completed or self.records is None:
            return
        found = self.records.records.get(self.scope)
        if found is not None and found["token"] == self.token and found["status"] == "in_progress":
            del self.records.records[self.scope]

    def mark_completed(self) -> None:
        self.completed = True


class InMemoryPosts(_Entities):
    model = ScheduledPost

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[str, ChangeEvents] = {}  # the outbox: every change's events, once
        self.answers: list[Any] = []  # what completed Idempotency-Keys remember

    def taken(self, post_ids: Iterable[str]) -> set[str]:
        return {i for i in post_ids if i in self._stored}

    def create(self, posts: list[ScheduledPost], events: ChangeEvents, remember: Remember | None = None) -> None:
        # As one TransactWriteItems: every condition is checked before anything is written.
        taken = [p.id for p in posts if p.id in self._stored]
        if taken:
            raise IdsTaken(taken)
        if events.change in self.events:
            raise StaleWrite()
        if remember is not None and not remember.reservation.held():
            raise IdempotencyInProgress()
        for post in posts:
            self.add(post)
        self._commit(events, remember)

    def reschedule(self, post: ScheduledPost, scheduled_for: str, stamp: str, events: ChangeEvents,
                   remember: Remember | None = None) -> None:
        self._steer(post.id, {"scheduledFor": scheduled_for, "updatedAt": stamp}, events, remember)

    def cancel(self, post: ScheduledPost, stamp: str, reason: str | None, events: ChangeEvents,
               remember: Remember | None = None) -> None:
        changes = {"status": "canceled", "canceledAt": stamp, "updatedAt": stamp}
        if reason is not None:
            changes["cancelReason"] = reason
        self._steer(post.id, changes, events, remember)

    def _steer(self, post_id: str, changes: dict[str, Any], events: ChangeEvents, remember: Remember | None) -> None:
        # As one TransactWriteItems: every condition is checked before anything is written.
        stored = self._stored.get(post_id)
        if stored is None or stored.get("status") != "queued" or events.change in self.events:
            raise StaleWrite()
        if remember is not None and not remember.reservation.held():
            raise IdempotencyInProgress()  # the key was taken over: its new holder answers
        self._stored[post_id] = {**stored, **changes}
        self._commit(events, remember)

    def _commit(self, events: ChangeEvents, remember: Remember | None) -> None:
        self.events[events.change] = events
        if remember is not None:
            self.answers.append(remember.answer)
            remember.reservation.complete(remember.answer)

    def list_for_project(self, query: PostListQuery) -> PostPage:
        # The same string comparisons DynamoDB makes on the sort key `<scheduledFor>#<id>`:
        # `start` is inclusive and `end` exclusive because `<instant>#…` sorts after `<instant>`.
        if query.start is not None and query.end is not None and query.start >= query.end:
            return PostPage([], None)
        matching = []
        for post in sorted(self._all(), key=position_of, reverse=True):
            at = position_of(post)
            if post.projectId != query.project_id:
                continue
            if query.after is not None and not at < query.after:
                continue
            if (query.start is not None and at < query.start) or (query.end is not None and at > query.end):
                continue
            if query.statuses and post.status not in query.statuses:
                continue
            if query.social_account_id is not None and post.socialAccountId != query.social_account_id:
                continue
            if query.container_id is not None and post.containerId != query.container_id:
                continue
            matching.append(post)
        page = matching[:query.limit]
        return PostPage(page, position_of(page[-1]) if len(matching) > query.limit else None)


class InMemoryContainers(_Entities):
    model = Container

    def __init__(self, posts: InMemoryPosts | None = None) -> None:
        super().__init__()
        self.posts = posts or InMemoryPosts()  # where supplied post ids are checked
        self.answers: list[Any] = []

    def stash(self, container: Container, pending: dict[str, Any], supplied_ids: list[str], now: datetime,
              remember: Remember | None = None) -> None:
        # Every stash is kept whole on the container: the DynamoDB side's chunks of a large
        # stash are its own business (store/stash_store.py, tested there and over HTTP).
        stored = self._stored.get(container.id)
        read_chunks = (container.pendingSchedule or {}).get("targetsStashId")
        if stored is None or stored.get("approvalStatus") != "pending" or stored.get("status") != "completed" \
                or (stored.get("pendingSchedule") or {}).get("targetsStashId") != read_chunks:
            raise StaleWrite()
        taken = [i for i in supplied_ids if i in self.posts.taken(supplied_ids)]
        if taken:
            raise IdsTaken(taken)
        if remember is not None and not remember.reservation.held():
            raise IdempotencyInProgress()
        stored.update(pendingSchedule=json.loads(json.dumps(pending)), updatedAt=clock.to_storage(now))
        self._kept(remember)

    def stashed(self, container: Container) -> dict[str, Any]:
        return json.loads(json.dumps(container.pendingSchedule or {}))

    def approve(self, container: Container, stamp: str, key_id: str, note: str | None, posts: list[ScheduledPost],
                promotion: dict[str, Any] | None, events: ChangeEvents, remember: Remember | None = None) -> None:
        # As one TransactWriteItems: every condition is checked before anything is written.
        if not self._same_stash(container) or events.change in self.posts.events:
            raise StaleWrite()
        taken = sorted(self.posts.taken(p.id for p in posts), key=[p.id for p in posts].index)
        if taken:
            raise IdsTaken(taken)
        if remember is not None and not remember.reservation.held():
            raise IdempotencyInProgress()
        stored = self._stored[container.id]
        stored.pop("pendingSchedule", None)
        stored.update(approvalStatus="approved", approvedAt=stamp, approvedBy=key_id, updatedAt=stamp)
        if note is not None:
            stored["approvalNote"] = note
        for post in posts:
            self.posts.add(post)
        self.posts.events[events.change] = events
        self._kept(remember)

    def reject(self, container: Container, stamp: str, key_id: str, reason: str | None,
               events: ChangeEvents) -> None:
        if not self._same_stash(container):
            raise StaleWrite()
        stored = self._stored[container.id]
        stored.pop("pendingSchedule", None)
        stored.update(approvalStatus="rejected", rejectedAt=stamp, rejectedBy=key_id, rejectionReason=reason,
                      updatedAt=stamp)
        self.posts.events[events.change] = events

    def _same_stash(self, container: Container) -> bool:
        """Still pending, with the very stash read (the DynamoDB side compares its
        `stashedAt`, first post id and chunks; a fake stash is whole, so compare it all)."""
        stored = self._stored.get(container.id)
        return stored is not None and stored.get("approvalStatus") == "pending" \
            and stored.get("pendingSchedule") == (json.loads(json.dumps(container.pendingSchedule))
                                                  if container.pendingSchedule else None)

    def _kept(self, remember: Remember | None) -> None:
        if remember is not None:
            self.answers.append(remember.answer)
            remember.reservation.complete(remember.answer)


class InMemoryProjects(_Entities):
    model = Project


class InMemoryAccounts(_Entities):
    model = SocialAccount

    def __init__(self) -> None:
        super().__init__()
        self._layers = _Layers()

    def add(self, entity: Any) -> None:
        (self._layers if isinstance(entity, Layer) else super()).add(entity)

    def list_for_project(self, query: AccountListQuery) -> AccountPage:
        matching = [a for a in sorted(self._all(), key=account_position)
                    if a.projectId == query.project_id and account_position(a) > query.after and query.matches(a)]
        return AccountPage(matching[:query.limit], len(matching) > query.limit)

    def layers(self, layer_ids: Iterable[str]) -> dict[str, Layer]:
        return {i: found for i in set(layer_ids) if (found := self._layers.get(i)) is not None}


class _Layers(_Entities):
    model = Layer


class InMemoryMusicCatalog(_Entities):
    model = MusicTrack

    def most_used_first(self) -> list[MusicTrack]:
        # Ties in use count come in descending id order, as the index's sort key `<count>#<id>` orders them.
        return sorted(self._all(), key=lambda t: (t.userCount, t.id), reverse=True)


class InMemoryRateCounters:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def count(self, bucket: str, expires_at: int) -> int:
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        return self.counts[bucket]


class InMemoryScheduleWorlds:
    """The schedule rules' view of the in-memory ports. No creator_info: live direct
    TikTok posts ask the platform, which is the DynamoDB side's and the adapters' business."""

    def __init__(self, projects: InMemoryProjects, accounts: InMemoryAccounts, music: InMemoryMusicCatalog) -> None:
        self.projects, self.accounts, self.music = projects, accounts, music

    def load(self, organization_id: str, container: Container, intent: ScheduleIntent,
             env: str | None = None) -> tuple[World, Project]:
        project = self.projects.get(container.projectId)
        if project is None or project.organizationId != organization_id:
            raise NotFound("Content container", container.id, containerId=container.id)
        wanted = {normalize_account_id(t.socialAccountId) for t in intent.targets} - {None}
        accounts = {a.id: a for a in self.accounts._all() if a.id in wanted}
        track_ids = {t.tiktokMusic.trackId for t in intent.targets if t.tiktokMusic and t.tiktokMusic.trackId}
        tracks = {t.id: t for t in self.music._all() if t.id in track_ids}
        layers = {}
        if any(t.mode == "managed" for t in intent.targets):
            layers = self.accounts.layers(lid for a in accounts.values() for lid in a.layerIds)
        return World(organization_id, container, accounts, tracks, layers, {}), project


class InMemorySandboxRecords:
    def __init__(self) -> None:
        self.submits: dict[str, int] = {}
        self.made: dict[str, str] = {}

    def count_submit(self, post_id: str) -> int:
        self.submits[post_id] = self.submits.get(post_id, 0) + 1
        return self.submits[post_id]

    def record_created(self, post_id: str, external_id: str) -> None:
        self.made[post_id] = external_id

    def created(self, post_id: str) -> str | None:
        return self.made.get(post_id)
