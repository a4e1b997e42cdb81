"""The local stack's stand-in for EventBridge Scheduler, the SQS event source
mapping and the sweeper's rate(1 minute) schedule.

At startup it takes the publish queues aws_world made and installs the real
`EventBridgeTrigger`, so the API creates real (moto) schedules. A daemon thread
then, every quarter second: fires the schedules whose `at()` time has passed
into the publisher (and deletes them, as `ActionAfterCompletion: DELETE`
would), drains the publish queue into the publisher as SQS batch events
(moto honours `DelaySeconds`), and runs the sweeper as often as the
template's schedule does.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from datetime import datetime, timezone
from typing import Any

from local import aws_world, background, events, routes, server

log = logging.getLogger(__name__)

ACCOUNT = "123456789012"
FUNCTION_NAME = "layers-publisher-local"
FUNCTION_ARN = f"arn:aws:lambda:{aws_world.REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/layers-scheduler-local"
TICK = 0.25
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


def sweep_interval(template: dict[str, Any] | None = None) -> float:
    """Seconds between sweeps: the publisher's `{"kind": "sweep"}` Schedule
    event in template.yaml. Not faster: a sweep re-sends every queued post
    older than the sweep grace, so one every 2 s (as this loop once ran it)
    re-sent a backlog of due posts again and again; 400 posts due at once left
    1,400 messages in the queue (docs/benchmarks.md)."""
    for resource in routes.function_resources(template).values():
        for event in ((resource.get("Properties") or {}).get("Events") or {}).values():
            props = event.get("Properties") or {}
            if event.get("Type") == "Schedule" and json.loads(props.get("Input") or "{}").get("kind") == "sweep":
                found = _RATE.match(str(props.get("Schedule", "")).strip())
                if found:
                    return float(found.group(1)) * _UNIT[found.group(2).rstrip("s")]
    raise LookupError("template.yaml has no rate() schedule of the publisher's sweep")


def standalone_environment() -> dict[str, str]:
    """What the functions need (layers_shared/settings.py) in a process that
    imports handlers without starting the stack: tests, the cold-import bench.
    The same names the stack sets when it starts; nothing here is a real ARN."""
    return {
        "TABLE_NAME": "layers-local",
        "SCHEDULE_GROUP": aws_world.SCHEDULE_GROUP,
        "PUBLISHER_FUNCTION_ARN": FUNCTION_ARN,
        "SCHEDULER_ROLE_ARN": ROLE_ARN,
        "PUBLISH_QUEUE_URL": f"https://sqs.{aws_world.REGION}.amazonaws.com/{ACCOUNT}/layers-publish-local",
        "TOKEN_KMS_KEY_ID": "alias/layers-local-tokens",
        "CURSOR_SECRET": aws_world.LOCAL_CURSOR_SECRET,
        # Webhooks (local/webhook_loop.py creates the real ones when the stack starts).
        "WEBHOOK_KMS_KEY_ID": "alias/layers-local-webhook-secrets",
        "WEBHOOK_QUEUE_URL": f"https://sqs.{aws_world.REGION}.amazonaws.com/{ACCOUNT}/layers-webhook-local",
    }


class PublisherLoop(background.Loop):
    def __init__(self, stack: server.Stack):
        super().__init__("publisher", TICK, workers=4)
        self.stack = stack
        self.group = os.environ.get("SCHEDULE_GROUP", aws_world.SCHEDULE_GROUP)
        self._last_sweep = 0.0
        self.sweep_every = sweep_interval()
        self.fired: list[str] = []  # schedule names fired so far (tests, debugging)

    # -- setup ------------------------------------------------------------------

    def install(self) -> None:
        from layers_shared.scheduling import trigger

        # The queues are the template's, made by aws_world with the rest of the world.
        self.queue_url = os.environ["PUBLISH_QUEUE_URL"]
        self.queue = background.SqsSource(self.queue_url, self.invoke, self)
        scheduler_dlq_arn = os.environ["SCHEDULER_DLQ_ARN"]
        os.environ.update({"PUBLISHER_FUNCTION_ARN": FUNCTION_ARN, "SCHEDULER_ROLE_ARN": ROLE_ARN})
        trigger.use(trigger.EventBridgeTrigger(group=self.group, target_arn=FUNCTION_ARN, role_arn=ROLE_ARN,
                                               dlq_arn=scheduler_dlq_arn, invoke_now=self.invoke_async))
        self.start()

    def stop(self) -> None:
        from layers_shared.scheduling import trigger

        super().stop()
        trigger.use(None)

    # -- the publisher, as Lambda would run it ------------------------------------

    def invoke(self, event: dict[str, Any]) -> Any:
        handler = routes.load_handler("functions/publisher/", "app.handler")
        return handler(event, events.LambdaContext(FUNCTION_NAME))

    def invoke_async(self, event: dict[str, Any]) -> None:
        """`InvocationType: Event`: returns at once."""
        if not self.stopping:
            self.submit(self._safely, event)

    def _safely(self, event: dict[str, Any]) -> Any:
        try:
            return self.invoke(event)
        except Exception:
            log.exception("publisher invocation failed")
            return None

    # -- the loop -----------------------------------------------------------------

    def tick(self) -> None:
        self.fire_due_schedules()
        self.drain_queue()
        if time.monotonic() - self._last_sweep >= self.sweep_every:
            self._last_sweep = time.monotonic()
            self._safely({"kind": "sweep"})

    def fire_due_schedules(self) -> None:
        from layers_shared import aws, clock

        scheduler = aws.client("scheduler")
        now = clock.now()
        for name in self._schedule_names(scheduler):
            try:
                schedule = scheduler.get_schedule(Name=name, GroupName=self.group)
            except (KeyError, scheduler.exceptions.ResourceNotFoundException):
                continue
            at = _at_time(schedule.get("ScheduleExpression", ""))
            if at is None or at > now:
                continue
            try:
                scheduler.delete_schedule(Name=name, GroupName=self.group)
            except (KeyError, scheduler.exceptions.ResourceNotFoundException):
                continue  # fired by someone else meanwhile
            self.fired.append(name)
            self._safely(json.loads(schedule["Target"].get("Input") or "{}"))

    def _schedule_names(self, scheduler: Any) -> list[str]:
        names: list[str] = []
        token = None
        while True:
            kwargs: dict[str, Any] = {"GroupName": self.group}
            if token:
                kwargs["NextToken"] = token
            try:
                page = scheduler.list_schedules(**kwargs)
            except KeyError:  # moto: the group does not exist (yet)
                return names
            names += [s["Name"] for s in page.get("Schedules", [])]
            token = page.get("NextToken")
            if not token:
                return names

    def drain_queue(self, max_batches: int = 50) -> None:
        self.queue.drain(max_batches)


def _at_time(expression: str) -> datetime | None:
    found = _AT.match(expression.strip())
    if not found:
        return None
    return datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)


@server.on_startup
def _start(stack: server.Stack) -> None:
    loop = PublisherLoop(stack)
    loop.install()
    stack.background.append(loop)
    stack.publisher_loop = loop  # type: ignore[attr-defined]
