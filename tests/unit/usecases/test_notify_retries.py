"""notify-device never texts twice (docs/adr/0051, 0056), on the in-memory send
records and the sandbox messenger behind a script of faults: a message whose
answer was lost is read back, by this invocation or by the retry, and sent only
when the read says it is not there; one invocation at a time holds a request's
record, and one whose lease ran out may not write or send any more."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from layers_shared import clock
from layers_shared.domain import handoff
from layers_shared.domain.errors import IdempotencyInProgress, ProviderFailed
from layers_shared.services import notify
from tests.unit.usecases.test_notify_device import ONE_NOTIFY, Killed, World, phone


@pytest.fixture(autouse=True)
def real_clock() -> Iterator[None]:
    yield
    clock.set_now(None)


def past_the_lease() -> None:
    clock.set_now(clock.plus(clock.now(), seconds=handoff.LEASE_SECONDS + 1))


class Dying:
    """The send records as a killed process leaves them: once `dead`, nothing is written."""

    def __init__(self, inner: Any):
        self.inner, self.dead = inner, False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if self.dead and name in ("open", "accepted", "stopped", "mark_position", "remember_chat"):
            def refuse(*_: Any, **__: Any) -> None:
                raise Killed()
            return refuse
        return attribute


# --- a lost answer ----------------------------------------------------------------------------------

def test_a_lost_answer_is_confirmed_by_reading_after_our_previous_message_not_resent():
    world, to, scope = World(), phone(), "idem-lost"
    world.port.faults[("send", 2)] = "lost"
    world.notify(to, scope=scope)
    record = world.record(to, scope)
    assert world.port.sent == [1, 2, 3] and world.port.texts(to) == ONE_NOTIFY
    assert world.port.reads == [("has_message", 2, record.messages[1])]  # bounded by message 1's id
    assert record.messages[2] == "confirmed-by-read" and record.status == handoff.SENT


def test_a_lost_answer_that_cannot_be_read_stops_and_the_retry_reads_it_instead_of_resending():
    world, to, scope = World(), phone(), "idem-unread"
    world.port.faults[("send", 2)] = "lost"
    world.port.unreadable = True
    with pytest.raises(ProviderFailed) as first:
        world.notify(to, scope=scope)
    assert not first.value.unavailable and first.value.details == {
        "reason": "PROVIDER_REJECTED", "providerError": notify.UNCONFIRMED_ERROR, "acceptedMessages": 1}
    stopped = world.record(to, scope)
    assert stopped.status == handoff.UNCONFIRMED and stopped.unconfirmed == 2 and stopped.holder is None

    world.port.unreadable = False
    world.notify(to, scope=scope)
    assert world.port.sent == [1, 2, 3] and world.port.texts(to) == ONE_NOTIFY
    assert [r[:2] for r in world.port.reads] == [("has_message", 2), ("has_message", 2)]


def test_a_message_that_never_landed_is_sent_by_the_retry_once_the_read_says_it_is_absent():
    world, to, scope = World(), phone(), "idem-never"
    world.port.faults[("send", 3)] = "never"
    world.port.unreadable = True
    with pytest.raises(ProviderFailed):
        world.notify(to, scope=scope)
    assert world.port.sent == [1, 2]

    world.port.unreadable = False
    world.notify(to, scope=scope)
    assert world.port.sent == [1, 2, 3] and world.port.texts(to) == ONE_NOTIFY


def test_a_lost_chat_creation_is_found_by_phone_and_kept_as_the_phones_chat():
    world, to, scope = World(), phone(), "idem-create"
    world.port.faults[("create", 1)] = "lost"
    world.port.unreadable = True
    with pytest.raises(ProviderFailed) as first:
        world.notify(to, scope=scope)
    assert first.value.details["acceptedMessages"] == 0

    world.port.unreadable = False
    done = world.notify(to, scope=scope)
    assert world.port.sent == [1, 2, 3] and world.port.texts(to) == ONE_NOTIFY
    assert [r[:2] for r in world.port.reads][-1] == ("find_chat", 1)
    assert world.records.stored_chat("sandbox", "org_11111111-1111-4111-8111-111111111111", to) == done.chat_id


def test_a_read_back_in_a_reused_chat_starts_after_the_position_recorded_before_the_first_send():
    """Yesterday's identical media in the phone's chat is not this request's."""
    world, to = World(), phone()
    yesterday = world.notify(to, scope="req-yesterday")
    newest = world.port.inner.latest_message(yesterday.chat_id)
    world.port.faults[("send", 1)] = "never"
    world.port.unreadable = True
    with pytest.raises(ProviderFailed):
        world.notify(to, scope="idem-today")
    world.port.unreadable = False
    world.notify(to, scope="idem-today")
    assert ("has_message", 1, newest) in world.port.reads
    assert world.port.texts(to) == ONE_NOTIFY * 2


