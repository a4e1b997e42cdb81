"""Webhooks over HTTP against the local stack (webhooks.md): routes, events
raised with their state changes, signed deliveries over real HTTP to a
receiver on 127.0.0.1, the retry ladder (shortened to 1 s waits here; the real
values are asserted in tests/unit/webhooks/test_rules.py), replay, rotation,
pause, auto-pause, delete, the project filter and exactly-once events."""
from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from layers_shared.webhooks import signing, ssrf
from tests.support import (
    FAST_PUBLISHER_TIMINGS, GATED_ACCOUNT, KEY, LIVE_KEY, NO_SCOPE_KEY, OTHER_ORG_KEY, PENDING, PENDING_2,
    READ_KEY, TIKTOK, VIDEO, WRITE_KEY, assert_envelope, environment, future, prj,
)
from tests.webhook_receiver import Receiver

EVENTS = ["post.scheduled", "post.published", "post.failed", "post.canceled", "content.approved",
          "content.rejected", "social_account.needs_reauth"]


@pytest.fixture(scope="module", autouse=True)
def short_ladder():
    with environment(WEBHOOK_RETRY_LADDER_SECONDS="1,1,1,1,1,1,1", **FAST_PUBLISHER_TIMINGS):
        yield


@pytest.fixture(scope="module")
def receiver():
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def make(api, receiver):
    """Create endpoints (each with its own receiver path); delete them after the test."""
    made: list[str] = []

    def create(events=None, path=None, **fields):
        path = path or f"/{uuid.uuid4().hex[:8]}"
        body = {"url": receiver.url(path), "events": events or EVENTS, **fields}
        reply = api.post("/v1/webhook-endpoints", body)
        assert reply.status == 201, reply.body
        made.append(reply.body["endpoint"]["id"])
        return reply.body["endpoint"], reply.body["signingSecret"], path

    yield create
    for endpoint_id in made:
        api.delete(f"/v1/webhook-endpoints/{endpoint_id}")


def verified(hit, secrets) -> bool:
    return signing.verify(secrets, hit.header("X-Layers-Signature"), hit.raw, int(time.time()))


