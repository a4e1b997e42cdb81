"""Webhooks (docs/adr/0070-webhooks.md): events and AWS calls per published
post with 0, 1 and 5 subscribed active endpoints, and the delivery latency
from state change to receiver on the local stack.

1. `per_published_post`: in-process against moto, like bench_publisher.py.
   Sandbox posts go through the publish-now route and the publisher; the
   outbox's stream records (inserted `EVT` items, the event source mapping's
   filter) go to the fan-out handler, the delivery queue to the delivery
   handler, which POSTs to a receiver on 127.0.0.1. AWS calls are counted per
   stage with the botocore `before-call` hook (bench/aws_calls.py). Not
   counted: the stream read and the SQS receive/delete, which are Lambda's
   event source mappings in AWS, and endpoint creation (once, not per post).
2. `latency_local_stack`: the local stack in-process (`make run`'s loops:
   publisher every 0.25 s, webhook stream/queue every 0.1 s) served over HTTP,
   one endpoint, a receiver recording arrival times. post.published: arrival
   minus the post's `publishedAt` (the event's data carries the stamp of the
   terminal write, ms); test.ping: arrival minus the time the
   `POST /v1/webhook-endpoints/{id}/test` request was sent.

    make bench            (or: PYTHONPATH=. .venv/bin/python bench/bench_webhooks.py)
"""
from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTS = int(os.environ.get("BENCH_WEBHOOKS_POSTS", "5"))         # per endpoint count, part 1
SAMPLES = int(os.environ.get("BENCH_WEBHOOKS_SAMPLES", "20"))     # per kind, part 2
ENDPOINT_COUNTS = (0, 1, 5)
CONTAINER = "cnt_66666666-6666-4666-8666-000000000001"  # video, no approval
ACCOUNT = "sa_55555555-5555-4555-8555-000000000001"     # tiktok sandbox, publish
POST_EVENTS = ["post.scheduled", "post.published", "post.failed", "post.canceled"]
STAGES = ("schedule_api", "publisher", "fanout", "delivery")
FAST_PUBLISHER = {"PUBLISH_RETRY_BASE_SECONDS": "1", "PUBLISH_POLL_BASE_SECONDS": "1",
                  "PUBLISH_POLL_CAP_SECONDS": "1"}


def run() -> dict[str, object]:
    _configure()
    return {"per_published_post": calls_per_post(), "latency_local_stack": latency()}


def _configure() -> None:
    os.environ.setdefault("RATE_LIMITS_JSON", '{"standard": {"read-light": 100000, "write-light": 100000}}')
    from local.publisher_loop import standalone_environment

    for name, value in standalone_environment().items():  # the handlers refuse to start unconfigured
        os.environ.setdefault(name, value)


def _test_key(fixture: dict[str, Any]) -> str:
    return next(k["key"] for k in fixture["apiKeys"] if "ACMETEST" in k["key"])


# -- 1. events and AWS calls per published post ----------------------------------------------


class _Api:
    """The API Gateway proxy event -> the route's handler, as the local stack calls it."""

    def __init__(self, key: str):
        from local import routes

        self.routes = routes.api_routes()
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        from local import events, routes

        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                break
        else:
            raise LookupError(f"no route for {method} {path}")
        event = events.proxy_event(method=method, path=path, query="", headers=dict(self.headers),
                                   body=json.dumps(body).encode() if body is not None else b"",
                                   resource=route.path, path_params=params)
        result = routes.load_handler(route.code_uri, route.handler)(event, events.LambdaContext(route.function))
        return int(result["statusCode"]), json.loads(result.get("body") or "null")


