"""POST /v1/content/{containerId}/notify-device over HTTP against the local stack
(test keys: the sandbox messenger; every accepted text is a sandbox delivery)."""
from __future__ import annotations

import random
import threading
import uuid

import pytest

from layers_shared.instructions import TemplateWriter
from layers_shared.messaging.port import ProviderRejected
from layers_shared.messaging.sandbox import SandboxMessenger
from tests.support import (
    FIXTURE, FOREIGN_CONTAINER, IMAGE, NO_MEDIA, NO_PHONE_KEY, OTHER_ORG_KEY, PENDING, PROCESSING, READ_KEY,
    REVOKED_KEY, SLIDESHOW, UNVERIFIED_KEY, VIDEO, Client, Reply, assert_envelope,
)

OWNER_PHONE = "+15551234567"  # KEY's owner, verified


def fresh_phone() -> str:
    """A number no other test used, so delivery counts are this test's alone."""
    while True:
        phone = "+1555" + "".join(random.choice("0123456789") for _ in range(7))
        if not phone.endswith("0000"):
            return phone


def notify(api: Client, container: str, body: dict | None = None, *, key: str | bool = True,
           idem: str | None = None, raw: bytes | None = None) -> Reply:
    headers = {"Idempotency-Key": idem} if idem else None
    return api.post(f"/v1/content/{container}/notify-device", body, key=key, headers=headers, raw=raw)


def sms_to(api: Client, phone: str) -> list[dict]:
    items = api.get("/_local/sandbox/deliveries", key=False).body["items"]
    return [i for i in items if i["kind"] == "sms" and i.get("phoneNumber") == phone]


def container_fixture(container_id: str) -> dict:
    return next(c for c in FIXTURE["containers"] if c["id"] == container_id)


# --- the error table, row by row ------------------------------------------------------------------

def test_401_without_or_with_a_bad_key(api):
    assert_envelope(notify(api, VIDEO, {}, key=False), 401, "UNAUTHENTICATED")
    assert_envelope(notify(api, VIDEO, {}, key="lp_test_NOTAKEY000000000_nope-nope-nope-nope"), 401,
                    "UNAUTHENTICATED")
    assert_envelope(notify(api, VIDEO, {}, key=REVOKED_KEY), 401, "UNAUTHENTICATED")


def test_403_without_publish_write(api):
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": fresh_phone()}, key=READ_KEY), 403,
                              "FORBIDDEN_SCOPE")
    assert details["requiredScope"] == "publish:write"


@pytest.mark.parametrize("container", [FOREIGN_CONTAINER, "cnt_00000000-0000-4000-8000-000000000000",
                                       "not-an-id"])
def test_404_for_a_container_outside_the_organization(api, container):
    details = assert_envelope(notify(api, container, {"phoneNumber": fresh_phone()}), 404, "NOT_FOUND")
    assert details["containerId"] == container


def test_404_for_another_organizations_key(api):
    assert_envelope(notify(api, VIDEO, {"phoneNumber": fresh_phone()}, key=OTHER_ORG_KEY), 404, "NOT_FOUND")


def test_409_content_not_ready(api):
    details = assert_envelope(notify(api, PROCESSING, {"phoneNumber": fresh_phone()}), 409, "CONFLICT")
    assert details["reason"] == "CONTENT_NOT_READY"
    assert details["status"] == "processing"


@pytest.mark.parametrize("value", ["", "5551234567", "+05551234567", "+1 555 123 4567", "+1555123",
                                   "+1555123456789012", "+1555123456a", "+15551234567\n", "tel:+15551234567",
                                   "+1555١٢٣٤٥٦٧"])
def test_422_malformed_phone_names_the_field(api, value):
    phone_before = sms_to(api, value)
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": value}), 422, "VALIDATION")
    assert [i["path"] for i in details["issues"]] == ["phoneNumber"]
    assert details["issues"][0]["code"] == "invalid_format"
    assert "reason" not in details
    assert sms_to(api, value) == phone_before


@pytest.mark.parametrize("body,code", [({"phoneNumber": 15551234567}, "invalid_type"),
                                       ({"phoneNumber": ["+15551234567"]}, "invalid_type"),
                                       ({"phone": "+15551234567"}, "unknown_field")])