def deliveries(api, endpoint_id, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    reply = api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries" + (f"?{qs}" if qs else ""))
    assert reply.status == 200, reply.body
    return reply.body["items"]


def wait_status(api, post_id, statuses, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = api.get(f"/v1/scheduled-posts/{post_id}").body
        if body["status"] in statuses:
            return body
        time.sleep(0.2)
    raise AssertionError(f"{post_id} stayed {body['status']}")


# -- events from state changes --------------------------------------------------------------

def test_a_published_sandbox_post_raises_signed_scheduled_then_published(api, make, receiver):
    endpoint, secret, path = make()
    started = time.time()
    reply = api.post(f"/v1/content/{VIDEO}/publish", {"targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]})
    assert reply.status == 200, reply.body
    (post_id,) = reply.body["scheduledPostIds"]
    scheduled = receiver.wait_for(path, lambda h: h.event["type"] == "post.scheduled")
    assert scheduled and scheduled[0].at - started < 5.0
    hit = scheduled[0]
    assert verified(hit, secret)
    assert hit.header("User-Agent") == "Layers-Webhooks/1" and hit.header("Content-Type") == "application/json"
    event = hit.event
    assert event["id"].startswith("evt_") and len(event["id"]) == 30 and event["id"] == hit.header("X-Layers-Event-Id")
    assert event["data"]["scheduledPostId"] == post_id and event["data"]["projectId"] == prj(1)
    assert set(event["data"]) == {"scheduledPostId", "containerId", "projectId", "socialAccountId", "platform",
                                  "mode", "scheduledFor"}
    post = wait_status(api, post_id, ("published", "draft", "failed"))
    assert post["status"] == "published", post
    published = receiver.wait_for(path, lambda h: h.event["type"] == "post.published")
    assert published and verified(published[0], secret)
    data = published[0].event["data"]
    assert data["scheduledPostId"] == post_id and data["status"] == "published" and data["externalId"]
    publish_time = time.mktime(time.strptime(post["publishedAt"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert published[0].at - publish_time < 5.0
    # The delivery log shows both, delivered at the first attempt.
    found = deliveries(api, endpoint["id"])
    assert {d["eventType"] for d in found} == {"post.scheduled", "post.published"}
    assert all(d["status"] == "delivered" and d["attempts"] == 1 and d["lastResponseStatus"] == 200 for d in found)


def test_cancel_and_reschedule_raise_their_events(api, make, receiver):
    _, secret, path = make(events=["post.scheduled", "post.canceled"])
    (post_id,) = api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}], future(60)).body[
        "scheduledPostIds"]
    new_time = future(120)
    assert api.post(f"/v1/scheduled-posts/{post_id}/reschedule", {"scheduledFor": new_time}).status == 200
    assert api.delete(f"/v1/scheduled-posts/{post_id}").status == 200
    hits = receiver.wait_for(path, count=3)
    kinds = sorted(h.event["type"] for h in hits)
    assert kinds == ["post.canceled", "post.scheduled", "post.scheduled"], kinds
    rescheduled = [h.event for h in hits if h.event["type"] == "post.scheduled"]
    assert new_time in {e["data"]["scheduledFor"] for e in rescheduled}
    canceled = next(h.event for h in hits if h.event["type"] == "post.canceled")
    assert canceled["data"]["scheduledPostId"] == post_id and canceled["data"]["canceledAt"]
    assert all(verified(h, secret) for h in hits)


def test_approval_twice_raises_one_content_approved_and_one_post_scheduled(api, make, receiver):
    _, _, path = make(events=["content.approved", "post.scheduled", "content.rejected"])
    stash = api.schedule(PENDING, [{"socialAccountId": GATED_ACCOUNT, "mode": "publish"}], future(60))
    assert stash.status == 202, stash.body
    assert receiver.wait_for(path, timeout=1.0) == []  # a stash is no state change of a post
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: api.post(f"/v1/content/{PENDING}/approve", {}), range(4)))
    assert all(a.status == 200 for a in answers), [a.body for a in answers]
    time.sleep(2.0)
    kinds = sorted(h.event["type"] for h in receiver.at(path))
    assert kinds == ["content.approved", "post.scheduled"], kinds
    approved = next(h.event for h in receiver.at(path) if h.event["type"] == "content.approved")
    assert approved["data"]["id"] == PENDING and approved["data"]["projectId"] == prj(2)
    # Reject raises content.rejected, once.
    assert api.post(f"/v1/content/{PENDING_2}/reject", {"reason": "off brand"}).status == 200
    assert api.post(f"/v1/content/{PENDING_2}/reject", {"reason": "off brand"}).status == 200
    rejected = receiver.wait_for(path, lambda h: h.event["type"] == "content.rejected")
    time.sleep(1.0)
    assert len([h for h in receiver.at(path) if h.event["type"] == "content.rejected"]) == 1
    assert rejected[0].event["data"]["reason"] == "off brand"


def test_ten_concurrent_identical_schedules_with_one_key_raise_one_event_per_post(api, make, receiver):
    _, _, path = make(events=["post.scheduled"])
    body = {"scheduledFor": future(90), "targets": [{"socialAccountId": TIKTOK, "mode": "publish"}]}
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: api.post(f"/v1/content/{VIDEO}/schedule", body,
                                                   headers={"Idempotency-Key": key}), range(10)))
    ok = [a for a in answers if a.status == 200]
    assert ok and all(a.status in (200, 409) for a in answers), [a.body for a in answers]
    post_ids = {i for a in ok for i in a.body["scheduledPostIds"]}
    assert len(post_ids) == 1
    receiver.wait_for(path)
    time.sleep(2.0)
    assert [h.event["data"]["scheduledPostId"] for h in receiver.at(path)] == list(post_ids)


