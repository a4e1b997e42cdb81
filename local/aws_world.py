"""AWS for the local stack and `make aws-local`: the resources template.yaml
declares, created against whatever endpoint boto3 is pointed at.

Two worlds use the same `create_resources`:
- in-process moto (`start`): what `make run` and the tests use by default.
  moto's backends are not built for concurrent callers, so every AWS call is
  serialized by one lock; handlers themselves still run concurrently, which is
  what the idempotency and transaction guarantees are about.
- a moto server in its own process (`start_server` + `connect`): what
  `make aws-local`, `AWS=server make run` and `sam local start-api` talk to
  over HTTP through AWS_ENDPOINT_URL (docs/adr/0008-aws-local-and-sam-local.md).

Names are fixed per stage (the template's `layers-publishing-${Stage}`), so the
committed local/sam-env.json can name every resource before it exists.
"""
from __future__ import annotations

import json
import os
import secrets as _random
import string
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

_lock = threading.RLock()
_patched = False

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
STAGE = "local"
SCHEDULE_GROUP = "layers-publishing-local"
LOCAL_CURSOR_SECRET = "local-stack-cursor-key-never-deployed"
# Not 5000: macOS's AirPlay receiver listens there.
DEFAULT_PORT = 5050
ROOT = Path(__file__).resolve().parent.parent
SAM_ENV = ROOT / "local" / "sam-env.json"
# What a Lambda container under `sam local` calls the machine running the moto server.
CONTAINER_HOST = "host.docker.internal"
# The TikTok app secret is a deploy parameter (an existing secret's ARN), not a
# resource of the stack; locally it is a secret of this name holding a dummy.
TIKTOK_SECRET_NAME = "layers-publishing-{stage}/tiktok-client-secret"
# The template's 720 s suits a 120 s Lambda; a failed local batch should come back within a minute.
LOCAL_QUEUE_OVERRIDES = {"PublishQueue": {"VisibilityTimeout": "60"}}


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
    from local import moto_json_answers, moto_queries, moto_sqs_attributes, moto_transactions

    moto_transactions.install()
    moto_json_answers.install()
    moto_queries.install()
    moto_sqs_attributes.install()
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


def start(table: str = "layers-local", *, streams: bool = True) -> Any:
    """Start in-process moto, create the resources, return the mock (call .stop() to end).

    `streams=False` leaves the table's stream off: in-process moto keeps every
    stream record and copies them with the table on every transaction, which
    grows a long fault campaign (nothing there reads the events) to many GB."""
    os.environ.update(environment(table))
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    _serialize_moto_calls()
    from layers_shared import aws

    aws.reset()
    # No secrets: in-process worlds keep the plain local stand-ins the tests rely on.
    os.environ.update(create_resources(table=table, with_secrets=False, streams=streams))
    return mock


# -- the template's resources --------------------------------------------------------


def _template() -> dict[str, Any]:
    from local.routes import load_template

    return load_template()


def _of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r.get("Properties") or {} for name, r in template["Resources"].items() if r.get("Type") == kind}


def _sub(value: Any, stage: str) -> str:
    """A name as the template writes it (`!Sub layers-publishing-${Stage}`) for `stage`."""
    text = value["Sub"] if isinstance(value, dict) else value
    for key, real in (("${Stage}", stage), ("${AWS::Region}", REGION), ("${AWS::AccountId}", ACCOUNT),
                      ("${AWS::Partition}", "aws")):
        text = text.replace(key, real)
    return text


def _queue_name(logical_id: str, stage: str) -> str:
    # The template leaves queue names to CloudFormation; locally they must be fixed.
    return f"layers-publishing-{stage}-{logical_id}"


def _key_alias(logical_id: str, stage: str) -> str:
    # KMS makes up key ids; an alias names the key before it exists (Encrypt accepts it as KeyId).
    return f"alias/layers-publishing-{stage}-{logical_id}"


def _secret_arn(name: str) -> str:
    # A partial ARN (no random suffix) names the secret before it exists; Secrets Manager accepts it.
    return f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}"