def test_422_wrong_shapes(api, body, code):
    details = assert_envelope(notify(api, VIDEO, body), 422, "VALIDATION")
    assert details["issues"][0]["code"] == code
    assert details["issues"][0]["path"] in ("phoneNumber", "phone")


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'"+15551234567"', b"[" * 5000 + b"]" * 5000])
def test_422_body_not_an_object(api, raw):
    details = assert_envelope(notify(api, VIDEO, raw=raw), 422, "VALIDATION")
    assert details["issues"][0]["path"] == ""


@pytest.mark.parametrize("body", [None, {}, {"phoneNumber": None}])
def test_422_phone_required_when_the_owner_has_no_phone(api, body):
    details = assert_envelope(notify(api, VIDEO, body, key=NO_PHONE_KEY), 422, "VALIDATION")
    assert details["reason"] == "PHONE_REQUIRED"
    assert details["issues"][0]["path"] == "phoneNumber"


def test_422_owner_phone_unverified(api):
    details = assert_envelope(notify(api, VIDEO, {}, key=UNVERIFIED_KEY), 422, "VALIDATION")
    assert details["reason"] == "OWNER_PHONE_UNVERIFIED"


def test_an_explicit_phone_does_not_need_the_owner(api):
    phone = fresh_phone()
    reply = notify(api, IMAGE, {"phoneNumber": phone}, key=UNVERIFIED_KEY)
    assert reply.status == 200, reply.body
    assert reply.body["phoneNumberLast4"] == phone[-4:]
    assert len(sms_to(api, phone)) == 3


def test_422_no_media(api):
    details = assert_envelope(notify(api, NO_MEDIA, {"phoneNumber": fresh_phone()}), 422, "VALIDATION")
    assert details["reason"] == "NO_MEDIA"


def test_502_provider_rejected_carries_the_provider_message(api):
    phone = "+15557770000"
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": phone}), 502, "PLATFORM_ERROR")
    assert details["reason"] == "PROVIDER_REJECTED"
    assert details["providerError"] == "Destination rejected by carrier (sandbox)"
    assert sms_to(api, phone) == []


def test_503_when_the_provider_is_switched_off(api, monkeypatch):
    monkeypatch.setenv("SMS_PROVIDER", "none")
    phone = fresh_phone()
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": phone}), 503, "PLATFORM_ERROR")
    assert details["reason"] == "SMS_PROVIDER_UNAVAILABLE"
    assert sms_to(api, phone) == []
    monkeypatch.delenv("SMS_PROVIDER")
    assert notify(api, VIDEO, {"phoneNumber": phone}).status == 200  # read per request, no restart


# --- order of the checks ---------------------------------------------------------------------------

def test_order_body_before_container(api):
    assert notify(api, FOREIGN_CONTAINER, {"phoneNumber": "nope"}).status == 422


def test_order_tenancy_before_state(api):
    assert notify(api, PROCESSING, {"phoneNumber": fresh_phone()}, key=OTHER_ORG_KEY).status == 404


def test_order_state_before_phone(api):
    details = assert_envelope(notify(api, PROCESSING, {}, key=NO_PHONE_KEY), 409, "CONFLICT")
    assert details["reason"] == "CONTENT_NOT_READY"


def test_order_phone_before_media(api):
    details = assert_envelope(notify(api, NO_MEDIA, {}, key=UNVERIFIED_KEY), 422, "VALIDATION")
    assert details["reason"] == "OWNER_PHONE_UNVERIFIED"


def test_order_media_before_provider(api, monkeypatch):
    monkeypatch.setenv("SMS_PROVIDER", "none")
    details = assert_envelope(notify(api, NO_MEDIA, {"phoneNumber": fresh_phone()}), 422, "VALIDATION")
    assert details["reason"] == "NO_MEDIA"
    details = assert_envelope(notify(api, VIDEO, {"phoneNumber": "+15557770000"}), 503, "PLATFORM_ERROR")
    assert details["reason"] == "SMS_PROVIDER_UNAVAILABLE"


# --- success ---------------------------------------------------------------------------------------

