"""The live Linq adapter against a fake Linq v3 server over real HTTP."""
from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from layers_shared.http_client import HttpClient, NotSent
from layers_shared.messaging.linq import LinqAdapter
from layers_shared.messaging.port import (
    Message, Part, ProviderRejected, ProviderUnavailable, SendOutcomeUnknown,
)
from tests.fakes.linq import CREATE_CHAT, LIST_CHATS, LIST_MESSAGES, PHONE_NUMBERS, SEND, FakeLinq

TOKEN = "test-linq-token-5ecret"
SENDER = "+12052535597"
PHONE = "+15551234567"

MEDIA = Message((Part("media", "https://cdn.example/c/a.jpg"), Part("media", "https://cdn.example/c/b.jpg")),
                "notify-abc-1")
CAPTION = Message((Part("text", "Morning routine, part 2 #skincare"),), "notify-abc-2")
STEPS = Message((Part("text", "How to post this on TikTok:\n1. Save the photos."),), "notify-abc-3")


@pytest.fixture
def fake() -> Iterator[FakeLinq]:
    # Linq's own duplicate guard off by default: the adapter must not need it.
    with FakeLinq(token=TOKEN, honour_idempotency=False) as server:
        yield server


class Sleeps(list):
    def __call__(self, seconds: float) -> None:  # record instead of sleeping: the suite stays fast
        self.append(seconds)


def make(fake: FakeLinq, *, sleeps: Sleeps | None = None, token: str = TOKEN, **kw) -> LinqAdapter:
    options = dict(base_url=fake.base_url, from_number=SENDER, read_timeout=0.4, connect_timeout=0.5,
                   backoff=0.01, max_retry_after=0.05, sleep=sleeps if sleeps is not None else Sleeps())
    options.update(kw)
    return LinqAdapter(token, **options)


def posts(fake: FakeLinq, route: str) -> list:
    return fake.received("POST", route)


# --- the happy path ----------------------------------------------------------------------------

def test_create_chat_and_two_sends_send_the_exact_linq_bodies(fake: FakeLinq) -> None:
    adapter = make(fake)

    chat = adapter.create_chat(PHONE, MEDIA)
    caption_id = adapter.send(chat.chat_id, CAPTION)
    steps_id = adapter.send(chat.chat_id, STEPS)

    assert [r.body for r in posts(fake, CREATE_CHAT)] == [{
        "from": SENDER, "to": [PHONE],
        "message": {"parts": [{"type": "media", "url": "https://cdn.example/c/a.jpg"},
                              {"type": "media", "url": "https://cdn.example/c/b.jpg"}],
                    "idempotency_key": "notify-abc-1"},
    }]
    assert [r.body for r in posts(fake, SEND)] == [
        {"message": {"parts": [{"type": "text", "value": "Morning routine, part 2 #skincare"}],
                     "idempotency_key": "notify-abc-2"}},
        {"message": {"parts": [{"type": "text", "value": "How to post this on TikTok:\n1. Save the photos."}],
                     "idempotency_key": "notify-abc-3"}},
    ]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in fake.requests)
    assert all(r.path == f"/chats/{chat.chat_id}/messages" for r in posts(fake, SEND))
    stored = fake.messages(chat.chat_id)
    assert chat.message_ids == [stored[0].id]
    assert [caption_id, steps_id] == [stored[1].id, stored[2].id]
    assert fake.accepted_count == 3


def test_sender_is_the_first_listed_number_when_unset_and_is_listed_once() -> None:
    with FakeLinq(token=TOKEN, phone_numbers=("+12025550111", "+12025550122")) as server:
        adapter = make(server, from_number=None)
        adapter.create_chat(PHONE, MEDIA)
        adapter.create_chat("+15557654321", CAPTION)
        assert [r.body["from"] for r in posts(server, CREATE_CHAT)] == ["+12025550111", "+12025550111"]
        assert len(server.received("GET", PHONE_NUMBERS)) == 1


# --- transient failures ------------------------------------------------------------------------

