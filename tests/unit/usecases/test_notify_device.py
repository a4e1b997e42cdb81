"""notify-device on the in-memory ports and the sandbox messenger: the checks
in their order (nothing is written or sent before they pass), the first send,
a second request into the phone's chat, and how a refusal leaves the record."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from layers_shared.domain import handoff
from layers_shared.domain.errors import ContentRejected, Conflict, NotFound, ProviderFailed, ValidationFailed
from layers_shared.domain.ports import HandoffKey
from layers_shared.instructions import TemplateWriter
from layers_shared.messaging.port import (
    Message, ProviderRejected, ProviderUnavailable, SendOutcomeUnknown, SentChat,
)
from layers_shared.messaging.sandbox import SandboxMessenger
from layers_shared.messaging.select import SANDBOX, Messenger
from layers_shared.models.entities import Container, Media, SocialAccount, User
from layers_shared.services import notify
from layers_shared.services.queries import ById
from tests.fakes.send_records import InMemorySendRecords
from tests.fakes.store import InMemoryAccounts, InMemoryContainers
from tests.fakes.users import InMemoryUsers

ORG = "org_11111111-1111-4111-8111-111111111111"
PRJ = "prj_33333333-3333-4333-8333-000000000001"
CNT = "cnt_66666666-6666-4666-8666-000000000001"
OWNER = "usr_22222222-2222-4222-8222-000000000001"
KEY_ID = "ACMETEST00000001"


class Killed(BaseException):
    """The function died (a timeout or an out-of-memory kill): nothing after it runs."""


def index_of(message: Message) -> int:
    return int(message.idempotency_key.rsplit("-", 1)[1])


@dataclass
class Scripted:
    """The sandbox messenger behind a script of faults, keyed by (call, message
    index): "lost" (it lands, the answer does not), "never" (no answer, and it
    never landed), "reject", "unavailable", "die" (it lands, then the process
    dies). `sent` lists every message that reached the provider, resends included
    (the sandbox itself would answer a resent key with the first message)."""

    inner: SandboxMessenger = field(default_factory=SandboxMessenger)
    faults: dict[tuple[str, int], str] = field(default_factory=dict)
    unreadable: bool = False
    before_send: Callable[[int], None] | None = None
    after_send: Callable[[int], None] | None = None  # once it landed, before the caller hears back
    sent: list[int] = field(default_factory=list)
    reads: list[tuple[str, int, Any]] = field(default_factory=list)  # (call, index, after)

    def _deliver(self, call: str, message: Message, deliver: Callable[[], Any]) -> Any:
        index = index_of(message)
        if self.before_send:
            self.before_send(index)
        fault = self.faults.pop((call, index), None)
        if fault == "never":
            raise SendOutcomeUnknown()
        if fault == "reject":
            raise ProviderRejected("Temporarily refused (test)", status=400)
        if fault == "unavailable":
            raise ProviderUnavailable()
        answer = deliver()
        self.sent.append(index)
        if self.after_send:
            self.after_send(index)
        if fault == "lost":
            raise SendOutcomeUnknown()
        if fault == "die":
            raise Killed()
        return answer

    def create_chat(self, to: str, first: Message) -> SentChat:
        return self._deliver("create", first, lambda: self.inner.create_chat(to, first))

    def send(self, chat_id: str, message: Message, *, after: str | None = None) -> str:
        return self._deliver("send", message, lambda: self.inner.send(chat_id, message, after=after))

    def latest_message(self, chat_id: str) -> str:
        return self.inner.latest_message(chat_id)

    def find_chat(self, to: str, first_idempotency_key: str, **kw: Any) -> str | None:
        self.reads.append(("find_chat", int(first_idempotency_key.rsplit("-", 1)[1]), kw.get("after")))
        if self.unreadable:
            raise ProviderUnavailable()
        return self.inner.find_chat(to, first_idempotency_key, **kw)

    def has_message(self, chat_id: str, idempotency_key: str, **kw: Any) -> bool:
        self.reads.append(("has_message", int(idempotency_key.rsplit("-", 1)[1]), kw.get("after")))
        if self.unreadable:
            raise ProviderUnavailable()
        return self.inner.has_message(chat_id, idempotency_key, **kw)

    def texts(self, phone: str) -> list[str]:
        """What the phone received, per message: media / caption / steps."""
        return ["media" if d.parts[0].type == "media" else "caption" if d.parts[0].value.startswith("Morning")
                else "steps" for d in self.inner.deliveries if d.phone == phone]


class World:
    def __init__(self, *, status: str = "completed", approval: str = "not_required", media: int = 2,
                 owner_phone: str | None = "+15550009999", verified: bool = True,
                 provider: bool = True) -> None:
        self.containers, self.users, self.accounts = InMemoryContainers(), InMemoryUsers(), InMemoryAccounts()
        self.records = InMemorySendRecords()
        self.port = Scripted()
        self.provider = provider
        self.writer: Any = TemplateWriter()
        self.containers.add(Container(
            id=CNT, projectId=PRJ, organizationId=ORG, status=status, approvalStatus=approval, mediaType="slideshow",
            caption="Morning pour", media=[Media(url=f"https://m.example/{i}.jpg", kind="image") for i in range(media)]))
        self.users.add(User(id=OWNER, organizationId=ORG, phoneNumber=owner_phone, phoneVerified=verified))

    def ports(self, records: Any = None) -> notify.Ports:
        def messenger(container_id: str, phone: str) -> Messenger | None:
            return Messenger(self.port, SANDBOX) if self.provider else None

        return notify.Ports(self.containers, self.users, self.accounts, records or self.records, self.writer,
                            messenger)

    def notify(self, phone: str | None = None, *, scope: str | None = None, org: str = ORG, container: str = CNT,
               records: Any = None) -> notify.Sent:
        command = notify.NotifyDevice(ById(org, container, container), phone, KEY_ID, OWNER,
                                      scope or f"req-{uuid.uuid4().hex}")
        return notify.notify_device(self.ports(records), command)

    def record(self, phone: str, scope: str):
        return self.records.get(HandoffKey(ORG, CNT, phone, scope))


def phone() -> str:
    return "+1555" + str(uuid.uuid4().int)[:7]


ONE_NOTIFY = ["media", "caption", "steps"]


# --- the checks, in order -------------------------------------------------------------------------

@pytest.mark.parametrize("world,expected", [
    (lambda: World(status="processing"), Conflict),
    (lambda: World(approval="rejected"), ContentRejected),
    (lambda: World(media=0), ValidationFailed),
    (lambda: World(provider=False), ProviderFailed),
], ids=["not-ready", "rejected", "no-media", "no-provider"])
def test_a_refused_request_writes_no_record_and_sends_nothing(world, expected):
    w = world()
    with pytest.raises(expected):
        w.notify(phone())
    assert w.records.records == {} and w.records.chats == {} and w.port.sent == []


def test_the_refusals_say_what_the_partner_needs():
    with pytest.raises(Conflict) as not_ready:
        World(status="processing").notify(phone())
    assert not_ready.value.details == {"reason": "CONTENT_NOT_READY", "containerId": CNT, "status": "processing"}
    with pytest.raises(ValidationFailed) as no_media:
        World(media=0).notify(phone())
    assert no_media.value.details["reason"] == "NO_MEDIA"
    assert [i["code"] for i in no_media.value.issues] == ["no_media"]
    with pytest.raises(ProviderFailed) as off:
        World(provider=False).notify(phone())
    assert off.value.unavailable and off.value.reason == "SMS_PROVIDER_UNAVAILABLE"


def test_another_organizations_container_is_not_found():
    with pytest.raises(NotFound) as missing:
        World().notify(phone(), org="org_99999999-9999-4999-8999-999999999999")
    assert missing.value.details == {"containerId": CNT}


def test_the_container_is_checked_before_the_phone():
    """A partner fixes the content first: a not-ready container with no phone at all answers 409."""
    with pytest.raises(Conflict):
        World(status="processing", owner_phone=None).notify(None)


@pytest.mark.parametrize("owner_phone,verified,reason", [(None, True, "PHONE_REQUIRED"),
                                                         ("+15550009999", False, "OWNER_PHONE_UNVERIFIED")])
def test_without_a_phone_the_owner_needs_a_verified_one(owner_phone, verified, reason):
    world = World(owner_phone=owner_phone, verified=verified)
    with pytest.raises(ValidationFailed) as refused:
        world.notify(None)
    assert refused.value.details["reason"] == reason and refused.value.issues[0]["path"] == "phoneNumber"
    assert world.port.sent == []


def test_without_a_phone_the_owners_verified_phone_gets_the_texts():
    world = World()
    done = world.notify(None)
    assert done.phone == "+15550009999" and world.port.texts("+15550009999") == ONE_NOTIFY


@pytest.mark.parametrize("body,expected", [({}, None), ({"phoneNumber": None}, None),
                                           ({"phoneNumber": "+15551234567"}, "+15551234567")])
def test_parse_body_gives_the_explicit_phone_or_none(body, expected):
    assert notify.parse_body(body) == expected


@pytest.mark.parametrize("body,code", [({"phoneNumber": "5551234567"}, "invalid_format"),
                                       ({"phoneNumber": ""}, "invalid_format"),
                                       ({"phoneNumber": 15551234567}, "invalid_type"),
                                       ({"phone": "+15551234567"}, "unknown_field")])
def test_parse_body_names_the_field_at_fault(body, code):
    with pytest.raises(ValidationFailed) as refused:
        notify.parse_body(body)
    assert refused.value.issues[0]["code"] == code and "reason" not in refused.value.details


# --- the first send ---------------------------------------------------------------------------------

def test_the_first_send_texts_three_messages_into_one_new_chat_and_finishes_the_record():
    world, to, scope = World(), phone(), "idem-first"
    done = world.notify(to, scope=scope)
    assert world.port.texts(to) == ONE_NOTIFY and world.port.sent == [1, 2, 3]
    assert world.port.reads == []  # nothing was in doubt: nothing read back
    (chat,) = {d.chat_id for d in world.port.inner.deliveries}
    assert done == notify.Sent(CNT, to, chat, 2)
    record = world.record(to, scope)
    assert record.status == handoff.SENT and record.holder is None and record.chat_id == chat
    assert record.messages == {i: d.message_id for i, d in enumerate(world.port.inner.deliveries, start=1)}
    assert world.records.stored_chat(SANDBOX, ORG, to) == chat


def test_each_message_is_named_as_attempted_on_the_record_before_it_is_sent():
    """ADR 0056: a process that dies between a send and its record update still
    leaves the message behind as in doubt, for a retry to read back."""
    world, to, scope = World(), phone(), "idem-attempts"
    seen: list[tuple[int, int | None, bool]] = []

    def look(index: int) -> None:
        record = world.record(to, scope)
        seen.append((index, record.attempting, index in record.messages))

    world.port.before_send = look
    world.notify(to, scope=scope)
    assert seen == [(1, 1, False), (2, 2, False), (3, 3, False)]


def test_a_finished_request_answers_from_its_record_and_sends_nothing():
    world, to = World(), phone()
    first = world.notify(to, scope="idem-again")
    again = world.notify(to, scope="idem-again")
    assert again == first and world.port.sent == [1, 2, 3]


def test_a_second_request_texts_again_into_the_phones_chat_from_its_position():
    """Without the same Idempotency-Key it is a new request (the partner asked for a
    second text): the stored chat is reused and its position recorded first."""
    world, to = World(), phone()
    first = world.notify(to, scope="req-a")
    newest = world.port.inner.latest_message(first.chat_id)
    second = world.notify(to, scope="req-b")
    assert second.chat_id == first.chat_id and world.port.texts(to) == ONE_NOTIFY * 2
    assert world.record(to, "req-b").position == (first.chat_id, newest)


def test_a_stored_chat_the_provider_no_longer_knows_is_replaced_by_a_new_one():
    world, to = World(), phone()
    world.records.remember_chat(SANDBOX, ORG, to, "gone-chat")  # the sandbox answers 404 for foreign ids
    done = world.notify(to)
    assert done.chat_id != "gone-chat" and world.port.texts(to) == ONE_NOTIFY
    assert world.records.stored_chat(SANDBOX, ORG, to) == done.chat_id


def test_the_instructions_are_written_for_the_projects_one_platform_and_fall_back_to_the_template():
    world, asked = World(), []
    world.accounts.add(SocialAccount(id="sa_1", projectId=PRJ, organizationId=ORG, platform="tiktok", handle="@h"))

    class Broken:
        def write(self, platform: str | None, *args: Any) -> str:
            asked.append(platform)
            raise TimeoutError()

    world.writer = Broken()
    to = phone()
    world.notify(to)
    assert asked == ["tiktok"]
    steps = world.port.inner.deliveries[-1].parts[0].value
    assert steps == TemplateWriter().write("tiktok", "slideshow", "Morning pour", None, 2)


# --- refusals from the provider ----------------------------------------------------------------------

def test_a_rejected_destination_is_refused_and_the_record_let_go():
    world, to = World(), "+15557770000"  # the sandbox carrier rejects ...0000
    with pytest.raises(ProviderFailed) as refused:
        world.notify(to, scope="idem-rejected")
    assert not refused.value.unavailable and refused.value.details == {
        "reason": "PROVIDER_REJECTED", "providerError": "Destination rejected by carrier (sandbox)",
        "acceptedMessages": 0}
    record = world.record(to, "idem-rejected")
    assert record.status == handoff.REJECTED and record.holder is None and world.port.texts(to) == []


def test_an_unavailable_provider_mid_way_lets_a_retry_send_the_rest():
    world, to, scope = World(), phone(), "idem-unavailable"
    world.port.faults[("send", 2)] = "unavailable"
    with pytest.raises(ProviderFailed) as busy:
        world.notify(to, scope=scope)
    assert busy.value.unavailable and world.record(to, scope).status == handoff.UNAVAILABLE
    world.notify(to, scope=scope)
    assert world.port.texts(to) == ONE_NOTIFY and world.port.sent == [1, 2, 3]


def test_a_refused_message_keeps_the_providers_text_bounded_on_the_record():
    world, to, scope = World(), phone(), "idem-long"
    long = "x" * 5000
    world.port.inner.send = _refusing(long)  # type: ignore[method-assign]
    with pytest.raises(ProviderFailed) as refused:
        world.notify(to, scope=scope)
    assert refused.value.details["acceptedMessages"] == 1 and refused.value.details["providerError"] == long
    assert world.record(to, scope).provider_error == long[:handoff.MAX_PROVIDER_ERROR]


def _refusing(text: str) -> Callable[..., str]:
    def send(chat_id: str, message: Message, *, after: str | None = None) -> str:
        raise ProviderRejected(text, status=400)
    return send