def test_200_shape_field_by_field(api):
    phone = fresh_phone()
    reply = notify(api, SLIDESHOW, {"phoneNumber": phone})
    assert reply.status == 200, reply.body
    body = reply.body
    assert set(body) == {"containerId", "deliveryStatus", "phoneNumberLast4", "providerChatId", "mediaCount"}
    assert body["containerId"] == SLIDESHOW
    assert body["deliveryStatus"] == "sent"
    assert body["phoneNumberLast4"] == phone[-4:]
    assert isinstance(body["providerChatId"], str) and body["providerChatId"]
    assert body["mediaCount"] == 3
    assert reply.header("X-Request-Id", ).startswith("req_")


def test_the_owner_phone_is_the_fallback(api):
    before = len(sms_to(api, OWNER_PHONE))
    reply = notify(api, IMAGE, {})
    assert reply.status == 200, reply.body
    assert reply.body["phoneNumberLast4"] == "4567"
    assert len(sms_to(api, OWNER_PHONE)) == before + 3
    assert notify(api, IMAGE, None).status == 200  # an empty body is {}
    assert len(sms_to(api, OWNER_PHONE)) == before + 6


def test_three_messages_in_order_media_caption_instructions(api):
    phone = fresh_phone()
    video = container_fixture(VIDEO)
    assert notify(api, VIDEO, {"phoneNumber": phone}).status == 200
    sent = sms_to(api, phone)
    assert len(sent) == 3
    by_key = sorted(sent, key=lambda s: s["messageKey"])
    prefixes = {s["messageKey"].rsplit("-", 1)[0] for s in sent}
    assert len(prefixes) == 1 and [s["messageKey"][-2:] for s in by_key] == ["-1", "-2", "-3"]
    assert [s["at"] for s in by_key] == sorted(s["at"] for s in by_key)  # sent in that order
    media, caption, instructions = by_key
    assert media["parts"] == [{"type": "media", "url": m["url"]} for m in video["media"]]
    assert caption["parts"] == [{"type": "text", "value": f"{video['caption']}\n\n"
                                 "First comment (post it under your post once it is live):\n"
                                 f"{video['firstComment']}"}]
    # The project has TikTok and Instagram accounts: the instructions cover both apps.
    expected = TemplateWriter().write(None, "video", video["caption"], video["firstComment"], 1)
    assert instructions["parts"] == [{"type": "text", "value": expected}]
    assert all(s["containerId"] == VIDEO for s in sent)


def test_every_media_url_goes_in_the_first_message(api):
    phone = fresh_phone()
    assert notify(api, SLIDESHOW, {"phoneNumber": phone}).status == 200
    first = next(s for s in sms_to(api, phone) if s["messageKey"].endswith("-1"))
    assert [p["url"] for p in first["parts"]] == [m["url"] for m in container_fixture(SLIDESHOW)["media"]]


def test_instructions_follow_the_projects_only_platform(api):
    phone = fresh_phone()  # PENDING's project has only a TikTok account
    assert notify(api, PENDING, {"phoneNumber": phone}).status == 200
    third = next(s for s in sms_to(api, phone) if s["messageKey"].endswith("-3"))
    assert third["parts"][0]["value"].startswith("How to post this on TikTok:")


# --- never twice -----------------------------------------------------------------------------------

def test_replay_with_the_same_key_sends_nothing_more(api):
    phone, idem = fresh_phone(), str(uuid.uuid4())
    first = notify(api, VIDEO, {"phoneNumber": phone}, idem=idem)
    assert first.status == 200
    again = notify(api, VIDEO, {"phoneNumber": phone}, idem=idem)
    assert again.status == 200 and again.body == first.body
    assert again.header("Idempotent-Replayed") == "true"
    assert len(sms_to(api, phone)) == 3


def test_same_key_other_body_is_a_conflict_and_sends_nothing(api):
    phone, idem = fresh_phone(), str(uuid.uuid4())
    assert notify(api, VIDEO, {"phoneNumber": phone}, idem=idem).status == 200
    other = fresh_phone()
    assert_envelope(notify(api, VIDEO, {"phoneNumber": other}, idem=idem), 409, "IDEMPOTENCY_CONFLICT")
    assert sms_to(api, other) == []