class _Stream:
    """The table's stream, read the way local/webhook_loop.py reads it (a fresh
    iterator from the last sequence number), filtered like the mapping."""

    def __init__(self) -> None:
        from layers_shared import aws

        table = os.environ["TABLE_NAME"]
        self.arn = aws.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        streams = aws.client("dynamodbstreams")
        self.shard = streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.after: str | None = None

    def read(self) -> list[dict[str, Any]]:
        from layers_shared import aws
        from local.webhook_loop import matches_filter

        streams = aws.client("dynamodbstreams")
        found: list[dict[str, Any]] = []
        while True:
            position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.after}
                        if self.after else {"ShardIteratorType": "TRIM_HORIZON"})
            iterator = streams.get_shard_iterator(StreamArn=self.arn, ShardId=self.shard, **position)["ShardIterator"]
            records = streams.get_records(ShardIterator=iterator, Limit=1000).get("Records", [])
            if not records:
                return found
            self.after = records[-1]["dynamodb"]["SequenceNumber"]
            found += [r for r in records if matches_filter(r)]


def calls_per_post(posts: int = POSTS, endpoint_counts: tuple[int, ...] = ENDPOINT_COUNTS) -> dict[str, object]:
    from layers_shared import clock
    from layers_shared.scheduling import trigger
    from local import aws_world

    started = time.perf_counter()
    mock = aws_world.start()  # the table name the local stack uses: handlers keep theirs once loaded
    try:
        return _measure_calls(posts, endpoint_counts) | {"seconds": round(time.perf_counter() - started, 1)}
    finally:
        trigger.use(None)
        clock.set_now(None)
        mock.stop()


