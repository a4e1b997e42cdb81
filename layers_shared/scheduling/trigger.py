"""The trigger port: make sure the publisher runs at each post's `scheduledFor`.

The table is the truth and the trigger only a wake-up call (DESIGN.md
guarantee 4): a lost trigger is caught by the sweeper, a duplicate or early one
does nothing. Posts due at the same instant share one slot, so a 50-target
batch costs one call (docs/adr/0010-scheduler-slots-and-quotas.md).
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Protocol

from aws_lambda_powertools import Logger

from layers_shared import aws, clock, settings
from layers_shared.models.entities import ScheduledPost

logger = Logger(service="layers-publishing", child=True)

DUE_SOON = timedelta(seconds=2)


def slot_of(scheduled_for: str) -> datetime:
    """`at()` has whole seconds: round up so a slot never fires early."""
    when = clock.parse_instant(scheduled_for)
    if when.microsecond:
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    return when


def slot_name(slot: datetime) -> str:
    return "slot-" + slot.strftime("%Y%m%dT%H%M%SZ")


def slot_event(slot: datetime) -> dict[str, Any]:
    return {"kind": "slot", "slot": clock.to_storage(slot)}


class Trigger(Protocol):
    def schedule(self, posts: Iterable[ScheduledPost]) -> None: ...


class InMemoryTrigger:
    """Records the slots asked for (tests install it with `use`)."""

    def __init__(self) -> None:
        self.slots: list[datetime] = []

    def schedule(self, posts: Iterable[ScheduledPost]) -> None:
        for slot in sorted({slot_of(p.scheduledFor) for p in posts}):
            self.slots.append(slot)


class EventBridgeTrigger:
    """One-time `at()` schedules in a dedicated group; due slots invoke the
    publisher at once (asynchronously)."""

    def __init__(self, *, group: str, target_arn: str, role_arn: str, dlq_arn: str | None,
                 invoke_now: Callable[[dict[str, Any]], None]):
        self.group = group
        self.target_arn = target_arn
        self.role_arn = role_arn
        self.dlq_arn = dlq_arn
        self.invoke_now = invoke_now

    def schedule(self, posts: Iterable[ScheduledPost]) -> None:
        now = clock.now()
        for slot in sorted({slot_of(p.scheduledFor) for p in posts}):
            if slot <= now + DUE_SOON:
                self.invoke_now(slot_event(slot))
            else:
                self._create(slot)

    def _create(self, slot: datetime) -> None:
        target: dict[str, Any] = {
            "Arn": self.target_arn, "RoleArn": self.role_arn, "Input": json.dumps(slot_event(slot)),
            "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
        }
        if self.dlq_arn:
            target["DeadLetterConfig"] = {"Arn": self.dlq_arn}
        scheduler = aws.client("scheduler")
        try:
            scheduler.create_schedule(
                Name=slot_name(slot), GroupName=self.group,
                ScheduleExpression=f"at({slot.strftime('%Y-%m-%dT%H:%M:%S')})",
                ScheduleExpressionTimezone="UTC", FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE", Target=target,
            )
        except scheduler.exceptions.ConflictException:
            pass  # the slot already exists: it will pick these posts up too


def lambda_invoker(function_arn: str) -> Callable[[dict[str, Any]], None]:
    def invoke(event: dict[str, Any]) -> None:
        aws.client("lambda").invoke(FunctionName=function_arn, InvocationType="Event",
                                    Payload=json.dumps(event).encode())
    return invoke


_override: Trigger | None = None


def use(trigger: Trigger | None) -> None:
    """Install another trigger (the local stack, tests)."""
    global _override
    _override = trigger


def current() -> Trigger:
    """The installed double, else the real trigger; never a silent stand-in
    (a deployed function without PUBLISHER_FUNCTION_ARN would only publish
    through the sweeper, a minute late and without anyone noticing)."""
    if _override is not None:
        return _override
    config = settings.current()
    config.require(settings.PUBLISHER)
    target = config.publisher_function_arn
    assert target is not None  # require() checked it
    return EventBridgeTrigger(
        group=config.schedule_group or "", target_arn=target, role_arn=config.scheduler_role_arn or "",
        dlq_arn=config.scheduler_dlq_arn, invoke_now=lambda_invoker(target),
    )


def safely_schedule(posts: list[ScheduledPost]) -> None:
    """After the rows are committed: a trigger failure must not fail the call
    (the sweeper publishes anything due that no trigger fired)."""
    if not posts:
        return
    chosen = current()  # outside the try: missing configuration is a bug, not a trigger failure
    try:
        chosen.schedule(posts)
    except Exception:
        logger.exception("trigger failed; the sweeper will pick these posts up",
                         extra={"scheduledPostIds": [p.id for p in posts]})


