"""InstagramAdapter against the fake Graph API (and a fake messaging port for drafts)."""
from __future__ import annotations

import logging
from typing import Any, Callable

import pytest

from layers_shared.messaging.port import (
    Message, ProviderRejected, ProviderUnavailable, SendOutcomeUnknown, SentChat,
)
from layers_shared.platforms.instagram import InstagramAdapter
from layers_shared.platforms.port import Credentials, Delivery, Outcome
from tests.fakes.http_server import Fault, closed_port_url
from tests.fakes.instagram import PERSONAL_ACCOUNT_MESSAGE, FakeInstagram, error_fault

TOKEN, IG = "EAAG-SECRET-user-token", "17841400000000001"
V = "/v21.0"
MEDIA = rf"{V}/{IG}/media"
PUBLISH = rf"{V}/{IG}/media_publish"
NODE = rf"{V}/\d+"
IMAGE = {"url": "https://media.example.com/a.jpg", "kind": "image"}
VIDEO = {"url": "https://media.example.com/a.mp4", "kind": "video"}


@pytest.fixture
def adapter(instagram_server: FakeInstagram, timeouts: dict[str, float]) -> InstagramAdapter:
    return InstagramAdapter(base_url=instagram_server.base_url, **timeouts)


@pytest.fixture
def delivery(instagram_server: FakeInstagram, make_post: Callable, make_account: Callable) -> Callable[..., Delivery]:
    instagram_server.add_account(TOKEN, IG)

    def build(account_type: str = "business", token: str = TOKEN, **post: Any) -> Delivery:
        fields: dict[str, Any] = {"platform": "instagram", "handle": "acme.ig", "mediaType": "image",
                                  "media": [IMAGE], "caption": "Morning pour #coffee"}
        fields.update(post)
        return Delivery(post=make_post(**fields),
                        account=make_account(platform="instagram", handle="acme.ig",
                                             instagramAccountType=account_type),
                        credentials=Credentials(token, platform_user_id=IG))
    return build


def run(adapter: InstagramAdapter, delivery: Delivery, max_polls: int = 10) -> Outcome:
    outcome = adapter.submit(delivery)
    for _ in range(max_polls):
        if outcome.kind != "processing":
            break
        outcome = adapter.poll(delivery, outcome.state)
    return outcome


# -- success per media type --------------------------------------------------

def test_image_publish(adapter, delivery, instagram_server):
    submitted = adapter.submit(delivery())
    assert submitted.kind == "processing" and set(submitted.state) == {"containerId"}
    create = instagram_server.calls("POST", MEDIA)[0]
    assert create.form == {"image_url": IMAGE["url"], "caption": "Morning pour #coffee"}

    outcome = adapter.poll(delivery(), submitted.state)  # images are FINISHED at once
    assert outcome.kind == "published"
    media = instagram_server.media[0]
    assert outcome.external_id == media.id
    assert outcome.external_url == media.permalink and "/p/" in media.permalink
    assert instagram_server.publishes()[0].form == {"creation_id": submitted.state["containerId"]}
    assert len(instagram_server.publishes()) == 1
    # The token only ever travels in the Authorization header.
    for request in instagram_server.requests:
        assert request.bearer == TOKEN and "access_token" not in request.params


@pytest.mark.parametrize("share, expected", [(None, "true"), (True, "true"), (False, "false")])
def test_video_is_a_reel_and_waits_for_processing(adapter, delivery, instagram_server, share, expected):
    instagram_server.container_polls = 2
    post = delivery(mediaType="video", media=[VIDEO], shareReelToFeed=share)
    outcome = adapter.submit(post)
    kinds = []
    while outcome.kind == "processing" and len(kinds) < 6:
        outcome = adapter.poll(post, outcome.state)
        kinds.append(outcome.kind)
    assert kinds == ["processing", "processing", "published"]
    assert "/reel/" in outcome.external_url
    assert instagram_server.calls("POST", MEDIA)[0].form == {
        "media_type": "REELS", "video_url": VIDEO["url"], "caption": "Morning pour #coffee", "share_to_feed": expected}
    assert instagram_server.calls("GET", NODE)[0].query == {"fields": "status_code,status"}


