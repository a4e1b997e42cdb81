"""The device handoff's three messages and the send record's progress."""
from __future__ import annotations

import pytest

from layers_shared.domain import handoff
from layers_shared.domain.handoff import Progress
from layers_shared.domain.ports import SendRecord
from layers_shared.messaging.port import Part
from layers_shared.models.entities import Container, Media


def container(**over) -> Container:
    base = dict(id="cnt_1", projectId="prj_1", organizationId="org_1", status="completed", mediaType="slideshow",
                caption="Morning pour", firstComment=None,
                media=[Media(url=f"https://m.example/{i}.jpg", kind="image") for i in range(3)])
    return Container(**{**base, **over})


def test_media_message_carries_every_url_in_order():
    planned = handoff.plan(container(), "steps")
    assert planned[0] == [{"type": "media", "value": f"https://m.example/{i}.jpg"} for i in range(3)]


def test_caption_alone_is_copy_paste_ready():
    assert handoff.caption_text(container()) == "Morning pour"


def test_first_comment_follows_the_caption_labelled():
    text = handoff.caption_text(container(firstComment="Link in bio"))
    assert text.startswith("Morning pour\n\n")
    assert text.endswith("\nLink in bio")
    assert handoff.FIRST_COMMENT_LABEL in text


@pytest.mark.parametrize("caption", [None, "", "   "])
def test_a_missing_caption_still_makes_a_valid_text(caption):
    assert handoff.caption_text(container(caption=caption)) == handoff.NO_CAPTION


def test_texts_fit_linq_limit():
    text = handoff.caption_text(container(caption="x" * 20_000))
    assert len(text) == handoff.MAX_TEXT


def test_exactly_three_messages_each_one_part_kind():
    planned = handoff.plan(container(firstComment="c"), "1. Save\n2. Post")
    assert len(planned) == 3
    assert {p["type"] for p in planned[0]} == {"media"}
    assert [p["type"] for p in planned[1]] == ["text"]
    assert planned[2] == [{"type": "text", "value": "1. Save\n2. Post"}]


def test_blank_instructions_are_never_an_empty_text():
    assert handoff.plan(container(), "  ")[2][0]["value"]


@pytest.mark.parametrize("platforms,expected", [
    ([], None), (["tiktok"], "tiktok"), (["tiktok", "tiktok"], "tiktok"), (["instagram"], "instagram"),
    (["tiktok", "instagram"], None), (["youtube"], None),
])
def test_instructions_platform(platforms, expected):
    assert handoff.instructions_platform(platforms) == expected


def test_provider_keys_are_stable_and_distinct():
    planned = handoff.plan(container(), "steps")
    first = [handoff.message_of(planned, i, "rec-1") for i in (1, 2, 3)]
    again = [handoff.message_of(planned, i, "rec-1") for i in (1, 2, 3)]
    assert first == again
    assert len({m.idempotency_key for m in first}) == 3
    assert all(len(m.idempotency_key) <= 255 for m in first)
    assert handoff.message_of(planned, 1, "rec-2").idempotency_key != first[0].idempotency_key
    assert first[0].parts[0] == Part("media", "https://m.example/0.jpg")


def record(**over) -> SendRecord:
    base = dict(id="r1", status=handoff.SENDING, plan=[], messages={}, chat_id=None, attempting=None,
                unconfirmed=None, position=None, first_attempt_at=None, holder=None)
    return SendRecord(**{**base, **over})


def test_progress_of_a_fresh_record():
    progress = Progress.of(record())
    assert progress.remaining() == [1, 2, 3] and not progress.complete
    assert progress.chat_id is None and progress.unconfirmed is None


def test_progress_continues_after_what_was_accepted():
    progress = Progress.of(record(messages={1: "m1", 2: "m2"}, chat_id="chat-1", unconfirmed=3))
    assert progress.remaining() == [3]
    assert progress.unconfirmed == 3 and progress.chat_id == "chat-1"
    assert Progress.of(record(messages={1: "a", 2: "b", 3: "c"})).complete


def test_only_a_resumed_record_reads_back_the_message_it_was_attempting():
    """A record this invocation just created has sent nothing yet: its attempt is no doubt."""
    attempting = record(messages={1: "m1"}, attempting=2)
    assert Progress.of(attempting).unconfirmed == 2
    assert Progress.of(attempting, resumed=False).unconfirmed is None
    assert Progress.of(record(messages={1: "m1", 2: "m2"}, attempting=2)).unconfirmed is None  # accepted since


def test_scope_follows_the_idempotency_key_and_the_api_key():
    a = handoff.request_scope("KEY1", "idem", "req_1")
    assert a == handoff.request_scope("KEY1", "idem", "req_2")
    assert a != handoff.request_scope("KEY2", "idem", "req_1")
    assert handoff.request_scope("KEY1", None, "req_1") != handoff.request_scope("KEY1", None, "req_2")
