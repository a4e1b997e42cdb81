"""The local stack's faster moto paths (local/moto_json_answers.py,
local/moto_queries.py, local/moto_sqs_attributes.py) answer exactly what
moto itself answers; only the work behind the answer is less."""
from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest


@pytest.fixture
def world():
    from local import aws_world

    mock = aws_world.start("moto-fast-paths-test")  # with the table's stream
    try:
        from layers_shared import aws

        yield aws.client("dynamodb"), os.environ["TABLE_NAME"]
    finally:
        mock.stop()


def _items(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        item: dict[str, Any] = {"PK": {"S": f"P#{i % 3}"}, "SK": {"S": f"S#{i:03d}"}, "n": {"N": str(i)},
                                "blob": {"B": bytes([i, 0, 255])}, "tags": {"SS": ["a", f"t{i}"]},
                                "m": {"M": {"x": {"L": [{"N": "1.50"}, {"NULL": True}, {"BOOL": i % 2 == 0}]}}}}
        if i % 4:  # a sparse index: some items are not in it
            item.update({"GSI2PK": {"S": f"WQ#{i % 2}"}, "GSI2SK": {"S": f"2026-01-01T00:00:{i:02d}.000Z#{i}"}})
        out.append(item)
    return out


def _exercise(ddb: Any, table: str) -> None:
    """One of each item operation, paging included."""
    for item in _items(24):
        ddb.put_item(TableName=table, Item=item)
    ddb.get_item(TableName=table, Key={"PK": {"S": "P#1"}, "SK": {"S": "S#004"}})
    ddb.update_item(TableName=table, Key={"PK": {"S": "P#1"}, "SK": {"S": "S#004"}}, UpdateExpression="SET n = n + :one",
                    ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="ALL_NEW")
    page = ddb.query(TableName=table, IndexName="GSI2", KeyConditionExpression="GSI2PK = :p AND GSI2SK <= :u",
                     ExpressionAttributeValues={":p": {"S": "WQ#1"}, ":u": {"S": "2026-01-01T00:00:15.000Z#~"}},
                     Limit=3)
    ddb.query(TableName=table, IndexName="GSI2", KeyConditionExpression="GSI2PK = :p",
              ExpressionAttributeValues={":p": {"S": "WQ#1"}}, ExclusiveStartKey=page["LastEvaluatedKey"])
    ddb.query(TableName=table, KeyConditionExpression="PK = :p AND begins_with(SK, :s)", ScanIndexForward=False,
              FilterExpression="n > :z", ExpressionAttributeValues={":p": {"S": "P#2"}, ":s": {"S": "S#0"},
                                                                    ":z": {"N": "3"}})
    ddb.scan(TableName=table, Limit=5)
    ddb.batch_get_item(RequestItems={table: {"Keys": [{"PK": {"S": "P#0"}, "SK": {"S": "S#000"}},
                                                      {"PK": {"S": "P#9"}, "SK": {"S": "S#nope"}}]}})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"PK": {"S": "T#1"}, "SK": {"S": "META"}, "b": {"B": b"\x01"}}}},
        {"Update": {"TableName": table, "Key": {"PK": {"S": "P#0"}, "SK": {"S": "S#000"}},
                    "UpdateExpression": "REMOVE GSI2PK"}}])
    ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {"PK": {"S": "T#1"},
                                                                          "SK": {"S": "META"}}}}])
    ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {"PK": {"S": "W#1"}, "SK": {"S": "x"}}}},
                                               {"DeleteRequest": {"Key": {"PK": {"S": "T#1"}, "SK": {"S": "META"}}}}]})
    ddb.delete_item(TableName=table, Key={"PK": {"S": "W#1"}, "SK": {"S": "x"}}, ReturnValues="ALL_OLD")


def test_the_plain_json_answers_are_motos_answers(world, monkeypatch):
    from moto.core.responses import ActionResult

    from layers_shared import aws
    from local import moto_json_answers

    ddb, table = world
    fast = ActionResult.execute_result
    compared: list[str] = []

    def both(self: Any, context: Any) -> Any:
        theirs = moto_json_answers.moto_execute_result(self, context)
        ours = fast(self, context)
        name = context.operation_model.name
        if (context.operation_model.service_model.service_name, name) in moto_json_answers.PLAIN_JSON:
            assert ours[0] == theirs[0] and ours[1]["Content-Type"] == theirs[1]["Content-Type"], name
            assert json.loads(ours[2]) == json.loads(theirs[2]), name
            compared.append(name)
        return ours

    monkeypatch.setattr(ActionResult, "execute_result", both)
    _exercise(ddb, table)
    streams = aws.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]

    assert records and records[0]["dynamodb"]["ApproximateCreationDateTime"].year >= 2024
    assert {"PutItem", "GetItem", "UpdateItem", "Query", "Scan", "BatchGetItem", "TransactWriteItems",
            "TransactGetItems", "BatchWriteItem", "GetRecords"} <= set(compared)
    stored = ddb.get_item(TableName=table, Key={"PK": {"S": "P#1"}, "SK": {"S": "S#001"}})["Item"]
    assert stored["blob"]["B"] == bytes([1, 0, 255])  # binary survives the base64 round trip