def test_429_is_retried_after_retry_after_capped(fake: FakeLinq) -> None:
    sleeps = Sleeps()
    adapter = make(fake, sleeps=sleeps)
    chat = adapter.create_chat(PHONE, MEDIA)
    fake.fail_next("POST", SEND, status=429, retry_after="7")

    message_id = adapter.send(chat.chat_id, CAPTION)

    assert sleeps == [0.05]  # Retry-After honoured, but capped to the configured maximum
    assert len(posts(fake, SEND)) == 2
    assert [m.id for m in fake.messages(chat.chat_id)][1:] == [message_id]


def test_5xx_after_accept_is_confirmed_by_a_read_not_resent(fake: FakeLinq) -> None:
    adapter = make(fake)
    chat = adapter.create_chat(PHONE, MEDIA)
    fake.fail_next("POST", SEND, status=500, after_accept=True)

    message_id = adapter.send(chat.chat_id, CAPTION)

    assert len(posts(fake, SEND)) == 1
    assert len(fake.received("GET", LIST_MESSAGES)) >= 1
    assert fake.accepted_count == 2
    assert fake.messages(chat.chat_id)[1].id == message_id


def test_5xx_before_accept_is_checked_then_resent_once(fake: FakeLinq) -> None:
    adapter = make(fake)
    chat = adapter.create_chat(PHONE, MEDIA)
    fake.fail_next("POST", SEND, status=503)

    message_id = adapter.send(chat.chat_id, CAPTION)

    assert len(posts(fake, SEND)) == 2
    assert fake.accepted_count == 2  # media + one caption: no duplicate
    assert fake.messages(chat.chat_id)[1].id == message_id


def test_create_chat_5xx_after_accept_finds_the_chat(fake: FakeLinq) -> None:
    adapter = make(fake)
    fake.fail_next("POST", CREATE_CHAT, status=502, after_accept=True)

    chat = adapter.create_chat(PHONE, MEDIA)

    assert len(posts(fake, CREATE_CHAT)) == 1
    assert list(fake.chats) == [chat.chat_id]
    assert chat.message_ids == [fake.messages(chat.chat_id)[0].id]
    assert fake.received("GET", LIST_CHATS)[0].query["from"] == [SENDER]


def test_not_sent_is_retried() -> None:
    class FlakyHttp(HttpClient):
        failures = 1

        def request(self, method, path, **kw):
            if method == "POST" and self.failures:
                self.failures -= 1
                raise NotSent("connect refused")
            return super().request(method, path, **kw)

    with FakeLinq(token=TOKEN) as server:
        adapter = make(server, http=FlakyHttp(server.base_url, read_timeout=0.4))
        chat = adapter.create_chat(PHONE, MEDIA)
        assert len(posts(server, CREATE_CHAT)) == 1  # the first never left
        assert server.messages(chat.chat_id)[0].id == chat.message_ids[0]


def test_persistent_429_is_provider_unavailable(fake: FakeLinq) -> None:
    adapter = make(fake)
    chat = adapter.create_chat(PHONE, MEDIA)
    fake.fail_next("POST", SEND, status=429, retry_after="1", times=10)

    with pytest.raises(ProviderUnavailable):
        adapter.send(chat.chat_id, CAPTION)
    assert len(posts(fake, SEND)) == adapter.max_attempts
    assert fake.accepted_count == 1


def test_persistent_5xx_is_provider_unavailable_without_duplicates(fake: FakeLinq) -> None:
    adapter = make(fake)
    chat = adapter.create_chat(PHONE, MEDIA)
    fake.fail_next("POST", SEND, status=500, times=10)

    with pytest.raises(ProviderUnavailable):
        adapter.send(chat.chat_id, CAPTION)
    assert fake.accepted_count == 1


def test_unreachable_linq_is_provider_unavailable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    adapter = LinqAdapter(TOKEN, base_url=f"http://127.0.0.1:{port}/api/partner/v3", from_number=SENDER,
                          connect_timeout=0.3, read_timeout=0.3, backoff=0.0, sleep=Sleeps())
    with pytest.raises(ProviderUnavailable):
        adapter.create_chat(PHONE, MEDIA)


# --- lost answers ------------------------------------------------------------------------------

