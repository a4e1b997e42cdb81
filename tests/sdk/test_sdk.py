"""The Python SDK: against the local stack, and against a tiny fake server for
the retry rules (so they do not depend on rate-limit configuration)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import layers
from layers import Layers
from local import routes
from tests import support
from tests.fakes.http_server import FakeServer, Fault, Response, closed_port_url

ROUTES = {(r.method, r.path) for r in routes.api_routes()}


def needs(method: str, path: str) -> None:
    if (method, path) not in ROUTES:
        pytest.skip(f"{method} {path} is not in template.yaml yet")


@pytest.fixture(scope="module")
def client(stack) -> Layers:
    return Layers(support.KEY, base_url=stack.base_url, max_retries=0)


def at(days: float, minutes: int = 0) -> str:
    when = datetime.now(timezone.utc) + timedelta(days=days, minutes=minutes)
    return when.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- against the local stack --------------------------------------------------------


def test_whoami_names_the_key(client: Layers) -> None:
    me = client.whoami()
    assert me["apiKeyId"] == "ACMETEST00000001"
    assert me["mode"] == "test"
    assert "*" in me["scopes"]


def test_schedule_then_get(client: Layers) -> None:
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
    result = client.publishing.schedule(support.VIDEO, when,
                                        [{"socialAccountId": support.TIKTOK, "mode": "publish"}])
    assert result["gateStatus"] == "queued"
    assert result["scheduledFor"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    [post_id] = result["scheduledPostIds"]
    post = client.publishing.get_scheduled_post(post_id)
    assert post["id"] == post_id
    assert post["status"] == "queued"
    assert post["containerId"] == support.VIDEO
    assert post["socialAccountId"] == support.TIKTOK


def test_explicit_idempotency_key_replays_the_first_answer(client: Layers) -> None:
    targets = [{"socialAccountId": support.INSTAGRAM, "mode": "publish"}]
    when = at(31)
    first = client.publishing.schedule(support.VIDEO, when, targets, idempotency_key="sdk-replay-1")
    again = client.request("POST", f"/v1/content/{support.VIDEO}/schedule",
                           body={"scheduledFor": when, "targets": targets}, idempotency_key="sdk-replay-1")
    assert again.replayed
    assert again.body == first


def test_each_write_gets_its_own_key_by_default(client: Layers) -> None:
    targets = [{"socialAccountId": support.INSTAGRAM, "mode": "publish"}]
    when = at(32)
    one = client.publishing.schedule(support.VIDEO, when, targets)
    two = client.publishing.schedule(support.VIDEO, when, targets)
    assert set(one["scheduledPostIds"]).isdisjoint(two["scheduledPostIds"])


def test_not_found_is_typed_with_request_id(client: Layers) -> None:
    with pytest.raises(layers.NotFoundError) as caught:
        client.publishing.get_scheduled_post("sp_00000000-0000-4000-8000-000000000000")
    err = caught.value
    assert err.status == 404 and err.code == "NOT_FOUND"
    assert err.request_id and err.request_id.startswith("req_")
    assert err.request_id in str(err)


def test_validation_error_lists_issues(client: Layers) -> None:
    with pytest.raises(layers.ValidationError) as caught:
        client.publishing.schedule(support.VIDEO, support.past(60),
                                   [{"socialAccountId": support.TIKTOK, "mode": "publish"}])
    assert caught.value.status == 422
    assert caught.value.issues[0]["path"] == "scheduledFor"


def test_bad_key_is_authentication_error(stack) -> None:
    with pytest.raises(layers.AuthenticationError) as caught:
        Layers("lp_test_NOPE", base_url=stack.base_url).whoami()
    assert caught.value.status == 401


def test_missing_scope_is_permission_denied(stack) -> None:
    reader = Layers(support.READ_KEY, base_url=stack.base_url)
    with pytest.raises(layers.PermissionDeniedError) as caught:
        reader.publishing.schedule(support.VIDEO, at(33), [{"socialAccountId": support.TIKTOK, "mode": "publish"}])
    assert caught.value.details["requiredScope"] == "publish:write"


def test_rejected_container_is_content_rejected(client: Layers) -> None:
    with pytest.raises(layers.ContentRejectedError) as caught:
        client.publishing.schedule(support.REJECTED, at(34), [{"socialAccountId": support.TIKTOK, "mode": "publish"}])
    assert isinstance(caught.value, layers.ConflictError)


def test_content_get(client: Layers) -> None:
    container = client.content.get(support.VIDEO)
    assert container["id"] == support.VIDEO
    assert container["status"] == "completed"


def test_list_scheduled_posts_iterates_across_pages(client: Layers) -> None:
    needs("GET", "/v1/projects/{projectId}/scheduled-posts")
    base = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(days=200)
    made = []
    for i in range(5):
        when = (base + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        made += client.publishing.schedule(support.IMAGE, when,
                                           [{"socialAccountId": support.TIKTOK, "mode": "publish"}])["scheduledPostIds"]
    listed = list(client.publishing.list_scheduled_posts(
        support.prj(1), container_id=support.IMAGE, from_=base, to=base + timedelta(minutes=5), limit=2))
    assert [p["id"] for p in listed] == list(reversed(made))  # newest scheduledFor first


def test_list_social_accounts(client: Layers) -> None:
    needs("GET", "/v1/projects/{projectId}/social-accounts")
    accounts = list(client.social.list_accounts(support.prj(1), platform="instagram", limit=1))
    assert {a["socialAccountId"] for a in accounts} == {support.INSTAGRAM, support.IG_PERSONAL, support.IG_CREATOR}


def test_music_list(client: Layers) -> None:
    needs("GET", "/v1/tiktok-music")
    music = client.music.list()
    assert music["total"] == len(music["tracks"]) > 0


# -- retry rules, against a fake server ----------------------------------------------


class Recorder(FakeServer):
    """Answers 200 with the request's Idempotency-Key, unless a fault says otherwise."""

    def handle(self, request):  # type: ignore[override]
        return Response(200, {"ok": True, "key": request.headers.get("idempotency-key")},
                        {"X-Request-Id": "req_FAKE"})


