"""Publisher throughput and cost: sandbox posts per second through the
publisher handler (slot fan-out -> SQS -> one step per message), and AWS calls
per published post, counted with a botocore `before-call` hook.

Runs in-process with DynamoDB and SQS in moto, so the rate is this machine's
rate against moto (a lower bound for the code itself), and the call count is
exactly what the Lambda would make. The SQS receive/delete done by the
harness (Lambda's event source mapping in AWS) is not counted.

    PYTHONPATH=. python bench/bench_publisher.py
"""
from __future__ import annotations

import json
import os
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTS = int(os.environ.get("BENCH_PUBLISHER_POSTS", "200"))
PER_SLOT = 50  # a 50-target batch: one slot


def run(posts: int = POSTS) -> dict[str, object]:
    from local import aws_world

    mock = aws_world.start("layers-bench-publisher")
    try:
        return _measure(posts)
    finally:
        from layers_shared import clock

        clock.set_now(None)
        mock.stop()


def _measure(posts: int) -> dict[str, object]:
    from bench.aws_calls import CallCounter
    from layers_shared import aws, clock, seed
    from layers_shared.models.entities import Media, ScheduledPost
    from layers_shared.secrets.vault import KmsTokenVault
    from layers_shared.store import items
    from layers_shared.store.table import Table
    from local import events, routes

    table = Table()
    seed.load(seed.parse(json.loads((ROOT / "local" / "seed" / "default.json").read_text())), table,
              KmsTokenVault(table))
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="layers-bench-publish", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
    os.environ["PUBLISH_QUEUE_URL"] = queue_url
    handler = routes.load_handler("functions/publisher/", "app.handler")
    context = events.LambdaContext("layers-publisher-bench")

    now = clock.truncate_ms(clock.now())
    slots = []
    for i in range(posts):
        slot = now - timedelta(seconds=1 + i // PER_SLOT)
        if not slots or slots[-1] != slot:
            slots.append(slot)
        post = ScheduledPost(
            id=f"sp_{uuid.uuid4()}", organizationId="org_11111111-1111-4111-8111-111111111111",
            projectId="prj_33333333-3333-4333-8333-000000000001", containerId="cnt_66666666-6666-4666-8666-000000000001",
            socialAccountId="sa_55555555-5555-4555-8555-000000000001", platform="tiktok", handle="acmecoffee",
            mode="publish", env="test", scheduledFor=clock.to_storage(slot), mediaType="video",
            media=[Media(url="https://media.example.com/pour.mp4", kind="video")], caption="bench",
            createdAt=clock.to_storage(now), updatedAt=clock.to_storage(now))
        table.put(items.to_item(post))

    counter = CallCounter().install()
    started = time.perf_counter()
    with counter.counting() as calls:
        for slot in reversed(slots):  # oldest first, as they would fire
            handler({"kind": "slot", "slot": clock.to_storage(slot)}, context)
            _drain(sqs, queue_url, handler, context, counter)
    elapsed = time.perf_counter() - started
    published = _count_published(table)
    by_call = dict(sorted(calls.items(), key=lambda kv: -kv[1]))
    total = sum(calls.values())
    result = {
        "posts": posts,
        "published": published,
        "posts_per_second": round(published / elapsed, 1) if elapsed else None,
        "aws_calls_per_published_post": round(total / published, 2) if published else None,
        "aws_calls_per_post_by_operation": {k: round(v / max(published, 1), 2) for k, v in by_call.items()},
        "seconds": round(elapsed, 2),
        "note": "in-process against moto; SQS receive/delete by the event source mapping not counted",
    }
    return result


def _drain(sqs: Any, url: str, handler: Any, context: Any, counter: Any) -> None:
    while True:
        counter.enabled = False  # the event source mapping's calls, not the publisher's
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        counter.enabled = True
        if not messages:
            return
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"]}
                             for m in messages]}
        failed = {f["itemIdentifier"] for f in handler(event, context)["batchItemFailures"]}
        counter.enabled = False
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=url, Entries=done)
        counter.enabled = True


def _count_published(table: Any) -> int:
    from layers_shared import aws

    answer = aws.client("dynamodb").scan(TableName=table.name, Select="COUNT", FilterExpression="#t = :sp AND #s = :p",
                                         ExpressionAttributeNames={"#t": "type", "#s": "status"},
                                         ExpressionAttributeValues={":sp": {"S": "SP"}, ":p": {"S": "published"}})
    return int(answer["Count"])


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
