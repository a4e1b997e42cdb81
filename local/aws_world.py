"""An in-process AWS (moto) with the resources template.yaml declares.

moto's backends are not built for concurrent callers, so every AWS call is
serialized by one lock; handlers themselves still run concurrently, which is
what the idempotency and transaction guarantees are about.
"""
from __future__ import annotations

import os
import threading
from typing import Any

_lock = threading.RLock()
_patched = False

REGION = "us-east-1"
SCHEDULE_GROUP = "layers-publishing-local"
LOCAL_CURSOR_SECRET = "local-stack-cursor-key-never-deployed"


def _serialize_moto_calls() -> None:
    global _patched
    if _patched:
        return
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]
    _patched = True


def environment(table: str = "layers-local") -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "TABLE_NAME": table, "SCHEDULE_GROUP": SCHEDULE_GROUP, "STAGE": "local",
        # The local stand-in for the stack's CursorSigningSecret (layers_shared/settings.py);
        # a deployed function only ever gets CURSOR_SECRET_ARN.
        "CURSOR_SECRET": LOCAL_CURSOR_SECRET,
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        # No EMF lines on the console; tests that check metrics switch them on.
        "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
    }


def start(table: str = "layers-local") -> Any:
    """Start moto, create the resources, return the mock (call .stop() to end)."""
    os.environ.update(environment(table))
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    _serialize_moto_calls()
    from layers_shared import aws

    aws.reset()
    create_table(table)
    key_id = aws.client("kms").create_key(Description="layers local token key")["KeyMetadata"]["KeyId"]
    os.environ["TOKEN_KMS_KEY_ID"] = key_id
    aws.client("scheduler").create_schedule_group(Name=SCHEDULE_GROUP)
    return mock


def create_table(name: str) -> None:
    """The table as template.yaml declares it (keys, GSIs, TTL)."""
    from layers_shared import aws

    ddb = aws.client("dynamodb")
    attrs = ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"]
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attrs],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": index, "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": f"{index}PK", "KeyType": "HASH"},
                           {"AttributeName": f"{index}SK", "KeyType": "RANGE"}]}
            for index in ("GSI1", "GSI2")
        ],
    )
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"})