def test_project_filter_and_paused_endpoints(api, make, receiver):
    _, _, mine = make(events=["post.scheduled"], projectId=prj(1))
    _, _, other = make(events=["post.scheduled"], projectId=prj(2))
    paused, _, silent = make(events=["post.scheduled"])
    assert api.call("PATCH", f"/v1/webhook-endpoints/{paused['id']}", {"status": "paused"}).status == 200
    api.schedule(VIDEO, [{"socialAccountId": TIKTOK, "mode": "publish"}], future(45))
    assert len(receiver.wait_for(mine)) == 1
    time.sleep(1.0)
    assert receiver.at(other) == [] and receiver.at(silent) == []


# -- delivery: ladder, replay, rotation, pause, auto-pause, delete -----------------------------------

def test_a_500_is_retried_with_the_same_event_id_then_delivered(api, make, receiver):
    endpoint, secret, path = make()
    receiver.script[path] = [500]
    ping = api.post(f"/v1/webhook-endpoints/{endpoint['id']}/test")
    assert ping.status == 202, ping.body
    hits = receiver.wait_for(path, count=2, timeout=10)
    assert len(hits) == 2
    assert hits[0].header("X-Layers-Event-Id") == hits[1].header("X-Layers-Event-Id") == ping.body["eventId"]
    assert hits[0].header("X-Layers-Delivery-Id") == hits[1].header("X-Layers-Delivery-Id") == ping.body["deliveryId"]
    assert hits[1].at - hits[0].at >= 0.9  # the first rung of the (shortened) ladder
    assert hits[0].event["type"] == "test.ping" and hits[0].event["data"] == {"endpointId": endpoint["id"]}
    time.sleep(0.3)
    (delivery,) = deliveries(api, endpoint["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 2 and delivery["lastResponseStatus"] == 200
    assert api.get(f"/v1/webhook-endpoints/{endpoint['id']}").body["consecutiveFailureCount"] == 0


def test_spent_attempts_fail_the_delivery(api, make, receiver):
    endpoint, _, path = make()
    receiver.always[path] = 503
    api.post(f"/v1/webhook-endpoints/{endpoint['id']}/test")
    assert len(receiver.wait_for(path, count=8, timeout=20)) == 8
    time.sleep(0.5)
    (delivery,) = deliveries(api, endpoint["id"])
    assert delivery["status"] == "failed" and delivery["attempts"] == 8 and delivery["nextRetryAt"] is None
    assert delivery["lastResponseStatus"] == 503 and delivery["lastErrorMessage"] == "HTTP 503"
    assert deliveries(api, endpoint["id"], status="failed") == [delivery]
    assert deliveries(api, endpoint["id"], status="delivered") == []
    assert deliveries(api, endpoint["id"], eventType="post.failed") == []


def test_replay_sends_the_same_data_under_a_new_event_id(api, make, receiver):
    endpoint, secret, path = make()
    ping = api.post(f"/v1/webhook-endpoints/{endpoint['id']}/test").body
    first = receiver.wait_for(path)[0]
    replay = api.post(f"/v1/webhook-deliveries/{ping['deliveryId']}/replay")
    assert replay.status == 200, replay.body
    assert replay.body["originalDeliveryId"] == ping["deliveryId"] and replay.body["scheduledAt"]
    second = receiver.wait_for(path, count=2)[1]
    assert second.event["id"] != first.event["id"] and second.event["replayOf"] == first.event["id"]
    assert second.event["data"] == first.event["data"] and verified(second, secret)
    assert second.header("X-Layers-Delivery-Id") == replay.body["replayDeliveryId"]
    time.sleep(0.3)
    replayed = next(d for d in deliveries(api, endpoint["id"]) if d["id"] == replay.body["replayDeliveryId"])
    assert replayed["replayOf"] == ping["deliveryId"]
    # Another organization's delivery, or an unknown one, is 404; a paused endpoint is 409.
    assert_envelope(api.post(f"/v1/webhook-deliveries/{ping['deliveryId']}/replay", key=OTHER_ORG_KEY), 404,
                    "NOT_FOUND")
    assert_envelope(api.post(f"/v1/webhook-deliveries/{uuid.uuid4()}/replay"), 404, "NOT_FOUND")
    api.call("PATCH", f"/v1/webhook-endpoints/{endpoint['id']}", {"status": "paused"})
    details = assert_envelope(api.post(f"/v1/webhook-deliveries/{ping['deliveryId']}/replay"), 409, "CONFLICT")
    assert details["reason"] == "ENDPOINT_PAUSED"


def test_rotation_signs_with_both_secrets_for_the_overlap(api, make, receiver, stack):
    endpoint, old, path = make()
    rotated = api.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers={"Idempotency-Key": "rot-1"})
    assert rotated.status == 200, rotated.body
    new = rotated.body["signingSecret"]
    assert new.startswith("whsec_") and new != old
    again = api.post(f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers={"Idempotency-Key": "rot-1"})
    assert again.body["signingSecret"] == new and again.header("Idempotent-Replayed") == "true"
    api.post(f"/v1/webhook-endpoints/{endpoint['id']}/test")
    hit = receiver.wait_for(path)[0]
    parts = hit.header("X-Layers-Signature").split(",")
    assert parts[0].startswith("t=") and [p[:3] for p in parts[1:]] == ["v1=", "v1="]
    stamp = int(parts[0][2:])
    assert parts[1][3:] == signing.signature(new, stamp, hit.raw)  # the new one first
    assert parts[2][3:] == signing.signature(old, stamp, hit.raw)
    assert verified(hit, new) and verified(hit, old)
    # Secrets are stored encrypted, the Idempotency-Key record included.
    dump = json.dumps([i for i in _scan(stack)], default=str)
    assert new not in dump and old not in dump


def _scan(stack):
    from layers_shared import aws
    from layers_shared.store import codec

    answer = aws.client("dynamodb").scan(TableName=stack.table.name)
    return [codec.deserialize(i) for i in answer["Items"]]


def test_auto_pause_after_twenty_failures_abandons_pending_deliveries(api, make, receiver):
    endpoint, _, path = make()
    receiver.always[path] = 500
    pings = [api.post(f"/v1/webhook-endpoints/{endpoint['id']}/test").body for _ in range(3)]
    deadline = time.time() + 30
    while time.time() < deadline:
        current = api.get(f"/v1/webhook-endpoints/{endpoint['id']}").body
        if current["status"] == "auto_paused":
            break
        time.sleep(0.2)
    assert current["status"] == "auto_paused" and current["consecutiveFailureCount"] >= 20
    time.sleep(1.5)
    hits = len(receiver.at(path))
    assert 20 <= hits <= 22  # attempts already under way when the 20th failed may still land
    found = {d["id"]: d for d in deliveries(api, endpoint["id"])}
    assert {found[p["deliveryId"]]["status"] for p in pings} <= {"abandoned", "failed"}
    assert "abandoned" in {found[p["deliveryId"]]["status"] for p in pings}
    time.sleep(2.0)
    assert len(receiver.at(path)) == hits  # nothing more goes out
    # Setting it active again resets the count.
    back = api.call("PATCH", f"/v1/webhook-endpoints/{endpoint['id']}", {"status": "active"})
    assert back.body["status"] == "active" and back.body["consecutiveFailureCount"] == 0


def test_delete_abandons_pending_deliveries_and_later_reads_are_404(api, make, receiver, stack):
    endpoint, _, path = make()
    receiver.always[path] = 500
    ping = api.post(f"/v1/webhook-endpoints/{endpoint['id']}/test").body
    receiver.wait_for(path)
    gone = api.delete(f"/v1/webhook-endpoints/{endpoint['id']}")
    assert gone.status == 200 and gone.body == {"id": endpoint["id"], "deleted": True}
    assert_envelope(api.get(f"/v1/webhook-endpoints/{endpoint['id']}"), 404, "NOT_FOUND")
    assert_envelope(api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"), 404, "NOT_FOUND")
    time.sleep(2.5)
    assert len(receiver.at(path)) <= 2  # at most an attempt that was already under way
    from layers_shared.store.webhook_deliveries import DynamoWebhookDeliveries

    assert DynamoWebhookDeliveries(stack.table).get(ping["deliveryId"]).status == "abandoned"


# -- SSRF: a live key's URL must resolve to public addresses, at creation and at delivery ---------

@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "192.168.0.1", "fd00::1"])
def test_a_live_url_resolving_to_a_private_address_is_refused_at_creation(api, address):
    ssrf.use(ssrf.StaticResolver({"hooks.partner.example": ["93.184.216.34", address]}))
    try:
        reply = api.post("/v1/webhook-endpoints", {"url": "https://hooks.partner.example/in", "events": EVENTS},
                         key=LIVE_KEY)
    finally:
        ssrf.use(None)
    details = assert_envelope(reply, 422, "VALIDATION")
    assert details["issues"] == [{"path": "url", "code": "forbidden_address",
                                  "message": "hooks.partner.example resolves to a non-public address"}]


