"""A read-back by parts only accepts messages sent after the caller's first
attempt (less a small clock-skew allowance): an identical older message in a
reused chat is somebody else's (issue 9, sequence 4)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from layers_shared.messaging import linq as linq_module
from layers_shared.messaging.linq import LinqAdapter
from layers_shared.messaging.port import Message, Part
from tests.fakes.linq import FakeLinq

TOKEN = "test-linq-token"
SENDER = "+12052535597"
PHONE = "+15551234567"
MEDIA = Message((Part("media", "https://cdn.example/c/a.jpg"),), "notify-abc-1")
CAPTION = Message((Part("text", "Morning routine, part 2 #skincare"),), "notify-abc-2")


@pytest.fixture
def fake() -> Iterator[FakeLinq]:
    with FakeLinq(token=TOKEN, honour_idempotency=False) as server:
        yield server


def fresh(fake: FakeLinq) -> LinqAdapter:
    """A new invocation's adapter: it remembers nothing it sent."""
    return LinqAdapter(TOKEN, base_url=fake.base_url, from_number=SENDER, read_timeout=0.4, sleep=lambda _: None)


def now() -> datetime:
    return datetime.now(timezone.utc)


def sent_ago(fake: FakeLinq, seconds: float) -> str:
    chat = fresh(fake).create_chat(PHONE, MEDIA)
    fresh(fake).send(chat.chat_id, CAPTION)
    fake.backdate(seconds)
    return chat.chat_id


def test_a_message_from_before_the_first_attempt_is_not_ours(fake):
    chat_id = sent_ago(fake, 3600)
    adapter = fresh(fake)
    assert not adapter.has_message(chat_id, CAPTION.idempotency_key, parts=CAPTION.parts, not_before=now())
    assert adapter.find_chat(PHONE, MEDIA.idempotency_key, parts=MEDIA.parts, not_before=now()) is None


def test_a_message_after_the_first_attempt_is_ours(fake):
    started = now() - timedelta(hours=2)
    chat_id = sent_ago(fake, 3600)
    adapter = fresh(fake)
    assert adapter.has_message(chat_id, CAPTION.idempotency_key, parts=CAPTION.parts, not_before=started)
    assert adapter.find_chat(PHONE, MEDIA.idempotency_key, parts=MEDIA.parts, not_before=started) == chat_id


def test_the_skew_allowance_only_reaches_backwards_a_little(fake):
    """Linq's clock may lag ours: a message stamped a little before our attempt
    is still ours; one stamped well before it is not."""
    allowance = linq_module.READ_BACK_SKEW.total_seconds()
    chat_id = sent_ago(fake, allowance / 2)
    started = now()
    assert fresh(fake).has_message(chat_id, CAPTION.idempotency_key, parts=CAPTION.parts, not_before=started)
    fake.backdate(allowance)
    assert not fresh(fake).has_message(chat_id, CAPTION.idempotency_key, parts=CAPTION.parts, not_before=started)


def test_an_echoed_idempotency_key_needs_no_time_bound():
    """Keys are per send record: an older message under our key is ours."""
    with FakeLinq(token=TOKEN, honour_idempotency=False, echo_idempotency_key=True) as fake:
        chat_id = sent_ago(fake, 3600)
        assert fresh(fake).has_message(chat_id, CAPTION.idempotency_key, not_before=now())
        assert not fresh(fake).has_message(chat_id, "notify-other-2", parts=CAPTION.parts, not_before=now())
