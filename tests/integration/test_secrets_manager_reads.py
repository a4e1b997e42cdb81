"""Secrets read from Secrets Manager by ARN, on moto (docs/adr/0061-settings-and-secrets.md):
the cursor key and the TikTok client secret once per container, the Linq token lazily
once, and the TikTok app secret on the first token refresh. Moved from tests/unit
(test_settings.py, messaging/test_linq.py, platforms/test_tiktok_app_secret.py), unchanged:
moto belongs here; tests/unit keeps the rest of those files."""
from __future__ import annotations

import json
from typing import Callable, Iterator

import pytest
from moto import mock_aws

from layers_shared import aws
from layers_shared.messaging import linq as linq_module
from layers_shared.messaging.linq import LinqAdapter
from layers_shared.platforms.port import Credentials, Delivery
from layers_shared.platforms.tiktok import TikTokAdapter
from layers_shared.secrets import managed
from tests.fakes.linq import FakeLinq
from tests.fakes.tiktok import FakeTikTok
from tests.unit.messaging.test_linq import CAPTION, MEDIA, PHONE, SENDER, TOKEN
from tests.unit.messaging.test_linq import fake  # noqa: F401 - a fixture
from tests.unit.platforms.conftest import make_account, make_post, tiktok_server  # noqa: F401 - fixtures
from tests.unit.test_settings import deployed_env  # noqa: F401 - a fixture

# -- layers_shared.settings: the cursor key and the TikTok client secret ---------------------------


@pytest.fixture
def secrets_manager(deployed_env):  # noqa: F811
    """moto's Secrets Manager, counting GetSecretValue calls."""
    with mock_aws():
        aws.reset()
        managed.CACHE.clear()
        client = aws.client("secretsmanager")
        calls: list[str] = []
        client.meta.events.register("before-parameter-build.secrets-manager.GetSecretValue",
                                    lambda params, **_: calls.append(params["SecretId"]))
        yield client, calls
        aws.reset()
        managed.CACHE.clear()


def test_the_cursor_key_is_read_from_secrets_manager_once_per_container(secrets_manager, deployed_env):  # noqa: F811
    from layers_shared.domain import pagination
    from layers_shared.domain.errors import ValidationFailed

    client, calls = secrets_manager
    first = client.create_secret(Name="cursor-a", SecretString="key-a")["ARN"]
    second = client.create_secret(Name="cursor-b", SecretString="key-b")["ARN"]
    deployed_env.setenv("CURSOR_SECRET_ARN", first)
    cursor = pagination.encode({"sk": "x"}, "d")
    for _ in range(3):
        assert pagination.decode(cursor, "d") == {"sk": "x"}
    assert calls == [first]
    # The key is the secret's value: a cursor signed with another secret is refused.
    deployed_env.setenv("CURSOR_SECRET_ARN", second)
    with pytest.raises(ValidationFailed) as refused:
        pagination.decode(cursor, "d")
    assert refused.value.issues[0]["code"] == "invalid_cursor"
    assert calls == [first, second]


def test_the_tiktok_client_secret_is_read_from_secrets_manager_on_first_use(secrets_manager,
                                                                          deployed_env):  # noqa: F811
    client, calls = secrets_manager
    arn = client.create_secret(Name="tiktok", SecretString="cs_live\n")["ARN"]
    deployed_env.setenv("TIKTOK_CLIENT_SECRET_ARN", arn)
    adapter = TikTokAdapter()
    assert calls == []  # constructing an adapter (per delivery) costs no call
    assert adapter.client_key == "ck"
    assert adapter.client_secret == "cs_live"
    assert TikTokAdapter().client_secret == "cs_live"
    assert calls == [arn]
    assert "cs_live" not in repr(adapter.__dict__)


# -- the Linq token -----------------------------------------------------------------------------


def test_token_from_secrets_manager_is_read_lazily_once(fake: FakeLinq,  # noqa: F811
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "LINQ_API_BASE": fake.base_url,
                        "LINQ_FROM_NUMBER": SENDER}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LINQ_API_TOKEN", raising=False)
    with mock_aws():
        aws.reset()
        linq_module._secret_cache.clear()
        arn = aws.client("secretsmanager").create_secret(
            Name="linq-token", SecretString=json.dumps({"token": TOKEN}))["ARN"]
        monkeypatch.setenv("LINQ_TOKEN_SECRET_ARN", arn)
        adapter = LinqAdapter.from_env()
        assert adapter is not None
        assert arn not in linq_module._secret_cache  # nothing read before the first call
        chat = adapter.create_chat(PHONE, MEDIA)
        adapter.send(chat.chat_id, CAPTION)
        assert fake.accepted_count == 2
        assert linq_module._secret_cache[arn] == TOKEN
        aws.reset()
        linq_module._secret_cache.clear()


# -- the TikTok app's client secret, on the first token refresh -----------------------------------

ACCESS, REFRESH = "act.app-secret-access", "rft.app-secret-refresh"
EXPIRED = "2020-01-01T00:00:00Z"


@pytest.fixture
def secrets(monkeypatch, tiktok_server: FakeTikTok) -> Iterator[object]:  # noqa: F811
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
def expired(tiktok_server: FakeTikTok, make_post: Callable, make_account: Callable) -> Delivery:  # noqa: F811
    tiktok_server.add_account(ACCESS, REFRESH)
    return Delivery(post=make_post(), account=make_account(),
                    credentials=Credentials(ACCESS, REFRESH, EXPIRED, "open_fake_1"))


def test_the_refresh_sends_the_secret_read_from_secrets_manager(monkeypatch, secrets, tiktok_server,  # noqa: F811
                                                                expired):
    arn = secrets.create_secret(Name="tiktok-app", SecretString=tiktok_server.client_secret)["ARN"]
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET_ARN", arn)
    outcome = TikTokAdapter(read_timeout=0.5).submit(expired)
    assert outcome.kind == "processing", outcome
    assert outcome.new_credentials is not None  # the fake accepted client_key + client_secret


def test_an_unreadable_secret_is_a_retry_before_anything_is_sent(monkeypatch, secrets, tiktok_server,  # noqa: F811
                                                                 expired):
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET_ARN",
                       "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf")
    outcome = TikTokAdapter(read_timeout=0.5).submit(expired)
    assert (outcome.kind, outcome.error.code) == ("retry", "TIKTOK_APP_SECRET_UNAVAILABLE")
    assert tiktok_server.requests == []  # no refresh, and above all no init