def test_a_name_that_starts_resolving_to_a_private_address_is_refused_at_delivery(api, stack):
    resolver = ssrf.StaticResolver({"hooks.partner.example": ["93.184.216.34"]})
    ssrf.use(resolver)
    try:
        created = api.post("/v1/webhook-endpoints", {"url": "https://hooks.partner.example/in", "events": EVENTS},
                           key=LIVE_KEY)
        assert created.status == 201, created.body
        endpoint_id = created.body["endpoint"]["id"]
        resolver.table["hooks.partner.example"] = ["169.254.169.254"]  # DNS rebinding
        ping = api.post(f"/v1/webhook-endpoints/{endpoint_id}/test", key=LIVE_KEY).body
        deadline, found = time.time() + 5, []
        while time.time() < deadline:
            found = deliveries(api, endpoint_id)  # empty until the fan-out has read the stream
            if found and found[0]["attempts"]:
                break
            time.sleep(0.1)
        (delivery,) = found
        assert delivery["id"] == ping["deliveryId"] and delivery["attempts"] == 1
        assert delivery["status"] == "pending" and delivery["lastResponseStatus"] is None
        assert delivery["lastErrorMessage"] == "refused: hooks.partner.example resolves to a non-public address"
        api.delete(f"/v1/webhook-endpoints/{endpoint_id}", key=LIVE_KEY)
    finally:
        ssrf.use(None)