def _measure_calls(posts: int, endpoint_counts: tuple[int, ...]) -> dict[str, object]:
    from bench.aws_calls import CallCounter
    from layers_shared import aws, seed
    from layers_shared.scheduling import trigger
    from layers_shared.secrets.vault import KmsTokenVault
    from layers_shared.store import keys
    from layers_shared.store.table import Table
    from local import events, routes
    from tests.webhook_receiver import Receiver

    fixture = json.loads((ROOT / "local" / "seed" / "default.json").read_text())
    table = Table()
    seed.load(seed.parse(fixture), table, KmsTokenVault(table))
    slots: list[dict[str, Any]] = []
    trigger.use(trigger.EventBridgeTrigger(group=os.environ["SCHEDULE_GROUP"], target_arn="arn:aws:lambda:us-east-1:"
                                           "123456789012:function:publisher", role_arn="arn:aws:iam::123456789012:"
                                           "role/scheduler", dlq_arn=None, invoke_now=slots.append))
    api = _Api(_test_key(fixture))
    stream = _Stream()
    stream.read()  # the seed's writes
    sqs = aws.client("sqs")
    publish_queue, webhook_queue = os.environ["PUBLISH_QUEUE_URL"], os.environ["WEBHOOK_QUEUE_URL"]
    publisher = routes.load_handler("functions/publisher/", "app.handler")
    fanout = routes.load_handler("functions/webhook_fanout/", "app.handler")
    delivery = routes.load_handler("functions/webhook_delivery/", "app.handler")
    counter = CallCounter().install()
    receiver = Receiver()
    endpoints: list[str] = []
    results: dict[str, object] = {}
    try:
        for wanted in endpoint_counts:
            while len(endpoints) < wanted:
                status, body = api.call("POST", "/v1/webhook-endpoints",
                                        {"url": receiver.url(f"/e{len(endpoints)}"), "events": POST_EVENTS})
                assert status == 201, body
                endpoints.append(body["endpoint"]["id"])
            phase_started = time.perf_counter()
            stages: dict[str, Counter[str]] = {s: Counter() for s in STAGES}
            event_types: Counter[str] = Counter()
            hits_before = len(receiver.hits)

            def counted(stage: str, work: Any) -> Any:
                with counter.counting() as calls:
                    out = work()
                stages[stage].update(calls)
                return out

            def webhooks() -> None:
                """The stream into the fan-out, the queue into the delivery, until both are quiet."""
                while True:
                    batch = stream.read()
                    for record in batch:
                        image = record["dynamodb"]["NewImage"]
                        for event in image.get("events", {}).get("L", []):
                            event_types[event["M"]["type"]["S"]] += 1
                    if batch:
                        answer = counted("fanout", lambda: fanout({"Records": batch},
                                                                  events.LambdaContext("bench-webhook-fanout")))
                        assert not answer["batchItemFailures"], answer
                    delivered = _drain(sqs, webhook_queue, delivery, "bench-webhook-delivery",
                                       lambda work: counted("delivery", work))
                    if not batch and not delivered:
                        return

            post_ids: list[str] = []
            for _ in range(posts):
                status, body = counted("schedule_api", lambda: api.call(
                    "POST", f"/v1/content/{CONTAINER}/publish",
                    {"targets": [{"socialAccountId": ACCOUNT, "mode": "publish"}]}))
                assert status == 200, body
                post_ids += body["scheduledPostIds"]
            webhooks()  # post.scheduled
            fired, slots[:] = list(slots), []
            for slot in {json.dumps(s, sort_keys=True): s for s in fired}.values():  # one invocation per slot
                counted("publisher", lambda: publisher(slot, events.LambdaContext("bench-publisher")))
            for _ in range(30):  # poll steps come back after their SQS delay
                _drain(sqs, publish_queue, publisher, "bench-publisher", lambda work: counted("publisher", work))
                statuses = [table.get(keys.scheduled_post(p))["status"] for p in post_ids]
                if all(s in ("published", "draft", "failed") for s in statuses):
                    break
                time.sleep(0.5)
            webhooks()  # post.published
            published = sum(1 for s in statuses if s == "published")
            time.sleep(0.2)
            hits = receiver.hits[hits_before:]
            per = max(published, 1)
            results[f"endpoints_{wanted}"] = {
                "posts": posts,
                "published": published,
                "seconds": round(time.perf_counter() - phase_started, 1),
                "events_per_post": round(sum(event_types.values()) / per, 2),
                "events_by_type": dict(event_types),
                "deliveries_received_per_post": round(len(hits) / per, 2),
                "aws_calls_per_post": {s: round(sum(stages[s].values()) / per, 2) for s in STAGES}
                | {"total_async": round(sum(sum(stages[s].values()) for s in STAGES[1:]) / per, 2),
                   "webhooks_only": round((sum(stages["fanout"].values()) + sum(stages["delivery"].values()))
                                          / per, 2)},
                "by_operation": {s: {k: round(v / per, 2) for k, v in sorted(stages[s].items(), key=lambda kv: -kv[1])}
                                 for s in ("publisher", "fanout", "delivery")},
            }
    finally:
        receiver.close()
    results["note"] = ("in-process against moto; sandbox posts via POST /v1/content/{id}/publish; "
                       "schedule_api = the publish-now request itself; total_async = publisher + fanout + delivery; "
                       "publisher calls vary run to run with the sandbox's status polls, not with endpoints "
                       "(its outbox cost is the terminal write being one TransactWriteItems); "
                       "stream reads and SQS receive/delete (event source mappings) not counted")
    return results


def _drain(sqs: Any, url: str, handler: Any, name: str, counted: Any) -> int:
    """Receive -> the handler as an SQS batch -> delete the successes; the
    receive and delete are the mapping's and not counted. Messages handled."""
    from local import aws_world, events

    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                       AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return handled
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": m.get("Attributes", {}), "messageAttributes": {},
                              "eventSource": "aws:sqs", "awsRegion": aws_world.REGION} for m in messages]}
        answer = counted(lambda: handler(event, events.LambdaContext(name)))
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(QueueUrl=url, Entries=done)
        handled += len(messages)


# -- 2. delivery latency on the local stack -------------------------------------------------


