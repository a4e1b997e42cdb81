"""Reschedule and cancel on the in-memory ports: only a queued post moves, a
race with the publisher ends in the right 409 reason, the webhook event and the
Idempotency-Key's answer commit with the change."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest

from layers_shared.domain.errors import Conflict, NotFound
from layers_shared.domain.ports import Remember, StaleWrite
from layers_shared.models.entities import ScheduledPost
from layers_shared.scheduling import trigger
from layers_shared.services import posts as use_case
from layers_shared.services.queries import ById
from tests.fakes.store import InMemoryPosts, InMemoryReservation

ORG = "org_11111111-1111-4111-8111-111111111111"
SP = "sp_33333333-3333-4333-8333-000000000001"
NOW = datetime(2026, 5, 20, 9, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=2)


@pytest.fixture(autouse=True)
def slots() -> Iterator[trigger.InMemoryTrigger]:
    recorded = trigger.InMemoryTrigger()
    trigger.use(recorded)
    yield recorded
    trigger.use(None)


def stored(status: str = "queued") -> InMemoryPosts:
    posts = InMemoryPosts()
    posts.add(ScheduledPost(id=SP, organizationId=ORG, projectId="prj_x", containerId="cnt_x", socialAccountId="sa_x",
                            platform="tiktok", handle="@pour", mode="publish", env="test", status=status,
                            scheduledFor="2026-05-21T09:00:00.000Z", mediaType="video",
                            createdAt="2026-05-01T00:00:00.000Z", updatedAt="2026-05-01T00:00:00.000Z"))
    return posts


def reschedule(posts, org: str = ORG, remember=None):
    return use_case.reschedule(posts, use_case.Reschedule(ById(org, SP, SP), LATER), NOW, remember)


def cancel(posts, reason: str | None = None, remember=None):
    return use_case.cancel(posts, use_case.Cancel(ById(ORG, SP, SP), reason), NOW, remember)


def test_reschedule_moves_the_post_raises_its_event_and_asks_for_the_new_slot(slots):
    posts = stored()
    done = reschedule(posts)
    assert done == use_case.Steered(SP, "queued", "2026-05-20T09:00:00.000Z", "2026-05-22T09:00:00.000Z")
    assert posts.get(SP).scheduledFor == "2026-05-22T09:00:00.000Z"
    [(change, events)] = posts.events.items()
    assert change == f"{SP}#rescheduled#2026-05-20T09:00:00.000Z"
    assert [e["type"] for e in events.events] == ["post.scheduled"]
    assert events.events[0]["data"]["scheduledFor"] == "2026-05-22T09:00:00Z"
    assert slots.slots == [trigger.slot_of("2026-05-22T09:00:00.000Z")]


def test_cancel_records_the_reason_and_raises_post_canceled():
    posts = stored()
    assert cancel(posts, "typo").status == "canceled"
    assert (posts.get(SP).status, posts.get(SP).cancelReason) == ("canceled", "typo")
    assert [e["type"] for e in posts.events[f"{SP}#canceled"].events] == ["post.canceled"]


def test_the_answer_is_remembered_with_the_change():
    posts, reservation = stored(), InMemoryReservation()
    cancel(posts, remember=lambda done: Remember(reservation, {"answer": done.status}))
    assert reservation.completed and posts.answers == [{"answer": "canceled"}]


@pytest.mark.parametrize("status,reason", [("publishing", "ALREADY_PUBLISHING"), ("published", "NOT_QUEUED"),
                                           ("canceled", "NOT_QUEUED")])
def test_a_post_that_is_not_queued_is_a_conflict_and_stays(status, reason):
    posts, reservation = stored(status), InMemoryReservation()
    for steer in (reschedule, cancel):
        with pytest.raises(Conflict) as refused:
            steer(posts, remember=lambda done: Remember(reservation, {}))
        assert refused.value.reason == reason
    assert posts.get(SP).status == status and posts.events == {} and not reservation.completed


def test_another_organizations_post_is_not_found():
    with pytest.raises(NotFound):
        reschedule(stored(), org="org_22222222-2222-4222-8222-222222222222")


class Racing(InMemoryPosts):
    """The publisher claims the post (or another call moves it) between our read and our write."""

    def __init__(self, source: InMemoryPosts, statuses: list[str]):
        super().__init__()
        self._stored = source._stored
        self.statuses = statuses  # what the post becomes before each of our writes, in turn

    def cancel(self, post, stamp, reason, events, remember=None):
        if self.statuses:
            self._stored[post.id]["status"] = self.statuses.pop(0)
            raise StaleWrite()  # our write saw the change, even one undone since ("queued" again)
        super().cancel(post, stamp, reason, events, remember)


def test_losing_the_race_to_the_publisher_is_already_publishing():
    posts = Racing(stored(), ["publishing"])
    with pytest.raises(Conflict) as refused:
        cancel(posts)
    assert refused.value.reason == "ALREADY_PUBLISHING" and posts.events == {}


def test_a_post_still_queued_after_a_lost_write_is_tried_again():
    posts = Racing(stored(), ["queued", "queued"])
    assert cancel(posts).status == "canceled"


def test_a_post_that_keeps_changing_is_a_concurrent_update():
    posts = Racing(stored(), ["queued"] * 3)
    with pytest.raises(Conflict) as refused:
        cancel(posts)
    assert refused.value.reason == "CONCURRENT_UPDATE"