# -- the routes: scopes, tenancy, validation (every row of webhooks.md) ----------------------------

def test_scopes_are_required_and_star_grants_both(api, make):
    endpoint, _, _ = make()
    for key in (READ_KEY, NO_SCOPE_KEY, WRITE_KEY):
        assert_envelope(api.get("/v1/webhook-endpoints", key=key), 403, "FORBIDDEN_SCOPE")
        assert_envelope(api.post("/v1/webhook-endpoints", {"url": "http://localhost/x", "events": EVENTS}, key=key),
                        403, "FORBIDDEN_SCOPE")
    listed = api.get("/v1/webhook-endpoints")
    assert listed.status == 200 and endpoint["id"] in {e["id"] for e in listed.body["items"]}
    assert listed.header("X-RateLimit-Limit") and listed.header("X-RateLimit-Endpoint-Class") == "read-light"


def test_another_organizations_endpoint_is_404_everywhere(api, make):
    endpoint, _, _ = make()
    base = f"/v1/webhook-endpoints/{endpoint['id']}"
    for reply in (api.get(base, key=OTHER_ORG_KEY), api.get(base + "/deliveries", key=OTHER_ORG_KEY),
                  api.call("PATCH", base, {"status": "paused"}, key=OTHER_ORG_KEY),
                  api.delete(base, key=OTHER_ORG_KEY), api.post(base + "/test", key=OTHER_ORG_KEY),
                  api.post(base + "/rotate-secret", key=OTHER_ORG_KEY), api.get("/v1/webhook-endpoints/not-a-uuid")):
        assert_envelope(reply, 404, "NOT_FOUND")
    assert endpoint["id"] not in {e["id"] for e in api.get("/v1/webhook-endpoints", key=OTHER_ORG_KEY).body["items"]}
    assert api.get(base).body["status"] == "active"


def _issues(reply):
    return {(i["path"], i["code"]) for i in assert_envelope(reply, 422, "VALIDATION")["issues"]}


