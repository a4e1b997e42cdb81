"""What the use cases need from storage, one small port per aggregate, in domain terms.

The DynamoDB implementations under `layers_shared/store/` are the only code
that knows keys, indexes and expressions; `tests/fakes/store.py` holds the
in-memory ones that unit tests run the use cases on. One contract suite per
port (`tests/unit/store/test_<port>_contract.py`) runs against both, so the
fake cannot drift from what DynamoDB does.

Reads return None for what does not exist; tenancy (another organization's
item answers like a missing one) is the use case's rule, not the store's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # entities are pydantic models: annotations only, nothing built to import a port
    from collections.abc import Iterable

    from layers_shared.domain.schedule import ScheduleIntent, World
    from layers_shared.models.entities import Container, Layer, MusicTrack, Project, ScheduledPost, SocialAccount


@dataclass(frozen=True)
class PostListQuery:
    """A page of a project's posts, newest `scheduledFor` first.

    `start`/`end` are storage instants (`start` inclusive, `end` exclusive);
    `after` is the position (`<scheduledFor>#<id>`) of the last post of the
    previous page. Every filter given must hold."""

    project_id: str
    statuses: tuple[str, ...]
    social_account_id: str | None
    container_id: str | None
    start: str | None
    end: str | None
    limit: int
    after: str | None


@dataclass(frozen=True)
class PostPage:
    """Up to `limit` posts and the position to resume after (None: nothing more).

    A page may be short, even empty, with a position: a sparse filter made the
    store stop at its read budget (ADR 0042), and the next page goes on from there."""

    posts: list[ScheduledPost]
    resume_after: str | None


def position_of(post: ScheduledPost) -> str:
    """Where a post sorts in its project's listing: the cursor's position."""
    return f"{post.scheduledFor}#{post.id}"


class StashLost(Exception):
    """The stashed schedule's targets are gone (a large stash's chunks expired)."""


class IdsTaken(Exception):
    """Posts with these ids already exist: nothing was written."""

    def __init__(self, ids: list[str]):
        super().__init__(f"ids taken: {ids}")
        self.ids = ids


class StaleWrite(Exception):
    """A conditional write did not hold (the post is no longer queued, or the
    change was already recorded): nothing of it was written."""


@dataclass(frozen=True)
class ChangeEvents:
    """The webhook events a change raises (webhooks/outbox.py), written with the
    change or not at all. `change` names the change, so a change raises them once."""

    change: str
    organization_id: str
    events: list[dict[str, Any]]
    at: datetime


@dataclass(frozen=True)
class Remember:
    """An Idempotency-Key's reservation and the answer it keeps, completed in the
    same all-or-nothing write as the change (`mark_completed` once it is)."""

    reservation: Any
    answer: Any = field(compare=False)


class Posts(Protocol):
    def get(self, post_id: str, *, consistent: bool = False) -> ScheduledPost | None: ...

    def list_for_project(self, query: PostListQuery) -> PostPage: ...

    def taken(self, post_ids: Iterable[str]) -> set[str]:
        """Which of these ids are already posts."""
        ...

    def create(self, posts: list[ScheduledPost], events: ChangeEvents, remember: Remember | None = None) -> None:
        """Every post, its events and the Idempotency-Key's answer, all or nothing;
        IdsTaken when an id is already a post, StaleWrite when the change was recorded."""
        ...

    def reschedule(self, post: ScheduledPost, scheduled_for: str, stamp: str, events: ChangeEvents,
                   remember: Remember | None = None) -> None:
        """Move a still-queued post to `scheduled_for` (storage instants); StaleWrite otherwise."""
        ...

    def cancel(self, post: ScheduledPost, stamp: str, reason: str | None, events: ChangeEvents,
               remember: Remember | None = None) -> None:
        """Cancel a still-queued post (it leaves the publisher's work queue); StaleWrite otherwise."""
        ...


class Containers(Protocol):
    def get(self, container_id: str, *, consistent: bool = False) -> Container | None: ...

    def stashed(self, container: Container) -> dict[str, Any]:
        """The container's stashed schedule with all its targets; StashLost when they are gone."""
        ...

    def approve(self, container: Container, stamp: str, key_id: str, note: str | None, posts: list[ScheduledPost],
                promotion: dict[str, Any] | None, events: ChangeEvents, remember: Remember | None = None) -> None:
        """Approve the container as read (still pending, with the very stash read), writing
        the promoted posts, dropping the stash, with the events and the key's answer, all or
        nothing; IdsTaken when a post id is taken, StaleWrite when the container changed."""
        ...

    def reject(self, container: Container, stamp: str, key_id: str, reason: str | None,
               events: ChangeEvents) -> None:
        """Reject the container as read, dropping its stash; StaleWrite when it changed."""
        ...

    def stash(self, container: Container, pending: dict[str, Any], supplied_ids: list[str], now: datetime,
              remember: Remember | None = None) -> None:
        """Keep `pending` as the container's schedule awaiting approval, replacing the one
        read, while the container is completed and pending approval; IdsTaken when a
        partner-supplied post id is already a post, StaleWrite when the container changed."""
        ...


class ScheduleWorlds(Protocol):
    def load(self, organization_id: str, container: Container, intent: ScheduleIntent,
             env: str | None = None) -> tuple[World, Project]:
        """Everything the schedule rules need about a container's targets (its project,
        the accounts, tracks, layers and, for live direct TikTok posts, creator_info)."""
        ...


class Projects(Protocol):
    def get(self, project_id: str) -> Project | None: ...


@dataclass(frozen=True)
class AccountListQuery:
    """A page of a project's social accounts, oldest connection first (then id).

    `after` is the position (`account_position`) of the last account of the
    previous page, "" for the first page; empty filters mean any."""

    project_id: str
    platforms: tuple[str, ...]
    statuses: tuple[str, ...]
    limit: int
    after: str = ""

    def matches(self, account: SocialAccount) -> bool:
        return (not self.platforms or account.platform in self.platforms) and \
            (not self.statuses or account.status in self.statuses)


@dataclass(frozen=True)
class AccountPage:
    accounts: list[SocialAccount]
    more: bool  # whether matching accounts follow the last one


def account_position(account: SocialAccount) -> str:
    """Where an account sorts in its project's listing: the cursor's position."""
    return f"{account.connectedAt or ''}#{account.id}"


class Accounts(Protocol):
    def list_for_project(self, query: AccountListQuery) -> AccountPage: ...

    def layers(self, layer_ids: Iterable[str]) -> dict[str, Layer]:
        """The publishing layers (managed provider configuration) found among `layer_ids`, by id."""
        ...


class Reservation(Protocol):
    """An Idempotency-Key this request holds while it runs."""

    completed: bool

    def complete(self, response: Any) -> None:
        """Keep `response` (an idempotency.StoredResponse) for replays; nothing if the key was taken over."""
        ...

    def abandon(self) -> None:
        """Let a retry run (an answer that is not kept); only while still in progress."""
        ...

    def mark_completed(self) -> None:
        """A write that carried the completion (`Remember`) has committed."""
        ...


class IdempotencyRecords(Protocol):
    def reserve(self, scope: str, fingerprint: str) -> Any:
        """A Reservation, or the StoredResponse to replay; IdempotencyConflict for another
        fingerprint, IdempotencyInProgress while the first request still runs."""
        ...


class RateCounters(Protocol):
    def count(self, bucket: str, expires_at: int) -> int:
        """Count one more request in `bucket` (atomically, across every instance) and
        return the count so far; the bucket may be forgotten after `expires_at` (epoch s)."""
        ...


class SandboxRecords(Protocol):
    """The sandbox platform's own memory (platforms/sandbox.py): what it created, per post."""

    def count_submit(self, post_id: str) -> int:
        """Count one more submit of the post (atomically) and return the count so far."""
        ...

    def record_created(self, post_id: str, external_id: str) -> None: ...

    def created(self, post_id: str) -> str | None:
        """The external id of what the sandbox created for the post (a consistent read); None if nothing."""
        ...


class MusicCatalog(Protocol):
    def most_used_first(self) -> list[MusicTrack]: ...


if TYPE_CHECKING:
    from layers_shared.models.entities import User


class Users(Protocol):
    def get(self, user_id: str) -> User | None: ...


# -- the device handoff (services/notify.py; docs/adr/0051, 0056) ---------------------


@dataclass(frozen=True)
class HandoffKey:
    """Which send record: one per (organization, container, phone, request scope),
    the scope being `handoff.request_scope` (the same API key and Idempotency-Key,
    the same record)."""

    organization_id: str
    container_id: str
    phone: str
    scope: str


@dataclass(frozen=True)
class NewSendRecord:
    """What a request knows before its first send. `position` (the stored chat's
    newest message id) goes in the write that names message 1 as attempted, so a
    record that may have a message in an existing chat always has one."""

    id: str
    provider: str
    api_key_id: str
    plan: list[list[dict[str, str]]]  # handoff.plan: a retry sends what the first attempt planned
    position: tuple[str, str] | None = None  # (chat id, its newest message id)


@dataclass(frozen=True)
class SendRecord:
    """A send record as stored. `attempting` names the message that may be on its
    way to the provider (written before the send); `unconfirmed` one that a holder
    could not confirm. Either means: read it back before sending it."""

    id: str
    status: str  # handoff.SENDING, SENT, or why the last holder stopped
    plan: list[list[dict[str, str]]]
    messages: dict[int, str]  # accepted message index -> provider message id
    chat_id: str | None
    attempting: int | None
    unconfirmed: int | None
    position: tuple[str, str] | None  # (chat id, its newest message before this request's first send into it)
    first_attempt_at: str | None  # storage instant; bounds read-backs that have no position
    holder: str | None  # the lease token of whoever works on it (None once sent or stopped)
    provider_error: str | None = None


class SendRecords(Protocol):
    """The device handoff's send records, and the chat id kept per (provider,
    organization, phone). Every write but `open` and `remember_chat` is guarded by
    the caller's lease token: StaleWrite when another invocation holds the record."""

    def open(self, key: HandoffKey, new: NewSendRecord, token: str) -> tuple[SendRecord, bool]:
        """(record, created). Creates it, held by `token` and attempting message 1, or
        takes over an unfinished one that nobody holds (stopped, or its lease ran out)
        with all its progress. A sent record is returned as it is, for the caller to
        answer from. StaleWrite while another holder's lease lives."""
        ...

    def get(self, key: HandoffKey) -> SendRecord | None:
        """The record as a retry would read it (consistent)."""
        ...

    def accepted(self, key: HandoffKey, token: str, index: int, message_id: str, *,
                 chat_id: str | None = None, last: bool = False) -> None:
        """Message `index` was accepted and, in the same write, the next one is named as
        attempted; the last one finishes the record (sent, nobody holds it)."""
        ...

    def stopped(self, key: HandoffKey, token: str, status: str, *, provider_error: str | None = None,
                unconfirmed: int | None = None, chat_id: str | None = None) -> None:
        """The request stops here: the record says why and is let go, for a retry to continue."""
        ...

    def mark_position(self, key: HandoffKey, token: str, chat_id: str, marker: str) -> None:
        """The chat's newest message before this request's first send into it."""
        ...

    def stored_chat(self, provider: str, organization_id: str, phone: str) -> str | None: ...

    def remember_chat(self, provider: str, organization_id: str, phone: str, chat_id: str,
                      replaces: str | None = None) -> str:
        """Keep the phone's chat; the id that ends up kept is returned. The first writer
        wins (a race of two first sends); `replaces` swaps a chat the provider no longer knows."""
        ...
