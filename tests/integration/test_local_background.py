"""What the local stack runs in place of AWS's machinery holds to AWS's
rules: the SQS event source mapping receives only what its workers can take,
and the sweeper runs on the template's schedule."""
from __future__ import annotations

import os
import threading
from typing import Any

import pytest


@pytest.fixture
def queue_url():
    from local import aws_world

    mock = aws_world.start("local-background-test", streams=False)
    try:
        yield os.environ["PUBLISH_QUEUE_URL"]
    finally:
        mock.stop()


class _Loop:
    """A background.Loop's part the source uses: a pool of `workers`."""

    def __init__(self, workers: int):
        from concurrent.futures import ThreadPoolExecutor

        self.name = "test"
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers)

    def submit(self, fn: Any, *args: Any) -> None:
        self.pool.submit(fn, *args)


def test_a_batch_is_received_only_when_a_worker_can_take_it(queue_url):
    from layers_shared import aws
    from local.background import SqsSource

    sqs = aws.client("sqs")
    for start in range(0, 100, 10):
        sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": str(start + i)}
                                                            for i in range(10)])
    release = threading.Event()
    handled: list[str] = []

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        release.wait(10)
        handled.extend(r["body"] for r in event["Records"])
        return {"batchItemFailures": []}

    loop = _Loop(workers=2)
    source = SqsSource(queue_url, handler, loop)
    source.drain(max_batches=50)
    source.drain(max_batches=50)  # the next tick: both workers still busy
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    # Two batches out, the rest still in the queue (not waiting in a backlog, invisible)
    assert source.in_flight == 2 and attributes["ApproximateNumberOfMessagesNotVisible"] == "20"
    assert attributes["ApproximateNumberOfMessages"] == "80"

    release.set()
    for _ in range(200):
        source.drain(max_batches=50)
        if len(handled) == 100 and source.in_flight == 0:
            break
        threading.Event().wait(0.02)
    loop.pool.shutdown(wait=True)
    assert sorted(handled, key=int) == [str(i) for i in range(100)]
    assert sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"][
        "ApproximateNumberOfMessagesNotVisible"] == "0"


def test_a_failing_receive_frees_its_place(queue_url, monkeypatch):
    from layers_shared import aws
    from local.background import SqsSource

    source = SqsSource(queue_url, lambda event: None, _Loop(workers=1))
    client = aws.client("sqs")
    monkeypatch.setattr(client, "receive_message", lambda **kw: (_ for _ in ()).throw(RuntimeError("down")))
    monkeypatch.setattr(aws, "client", lambda name: client)
    with pytest.raises(RuntimeError):
        source.drain(max_batches=5)
    assert source.in_flight == 0


def test_the_sweeper_runs_on_the_templates_schedule():
    from local import publisher_loop, routes

    template = routes.load_template()
    assert publisher_loop.sweep_interval(template) == 60.0
    publisher = next(r for r in template["Resources"].values()
                     if any(e.get("Type") == "Schedule" for e in ((r.get("Properties") or {}).get("Events") or {}).values()))
    event = next(e for e in publisher["Properties"]["Events"].values() if e.get("Type") == "Schedule")
    event["Properties"]["Schedule"] = "rate(5 minutes)"
    assert publisher_loop.sweep_interval(template) == 300.0
    event["Properties"]["Input"] = '{"kind": "slot"}'
    with pytest.raises(LookupError):
        publisher_loop.sweep_interval(template)