@pytest.mark.parametrize("body, key, expected", [
    ({"events": ["post.scheduled"]}, KEY, {("url", "required")}),
    ({"url": "http://localhost/x"}, KEY, {("events", "required")}),
    ({"url": "/relative", "events": ["post.scheduled"]}, KEY, {("url", "invalid_url")}),
    ({"url": "https://hooks.example/" + "a" * 2048, "events": ["post.scheduled"]}, KEY, {("url", "too_long")}),
    ({"url": "https://user:pw@hooks.example/x", "events": ["post.scheduled"]}, KEY, {("url", "user_info_not_allowed")}),
    ({"url": "https://hooks.example/x#frag", "events": ["post.scheduled"]}, KEY, {("url", "fragment_not_allowed")}),
    ({"url": "http://hooks.example/x", "events": ["post.scheduled"]}, KEY, {("url", "https_required")}),
    ({"url": "http://localhost:8080/x", "events": ["post.scheduled"]}, LIVE_KEY, {("url", "https_required")}),
    ({"url": "https://10.0.0.1/x", "events": ["post.scheduled"]}, KEY, {("url", "ip_literal_not_allowed")}),
    ({"url": "https://127.0.0.1/x", "events": ["post.scheduled"]}, LIVE_KEY, {("url", "ip_literal_not_allowed")}),
    ({"url": "http://localhost/x", "events": []}, KEY, {("events", "too_few")}),
    ({"url": "http://localhost/x", "events": ["post.scheduled", "post.exploded"]}, KEY,
     {("events[1]", "unknown_event")}),
    ({"url": "http://localhost/x", "events": ["post.failed", "post.failed"]}, KEY, {("events[1]", "duplicate")}),
    ({"url": "http://localhost/x", "events": ["post.failed"] * 51}, KEY, {("events", "too_many")}),
    ({"url": "http://localhost/x", "events": ["post.failed"], "description": "d" * 501}, KEY,
     {("description", "too_long")}),
    ({"url": "http://localhost/x", "events": ["post.failed"], "metadata": {str(i): "v" for i in range(21)}}, KEY,
     {("metadata", "too_many")}),
    ({"url": "http://localhost/x", "events": ["post.failed"], "metadata": {"k" * 41: "v"}}, KEY,
     {("metadata." + "k" * 41, "invalid_key")}),
    ({"url": "http://localhost/x", "events": ["post.failed"], "metadata": {"k": "v" * 501}}, KEY,
     {("metadata.k", "too_long")}),
    ({"url": "http://localhost/x", "events": ["post.failed"], "metadata": {"k": 1}}, KEY,
     {("metadata.k", "invalid_type")}),
    ({"url": "http://localhost/x", "events": ["post.failed"], "secret": "mine"}, KEY, {("secret", "unknown_field")}),
    # Every issue at once.
    ({"url": "ftp://x", "events": ["nope"], "extra": 1}, KEY,
     {("url", "invalid_url"), ("events[0]", "unknown_event"), ("extra", "unknown_field")}),
])
def test_create_validation(api, body, key, expected):
    assert _issues(api.post("/v1/webhook-endpoints", body, key=key)) == expected


def test_test_keys_may_use_loopback_with_any_port(api, make, receiver):
    for url in ("http://localhost:9/x", "http://127.0.0.1:65000/x", "http://[::1]:8080/x", "https://localhost/x"):
        reply = api.post("/v1/webhook-endpoints", {"url": url, "events": ["post.failed"]})
        assert reply.status == 201, (url, reply.body)
        api.delete(f"/v1/webhook-endpoints/{reply.body['endpoint']['id']}")


def test_project_must_be_one_of_the_organizations(api):
    for project in (prj(9), prj(77), "nonsense"):
        reply = api.post("/v1/webhook-endpoints", {"url": "http://localhost/x", "events": ["post.failed"],
                                                    "projectId": project})
        assert_envelope(reply, 404, "NOT_FOUND")