def latency(samples: int = SAMPLES) -> dict[str, object]:
    import local.plugins  # noqa: F401 - the publisher and webhook loops, as `make run` has them
    from layers_shared import clock
    from layers_shared.store.webhook_deliveries import DynamoWebhookDeliveries
    from local.server import Stack, serve_in_thread
    from tests.webhook_receiver import Receiver

    saved = {k: os.environ.get(k) for k in FAST_PUBLISHER}
    os.environ.update(FAST_PUBLISHER)
    stack = Stack()
    server, base = serve_in_thread(stack)
    receiver = Receiver()
    started = time.perf_counter()
    try:
        key = _test_key(json.loads(stack.seed_path.read_text(encoding="utf-8")))

        def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
            request = urllib.request.Request(base + path, method=method,
                                             data=json.dumps(body).encode() if body is not None else None,
                                             headers={"Authorization": f"Bearer {key}",
                                                      "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return answer.status, json.loads(answer.read() or b"null")
            except urllib.error.HTTPError as failed:
                return failed.code, json.loads(failed.read() or b"null")

        path = f"/{uuid.uuid4().hex[:8]}"
        status, body = call("POST", "/v1/webhook-endpoints",
                            {"url": receiver.url(path), "events": ["post.published"]})
        assert status == 201, body
        endpoint_id = body["endpoint"]["id"]

        # test.ping: the API call's time -> arrival
        sent: dict[str, float] = {}
        for _ in range(samples):
            at = time.time()
            status, body = call("POST", f"/v1/webhook-endpoints/{endpoint_id}/test")
            assert status == 202, body
            sent[body["eventId"]] = at
            time.sleep(0.1)
        pings = _arrivals(receiver, path, set(sent), timeout=15)
        ping_ms = [(pings[e].at - sent[e]) * 1000 for e in sent if e in pings]

        # post.published: the post's publishedAt -> arrival
        post_ids = []
        for _ in range(samples):
            status, body = call("POST", f"/v1/content/{CONTAINER}/publish",
                                {"targets": [{"socialAccountId": ACCOUNT, "mode": "publish"}]})
            assert status == 200, body
            post_ids += body["scheduledPostIds"]
            time.sleep(0.1)
        # The event carries the post's publishedAt (the terminal write's own stamp, ms).
        arrivals = _arrivals(receiver, path, set(post_ids), timeout=30, by="scheduledPostId")
        post_ms, to_fanout_ms = [], []
        for hit in arrivals.values():
            changed = clock.parse_instant(hit.event["data"]["publishedAt"]).timestamp()
            post_ms.append((hit.at - changed) * 1000)
            planned = DynamoWebhookDeliveries(stack.table).get(hit.header("X-Layers-Delivery-Id") or "")
            if planned:  # the fan-out's stamp on the delivery it created
                to_fanout_ms.append((clock.parse_instant(planned.createdAt).timestamp() - changed) * 1000)
        return {"post.published": _summary(post_ms, samples),
                "post.published_state_change_to_fanout": _summary(to_fanout_ms, samples),
                "test.ping": _summary(ping_ms, samples),
                "seconds": round(time.perf_counter() - started, 1),
                "note": "local stack in-process (loops poll every 0.1 s / 0.25 s); one publish-now request every "
                        "~0.1 s; post.published from the post's publishedAt (ms); state_change_to_fanout: to the "
                        "fan-out's createdAt on the delivery; test.ping from sending the API request"}
    finally:
        receiver.close()
        server.shutdown()
        server.server_close()
        stack.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _arrivals(receiver: Any, path: str, wanted: set[str], timeout: float, by: str = "id") -> dict[str, Any]:
    """First hit per event id (or per scheduledPostId of post.published)."""
    deadline = time.time() + timeout
    while True:
        found: dict[str, Any] = {}
        for hit in receiver.at(path):
            event = hit.event
            name = event["id"] if by == "id" else (event.get("data") or {}).get(by)
            if name in wanted and name not in found:
                found[name] = hit
        if len(found) >= len(wanted) or time.time() > deadline:
            return found
        time.sleep(0.05)


def _summary(values: list[float], expected: int) -> dict[str, object]:
    if not values:
        return {"n": 0, "expected": expected}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"n": len(ordered), "expected": expected, "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(p95, 1), "max_ms": round(ordered[-1], 1), "min_ms": round(ordered[0], 1)}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
