"""Instagram draft mode through the live Linq adapter and the fake Linq server
(issue 9, sequence 5). Every publisher step is a new invocation, so `confirm`
runs on a fresh InstagramAdapter with a fresh LinqAdapter that remembers
nothing it sent: Linq does not echo idempotency keys, so only the parts (and
the post's attempt time) can recognise a message."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from layers_shared import clock
from layers_shared.messaging.linq import LinqAdapter
from layers_shared.platforms.instagram import InstagramAdapter
from layers_shared.platforms.port import Delivery
from tests.fakes.linq import CREATE_CHAT, LIST_CHATS, LIST_MESSAGES, SEND, FakeLinq

TOKEN = "test-linq-token"
SENDER = "+12052535597"
OPERATOR = "+15557654321"
IMAGE = {"url": "https://media.example.com/a.jpg", "kind": "image"}
UNUSED_GRAPH = "http://127.0.0.1:9/v21.0"  # a draft never calls the Graph API
DAY = 24 * 3600


@pytest.fixture
def linq() -> Iterator[FakeLinq]:
    with FakeLinq(token=TOKEN, honour_idempotency=False) as fake:
        yield fake


@pytest.fixture
def draft(make_post: Callable, make_account: Callable) -> Callable[..., Delivery]:
    def build(**post: Any) -> Delivery:
        fields: dict[str, Any] = {"platform": "instagram", "handle": "acme.ig", "mode": "draft",
                                  "mediaType": "image", "media": [IMAGE], "caption": "Morning pour #coffee",
                                  "attemptedAt": clock.to_storage(clock.now())}
        fields.update(post)
        return Delivery(post=make_post(**fields), account=make_account(platform="instagram", handle="acme.ig"),
                        operator_phone=OPERATOR)
    return build


def invocation(fake: FakeLinq) -> InstagramAdapter:
    """What one publisher step builds: a new adapter over a new Linq client."""
    messaging = LinqAdapter(TOKEN, base_url=fake.base_url, from_number=SENDER, read_timeout=0.4,
                            connect_timeout=0.5, backoff=0.01, max_retry_after=0.05, sleep=lambda _: None)
    return InstagramAdapter(base_url=UNUSED_GRAPH, messaging=messaging)


def stored(fake: FakeLinq) -> list[str]:
    return [m.parts[0]["type"] for chat in fake.chats.values() for m in chat.messages]


def test_a_caption_whose_answer_was_lost_is_found_by_a_fresh_adapter_not_texted_again(linq, draft):
    d = draft()
    linq.hang_after_accept("POST", SEND, seconds=2)           # the caption lands, no answer
    linq.fail_next("GET", LIST_MESSAGES, status=503, times=3)  # the adapter's own read-back fails
    lost = invocation(linq).submit(d)
    assert lost.kind == "unknown" and lost.state["draftStep"] == "caption"
    assert stored(linq) == ["media", "text"]

    confirmed = invocation(linq).confirm(d, lost.state)
    assert confirmed.kind == "draft", confirmed.error
    assert stored(linq) == ["media", "text"]


def test_media_whose_answer_was_lost_is_found_by_its_parts_and_the_caption_follows(linq, draft):
    d = draft()
    linq.hang_after_accept("POST", CREATE_CHAT, seconds=2)    # the chat and media land, no answer
    linq.fail_next("GET", LIST_CHATS, status=503, times=3)
    lost = invocation(linq).submit(d)
    assert lost.kind == "unknown" and lost.state["draftStep"] == "media"

    confirmed = invocation(linq).confirm(d, lost.state)
    assert confirmed.kind == "draft", confirmed.error
    assert stored(linq) == ["media", "text"] and len(linq.chats) == 1


def test_yesterdays_identical_draft_is_not_taken_for_this_one(linq, draft):
    """The same media and caption texted to the operator a day ago (another
    post of the same content): this post's media never left, so it was not
    delivered, whatever the old chat holds."""
    earlier = invocation(linq).submit(draft(id="sp_00000000-0000-4000-8000-000000000001"))
    assert earlier.kind == "draft"
    linq.backdate(DAY)

    d = draft()
    linq.hang_before_accept("POST", CREATE_CHAT, seconds=2)   # nothing lands, no answer
    linq.fail_next("GET", LIST_CHATS, status=503, times=3)
    lost = invocation(linq).submit(d)
    assert lost.kind == "unknown"

    confirmed = invocation(linq).confirm(d, lost.state)
    assert confirmed.kind != "draft"
    assert stored(linq) == ["media", "text"]  # only yesterday's
