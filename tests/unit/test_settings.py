"""A deployed function refuses to start without what it needs, secrets come
from Secrets Manager, and template.yaml sets what the functions declare
(docs/adr/0061-settings-and-secrets.md)."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from layers_shared import settings
from layers_shared.secrets import managed
from local.routes import function_resources, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
FUNCTIONS = function_resources(TEMPLATE)
ACCOUNT = "123456789012"

# Everything any function may need, as a deployment would set it.
DEPLOYED_ENV = {
    "TABLE_NAME": "layers-publishing-test",
    "PUBLISHER_FUNCTION_ARN": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:publisher",
    "SCHEDULE_GROUP": "layers-publishing-test",
    "SCHEDULER_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/scheduler",
    "CURSOR_SECRET_ARN": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:cursor-AbCdEf",
    "PUBLISH_QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/publish",
    "TOKEN_KMS_KEY_ID": "key-id",
    "TIKTOK_CLIENT_KEY": "ck",
    "TIKTOK_CLIENT_SECRET_ARN": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:tiktok-AbCdEf",
    "WEBHOOK_KMS_KEY_ID": "webhook-key-id",
    "WEBHOOK_QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/webhooks",
}
LOCAL_STAND_INS = {n.local for n in vars(settings).values() if isinstance(n, settings.Need) and n.local}


@pytest.fixture
def deployed_env(monkeypatch):
    """The environment of a deployed function: every ARN, no local stand-in."""
    for name in LOCAL_STAND_INS:
        monkeypatch.delenv(name, raising=False)
    for name, value in DEPLOYED_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def import_app(code_uri: str) -> ModuleType:
    """A fresh import of functions/<x>/app.py: Lambda's cold start."""
    file = ROOT / code_uri / "app.py"
    spec = importlib.util.spec_from_file_location("settings_probe_" + file.parent.name, file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def code_uri(function: str) -> str:
    return FUNCTIONS[function]["Properties"]["CodeUri"]


# -- refusing to start -----------------------------------------------------------------------

@pytest.mark.parametrize("function, missing", [
    ("ScheduleContentFunction", "PUBLISHER_FUNCTION_ARN"),
    ("ScheduleContentFunction", "SCHEDULER_ROLE_ARN"),
    ("ApproveContentFunction", "SCHEDULE_GROUP"),
    ("ReschedulePostFunction", "PUBLISHER_FUNCTION_ARN"),
    ("PublishContentFunction", "PUBLISHER_FUNCTION_ARN"),
    ("ListScheduledPostsFunction", "CURSOR_SECRET_ARN"),
    ("ListSocialAccountsFunction", "CURSOR_SECRET_ARN"),
    ("WhoamiFunction", "TABLE_NAME"),
    ("PublisherFunction", "TABLE_NAME"),
    ("PublisherFunction", "PUBLISH_QUEUE_URL"),
    ("PublisherFunction", "TIKTOK_CLIENT_SECRET_ARN"),
    ("WebhookCreateEndpointFunction", "WEBHOOK_KMS_KEY_ID"),
    ("WebhookRotateSecretFunction", "WEBHOOK_KMS_KEY_ID"),
    ("WebhookDeliveryFunction", "WEBHOOK_KMS_KEY_ID"),
    ("WebhookDeliveryFunction", "WEBHOOK_QUEUE_URL"),
    ("WebhookFanoutFunction", "WEBHOOK_QUEUE_URL"),
    ("WebhookListDeliveriesFunction", "CURSOR_SECRET_ARN"),
])
def test_a_function_missing_what_it_needs_refuses_to_start(deployed_env, function, missing):
    deployed_env.delenv(missing)
    with pytest.raises(settings.ConfigurationError) as raised:
        import_app(code_uri(function))
    assert missing in str(raised.value)


def test_the_error_lists_every_missing_setting_at_once(deployed_env):
    for name in ("TABLE_NAME", "PUBLISHER_FUNCTION_ARN", "SCHEDULE_GROUP"):
        deployed_env.delenv(name)
    with pytest.raises(settings.ConfigurationError) as raised:
        import_app(code_uri("ScheduleContentFunction"))
    assert [p.split()[0] for p in raised.value.problems] == ["TABLE_NAME", "PUBLISHER_FUNCTION_ARN",
                                                               "SCHEDULE_GROUP"]


def test_a_deployed_environment_starts_every_function(deployed_env):
    for function in FUNCTIONS:
        module = import_app(code_uri(function))
        assert settings.TABLE in module.SETTINGS.needs, function


def test_without_a_tiktok_app_the_publisher_needs_no_client_secret(deployed_env):
    deployed_env.delenv("TIKTOK_CLIENT_KEY")
    deployed_env.delenv("TIKTOK_CLIENT_SECRET_ARN")
    assert import_app(code_uri("PublisherFunction")).SETTINGS.tiktok_client_secret_source() is None


def test_the_trigger_never_falls_back_to_the_test_double(deployed_env):
    from layers_shared.scheduling import trigger

    previous = trigger._override
    trigger.use(None)
    try:
        deployed_env.delenv("PUBLISHER_FUNCTION_ARN")
        with pytest.raises(settings.ConfigurationError, match="PUBLISHER_FUNCTION_ARN"):
            trigger.current()
        # Not swallowed as a trigger failure either (that would be the sweeper fallback again).
        with pytest.raises(settings.ConfigurationError):
            trigger.safely_schedule([object()])  # type: ignore[list-item]
        deployed_env.setenv("PUBLISHER_FUNCTION_ARN", DEPLOYED_ENV["PUBLISHER_FUNCTION_ARN"])
        chosen = trigger.current()
        assert isinstance(chosen, trigger.EventBridgeTrigger)
        assert (chosen.target_arn, chosen.group, chosen.role_arn) == (
            DEPLOYED_ENV["PUBLISHER_FUNCTION_ARN"], DEPLOYED_ENV["SCHEDULE_GROUP"], DEPLOYED_ENV["SCHEDULER_ROLE_ARN"])
    finally:
        trigger.use(previous)


def test_list_cursors_have_no_built_in_key(deployed_env):
    from layers_shared.domain import pagination

    deployed_env.delenv("CURSOR_SECRET_ARN")
    with pytest.raises(settings.ConfigurationError, match="CURSOR_SECRET_ARN"):
        pagination.encode({"sk": "x"}, "d")


# -- secrets from Secrets Manager: tests/integration/test_secrets_manager_reads.py (moto) -----------


# -- template.yaml sets what the functions declare ------------------------------------------------

def _environment(function: str) -> dict[str, Any]:
    shared = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    own = (FUNCTIONS[function]["Properties"].get("Environment") or {}).get("Variables") or {}
    return {**shared, **own}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_template_sets_every_variable_the_function_declares(deployed_env, function):
    declared = import_app(code_uri(function)).SETTINGS.needs
    env = _environment(function)
    missing = [n.env for n in declared if env.get(n.env) in (None, "")]
    assert missing == [], f"{function} would refuse to start"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_template_passes_secret_arns_never_values(function):
    env = _environment(function)
    assert LOCAL_STAND_INS >= {"CURSOR_SECRET", "TIKTOK_CLIENT_SECRET"}
    assert not set(env) & (LOCAL_STAND_INS | {"LINQ_API_TOKEN"}), function
    for name, value in env.items():
        if name.endswith("_SECRET_ARN"):
            assert isinstance(value, dict) and "Ref" in value, f"{function}.{name}: {value!r}"


def test_the_cursor_key_is_a_generated_secret_of_the_stack():
    secret = TEMPLATE["Resources"]["CursorSigningSecret"]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= 32
    for function in ("ListScheduledPostsFunction", "ListSocialAccountsFunction"):
        assert _environment(function)["CURSOR_SECRET_ARN"] == {"Ref": "CursorSigningSecret"}


def test_the_tiktok_client_secret_is_a_secret_arn_parameter():
    params = TEMPLATE["Parameters"]
    assert "TikTokClientSecret" not in params
    arn = params["TikTokClientSecretArn"]
    assert "secretsmanager" in arn["AllowedPattern"]
    assert _environment("PublisherFunction")["TIKTOK_CLIENT_SECRET_ARN"] == {"Ref": "TikTokClientSecretArn"}
    # A client key without its secret (or the reverse) is refused at deploy time, not at first refresh.
    assert "TikTokAppCredentials" in TEMPLATE["Rules"]


def _secret_grants() -> dict[str, set[str]]:
    from tests.unit.test_template_iam import grants

    return {f: {r for a, r, _ in grants(f) if a == "secretsmanager:GetSecretValue"} for f in FUNCTIONS}


def test_only_the_functions_that_read_a_secret_may_read_it():
    readers = {f: found for f, found in _secret_grants().items() if found}
    assert readers == {
        "ListScheduledPostsFunction": {"CursorSigningSecret"},
        "WebhookListEndpointsFunction": {"CursorSigningSecret"},
        "WebhookListDeliveriesFunction": {"CursorSigningSecret"},
        "ListSocialAccountsFunction": {"CursorSigningSecret"},
        "NotifyDeviceFunction": {"LinqTokenSecretArn"},
        "PublisherFunction": {"TikTokClientSecretArn", "LinqTokenSecretArn"},
        "ScheduleContentFunction": {"TikTokClientSecretArn"},
        "PublishContentFunction": {"TikTokClientSecretArn"},
    }
    # ... and each of them declares the ARN it reads (no grant without the code that uses it).
    for function, found in readers.items():
        env = _environment(function)
        for secret in found:
            assert {"Ref": secret} in env.values(), (function, secret)


def test_managed_secret_values_never_print():
    assert "value" not in repr(managed.LocalValue("value"))
    assert "value" not in repr(settings.Settings(cursor_secret="value", table_name="t"))