@pytest.fixture
def fake():
    with Recorder() as server:
        yield server


def fake_client(fake: FakeServer, **kw) -> tuple[Layers, list[float]]:
    slept: list[float] = []
    return Layers("lp_test_FAKE", base_url=fake.url, sleep=slept.append, **kw), slept


def rate_limited(retry_after: str) -> Fault:
    return Fault(status=429, headers={"Retry-After": retry_after, "X-Request-Id": "req_429"},
                 body={"error": {"code": "RATE_LIMITED", "message": "slow down", "requestId": "req_429",
                                 "details": {}}})


def test_429_is_retried_after_retry_after_with_the_same_key(fake: Recorder) -> None:
    fake.fault("POST", r"/v1/content/.*/schedule", rate_limited("2"))
    client, slept = fake_client(fake)
    result = client.publishing.schedule("cnt_x", "2030-01-01T00:00:00Z", [{"socialAccountId": "sa_x", "mode": "draft"}])
    calls = fake.calls("POST")
    assert len(calls) == 2
    assert slept == [2.0]
    key = calls[0].headers["idempotency-key"]
    assert key and calls[1].headers["idempotency-key"] == key == result["key"]


def test_retry_after_is_capped(fake: Recorder) -> None:
    fake.fault("GET", "/v1/whoami", rate_limited("3600"))
    client, slept = fake_client(fake, max_retry_wait=5)
    assert client.whoami()["ok"] is True
    assert slept == [5]


def test_429_gives_up_after_max_retries(fake: Recorder) -> None:
    fake.fault("GET", "/v1/whoami", rate_limited("1"), times=10)
    client, slept = fake_client(fake, max_retries=2)
    with pytest.raises(layers.RateLimitError) as caught:
        client.whoami()
    assert caught.value.retry_after == 1.0
    assert caught.value.request_id == "req_429"
    assert len(fake.calls("GET")) == 3 and slept == [1.0, 1.0]


def test_5xx_retried_for_writes_with_a_key_reusing_it(fake: Recorder) -> None:
    fake.fault("DELETE", r"/v1/scheduled-posts/.*", Fault(status=503, body={"error": {
        "code": "PLATFORM_ERROR", "message": "x", "requestId": "req_1", "details": {}}}), times=2)
    client, slept = fake_client(fake, max_retries=3)
    client.publishing.cancel("sp_x", reason="changed plans", idempotency_key="cancel-key-1")
    calls = fake.calls("DELETE")
    assert [c.headers["idempotency-key"] for c in calls] == ["cancel-key-1"] * 3
    assert calls[0].json == {"reason": "changed plans"}
    assert len(slept) == 2 and all(0 < s <= 1.0 for s in slept)


def test_5xx_not_retried_for_a_write_without_a_key(fake: Recorder) -> None:
    fake.fault("POST", "/v1/anything", Fault(status=500, body={"error": {
        "code": "INTERNAL", "message": "bug", "requestId": "req_2", "details": {}}}), times=5)
    client, slept = fake_client(fake)
    with pytest.raises(layers.InternalServerError) as caught:
        client.request("POST", "/v1/anything", body={}, auto_idempotency=False)
    assert caught.value.request_id == "req_2"
    assert len(fake.calls("POST")) == 1 and slept == []
    assert "idempotency-key" not in fake.calls("POST")[0].headers


