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