def test_ten_concurrent_identical_requests_text_once(api):
    phone, idem = fresh_phone(), str(uuid.uuid4())
    replies: list[Reply] = []
    lock = threading.Lock()
    start = threading.Barrier(10)

    def call() -> None:
        start.wait()
        reply = notify(api, SLIDESHOW, {"phoneNumber": phone}, idem=idem)
        with lock:
            replies.append(reply)

    threads = [threading.Thread(target=call) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sms_to(api, phone)) == 3
    ok = [r for r in replies if r.status == 200]
    busy = [r for r in replies if r.status == 409]
    assert ok and len(ok) + len(busy) == 10
    assert all(r.details["reason"] == "IDEMPOTENCY_IN_PROGRESS" for r in busy)
    assert len({r.body["providerChatId"] for r in ok}) == 1
    # Once the first answer is stored, a retry is a replay that sends nothing.
    assert notify(api, SLIDESHOW, {"phoneNumber": phone}, idem=idem).header("Idempotent-Replayed") == "true"
    assert len(sms_to(api, phone)) == 3


def test_without_a_key_each_call_texts_again_in_the_same_chat(api):
    phone = fresh_phone()
    first = notify(api, IMAGE, {"phoneNumber": phone})
    second = notify(api, IMAGE, {"phoneNumber": phone})
    assert first.status == second.status == 200
    assert len(sms_to(api, phone)) == 6
    assert first.body["providerChatId"] == second.body["providerChatId"]


def test_chat_id_is_per_phone(api):
    phone = fresh_phone()
    a = notify(api, VIDEO, {"phoneNumber": phone}, idem=str(uuid.uuid4()))
    b = notify(api, IMAGE, {"phoneNumber": phone}, idem=str(uuid.uuid4()))
    c = notify(api, VIDEO, {"phoneNumber": fresh_phone()})
    assert a.status == b.status == c.status == 200
    assert a.body["providerChatId"] == b.body["providerChatId"]
    assert c.body["providerChatId"] != a.body["providerChatId"]


def test_chat_id_is_per_organization(api):
    phone = fresh_phone()
    ours = notify(api, VIDEO, {"phoneNumber": phone})
    theirs = notify(api, FOREIGN_CONTAINER, {"phoneNumber": phone}, key=OTHER_ORG_KEY)
    assert ours.status == theirs.status == 200
    assert ours.body["providerChatId"] != theirs.body["providerChatId"]


def test_a_retry_after_a_partial_send_sends_only_the_rest(api, monkeypatch):
    """The third message is refused once (a 502, which the idempotency layer does
    not store); the retry with the same key sends the third only."""
    phone, idem = fresh_phone(), str(uuid.uuid4())
    original = SandboxMessenger.send
    refused: list[str] = []

    def refuse_the_instructions(self, chat_id, message, **kw):
        if message.idempotency_key.endswith("-3") and not refused:
            refused.append(message.idempotency_key)
            raise ProviderRejected("Temporarily refused (test)", status=400)
        return original(self, chat_id, message, **kw)

    monkeypatch.setattr(SandboxMessenger, "send", refuse_the_instructions)
    first = notify(api, VIDEO, {"phoneNumber": phone}, idem=idem)
    details = assert_envelope(first, 502, "PLATFORM_ERROR")
    assert details == {"reason": "PROVIDER_REJECTED", "providerError": "Temporarily refused (test)",
                       "acceptedMessages": 2}
    assert sorted(s["messageKey"][-2:] for s in sms_to(api, phone)) == ["-1", "-2"]

    retry = notify(api, VIDEO, {"phoneNumber": phone}, idem=idem)
    assert retry.status == 200, retry.body
    assert retry.header("Idempotent-Replayed") is None
    sent = sms_to(api, phone)
    assert sorted(s["messageKey"][-2:] for s in sent) == ["-1", "-2", "-3"]
    assert len({s["messageKey"] for s in sent}) == 3
    assert refused == [next(s["messageKey"] for s in sent if s["messageKey"].endswith("-3"))]


def test_rejected_content_is_not_texted(api):
    from tests.support import REJECTED

    before = len(api.get("/_local/sandbox/deliveries", key=None).body["items"])
    details = assert_envelope(api.post(f"/v1/content/{REJECTED}/notify-device", {"phoneNumber": "+15550001111"}),
                              409, "CONTENT_REJECTED")
    assert details["containerId"] == REJECTED
    assert len(api.get("/_local/sandbox/deliveries", key=None).body["items"]) == before


def test_pending_content_can_be_texted_for_review(api):
    reply = api.post(f"/v1/content/{PENDING}/notify-device", {"phoneNumber": "+15550001112"})
    assert reply.status == 200 and reply.body["deliveryStatus"] == "sent"