def test_an_answer_that_is_not_plain_json_goes_through_motos_serializer():
    from datetime import datetime, timezone

    from local import moto_json_answers

    assert moto_json_answers.body({"When": datetime(2026, 1, 2, 3, 4, 5, 678000)}) == '{"When": 1767323045.678}'
    assert moto_json_answers.body({"When": datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)}) == \
        '{"When": 1767323045}'
    assert moto_json_answers.body({"B": b"\x00\xff"}) == json.dumps({"B": base64.b64encode(b"\x00\xff").decode()})
    assert moto_json_answers.body({"odd": object()}) is None
    assert moto_json_answers.body(["not", "a", "dict"]) is None


def test_a_query_keeps_exactly_the_items_moto_keeps(world, monkeypatch):
    from moto.dynamodb.models.table import Table as MotoTable

    from local import moto_queries

    ddb, table = world
    for item in _items(40):
        ddb.put_item(TableName=table, Item=item)
    ddb.put_item(TableName=table, Item={"PK": {"S": "N#1"}, "SK": {"S": "x"}, "GSI1PK": {"S": "G"},
                                        "GSI1SK": {"S": "1"}})
    asked = [
        {"IndexName": "GSI2", "KeyConditionExpression": "GSI2PK = :p", "ExpressionAttributeValues": {":p": {"S": "WQ#0"}}},
        {"IndexName": "GSI2", "KeyConditionExpression": "GSI2PK = :p AND GSI2SK BETWEEN :a AND :b", "Limit": 4,
         "ExpressionAttributeValues": {":p": {"S": "WQ#1"}, ":a": {"S": "2026-01-01T00:00:05"},
                                       ":b": {"S": "2026-01-01T00:00:30"}}},
        {"IndexName": "GSI2", "KeyConditionExpression": "GSI2PK = :p", "ScanIndexForward": False,
         "ExpressionAttributeValues": {":p": {"S": "WQ#9"}}},
        {"KeyConditionExpression": "PK = :p", "Limit": 5, "ExpressionAttributeValues": {":p": {"S": "P#1"}}},
        {"KeyConditionExpression": "PK = :p AND SK > :s", "ScanIndexForward": False,
         "ExpressionAttributeValues": {":p": {"S": "P#2"}, ":s": {"S": "S#010"}}},
        {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :p", "ExpressionAttributeValues": {":p": {"S": "G"}}},
    ]

    def every_page(kwargs: dict[str, Any]) -> list[Any]:
        pages, start = [], None
        while True:
            page = ddb.query(TableName=table, **kwargs, **({"ExclusiveStartKey": start} if start else {}))
            pages.append((page["Items"], page.get("LastEvaluatedKey"), page["Count"]))
            start = page.get("LastEvaluatedKey")
            if not start:
                return pages

    ours = [every_page(kwargs) for kwargs in asked]
    monkeypatch.setattr(MotoTable, "query", moto_queries.moto_query)
    monkeypatch.setattr(MotoTable, "all_items", moto_queries.moto_all_items)
    theirs = [every_page(kwargs) for kwargs in asked]

    assert ours == theirs
    assert sum(len(items) for items, _, _ in ours[0]) == 10 and len(ours[1]) > 1


def test_sqs_sends_and_receives_without_counting_the_queue_and_decides_as_before(world, monkeypatch):
    from moto.sqs.models import Queue, sqs_backends

    from layers_shared import aws

    sqs = aws.client("sqs")
    fifo = sqs.create_queue(QueueName="fast-paths.fifo", Attributes={"FifoQueue": "true",
                                                                    "ContentBasedDeduplication": "true"})["QueueUrl"]
    plain = sqs.create_queue(QueueName="fast-paths", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    counted: list[str] = []
    moto_messages = Queue.messages

    def counting(self: Any) -> Any:
        counted.append(self.name)
        return moto_messages.fget(self)

    monkeypatch.setattr(Queue, "messages", property(counting))
    for _ in range(3):
        sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
    sqs.send_message_batch(QueueUrl=plain, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)])
    assert counted == []  # sending walks no queue

    assert sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessages"] == "1"  # content-based deduplication still holds
    assert sqs.get_queue_attributes(QueueUrl=plain, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"] == {
        "ApproximateNumberOfMessages": "5"}
    counted.clear()
    received = sqs.receive_message(QueueUrl=plain, MaxNumberOfMessages=2)["Messages"]
    assert len(received) == 2 and counted == ["fast-paths"]  # one walk per receive, not one per message

    backend = sqs_backends["123456789012"]["us-east-1"]
    for message in backend.get_queue("fast-paths")._messages:
        message.sent_timestamp -= 61_000  # older than the queue's retention period
    assert sqs.receive_message(QueueUrl=plain, MaxNumberOfMessages=10).get("Messages", []) == []