def test_image_carousel(adapter, delivery, instagram_server):
    images = [IMAGE, {"url": "https://media.example.com/b.jpg", "kind": "image"}]
    outcome = run(adapter, delivery(mediaType="slideshow", media=images))
    assert outcome.kind == "published"
    creates = instagram_server.calls("POST", MEDIA)
    assert [c.form for c in creates[:2]] == [{"image_url": m["url"], "is_carousel_item": "true"} for m in images]
    children = [c for c in instagram_server.containers.values() if c.params.get("is_carousel_item")]
    assert creates[2].form == {"media_type": "CAROUSEL", "children": ",".join(c.id for c in children),
                               "caption": "Morning pour #coffee"}
    assert len(instagram_server.publishes()) == 1


def test_carousel_with_a_video_waits_for_its_items(adapter, delivery, instagram_server):
    instagram_server.container_polls = 2
    post = delivery(mediaType="slideshow", media=[IMAGE, VIDEO])
    submitted = adapter.submit(post)
    assert submitted.kind == "processing" and "containerId" not in submitted.state
    assert instagram_server.calls("POST", MEDIA)[1].form == {"media_type": "VIDEO", "video_url": VIDEO["url"],
                                                             "is_carousel_item": "true"}
    outcome = run(adapter, post)
    assert outcome.kind == "published"


def test_first_comment_is_posted_once_after_publish(adapter, delivery, instagram_server):
    outcome = run(adapter, delivery(firstComment="More at acme.example"))
    assert outcome.kind == "published"
    assert [c["text"] for c in instagram_server.media[0].comments] == ["More at acme.example"]


def test_failed_first_comment_does_not_unpublish(adapter, delivery, instagram_server):
    instagram_server.fault("POST", rf"{V}/\d+/comments", error_fault(403, 10, "(#10) no instagram_manage_comments"))
    outcome = run(adapter, delivery(firstComment="hello"))
    assert outcome.kind == "published" and outcome.external_url


@pytest.mark.parametrize("fault", [Fault(status=500, body={"error": {"message": "boom", "code": 1}}),
                                   Fault(delay=1.0)])
def test_permalink_failure_leaves_external_url_none(adapter, delivery, instagram_server, fault):
    instagram_server.fault("GET", NODE, fault, query={"fields": "permalink"})
    outcome = run(adapter, delivery())
    assert outcome.kind == "published"
    assert outcome.external_id == instagram_server.media[0].id and outcome.external_url is None
    assert len(instagram_server.publishes()) == 1


# -- lost answers and crashes: never a second publish --------------------------

def test_publish_timeout_is_unknown_then_confirm_recovers_without_republishing(adapter, delivery, instagram_server,
                                                                                slow):
    post = delivery(firstComment="first!")
    state = adapter.submit(post).state
    instagram_server.fault("POST", PUBLISH, Fault(delay=slow))  # Meta publishes; the answer is late
    lost = adapter.poll(post, state)
    assert lost.kind == "unknown" and lost.state["containerId"] == state["containerId"]

    outcome = adapter.confirm(post, lost.state)
    assert outcome.kind == "published"
    media = instagram_server.media[0]
    assert outcome.external_id == media.id and outcome.external_url == media.permalink
    assert len(instagram_server.publishes()) == 1
    assert [c["text"] for c in media.comments] == ["first!"]


def test_publish_that_never_reached_meta_is_published_on_confirm(adapter, delivery, instagram_server):
    state = adapter.submit(delivery()).state
    instagram_server.fault("POST", PUBLISH, Fault(status=502, drop=True))  # connection lost before Meta acted
    lost = adapter.poll(delivery(), state)
    assert lost.kind == "unknown"
    assert instagram_server.containers[state["containerId"]].status_code == "FINISHED"

    outcome = adapter.confirm(delivery(), lost.state)
    assert outcome.kind == "published" and len(instagram_server.media) == 1


def test_poll_after_a_crash_recovers_the_published_media(adapter, delivery, instagram_server):
    post = delivery(firstComment="only once")
    state = adapter.submit(post).state
    first = adapter.poll(post, state)          # published, but say the publisher crashed before saving it
    again = adapter.poll(post, state)          # the container now says PUBLISHED
    assert again.kind == "published" and again.external_id == first.external_id
    assert again.external_url == first.external_url
    assert len(instagram_server.publishes()) == 1
    assert [c["text"] for c in instagram_server.media[0].comments] == ["only once"]  # no duplicate comment