# --- a process that dies ----------------------------------------------------------------------------

def test_a_crash_after_message_2_landed_frees_the_record_and_the_retry_confirms_it():
    world, to, scope = World(), phone(), "idem-crash"
    world.port.faults[("send", 2)] = "die"
    with pytest.raises(Killed):
        world.notify(to, scope=scope)
    record = world.record(to, scope)
    assert record.status == handoff.INTERRUPTED and record.holder is None and record.attempting == 2

    world.notify(to, scope=scope)
    assert world.port.sent == [1, 2, 3] and world.port.texts(to) == ONE_NOTIFY


def test_a_killed_process_holds_the_record_until_its_lease_runs_out_then_the_retry_confirms():
    world, to, scope = World(), phone(), "idem-killed"
    dying = Dying(world.records)

    def die(index: int) -> None:
        if index == 2:
            dying.dead = True
            raise Killed()

    world.port.after_send = die
    with pytest.raises(Killed):
        world.notify(to, scope=scope, records=dying)
    world.port.after_send = None
    left = world.record(to, scope)
    assert left.status == handoff.SENDING and left.holder is not None and left.attempting == 2

    with pytest.raises(IdempotencyInProgress):  # the dead holder's lease still runs
        world.notify(to, scope=scope)
    assert world.port.sent == [1, 2]
    past_the_lease()
    world.notify(to, scope=scope)
    assert world.port.sent == [1, 2, 3] and world.port.texts(to) == ONE_NOTIFY


# --- one holder at a time ---------------------------------------------------------------------------

def test_a_concurrent_try_of_the_same_request_is_refused_while_the_first_holds_the_record():
    world, to, scope = World(), phone(), "idem-concurrent"
    refused: list[Exception] = []

    def meanwhile(index: int) -> None:
        if index == 2:
            world.port.before_send = None
            try:
                world.notify(to, scope=scope)
            except IdempotencyInProgress as exc:
                refused.append(exc)

    world.port.before_send = meanwhile
    world.notify(to, scope=scope)
    assert len(refused) == 1 and world.port.sent == [1, 2, 3]


def test_a_stalled_holder_whose_lease_ran_out_is_stopped_and_nothing_is_sent_twice():
    """It stalls right after message 2 landed; a retry takes the record over, finds
    message 2 by reading and finishes. The stalled one may no longer write or send."""
    world, to, scope = World(), phone(), "idem-stalled"
    answers: list[notify.Sent] = []

    def takeover(index: int) -> None:
        if index == 2:
            world.port.after_send = None
            past_the_lease()
            answers.append(world.notify(to, scope=scope))

    world.port.after_send = takeover
    with pytest.raises(IdempotencyInProgress):
        world.notify(to, scope=scope)
    assert len(answers) == 1 and world.port.sent == [1, 2, 3] and world.port.texts(to) == ONE_NOTIFY
    assert world.record(to, scope).status == handoff.SENT