def test_timeout_after_accept_is_confirmed_by_read_and_stored_once(fake: FakeLinq) -> None:
    adapter = make(fake)
    chat = adapter.create_chat(PHONE, MEDIA)
    fake.hang_after_accept("POST", SEND, seconds=1.5)

    message_id = adapter.send(chat.chat_id, CAPTION)

    assert len(posts(fake, SEND)) == 1
    assert [m.idempotency_key for m in fake.messages(chat.chat_id)] == ["notify-abc-1", "notify-abc-2"]
    assert fake.messages(chat.chat_id)[1].id == message_id


def test_create_chat_timeout_after_accept_is_confirmed(fake: FakeLinq) -> None:
    adapter = make(fake)
    fake.hang_after_accept("POST", CREATE_CHAT, seconds=1.5)

    chat = adapter.create_chat(PHONE, MEDIA)

    assert len(posts(fake, CREATE_CHAT)) == 1
    assert list(fake.chats) == [chat.chat_id]
    assert fake.accepted_count == 1


def test_timeout_before_accept_is_checked_then_resent(fake: FakeLinq) -> None:
    adapter = make(fake)
    chat = adapter.create_chat(PHONE, MEDIA)
    fake.hang_before_accept("POST", SEND, seconds=1.5)

    adapter.send(chat.chat_id, CAPTION)

    assert len(posts(fake, SEND)) == 2
    assert fake.accepted_count == 2


def test_timeout_that_cannot_be_confirmed_is_send_outcome_unknown(fake: FakeLinq) -> None:
    adapter = make(fake)
    chat = adapter.create_chat(PHONE, MEDIA)
    fake.hang_after_accept("POST", SEND, seconds=1.5)
    fake.fail_next("GET", LIST_MESSAGES, status=503, times=50)

    with pytest.raises(SendOutcomeUnknown):
        adapter.send(chat.chat_id, CAPTION)
    assert len(posts(fake, SEND)) == 1  # never resent while unconfirmed


def test_identical_old_message_is_not_taken_for_the_lost_one(fake: FakeLinq) -> None:
    adapter = make(fake)
    chat = adapter.create_chat(PHONE, MEDIA)
    adapter.send(chat.chat_id, CAPTION)
    old = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    fake.messages(chat.chat_id)[1].created_at = old  # same caption, sent an hour ago
    again = Message(CAPTION.parts, "notify-def-2")
    fake.fail_next("POST", SEND, status=500)  # not stored

    adapter.send(chat.chat_id, again)

    assert [m.idempotency_key for m in fake.messages(chat.chat_id)] == [
        "notify-abc-1", "notify-abc-2", "notify-def-2"]


# --- permanent failures ------------------------------------------------------------------------

def test_4xx_is_provider_rejected_with_linq_message(fake: FakeLinq) -> None:
    adapter = make(fake)

    with pytest.raises(ProviderRejected) as caught:
        adapter.create_chat("5551234567", MEDIA)

    assert "E.164" in caught.value.message
    assert caught.value.status == 400 and caught.value.code == "1002"
    assert len(posts(fake, CREATE_CHAT)) == 1  # a 4xx is not retried
    assert fake.accepted_count == 0


def test_unknown_chat_is_rejected(fake: FakeLinq) -> None:
    with pytest.raises(ProviderRejected) as caught:
        make(fake).send("00000000-0000-0000-0000-000000000000", CAPTION)
    assert caught.value.status == 404 and caught.value.code == "2001"


# --- read back from a later invocation ---------------------------------------------------------

def test_find_chat_and_has_message_from_a_fresh_instance(fake: FakeLinq) -> None:
    chat = make(fake).create_chat(PHONE, MEDIA)
    make(fake).send(chat.chat_id, CAPTION)
    fresh = make(fake)  # remembers nothing: needs the parts, since Linq does not echo keys

    assert fresh.find_chat(PHONE, "notify-abc-1", parts=MEDIA.parts) == chat.chat_id
    assert fresh.has_message(chat.chat_id, "notify-abc-2", parts=CAPTION.parts)
    assert not fresh.has_message(chat.chat_id, "notify-abc-3", parts=STEPS.parts)
    assert fresh.find_chat("+15550001111", "notify-abc-1", parts=MEDIA.parts) is None
    assert not fresh.has_message(chat.chat_id, "notify-abc-2")  # no parts, no key echoed: cannot tell