def test_recovery_matches_the_caption_not_just_the_newest_media(adapter, delivery, instagram_server):
    state = adapter.submit(delivery()).state
    adapter.poll(delivery(), state)
    instagram_server.add_media(IG, "someone else's later post", "2026-01-01T00:01:00+0000")
    outcome = adapter.confirm(delivery(), state)
    assert outcome.kind == "published"
    assert outcome.external_id == instagram_server.media[1].id


def test_recovery_ignores_old_media_with_the_same_caption(adapter, delivery, instagram_server):
    instagram_server.add_media(IG, "Morning pour #coffee", "2020-01-01T00:00:00+0000")
    state = adapter.submit(delivery()).state
    instagram_server.containers[state["containerId"]].status_code = "PUBLISHED"  # live, not yet listed
    outcome = adapter.confirm(delivery(attemptedAt="2026-01-01T00:00:00.000Z"), state)
    assert outcome.kind == "published" and outcome.external_id is None
    assert instagram_server.publishes() == []


def test_confirm_without_a_container_knows_nothing_went_live(adapter, delivery, instagram_server):
    """Only media_publish makes a post live, and a submit only ever publishes a
    container it recorded first: no container recorded means nothing is live,
    so the post may go on within its retry window (docs/adr/0012)."""
    outcome = adapter.confirm(delivery(), {})
    assert outcome.kind == "retry" and outcome.error.code == "NOT_PUBLISHED"
    assert instagram_server.requests == []


def test_container_creation_that_timed_out_is_retried(adapter, delivery, instagram_server, slow):
    instagram_server.fault("POST", MEDIA, Fault(delay=slow))
    assert adapter.submit(delivery()).kind == "retry"  # an orphan container is never published


def test_unreachable_graph_is_retried(delivery, timeouts):
    outcome = InstagramAdapter(base_url=closed_port_url(), **timeouts).submit(delivery())
    assert outcome.kind == "retry" and outcome.error.code == "NETWORK_ERROR"


# -- container states and Graph errors -------------------------------------------

@pytest.mark.parametrize("status, code, platform_code", [("ERROR", "CONTAINER_FAILED", "2207026"),
                                                         ("EXPIRED", "CONTAINER_EXPIRED", "EXPIRED")])
def test_failed_containers(adapter, delivery, instagram_server, status, code, platform_code):
    state = adapter.submit(delivery()).state
    instagram_server.containers[state["containerId"]].status_code = status
    outcome = adapter.poll(delivery(), state)
    assert outcome.kind == "failed" and outcome.error.code == code and outcome.error.platformCode == platform_code
    assert instagram_server.publishes() == []


def test_not_ready_on_publish_keeps_polling(adapter, delivery, instagram_server):
    state = adapter.submit(delivery()).state
    instagram_server.fault("POST", PUBLISH, error_fault(400, 9007, "Media ID is not available", 2207027))
    outcome = adapter.poll(delivery(), state)
    assert outcome.kind == "processing" and outcome.state == state
    assert adapter.poll(delivery(), state).kind == "published"


@pytest.mark.parametrize("fault", [
    error_fault(400, 4, "(#4) Application request limit reached"),
    error_fault(400, 17, "(#17) User request limit reached"),
    error_fault(400, 32, "Page request limit reached"),
    error_fault(400, 613, "Calls to this api have exceeded the rate limit."),
    error_fault(400, 9, "Application request limit reached", 2207042),
    error_fault(500, 1, "An unknown error occurred"),
    error_fault(400, 2, "Service temporarily unavailable", is_transient=True),
    error_fault(400, -1, "Unexpected error", 2207001),
])
def test_transient_publish_errors_retry_with_the_container_kept(adapter, delivery, instagram_server, fault):
    state = adapter.submit(delivery()).state
    instagram_server.fault("POST", PUBLISH, fault)
    outcome = adapter.poll(delivery(), state)
    assert outcome.kind == "retry" and outcome.state == state
    assert instagram_server.media == []


