"""The TikTok app's client secret comes from Secrets Manager by ARN, on the
first token refresh (docs/adr/0061-settings-and-secrets.md)."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest
from moto import mock_aws

from layers_shared import aws
from layers_shared.platforms.port import Credentials, Delivery
from layers_shared.platforms.tiktok import TikTokAdapter
from layers_shared.secrets import managed
from tests.fakes.tiktok import FakeTikTok

ACCESS, REFRESH = "act.app-secret-access", "rft.app-secret-refresh"
EXPIRED = "2020-01-01T00:00:00Z"


@pytest.fixture
def secrets(monkeypatch, tiktok_server: FakeTikTok) -> Iterator[object]:
    monkeypatch.delenv("TIKTOK_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("TIKTOK_API_BASE", tiktok_server.url)
    monkeypatch.setenv("TIKTOK_CLIENT_KEY", tiktok_server.client_key)
    with mock_aws():
        aws.reset()
        managed.CACHE.clear()
        yield aws.client("secretsmanager")
        aws.reset()
        managed.CACHE.clear()


@pytest.fixture
def expired(tiktok_server: FakeTikTok, make_post: Callable, make_account: Callable) -> Delivery:
    tiktok_server.add_account(ACCESS, REFRESH)
    return Delivery(post=make_post(), account=make_account(),
                    credentials=Credentials(ACCESS, REFRESH, EXPIRED, "open_fake_1"))


def test_the_refresh_sends_the_secret_read_from_secrets_manager(monkeypatch, secrets, tiktok_server, expired):
    arn = secrets.create_secret(Name="tiktok-app", SecretString=tiktok_server.client_secret)["ARN"]
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET_ARN", arn)
    outcome = TikTokAdapter(read_timeout=0.5).submit(expired)
    assert outcome.kind == "processing", outcome
    assert outcome.new_credentials is not None  # the fake accepted client_key + client_secret


def test_an_unreadable_secret_is_a_retry_before_anything_is_sent(monkeypatch, secrets, tiktok_server, expired):
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET_ARN",
                       "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf")
    outcome = TikTokAdapter(read_timeout=0.5).submit(expired)
    assert (outcome.kind, outcome.error.code) == ("retry", "TIKTOK_APP_SECRET_UNAVAILABLE")
    assert tiktok_server.requests == []  # no refresh, and above all no init
