"""Least privilege and operations facts of template.yaml (docs/adr/0060).

EXPECTED is the contract: for every function, the AWS actions its code performs
(traced over the whole test suite with a botocore hook, then read in the code
for the paths tests do not reach, such as KMS Encrypt on a token refresh). A
template that grants less breaks a deployed function with AccessDenied; one
that grants more fails here too.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from local.routes import function_resources, load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = function_resources(TEMPLATE)

Grant = tuple[str, str, str | None]  # (action, normalized resource, condition that gates the statement)


def ddb(*actions: str) -> set[Grant]:
    return {(f"dynamodb:{a}", "Table", None) for a in actions}


def query(*indexes: str) -> set[Grant]:
    return {("dynamodb:Query", f"Table/index/{i}", None) for i in indexes}


INVOKE_PUBLISHER = {("lambda:InvokeFunction", "PublisherFunction", None)}
# The slot trigger: an `at()` schedule in the group, run by the scheduler role,
# or the publisher invoked at once for a slot due now.
SLOT_TRIGGER = INVOKE_PUBLISHER | {("scheduler:CreateSchedule", "ScheduleGroup/slot-*", None),
                                   ("iam:PassRole", "SchedulerRole", None)}
READ = ddb("GetItem", "UpdateItem")  # every endpoint reads its key and bumps the rate-limit counter
# Idempotent writes: claim (Put), complete (Update, also inside TransactWriteItems), release (Delete).
IDEMPOTENT = ddb("GetItem", "PutItem", "UpdateItem", "DeleteItem")
LINQ = {("secretsmanager:GetSecretValue", "LinqTokenSecretArn", "HasLinqTokenSecret")}
# The list cursors' signing key and the TikTok app's client secret (docs/adr/0061).
CURSOR_KEY = {("secretsmanager:GetSecretValue", "CursorSigningSecret", None)}
TIKTOK_APP = {("secretsmanager:GetSecretValue", "TikTokClientSecretArn", "HasTikTokApp")}
BEDROCK = {("bedrock:InvokeModel", "foundation-model/${InstructionsModelId}", "HasInstructionsModel"),
           ("bedrock:InvokeModel", "inference-profile/${InstructionsModelId}", "HasInstructionsModel")}

# Live TikTok targets read creator_info at schedule time (docs/adr/0013): the account's
# token (decrypted, and a rotated one encrypted back) and the app's secret for a refresh.
TOKENS = {("kms:Encrypt", "TokenKey", None), ("kms:Decrypt", "TokenKey", None)}
CREATOR_INFO = TOKENS | TIKTOK_APP

WEBHOOK_SECRETS = {("kms:Encrypt", "WebhookSecretKey", None), ("kms:Decrypt", "WebhookSecretKey", None)}

EXPECTED: dict[str, set[Grant]] = {
    "WhoamiFunction": READ,
    "GetContentFunction": READ,
    "GetScheduledPostFunction": READ,
    # The listing's keys (GSI3, keys only), then its posts (docs/adr/0043).
    "ListScheduledPostsFunction": READ | ddb("BatchGetItem") | query("GSI3") | CURSOR_KEY,
    "ListTiktokMusicFunction": READ | query("GSI1"),
    "ListSocialAccountsFunction": READ | ddb("BatchGetItem") | query("GSI1") | CURSOR_KEY,
    # ConditionCheckItem: supplied post ids must be unused when a schedule is stashed for approval.
    "ScheduleContentFunction": IDEMPOTENT | ddb("BatchGetItem", "ConditionCheckItem") | SLOT_TRIGGER | CREATOR_INFO,
    # scheduledFor = now is always due: the publisher is invoked, no schedule is created.
    "PublishContentFunction": IDEMPOTENT | ddb("BatchGetItem") | INVOKE_PUBLISHER | CREATOR_INFO,
    "ApproveContentFunction": IDEMPOTENT | ddb("BatchGetItem") | SLOT_TRIGGER,
    "ReschedulePostFunction": IDEMPOTENT | SLOT_TRIGGER,
    "CancelPostFunction": IDEMPOTENT,
    "RejectContentFunction": IDEMPOTENT,
    "NotifyDeviceFunction": IDEMPOTENT | query("GSI1") | LINQ | BEDROCK,
    # BatchGetItem: the sweeper reads the posts behind the keys-only work queue (docs/adr/0090).
    "PublisherFunction": ddb("GetItem", "PutItem", "UpdateItem", "BatchGetItem") | query("GSI2") | LINQ | TIKTOK_APP
    | {(f"sqs:{a}", "PublishQueue", None)
       for a in ("SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes")}
    | {("kms:Encrypt", "TokenKey", None), ("kms:Decrypt", "TokenKey", None)},
    # -- webhooks (docs/adr/0070) --
    # Create and rotate encrypt the new secret; an Idempotency-Key replay decrypts the stored one.
    "WebhookCreateEndpointFunction": IDEMPOTENT | WEBHOOK_SECRETS,
    "WebhookRotateSecretFunction": IDEMPOTENT | WEBHOOK_SECRETS,
    "WebhookListEndpointsFunction": READ | query("GSI1") | CURSOR_KEY,
    "WebhookGetEndpointFunction": READ,
    # Pausing and deleting abandon the endpoint's unfinished deliveries (GSI1).
    "WebhookUpdateEndpointFunction": IDEMPOTENT | query("GSI1"),
    "WebhookDeleteEndpointFunction": IDEMPOTENT | query("GSI1"),
    # The ping and the replay are outbox items: the fan-out plans their delivery.
    "WebhookTestEndpointFunction": IDEMPOTENT,
    "WebhookReplayDeliveryFunction": IDEMPOTENT,
    "WebhookListDeliveriesFunction": READ | query("GSI1") | CURSOR_KEY,
    "WebhookFanoutFunction": ddb("GetItem", "PutItem") | query("GSI1")
    | {(f"dynamodb:{a}", "Table", None) for a in ("DescribeStream", "GetRecords", "GetShardIterator", "ListStreams")}
    | {("sqs:SendMessage", "WebhookQueue", None), ("sqs:SendMessage", "WebhookFanoutDLQ", None)},
    "WebhookDeliveryFunction": ddb("GetItem", "UpdateItem") | query("GSI1")
    | {(f"sqs:{a}", "WebhookQueue", None)
       for a in ("SendMessage", "ReceiveMessage", "DeleteMessage", "GetQueueAttributes")}
    | {("kms:Decrypt", "WebhookSecretKey", None)},
}


# -- reading the template -------------------------------------------------------------

def _resource_name(value: Any) -> str:
    """A Resource as the logical thing it names: `!GetAtt Table.Arn` -> Table,
    `!Sub ${Table.Arn}/index/GSI1` -> Table/index/GSI1, `!Sub arn:...:schedule/${G}/x` -> G/x."""
    if isinstance(value, str):
        return value
    if "GetAtt" in value:
        return str(value["GetAtt"]).split(".")[0]
    if "Ref" in value:
        return str(value["Ref"])
    if "Sub" in value:
        text = value["Sub"]
        text = re.sub(r"^\$\{(\w+)\.Arn\}", r"\1", text)
        text = re.sub(r"^arn:\$\{AWS::Partition\}:[a-z-]+:\$\{AWS::Region\}:(\$\{AWS::AccountId\})?:", "", text)
        return re.sub(r"^schedule/\$\{(\w+)\}/", r"\1/", text)
    raise AssertionError(f"unexpected Resource {value!r}")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(policies: list[Any]) -> Iterator[tuple[dict[str, Any], str | None]]:
    """(statement, gating condition) of inline policy documents, `!If [c, stmt, NoValue]` unwrapped."""
    for policy in policies:
        assert isinstance(policy, dict) and "Statement" in policy, f"only inline statements: {policy!r}"
        for stmt in policy["Statement"]:
            if "If" in stmt:
                condition, then, otherwise = stmt["If"]
                assert otherwise == {"Ref": "AWS::NoValue"}
                yield then, condition
            else:
                yield stmt, None


def function_statements(name: str) -> list[tuple[dict[str, Any], str | None]]:
    return list(_statements(FUNCTIONS[name]["Properties"].get("Policies") or []))


def grants(name: str) -> set[Grant]:
    found = set()
    for stmt, condition in function_statements(name):
        assert stmt["Effect"] == "Allow"
        for action in _as_list(stmt["Action"]):
            for resource in _as_list(stmt["Resource"]):
                found.add((action, _resource_name(resource), condition))
    return found


def every_iam_statement() -> Iterator[tuple[str, dict[str, Any]]]:
    """(owner, statement) of every function policy, IAM role policy and key policy."""
    for name in FUNCTIONS:
        for stmt, _ in function_statements(name):
            yield name, stmt
    for name, resource in RESOURCES.items():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies") or []:
                for stmt in policy["PolicyDocument"]["Statement"]:
                    yield name, stmt
        if resource["Type"] == "AWS::KMS::Key":
            for stmt in props["KeyPolicy"]["Statement"]:
                yield name, stmt


def _is_key_policy_admin(owner: str, stmt: dict[str, Any]) -> bool:
    """The default key policy statement: the account root, so that IAM policies decide."""
    return (RESOURCES[owner]["Type"] == "AWS::KMS::Key" and stmt.get("Sid") == "AccountAdministration"
            and stmt["Principal"] == {"AWS": {"Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}})


# -- least privilege ---------------------------------------------------------------------

def test_every_function_has_an_expected_grant_set() -> None:
    assert set(FUNCTIONS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_function_grants_exactly_what_its_code_calls(name: str) -> None:
    found = grants(name)
    assert EXPECTED[name] - found == set(), "missing: the deployed function would get AccessDenied"
    assert found - EXPECTED[name] == set(), "granted but never called"


def test_no_wildcard_actions() -> None:
    for owner, stmt in every_iam_statement():
        if _is_key_policy_admin(owner, stmt):
            continue
        for action in _as_list(stmt["Action"]):
            assert "*" not in action, f"{owner}: wildcard action {action}"


def test_no_wildcard_resources_except_the_key_policy() -> None:
    for owner, stmt in every_iam_statement():
        if RESOURCES[owner]["Type"] == "AWS::KMS::Key":
            continue  # a key policy's Resource "*" means this key
        for resource in _as_list(stmt["Resource"]):
            assert resource != "*", f"{owner}: Resource *"
            name = _resource_name(resource)
            assert name.endswith("/slot-*") or "*" not in name, f"{owner}: wildcard resource {name}"


def test_key_policy_is_only_the_account_default() -> None:
    for key in ("TokenKey", "WebhookSecretKey"):
        statements = [stmt for owner, stmt in every_iam_statement() if owner == key]
        assert len(statements) == 1 and _is_key_policy_admin(key, statements[0])


def test_query_only_on_the_index_arns_each_function_needs() -> None:
    indexes = {i["IndexName"] for i in RESOURCES["Table"]["Properties"]["GlobalSecondaryIndexes"]}
    for name in FUNCTIONS:
        queried = set()
        for stmt, _ in function_statements(name):
            if "dynamodb:Query" in _as_list(stmt["Action"]):
                assert _as_list(stmt["Action"]) == ["dynamodb:Query"], f"{name}: Query shares a statement"
                for resource in _as_list(stmt["Resource"]):
                    target = _resource_name(resource)
                    assert target.startswith("Table/index/"), f"{name}: Query on {target}, not an index"
                    queried.add(target.removeprefix("Table/index/"))
        assert queried <= indexes, f"{name}: Query on an index the table does not have"
        wanted = {r.removeprefix("Table/index/") for a, r, _ in EXPECTED[name] if a == "dynamodb:Query"}
        assert queried == wanted, name


def test_the_post_listing_index_is_keys_only_and_read_by_the_listing_alone() -> None:
    """Keys only is what keeps a publishing post's writes out of it (docs/adr/0043)."""
    (listing,) = [i for i in RESOURCES["Table"]["Properties"]["GlobalSecondaryIndexes"] if i["IndexName"] == "GSI3"]
    assert listing["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert [k["AttributeName"] for k in listing["KeySchema"]] == ["GSI3PK", "GSI3SK"]
    readers = {name for name, wanted in EXPECTED.items() if query("GSI3") <= wanted}
    assert readers == {"ListScheduledPostsFunction"}


TOKEN_USERS = {"PublisherFunction", "ScheduleContentFunction", "PublishContentFunction"}


def test_tokens_key_is_used_by_the_token_readers_only_and_bound_to_an_account() -> None:
    for name in FUNCTIONS:
        kms = [stmt for stmt, _ in function_statements(name)
               if any(a.startswith("kms:") for a in _as_list(stmt["Action"]))
               and "TokenKey" in {_resource_name(r) for r in _as_list(stmt["Resource"])}]
        if name not in TOKEN_USERS:
            assert kms == [], name
            continue
        assert len(kms) == 1
        assert kms[0]["Condition"] == {"Null": {"kms:EncryptionContext:socialAccountId": "false"}}


def test_pass_role_only_hands_the_scheduler_role_to_the_scheduler() -> None:
    for name in FUNCTIONS:
        for stmt, _ in function_statements(name):
            if "iam:PassRole" in _as_list(stmt["Action"]):
                assert _as_list(stmt["Action"]) == ["iam:PassRole"]
                assert stmt["Resource"] == {"GetAtt": "SchedulerRole.Arn"}
                assert stmt["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


def test_scheduler_role_can_only_invoke_the_publisher() -> None:
    role = RESOURCES["SchedulerRole"]["Properties"]
    assert "ManagedPolicyArns" not in role and "PermissionsBoundary" not in role
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"},
                                                  "aws:SourceArn": {"GetAtt": "ScheduleGroup.Arn"}}
    granted = {(a, _resource_name(r)) for owner, stmt in every_iam_statement() if owner == "SchedulerRole"
               for a in _as_list(stmt["Action"]) for r in _as_list(stmt["Resource"])}
    # Invoking the publisher, and dead-lettering a slot it could not deliver.
    assert granted == {("lambda:InvokeFunction", "PublisherFunction"), ("sqs:SendMessage", "SchedulerDLQ")}


def test_no_sam_event_attaches_a_broad_managed_policy() -> None:
    """A SAM `SQS` event adds AWSLambdaSQSQueueExecutionRole (SQS actions on "*")."""
    for name, fn in FUNCTIONS.items():
        props = fn["Properties"]
        assert "Role" not in props and not props.get("ManagedPolicyArns"), name
        kinds = {e["Type"] for e in (props.get("Events") or {}).values()}
        assert kinds <= {"Api", "Schedule"}, f"{name}: {kinds}"
    mapping = RESOURCES["PublishQueueEvents"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "PublisherFunction"}
    assert mapping["EventSourceArn"] == {"GetAtt": "PublishQueue.Arn"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


# -- routes and operations -----------------------------------------------------------------

def test_every_api_function_has_an_api_event_under_v1() -> None:
    for name, fn in FUNCTIONS.items():
        events = [e for e in (fn["Properties"].get("Events") or {}).values() if e["Type"] == "Api"]
        if name in ("PublisherFunction", "WebhookFanoutFunction", "WebhookDeliveryFunction"):
            assert events == []
            continue
        assert len(events) == 1, name
        props = events[0]["Properties"]
        assert props["RestApiId"] == {"Ref": "PartnerApi"}
        assert props["Path"].startswith("/v1/"), name
        assert props["Method"] in {"get", "post", "patch", "delete"}


def test_every_function_logs_to_its_own_group_with_retention() -> None:
    for name, fn in FUNCTIONS.items():
        props = fn["Properties"]
        group = RESOURCES[props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup"
        assert group["Properties"]["LogGroupName"] == {"Sub": "/aws/lambda/" + props["FunctionName"]["Sub"]}
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_every_alarm_notifies_the_optional_topic() -> None:
    alarms = {n: r["Properties"] for n, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert {"PublishDLQAlarm", "SchedulerDLQAlarm", "WebhookDLQAlarm", "WebhookFanoutDLQAlarm",
            "WebhookFailedDeliveriesAlarm"} <= set(alarms)
    wired = {"If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for name, props in alarms.items():
        assert props["AlarmActions"] == wired, name
    assert TEMPLATE["Conditions"]["HasAlarmTopic"] == {"Not": [{"Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}


def test_stateful_resources_survive_stack_deletion_and_replacement() -> None:
    for name in ("Table", "TokenKey", "WebhookSecretKey"):
        assert RESOURCES[name]["DeletionPolicy"] == "Retain", name
        assert RESOURCES[name]["UpdateReplacePolicy"] == "Retain", name
    assert RESOURCES["Table"]["Properties"]["DeletionProtectionEnabled"] is True


def test_secrets_are_read_with_get_secret_value_only_each_on_its_own_statement() -> None:
    """No other Secrets Manager action (listing, describing, writing) and no
    statement that mixes a secret with anything else."""
    for name in FUNCTIONS:
        for stmt, condition in function_statements(name):
            actions = _as_list(stmt["Action"])
            if any(a.startswith("secretsmanager:") for a in actions):
                assert actions == ["secretsmanager:GetSecretValue"], name
                (resource,) = _as_list(stmt["Resource"])
                assert _resource_name(resource) in {"CursorSigningSecret", "TikTokClientSecretArn",
                                                    "LinqTokenSecretArn"}, name
                # A secret given as a parameter may be empty: its grant exists only when it is set.
                if _resource_name(resource).endswith("Arn"):
                    assert condition is not None, name


# -- webhooks --------------------------------------------------------------------------------

def test_webhook_secrets_key_is_used_by_the_webhook_functions_only_and_bound_to_an_endpoint() -> None:
    users = set()
    for name in FUNCTIONS:
        for stmt, _ in function_statements(name):
            if "WebhookSecretKey" in {_resource_name(r) for r in _as_list(stmt["Resource"])}:
                users.add(name)
                assert stmt["Condition"] == {"Null": {"kms:EncryptionContext:webhookEndpointId": "false"}}
    assert users == {"WebhookCreateEndpointFunction", "WebhookRotateSecretFunction", "WebhookDeliveryFunction"}


def test_the_outbox_stream_feeds_only_event_items_to_the_fan_out() -> None:
    assert RESOURCES["Table"]["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    mapping = RESOURCES["WebhookOutboxEvents"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "WebhookFanoutFunction"}
    assert mapping["EventSourceArn"] == {"GetAtt": "Table.StreamArn"}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"GetAtt": "WebhookFanoutDLQ.Arn"}
    (pattern,) = mapping["FilterCriteria"]["Filters"]
    import json

    assert json.loads(pattern["Pattern"]) == {"eventName": ["INSERT"],
                                              "dynamodb": {"NewImage": {"type": {"S": ["EVT"]}}}}
    queue = RESOURCES["WebhookQueueEvents"]["Properties"]
    assert queue["EventSourceArn"] == {"GetAtt": "WebhookQueue.Arn"}
    assert queue["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    redrive = RESOURCES["WebhookQueue"]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"GetAtt": "WebhookDLQ.Arn"}