def test_resubmit_after_a_publish_error_reads_the_kept_container_first(adapter, delivery, instagram_server):
    # A 5xx from media_publish does not prove that nothing went live. The
    # publisher resubmits after "retry" with the container in platformState:
    # the submit must read that container, not publish a new one.
    state = adapter.submit(delivery()).state
    live = adapter.poll(delivery(), state)   # Meta published it; say the answer we saw was a 500
    again = adapter.submit(delivery(platformState=state))
    assert again.kind == "published" and again.external_id == live.external_id
    assert len(instagram_server.publishes()) == 1 and len(instagram_server.calls("POST", MEDIA)) == 1


@pytest.mark.parametrize("fault, platform_code", [
    (error_fault(400, 10, "(#10) Application does not have permission for this action"), "10"),
    (error_fault(403, 200, "(#200) Permissions error"), "200"),
    (error_fault(400, 4, "The action is restricted (spam)", 2207051), "4/2207051"),
    (error_fault(400, 36003, "The aspect ratio is not supported.", 2207009), "36003/2207009"),
])
def test_permanent_errors_fail_with_the_graph_message(adapter, delivery, instagram_server, fault, platform_code):
    instagram_server.fault("POST", MEDIA, fault)
    outcome = adapter.submit(delivery())
    assert outcome.kind == "failed"
    assert outcome.error.message == fault.body["error"]["message"]
    assert outcome.error.platformCode == platform_code and outcome.account_status is None


def test_invalid_token_requires_reauth(adapter, delivery):
    outcome = adapter.submit(delivery(token="EAAG-revoked"))
    assert outcome.kind == "failed" and outcome.account_status == "reauth_required"
    assert outcome.error.platformCode == "190/463"
    assert "EAAG-revoked" not in outcome.error.message


def test_personal_account_fails_with_the_graph_message(adapter, delivery, instagram_server):
    instagram_server.account_types[IG] = "personal"
    outcome = adapter.submit(delivery(account_type="personal"))
    assert outcome.kind == "failed"
    assert outcome.error.message == PERSONAL_ACCOUNT_MESSAGE
    assert outcome.account_status is None
    assert len(instagram_server.calls("POST", MEDIA)) == 1  # the live adapter asked Graph; no special case


def test_token_in_a_graph_message_is_redacted(adapter, delivery, instagram_server, caplog):
    caplog.set_level(logging.DEBUG)
    instagram_server.fault("POST", MEDIA, error_fault(400, 100, f"Invalid OAuth access token {TOKEN}"))
    outcome = adapter.submit(delivery())
    assert TOKEN not in outcome.error.message and "[redacted]" in outcome.error.message
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_base_url_comes_from_the_environment(monkeypatch, instagram_server, delivery):
    monkeypatch.setenv("INSTAGRAM_GRAPH_BASE", instagram_server.base_url)
    assert InstagramAdapter(read_timeout=0.3).submit(delivery()).kind == "processing"
    monkeypatch.delenv("INSTAGRAM_GRAPH_BASE")
    assert InstagramAdapter().base_url == "https://graph.facebook.com/v21.0"


# -- draft mode: texted to the primary operator ------------------------------------

class FakeMessaging:
    """An in-memory MessagingPort that dedupes on idempotency keys like Linq."""

    def __init__(self) -> None:
        self.chats: dict[str, dict[str, Any]] = {}
        self.sends: list[tuple[str, Message]] = []   # every call that reached the "provider"
        self.lose_answer: set[str] = set()           # 'create_chat' / 'send': deliver, then raise
        self.reject: str | None = None
        self.unavailable = False

    def _check(self, op: str) -> None:
        if self.reject:
            raise ProviderRejected(self.reject, status=400, code="1002")
        if self.unavailable:
            raise ProviderUnavailable("down")

    def create_chat(self, to: str, first: Message) -> SentChat:
        self._check("create_chat")
        chat_id = f"chat-{len(self.chats) + 1}"
        self.chats[chat_id] = {"to": to, "messages": [first]}
        self.sends.append((chat_id, first))
        if "create_chat" in self.lose_answer:
            self.lose_answer.discard("create_chat")
            raise SendOutcomeUnknown("timeout")
        return SentChat(chat_id, [first.idempotency_key])

    def send(self, chat_id: str, message: Message) -> str:
        self._check("send")
        self.chats[chat_id]["messages"].append(message)
        self.sends.append((chat_id, message))
        if "send" in self.lose_answer:
            self.lose_answer.discard("send")
            raise SendOutcomeUnknown("timeout")
        return f"msg-{len(self.sends)}"

    def find_chat(self, to: str, first_idempotency_key: str, **_: Any) -> str | None:
        return next((cid for cid, chat in self.chats.items() if chat["to"] == to and
                     chat["messages"][0].idempotency_key == first_idempotency_key), None)

    def has_message(self, chat_id: str, idempotency_key: str, **_: Any) -> bool:
        return any(m.idempotency_key == idempotency_key for m in self.chats.get(chat_id, {}).get("messages", []))