def test_create_answer_and_idempotent_replay(api):
    body = {"url": "http://localhost:4000/hooks", "events": ["post.failed", "post.published"],
            "description": "ops", "projectId": prj(1), "metadata": {"team": "ops"}}
    key = str(uuid.uuid4())
    first = api.post("/v1/webhook-endpoints", body, headers={"Idempotency-Key": key})
    assert first.status == 201, first.body
    endpoint = first.body["endpoint"]
    assert uuid.UUID(endpoint["id"]).version == 4 and endpoint["id"] == endpoint["id"].lower()
    assert endpoint == {**endpoint, "url": body["url"], "events": body["events"], "description": "ops",
                        "projectId": prj(1), "metadata": {"team": "ops"}, "status": "active",
                        "consecutiveFailureCount": 0}
    secret = first.body["signingSecret"]
    assert secret.startswith("whsec_") and len(secret) == len("whsec_") + 43
    again = api.post("/v1/webhook-endpoints", body, headers={"Idempotency-Key": key})
    assert again.status == 201 and again.body == first.body and again.header("Idempotent-Replayed") == "true"
    assert "signingSecret" not in api.get(f"/v1/webhook-endpoints/{endpoint['id']}").body
    api.delete(f"/v1/webhook-endpoints/{endpoint['id']}")


def test_the_twenty_first_endpoint_is_a_conflict(api):
    listed = api.get("/v1/webhook-endpoints?limit=100").body["items"]
    made = []
    for _ in range(20 - len(listed)):
        reply = api.post("/v1/webhook-endpoints", {"url": "http://localhost/x", "events": ["post.failed"]})
        assert reply.status == 201, reply.body
        made.append(reply.body["endpoint"]["id"])
    details = assert_envelope(api.post("/v1/webhook-endpoints", {"url": "http://localhost/x",
                                                                  "events": ["post.failed"]}), 409, "CONFLICT")
    assert details["reason"] == "ENDPOINT_LIMIT"
    page = api.get("/v1/webhook-endpoints?limit=7")
    assert len(page.body["items"]) == 7 and page.body["nextCursor"]
    rest = api.get(f"/v1/webhook-endpoints?limit=100&cursor={page.body['nextCursor']}").body
    everything = page.body["items"] + rest["items"]
    assert len(everything) == 20 and rest["nextCursor"] is None
    assert [e["createdAt"] for e in everything] == sorted((e["createdAt"] for e in everything), reverse=True)
    for endpoint_id in made:
        assert api.delete(f"/v1/webhook-endpoints/{endpoint_id}").status == 200
    # A deleted endpoint frees its place.
    reply = api.post("/v1/webhook-endpoints", {"url": "http://localhost/x", "events": ["post.failed"]})
    assert reply.status == 201
    api.delete(f"/v1/webhook-endpoints/{reply.body['endpoint']['id']}")


def test_patch_rules(api, make):
    endpoint, _, _ = make(metadata={"a": "1", "b": "2"})
    base = f"/v1/webhook-endpoints/{endpoint['id']}"
    assert _issues(api.call("PATCH", base, {})) == {("", "empty_patch")}
    assert _issues(api.call("PATCH", base, {"status": "auto_paused", "events": ["x"], "projectId": prj(1)})) == {
        ("status", "invalid_enum"), ("events[0]", "unknown_event"), ("projectId", "unknown_field")}
    updated = api.call("PATCH", base, {"metadata": {"a": None, "c": "3"}, "events": ["post.failed"],
                                       "description": None})
    assert updated.status == 200, updated.body
    assert updated.body["metadata"] == {"b": "2", "c": "3"} and updated.body["events"] == ["post.failed"]
    assert updated.body["updatedAt"] >= endpoint["updatedAt"]
    assert api.get(base).body == updated.body


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "status=bogus", "eventType=post.exploded"])
def test_deliveries_query_validation(api, make, query):
    endpoint, _, _ = make()
    assert_envelope(api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries?{query}"), 422, "VALIDATION")


def test_list_limit_validation(api):
    for query in ("limit=0", "limit=101", "cursor=forged"):
        assert_envelope(api.get(f"/v1/webhook-endpoints?{query}"), 422, "VALIDATION")