def test_idempotency_key_is_matched_when_linq_echoes_it() -> None:
    with FakeLinq(token=TOKEN, echo_idempotency_key=True) as server:
        chat = make(server).create_chat(PHONE, MEDIA)
        fresh = make(server)
        assert fresh.find_chat(PHONE, "notify-abc-1") == chat.chat_id
        assert fresh.has_message(chat.chat_id, "notify-abc-1")
        # same parts, other key: the echoed key wins over the parts
        assert not fresh.has_message(chat.chat_id, "notify-zzz-1", parts=MEDIA.parts)


def test_find_chat_pages_through_chats(fake: FakeLinq) -> None:
    adapter = make(fake, page_limit=2)
    target = adapter.create_chat(PHONE, MEDIA)
    for n in range(5):
        adapter.create_chat(f"+1555000{n:04d}1", Message(CAPTION.parts, f"other-{n}"))

    assert make(fake, page_limit=2).find_chat(PHONE, "notify-abc-1", parts=MEDIA.parts) == target.chat_id
    assert len(fake.received("GET", LIST_CHATS)) >= 3  # most recent first: the target is on the last page


# --- configuration and secrets -----------------------------------------------------------------

def test_from_env_is_none_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINQ_API_TOKEN", raising=False)
    monkeypatch.delenv("LINQ_TOKEN_SECRET_ARN", raising=False)
    assert LinqAdapter.from_env() is None
    monkeypatch.setenv("LINQ_API_TOKEN", "  ")
    assert LinqAdapter.from_env() is None


def test_from_env_uses_token_base_and_sender(fake: FakeLinq, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINQ_API_TOKEN", TOKEN)
    monkeypatch.setenv("LINQ_API_BASE", fake.base_url)
    monkeypatch.setenv("LINQ_FROM_NUMBER", SENDER)
    adapter = LinqAdapter.from_env()
    assert adapter is not None and adapter.base_url == fake.base_url
    adapter.create_chat(PHONE, MEDIA)
    assert posts(fake, CREATE_CHAT)[0].body["from"] == SENDER


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINQ_API_TOKEN", TOKEN)
    monkeypatch.delenv("LINQ_API_BASE", raising=False)
    adapter = LinqAdapter.from_env()
    assert adapter is not None and adapter.base_url == "https://api.linqapp.com/api/partner/v3"


# The token read from Secrets Manager (moto): tests/integration/test_secrets_manager_reads.py


def test_a_rotated_token_is_read_again_once_on_401(fake: FakeLinq) -> None:
    class Rotating:
        refreshable = True

        def __init__(self) -> None:
            self.values = ["old-token", TOKEN]

        def get(self) -> str:
            return self.values[0]

        def invalidate(self) -> None:
            self.values.pop(0)

    make(fake, token=Rotating()).create_chat(PHONE, MEDIA)  # type: ignore[arg-type]
    assert [r.headers["authorization"] for r in posts(fake, CREATE_CHAT)] == [
        "Bearer old-token", f"Bearer {TOKEN}"]
    assert fake.accepted_count == 1


def test_the_token_never_appears_in_errors_or_logs(fake: FakeLinq, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-token-9f8e7d"
    errors: list[BaseException] = []

    with pytest.raises(ProviderRejected) as caught:
        make(fake, token=wrong).create_chat(PHONE, MEDIA)
    assert caught.value.status == 401 and caught.value.code == "2004"
    errors.append(caught.value)

    adapter = make(fake)
    chat = adapter.create_chat(PHONE, MEDIA)
    fake.fail_next("POST", SEND, status=429, retry_after="1", times=adapter.max_attempts)
    with pytest.raises(ProviderUnavailable) as unavailable:
        adapter.send(chat.chat_id, CAPTION)
    errors.append(unavailable.value)
    fake.hang_after_accept("POST", SEND, seconds=1.5)
    fake.fail_next("GET", LIST_MESSAGES, status=500, times=50)
    with pytest.raises(SendOutcomeUnknown) as unknown:
        adapter.send(chat.chat_id, STEPS)
    errors.append(unknown.value)

    for secret in (wrong, TOKEN):
        assert secret not in caplog.text
        assert secret not in repr(adapter)
        for error in errors:
            assert secret not in str(error) and secret not in repr(error)
            assert error.__cause__ is None or secret not in str(error.__cause__)
