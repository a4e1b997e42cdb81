"""Fixtures for the live-adapter tests: fake servers and entity builders."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from layers_shared.models.entities import ScheduledPost, SocialAccount
from tests.fakes.instagram import FakeInstagram
from tests.fakes.managed import FakeManagedProvider
from tests.fakes.tiktok import FakeTikTok

# Short client timeouts keep the suite fast; SLOW outlasts the read timeout.
TIMEOUTS: dict[str, float] = {"connect_timeout": 0.5, "read_timeout": 0.3}
SLOW = 1.0
NOW = "2026-01-01T00:00:00.000Z"


@pytest.fixture
def timeouts() -> dict[str, float]:
    return dict(TIMEOUTS)


@pytest.fixture
def slow() -> float:
    return SLOW


def _serve(server: Any) -> Iterator[Any]:
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.errors, f"the fake server itself failed: {server.errors}"


@pytest.fixture
def tiktok_server() -> Iterator[FakeTikTok]:
    yield from _serve(FakeTikTok())


@pytest.fixture
def instagram_server() -> Iterator[FakeInstagram]:
    yield from _serve(FakeInstagram())


@pytest.fixture
def managed_server() -> Iterator[FakeManagedProvider]:
    yield from _serve(FakeManagedProvider())


@pytest.fixture
def make_post() -> Callable[..., ScheduledPost]:
    def build(**overrides: Any) -> ScheduledPost:
        fields: dict[str, Any] = {
            "id": "sp_8f1d6c3e-4b2a-4a18-9e4f-c2d7a1b0e999",
            "organizationId": "org_11111111-1111-4111-8111-111111111111",
            "projectId": "prj_22222222-2222-4222-8222-222222222222",
            "containerId": "cnt_33333333-3333-4333-8333-333333333333",
            "socialAccountId": "sa_44444444-4444-4444-8444-444444444444",
            "platform": "tiktok", "handle": "acme", "mode": "publish", "env": "live",
            "scheduledFor": NOW, "mediaType": "video",
            "media": [{"url": "https://media.example.com/a.mp4", "kind": "video"}],
            "caption": "Morning pour #coffee", "createdAt": NOW, "updatedAt": NOW,
        }
        fields.update(overrides)
        return ScheduledPost(**fields)
    return build


@pytest.fixture
def make_account() -> Callable[..., SocialAccount]:
    def build(**overrides: Any) -> SocialAccount:
        fields: dict[str, Any] = {
            "id": "sa_44444444-4444-4444-8444-444444444444",
            "projectId": "prj_22222222-2222-4222-8222-222222222222",
            "organizationId": "org_11111111-1111-4111-8111-111111111111",
            "platform": "tiktok", "handle": "acme",
        }
        fields.update(overrides)
        return SocialAccount(**fields)
    return build