def _local_values(template: dict[str, Any], endpoint: str, stage: str, table: str | None,
                  unmade: bool) -> dict[str, str]:
    """What `!Ref X` / `!GetAtt X.Attr` of each resource `create_resources` makes is locally.
    With `unmade`, also the functions and roles, which are never created: nothing
    here runs Lambda or IAM (the local stack fires due schedules itself,
    local/publisher_loop.py); their ARNs only have to be well formed."""
    values: dict[str, str] = {}
    for logical, props in _of_type(template, "AWS::DynamoDB::Table").items():
        values[logical] = table or _sub(props["TableName"], stage)
    for logical, props in _of_type(template, "AWS::Scheduler::ScheduleGroup").items():
        values[logical] = _sub(props["Name"], stage)
    for logical in _of_type(template, "AWS::KMS::Key"):
        values[logical] = _key_alias(logical, stage)
    for logical in _of_type(template, "AWS::SQS::Queue"):
        name = _queue_name(logical, stage)
        values.update({logical: f"{endpoint.rstrip('/')}/{ACCOUNT}/{name}", f"{logical}.QueueName": name,
                       f"{logical}.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"})
    for logical, props in _of_type(template, "AWS::SecretsManager::Secret").items():
        values[logical] = _secret_arn(_sub(props["Name"], stage))
    if unmade:
        for logical in _of_type(template, "AWS::Serverless::Function"):
            values[f"{logical}.Arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:layers-publishing-{stage}-{logical}"
        for logical in _of_type(template, "AWS::IAM::Role"):
            values[f"{logical}.Arn"] = f"arn:aws:iam::{ACCOUNT}:role/layers-publishing-{stage}-{logical}"
    return values


def configuration(endpoint: str, stage: str = STAGE, table: str | None = None, *, secrets: bool = True,
                  unmade: bool = True) -> dict[str, str]:
    """The variables the functions declare in template.yaml whose values are the
    stack's own resources, as `create_resources` makes them behind `endpoint`."""
    template = _template()
    values = _local_values(template, endpoint, stage, table, unmade)
    if not secrets:
        values = {k: v for k, v in values.items() if k not in _of_type(template, "AWS::SecretsManager::Secret")}
    declared = [((template.get("Globals") or {}).get("Function") or {})]
    declared += [r.get("Properties") or {} for r in _of_type_resources(template, "AWS::Serverless::Function")]
    out: dict[str, str] = {"STAGE": stage}
    for props in declared:
        for var, ref in ((props.get("Environment") or {}).get("Variables") or {}).items():
            if not isinstance(ref, dict):
                continue
            target = ref.get("Ref") or ref.get("GetAtt")
            if target in values:
                assert out.get(var, values[target]) == values[target], f"{var} names two resources"
                out[var] = values[target]
    if secrets:
        out["TIKTOK_CLIENT_SECRET_ARN"] = _secret_arn(TIKTOK_SECRET_NAME.format(stage=stage))
    return out


def _of_type_resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r.get("Type") == kind]


def create_resources(stage: str = STAGE, table: str | None = None, with_secrets: bool = True,
                     endpoint: str | None = None, streams: bool = True) -> dict[str, str]:
    """Create (or find, when they exist) the tables, queues, schedule groups, KMS
    keys and secrets template.yaml declares, wherever boto3 points (in-process
    moto or AWS_ENDPOINT_URL). Returns the configuration the functions need for
    them (only what exists: no function or role ARNs)."""
    from layers_shared import aws

    template = _template()
    endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL") or f"https://sqs.{REGION}.amazonaws.com"
    values = _local_values(template, endpoint, stage, table, unmade=False)
    for logical in _of_type(template, "AWS::DynamoDB::Table"):
        create_table(values[logical], template, logical, streams=streams)

    sqs = aws.client("sqs")
    queues = _of_type(template, "AWS::SQS::Queue")
    # Dead-letter queues first: the others name them in their redrive policy.
    for logical in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]):
        props = queues[logical]
        attributes = {k: str(props[k]).lower() if isinstance(props[k], bool) else str(props[k])
                      for k in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                                "SqsManagedSseEnabled") if k in props}
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps({
                "deadLetterTargetArn": values[policy["deadLetterTargetArn"]["GetAtt"]],
                "maxReceiveCount": str(policy["maxReceiveCount"])})
        attributes.update(LOCAL_QUEUE_OVERRIDES.get(logical, {}))
        try:
            sqs.create_queue(QueueName=values[f"{logical}.QueueName"], Attributes=attributes)
        except sqs.exceptions.QueueNameExists:  # an earlier run made it with other attributes
            pass

    for logical, props in _of_type(template, "AWS::KMS::Key").items():
        _create_key(values[logical], props.get("Description", logical))
    scheduler = aws.client("scheduler")
    for logical in _of_type(template, "AWS::Scheduler::ScheduleGroup"):
        try:
            scheduler.create_schedule_group(Name=values[logical])
        except scheduler.exceptions.ConflictException:
            pass

    if with_secrets:
        for logical, props in _of_type(template, "AWS::SecretsManager::Secret").items():
            _create_secret(_sub(props["Name"], stage), _generated(props.get("GenerateSecretString") or {}),
                           props.get("Description", logical))
        _create_secret(TIKTOK_SECRET_NAME.format(stage=stage), "local-tiktok-client-secret-not-a-real-one",
                       "Stands in for the TikTokClientSecretArn parameter; put a real app's secret here to refresh")
    return configuration(endpoint, stage, table, secrets=with_secrets, unmade=False)


