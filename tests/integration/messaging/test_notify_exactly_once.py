"""notify-device under faults that hit after Linq accepted a message: a lost
answer, a process that dies, a lease that runs out (issue 9, sequences 3 and 4).

The use case (services/notify.py) runs against the fake Linq server over HTTP
with Linq's own duplicate guard switched off, and the DynamoDB send records on
a moto table. Every run of
`DeviceHandoff` gets a fresh LinqAdapter: a retry is a new invocation that remembers
nothing but the send record.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from layers_shared import clock
from layers_shared.domain.errors import IdempotencyInProgress, ProviderFailed
from layers_shared.domain.handoff import LEASE_SECONDS, SENDING
from layers_shared.domain.ports import HandoffKey
from layers_shared.instructions import TemplateWriter
from layers_shared.messaging.linq import LinqAdapter
from layers_shared.messaging.port import Message
from layers_shared.messaging.select import LINQ, Messenger
from layers_shared.models.entities import Container, Media
from layers_shared.services import notify
from layers_shared.services.notify import DeviceHandoff, Sent
from layers_shared.store.accounts import DynamoAccounts
from layers_shared.store.containers import DynamoContainers
from layers_shared.store.send_records import DynamoSendRecords, record_key
from layers_shared.store.users import DynamoUsers
from tests.fakes.linq import LIST_MESSAGES, SEND, FakeLinq
from tests.integration.messaging.conftest import TOKEN

SENDER = "+12052535597"
ORG = "org_11111111-1111-4111-8111-111111111111"
DAY = 24 * 3600

CONTAINER = Container(id="cnt_aaaaaaaa-aaaa-4aaa-8aaa-000000000001", projectId="prj_none", organizationId=ORG,
                      status="completed", mediaType="image", caption="Morning pour #coffee",
                      media=[Media(url="https://media.example.com/pour.jpg", kind="image")])
KEY_ID = "LIVEKEY0000001"


class Killed(BaseException):
    """The function died (a Lambda timeout or an out-of-memory kill): nothing after it runs."""


class Interrupting:
    """A MessagingPort in front of the live adapter that runs `hook` just after
    (or just before) message `index` reaches Linq: the moment a fault hits."""

    def __init__(self, inner: LinqAdapter, index: int, hook: Callable[[], None], *, before: bool = False):
        self.inner, self.index, self.hook, self.before = inner, index, hook, before

    def _maybe(self, message: Message, when_before: bool) -> None:
        if message.idempotency_key.endswith(f"-{self.index}") and self.before == when_before:
            hook, self.hook = self.hook, (lambda: None)  # once
            hook()

    def create_chat(self, to: str, first: Message) -> Any:
        self._maybe(first, True)
        sent = self.inner.create_chat(to, first)
        self._maybe(first, False)
        return sent

    def send(self, chat_id: str, message: Message, **kw: Any) -> str:
        self._maybe(message, True)
        sent = self.inner.send(chat_id, message, **kw)
        self._maybe(message, False)
        return sent

    def latest_message(self, chat_id: str) -> str:
        return self.inner.latest_message(chat_id)

    def find_chat(self, *args: Any, **kw: Any) -> Any:
        return self.inner.find_chat(*args, **kw)

    def has_message(self, *args: Any, **kw: Any) -> Any:
        return self.inner.has_message(*args, **kw)


class DyingTable:
    """The table as a killed process sees it: once `dead`, no write happens."""

    def __init__(self, table: Any):
        self._table, self.dead = table, False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._table, name)
        if name in ("put", "update", "delete", "transact") and self.dead:
            def refuse(*_: Any, **__: Any) -> None:
                raise Killed()
            return refuse
        return attribute


@pytest.fixture(autouse=True)
def real_clock() -> Iterator[None]:
    yield
    clock.set_now(None)


def adapter(fake: FakeLinq) -> LinqAdapter:
    return LinqAdapter(TOKEN, base_url=fake.base_url, from_number=SENDER, read_timeout=0.4, connect_timeout=0.5,
                       backoff=0.01, max_retry_after=0.05, sleep=lambda _: None)


def phone() -> str:
    return "+1555" + str(uuid.uuid4().int)[:7]


def delivery(table: Any, port: Any, to: str, scope: str) -> DeviceHandoff:
    ports = notify.Ports(DynamoContainers(table), DynamoUsers(table), DynamoAccounts(table), DynamoSendRecords(table),
                         TemplateWriter(), lambda *_: None)
    return DeviceHandoff(ports, handoff_key(to, scope), KEY_ID, CONTAINER, Messenger(port, LINQ))


def handoff_key(to: str, scope: str) -> HandoffKey:
    return HandoffKey(ORG, CONTAINER.id, to, scope)


def chat_of(fake: FakeLinq, to: str) -> list[list[dict]]:
    (chat,) = [c for c in fake.chats.values() if c.handles == [to]]
    return [m.parts for m in chat.messages]


def kinds(parts: list[list[dict]]) -> list[str]:
    """media / caption / steps per stored message, in order."""
    return ["media" if p[0]["type"] == "media" else "caption" if p[0]["value"].startswith("Morning") else "steps"
            for p in parts]


def past_the_lease() -> None:
    clock.set_now(clock.plus(clock.now(), seconds=LEASE_SECONDS + 1))


# --- sequence 3: message 2 accepted, then the invocation breaks ----------------------------------

def test_a_crash_after_message_2_was_accepted_is_confirmed_not_resent(table, linq):
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"

    def die() -> None:
        raise Killed()

    with pytest.raises(Killed):
        delivery(table, Interrupting(adapter(linq), 2, die), to, scope).run()
    assert kinds(chat_of(linq, to)) == ["media", "caption"]

    retry = delivery(table, adapter(linq), to, scope).run()
    assert isinstance(retry, Sent)
    assert kinds(chat_of(linq, to)) == ["media", "caption", "steps"]


def test_a_killed_process_leaves_its_attempt_on_the_record_and_the_retry_after_the_lease_confirms(table, linq):
    """No handler runs in a killed process: the record keeps its lease and only
    what was written before the send."""
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    dying = DyingTable(table)

    def die() -> None:
        dying.dead = True
        raise Killed()

    with pytest.raises(Killed):
        delivery(dying, Interrupting(adapter(linq), 2, die), to, scope).run()
    record = table.get(record_key(handoff_key(to, scope)), consistent=True)
    assert record["status"] == SENDING and record.get("message2") is None

    with pytest.raises(IdempotencyInProgress):  # the dead holder's lease still runs
        delivery(table, adapter(linq), to, scope).run()
    past_the_lease()
    retry = delivery(table, adapter(linq), to, scope).run()
    assert isinstance(retry, Sent)
    assert kinds(chat_of(linq, to)) == ["media", "caption", "steps"]


def test_a_stalled_holder_whose_lease_ran_out_is_stopped_and_nothing_is_sent_twice(table, linq):
    """The first invocation stalls right after Linq accepted message 2; its lease
    runs out and a retry takes the record over. The retry must find message 2 by
    reading; the stalled one, when it wakes, may no longer write or send."""
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    answers: list[Any] = []

    def takeover() -> None:
        past_the_lease()
        answers.append(delivery(table, adapter(linq), to, scope).run())

    with pytest.raises(IdempotencyInProgress):
        delivery(table, Interrupting(adapter(linq), 2, takeover), to, scope).run()
    assert isinstance(answers[0], Sent)
    assert kinds(chat_of(linq, to)) == ["media", "caption", "steps"]


def test_a_lost_answer_with_unreadable_chat_is_read_again_on_retry(table, linq):
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    linq.hang_after_accept("POST", SEND, seconds=2)              # the caption lands, no answer
    linq.fail_next("GET", LIST_MESSAGES, status=503, times=6)    # and no read-back works
    with pytest.raises(ProviderFailed) as first:
        delivery(table, adapter(linq), to, scope).run()
    assert not first.value.unavailable and first.value.details["acceptedMessages"] == 1

    retry = delivery(table, adapter(linq), to, scope).run()
    assert isinstance(retry, Sent)
    assert kinds(chat_of(linq, to)) == ["media", "caption", "steps"]


# --- sequence 4: an older identical message in the reused chat is not this one ------------------

def yesterdays_notify(table: Any, linq: FakeLinq, to: str) -> None:
    """The same container to the same phone, a day ago, all three delivered."""
    assert isinstance(delivery(table, adapter(linq), to, f"req-{uuid.uuid4().hex}").run(), Sent)
    linq.backdate(DAY)


@pytest.mark.parametrize("index", [1, 2], ids=["media", "caption"])
def test_a_retry_does_not_take_yesterdays_message_for_todays(table, linq, index):
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    yesterdays_notify(table, linq, to)

    def lose_it() -> None:
        linq.hang_before_accept("POST", SEND, seconds=2)             # today's message never lands
        linq.fail_next("GET", LIST_MESSAGES, status=503, times=6)    # and nothing can be read

    with pytest.raises(ProviderFailed) as first:
        delivery(table, Interrupting(adapter(linq), index, lose_it, before=True), to, scope).run()
    assert not first.value.unavailable and first.value.details["acceptedMessages"] == index - 1

    retry = delivery(table, adapter(linq), to, scope).run()
    assert isinstance(retry, Sent)
    assert kinds(chat_of(linq, to)) == ["media", "caption", "steps", "media", "caption", "steps"]


def test_a_process_killed_before_sending_message_2_sends_it_despite_an_old_identical_one(table, linq):
    """Today's record says 1 accepted and message 2 in flight; it never left.
    The chat holds yesterday's identical caption: the retry must send today's."""
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    yesterdays_notify(table, linq, to)

    def die() -> None:
        raise Killed()

    with pytest.raises(Killed):
        delivery(table, Interrupting(adapter(linq), 2, die, before=True), to, scope).run()
    retry = delivery(table, adapter(linq), to, scope).run()
    assert isinstance(retry, Sent)
    assert kinds(chat_of(linq, to)) == ["media", "caption", "steps", "media", "caption", "steps"]


def test_a_crash_before_the_media_left_does_not_take_yesterdays_media_for_todays(table, linq):
    """Message 1 goes to the phone's stored chat; the process dies before it
    leaves. Looking it up by phone finds yesterday's identical media: not ours."""
    to, scope = phone(), f"idem-{uuid.uuid4().hex}"
    yesterdays_notify(table, linq, to)

    def die() -> None:
        raise Killed()

    with pytest.raises(Killed):
        delivery(table, Interrupting(adapter(linq), 1, die, before=True), to, scope).run()
    retry = delivery(table, adapter(linq), to, scope).run()
    assert isinstance(retry, Sent)
    assert kinds(chat_of(linq, to)) == ["media", "caption", "steps", "media", "caption", "steps"]