def test_5xx_retried_for_reads_until_success(fake: Recorder) -> None:
    fake.fault("GET", r"/v1/scheduled-posts/.*", Fault(status=502, body="bad gateway"))
    client, slept = fake_client(fake)
    assert client.publishing.get_scheduled_post("sp_1")["ok"] is True
    assert len(fake.calls("GET")) == 2 and len(slept) == 1


def test_4xx_other_than_429_is_final(fake: Recorder) -> None:
    fake.fault("POST", r"/v1/content/.*/approve", Fault(status=422, body={"error": {
        "code": "VALIDATION", "message": "bad", "requestId": "req_3",
        "details": {"issues": [{"path": "note", "code": "too_long", "message": "max 1024"}]}}}), times=5)
    client, slept = fake_client(fake)
    with pytest.raises(layers.ValidationError) as caught:
        client.content.approve("cnt_1", note="x")
    assert caught.value.issues[0]["path"] == "note"
    assert len(fake.calls("POST")) == 1 and slept == []


def test_idempotency_in_progress_is_retried_with_the_same_key(fake: Recorder) -> None:
    fake.fault("POST", r"/v1/content/.*/notify-device", Fault(status=409, headers={"Retry-After": "1"}, body={
        "error": {"code": "CONFLICT", "message": "running", "requestId": "req_4",
                  "details": {"reason": "IDEMPOTENCY_IN_PROGRESS"}}}))
    client, slept = fake_client(fake)
    client.publishing.notify_device("cnt_1", phone_number="+15551234567")
    calls = fake.calls("POST")
    assert len(calls) == 2 and slept == [1.0]
    assert calls[0].headers["idempotency-key"] == calls[1].headers["idempotency-key"]
    assert calls[0].json == {"phoneNumber": "+15551234567"}


def test_unknown_code_falls_back_on_status(fake: Recorder) -> None:
    fake.fault("GET", "/v1/whoami", Fault(status=409, body={"error": {
        "code": "SOMETHING_NEW", "message": "new", "requestId": "req_5", "details": {"a": 1}}}))
    client, _ = fake_client(fake)
    with pytest.raises(layers.ConflictError) as caught:
        client.whoami()
    assert caught.value.code == "SOMETHING_NEW" and caught.value.details == {"a": 1}


def test_connection_errors_are_retried_for_reads_then_raised() -> None:
    slept: list[float] = []
    client = Layers("lp_test_FAKE", base_url=closed_port_url(), max_retries=2, sleep=slept.append, timeout=2)
    with pytest.raises(layers.APIConnectionError):
        client.whoami()
    assert len(slept) == 2


def test_pages_follow_next_cursor(fake: Recorder) -> None:
    class Paged(FakeServer):
        def handle(self, request):  # type: ignore[override]
            page = int(request.query.get("cursor") or 0)
            nxt = str(page + 1) if page < 2 else None
            return Response(200, {"items": [{"id": f"sp_{page}a"}, {"id": f"sp_{page}b"}], "nextCursor": nxt})

    with Paged() as server:
        client = Layers("lp_test_FAKE", base_url=server.url)
        items = client.publishing.list_scheduled_posts("prj_1", status=["queued", "failed"], limit=2)
        assert server.calls() == []  # lazy: nothing fetched before iteration
        assert [i["id"] for i in items] == ["sp_0a", "sp_0b", "sp_1a", "sp_1b", "sp_2a", "sp_2b"]
        first = server.calls()[0]
        assert first.path == "/v1/projects/prj_1/scheduled-posts"
        assert first.query == {"status": "failed", "limit": "2"}  # repeated param: the fake keeps the last
        assert len(server.calls()) == 3


def test_naive_datetime_is_refused_before_sending(fake: Recorder) -> None:
    client, _ = fake_client(fake)
    with pytest.raises(ValueError):
        client.publishing.schedule("cnt_1", datetime(2030, 1, 1), [])
    assert fake.calls() == []


def test_service_unavailable_is_retried_with_the_key_then_typed(fake: Recorder) -> None:
    fake.fault("POST", r"/v1/content/.*/schedule", Fault(status=503, headers={"Retry-After": "2"}, body={
        "error": {"code": "SERVICE_UNAVAILABLE", "message": "busy", "requestId": "req_6",
                  "details": {"reason": "THROTTLED", "retryAfter": 2}}}), times=10)
    client, slept = fake_client(fake, max_retries=2)
    with pytest.raises(layers.ServiceUnavailableError) as caught:
        client.publishing.schedule("cnt_x", "2030-01-01T00:00:00Z", [{"socialAccountId": "sa_x", "mode": "draft"}])
    assert caught.value.retry_after == 2.0 and caught.value.details["reason"] == "THROTTLED"
    calls = fake.calls("POST")
    assert len(calls) == 3 and len({c.headers["idempotency-key"] for c in calls}) == 1