def create_table(name: str, template: dict[str, Any] | None = None, logical_id: str | None = None,
                 streams: bool = True) -> None:
    """A table as template.yaml declares it (keys, GSIs, TTL, stream); an existing one is kept."""
    from layers_shared import aws

    tables = _of_type(template or _template(), "AWS::DynamoDB::Table")
    props = tables[logical_id] if logical_id else next(iter(tables.values()))
    ddb = aws.client("dynamodb")
    # Not SSE, point-in-time recovery or deletion protection: nothing local depends on them.
    extra: dict[str, Any] = {}
    if streams and props.get("StreamSpecification"):
        extra["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    try:
        ddb.create_table(TableName=name, BillingMode=props["BillingMode"],
                         AttributeDefinitions=props["AttributeDefinitions"], KeySchema=props["KeySchema"],
                         GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []), **extra)
    except ddb.exceptions.ResourceInUseException:
        return
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": bool(ttl["Enabled"]), "AttributeName": ttl["AttributeName"]})


def _create_key(alias: str, description: str) -> None:
    from layers_shared import aws

    kms = aws.client("kms")
    try:
        kms.describe_key(KeyId=alias)
        return
    except kms.exceptions.NotFoundException:
        pass
    key_id = kms.create_key(Description=description)["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)


def _generated(spec: dict[str, Any]) -> str:
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += "!#$%&()*+,-.:;<=>?@[]^_{|}~"
    return "".join(_random.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))


def _create_secret(name: str, value: str, description: str) -> None:
    from layers_shared import aws

    manager = aws.client("secretsmanager")
    try:
        manager.create_secret(Name=name, SecretString=value, Description=description)
    except manager.exceptions.ResourceExistsException:
        pass  # keep the value: list cursors signed with it stay valid across restarts


# -- a moto server in its own process ------------------------------------------------


def reachable(endpoint: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/moto-api/", timeout=timeout):
            return True
    except OSError:
        return False


def start_server(port: int = DEFAULT_PORT, host: str = "127.0.0.1", wait: float = 30.0) -> subprocess.Popen[bytes]:
    """`python -m moto.server` on host:port, returned once it answers."""
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server exited with {proc.returncode} (is port {port} taken?)")
        if reachable(endpoint):
            return proc
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"moto server did not answer on {endpoint} within {wait:.0f} s")


class ServerWorld:
    """The resources in a moto server; `stop` ends the server only if this process started it."""

    def __init__(self, endpoint: str, proc: subprocess.Popen[bytes] | None, config: dict[str, str]):
        self.endpoint = endpoint
        self.proc = proc
        self.config = config

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def connect(endpoint: str | None = None, stage: str = STAGE) -> ServerWorld:
    """Point this process's AWS clients at a moto server (starting one when
    nothing answers there) and create the resources in it."""
    endpoint = (endpoint or os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{DEFAULT_PORT}").rstrip("/")
    proc = None
    if not reachable(endpoint):
        port = int(endpoint.rsplit(":", 1)[1])
        proc = start_server(port)
    env = environment()
    env.pop("CURSOR_SECRET")  # the secret is in the server, as deployed
    os.environ.update(env)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    from layers_shared import aws

    aws.reset()
    config = {**create_resources(stage=stage, endpoint=endpoint), **configuration(endpoint, stage)}
    os.environ.pop("CURSOR_SECRET", None)
    os.environ.update(config)
    return ServerWorld(endpoint, proc, config)


def sam_env(endpoint: str = f"http://{CONTAINER_HOST}:{DEFAULT_PORT}") -> dict[str, Any]:
    """What local/sam-env.json holds: `sam local` applies "Parameters" to every
    function that declares the variable in template.yaml."""
    return {"Parameters": {"AWS_ENDPOINT_URL": endpoint, **configuration(endpoint), "TIKTOK_CLIENT_KEY": ""}}