PHONE = "+15551234567"


@pytest.fixture
def messaging() -> FakeMessaging:
    return FakeMessaging()


@pytest.fixture
def draft(instagram_server, messaging, timeouts, delivery):
    adapter = InstagramAdapter(base_url=instagram_server.base_url, messaging=messaging, **timeouts)

    def build(phone: str | None = PHONE, **post: Any) -> tuple[InstagramAdapter, Delivery]:
        d = delivery(mode="draft", **post)
        d.operator_phone = phone
        return adapter, d
    return build


def test_draft_texts_media_then_caption(draft, messaging, instagram_server):
    adapter, d = draft(mediaType="slideshow", media=[IMAGE, VIDEO], firstComment="link in bio")
    outcome = adapter.submit(d)
    assert outcome.kind == "draft"
    (chat_id, chat), = messaging.chats.items()
    assert chat["to"] == PHONE
    media, caption = chat["messages"]
    assert [(p.type, p.value) for p in media.parts] == [("media", IMAGE["url"]), ("media", VIDEO["url"])]
    text = "Morning pour #coffee\n\nFirst comment: link in bio"
    assert [(p.type, p.value) for p in caption.parts] == [("text", text)]
    assert instagram_server.requests == []  # no Graph call for a draft


def test_draft_without_operator_phone_fails(draft, messaging):
    adapter, d = draft(phone=None)
    outcome = adapter.submit(d)
    assert outcome.kind == "failed" and outcome.error.code == "OPERATOR_PHONE_UNVERIFIED"
    assert messaging.sends == []


def test_draft_rejected_by_the_provider_fails(draft, messaging):
    messaging.reject = "phone number is not E.164"
    adapter, d = draft()
    outcome = adapter.submit(d)
    assert outcome.kind == "failed" and outcome.error.code == "PROVIDER_REJECTED"
    assert outcome.error.message == "phone number is not E.164"


def test_draft_without_a_messaging_port_fails(instagram_server, delivery, timeouts):
    d = delivery(mode="draft")
    d.operator_phone = PHONE
    outcome = InstagramAdapter(base_url=instagram_server.base_url, **timeouts).submit(d)
    assert outcome.kind == "failed" and outcome.error.code == "SMS_PROVIDER_UNAVAILABLE"


def test_draft_provider_down_is_retried(draft, messaging):
    messaging.unavailable = True
    adapter, d = draft()
    assert adapter.submit(d).kind == "retry"


def test_draft_caption_answer_lost_is_confirmed_not_resent(draft, messaging):
    messaging.lose_answer = {"send"}
    adapter, d = draft()
    lost = adapter.submit(d)
    assert lost.kind == "unknown" and lost.state["draftStep"] == "caption"
    assert adapter.confirm(d, lost.state).kind == "draft"
    assert len(messaging.sends) == 2  # media + caption, nothing twice


def test_draft_media_answer_lost_continues_from_the_chat(draft, messaging):
    messaging.lose_answer = {"create_chat"}
    adapter, d = draft()
    lost = adapter.submit(d)
    assert lost.kind == "unknown"
    assert adapter.confirm(d, lost.state).kind == "draft"
    assert [m.idempotency_key.rsplit(":", 1)[1] for _, m in messaging.sends] == ["media", "caption"]


def test_draft_confirmed_absent_is_resubmitted_not_failed(draft, messaging):
    """A chat read that succeeds and finds no media of this attempt is
    authoritative: nothing reached the phone, so the post goes on (a retry),
    and the confirm itself sends nothing (docs/adr/0012)."""
    adapter, d = draft()
    outcome = adapter.confirm(d, {"draftStep": "media"})
    assert outcome.kind == "retry" and outcome.error.code == "NOT_DELIVERED"
    assert messaging.sends == []
