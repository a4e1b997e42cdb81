"""ManagedProviderAdapter against the fake managed-distribution provider."""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from layers_shared.platforms.managed import ManagedProviderAdapter
from layers_shared.platforms.port import Delivery
from tests.fakes.http_server import Fault, closed_port_url
from tests.fakes.managed import FakeManagedProvider

SP_ID = "sp_8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999"


@pytest.fixture
def adapter(managed_server: FakeManagedProvider, timeouts: dict[str, float]) -> ManagedProviderAdapter:
    return ManagedProviderAdapter({"acme-distribution": managed_server.url + "/v1/posts"}, **timeouts)


@pytest.fixture
def delivery(make_post: Callable, make_account: Callable) -> Callable[..., Delivery]:
    def build(provider: str | None = "acme-distribution", **post: Any) -> Delivery:
        fields: dict[str, Any] = {"mode": "managed", "firstComment": "link in bio"}
        fields.update(post)
        return Delivery(post=make_post(**fields), account=make_account(), provider=provider)
    return build


def test_handoff_posts_the_document_and_ends_published(adapter, delivery, managed_server):
    settings = {"privacyLevel": "SELF_ONLY", "isBrandedContent": True}
    outcome = adapter.submit(delivery(tiktokPostSettings=settings))
    assert outcome.kind == "published" and outcome.external_id == "mp_1"
    (request,) = managed_server.requests
    assert request.method == "POST" and request.path == "/v1/posts"
    assert request.headers["idempotency-key"] == SP_ID
    assert request.headers["content-type"].startswith("application/json")
    assert request.json == {
        "scheduledPostId": SP_ID, "socialAccountId": "sa_44444444-4444-4444-8444-444444444444",
        "platform": "tiktok", "handle": "acme", "scheduledFor": "2026-01-01T00:00:00.000Z", "mediaType": "video",
        "caption": "Morning pour #coffee", "firstComment": "link in bio",
        "media": ["https://media.example.com/a.mp4"], "tiktokPostSettings": settings,
        "tiktokMusicLink": None, "shareReelToFeed": None,
    }


MUSIC_LINK = "https://www.tiktok.com/music/x-123"


@pytest.mark.parametrize("music, link", [
    ({"mode": "manual", "trackId": "8f1d", "link": MUSIC_LINK}, MUSIC_LINK),
    ({"mode": "auto", "link": "ignored"}, None),
    ({"mode": "none"}, None),
])
def test_music_link_is_sent_for_manual_tracks_only(adapter, delivery, managed_server, music, link):
    photos = [{"url": "https://media.example.com/1.jpg", "kind": "image"}]
    adapter.submit(delivery(mediaType="slideshow", media=photos, tiktokMusic=music))
    assert managed_server.requests[0].json["tiktokMusicLink"] == link


def test_provider_named_on_the_post_is_used_when_the_delivery_has_none(adapter, delivery):
    assert adapter.submit(delivery(provider=None, managedProvider="acme-distribution")).kind == "published"


@pytest.mark.parametrize("provider", ["other-provider", None])
def test_unconfigured_provider_fails(adapter, delivery, managed_server, provider):
    outcome = adapter.submit(delivery(provider=provider))
    assert outcome.kind == "failed" and outcome.error.code == "PROVIDER_NOT_CONFIGURED"
    assert managed_server.requests == []


def test_4xx_fails_with_the_provider_message(adapter, delivery, managed_server):
    managed_server.fault("POST", "/v1/posts", Fault(status=422, body={"error": {"code": "account_unknown",
                                                                               "message": "no such account"}}))
    outcome = adapter.submit(delivery())
    assert outcome.kind == "failed" and outcome.error.code == "PROVIDER_REJECTED"
    assert outcome.error.message == "no such account" and outcome.error.platformCode == "account_unknown"


@pytest.mark.parametrize("fault", [Fault(status=429, headers={"Retry-After": "3"}), Fault(status=500),
                                   Fault(status=503, body="<html>down</html>")])
def test_429_and_5xx_retry_then_succeed(adapter, delivery, managed_server, fault):
    managed_server.fault("POST", "/v1/posts", fault)
    first = adapter.submit(delivery())
    assert first.kind == "retry"
    if fault.status == 429:
        assert first.retry_after == 3.0
    assert adapter.submit(delivery()).kind == "published"
    assert len(managed_server.accepted) == 1


def test_timeout_retries_and_the_provider_dedupes(adapter, delivery, managed_server, slow):
    managed_server.fault("POST", "/v1/posts", Fault(delay=slow))  # accepted, answer lost
    assert adapter.submit(delivery()).kind == "retry"
    again = adapter.confirm(delivery(), {})
    assert again.kind == "published" and again.external_id == "mp_1"
    assert len(managed_server.requests) == 2 and len(managed_server.accepted) == 1
    assert {r.headers["idempotency-key"] for r in managed_server.requests} == {SP_ID}


def test_unreachable_provider_is_retried(delivery, timeouts):
    adapter = ManagedProviderAdapter({"acme-distribution": closed_port_url()}, **timeouts)
    outcome = adapter.submit(delivery())
    assert outcome.kind == "retry" and outcome.error.code == "NETWORK_ERROR"


def test_providers_come_from_the_environment(monkeypatch, managed_server, delivery):
    monkeypatch.setenv("MANAGED_PROVIDERS", json.dumps({"acme-distribution": managed_server.url}))
    assert ManagedProviderAdapter(read_timeout=0.3).submit(delivery()).kind == "published"
    monkeypatch.setenv("MANAGED_PROVIDERS", "not json")
    assert ManagedProviderAdapter().providers == {}
    monkeypatch.delenv("MANAGED_PROVIDERS")
    assert ManagedProviderAdapter().providers == {}
