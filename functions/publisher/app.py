"""The publisher: slot triggers, the publish queue, the sweeper.

- {"kind": "slot", "slot": <instant>} from an EventBridge Scheduler `at()`
  schedule (or an async invoke for posts due now): fan out one message per due post.
- SQS batches from the PublishQueue: deliver one post step per message
  (partial batch failures are reported, the rest is deleted).
- {"kind": "sweep"} every minute: whatever no trigger fired, and expired leases.
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools import Logger

from layers_shared import clock, settings
from layers_shared.publisher import sweep
from layers_shared.publisher.metrics import count, count_error, flushed, gauge
from layers_shared.publisher.dispatch import Publisher
from layers_shared.publisher.queue import SqsQueue
from layers_shared.publisher.settings import timings
from layers_shared.store.table import Table

SETTINGS = settings.load(*settings.PUBLISHER_WORKER)  # cold start: refuses to run without its configuration
logger = Logger(service="layers-publishing")
# A whole batch side by side (the event source's BatchSize in template.yaml).
BATCH_THREADS = 25


@flushed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    publisher = Publisher(Table(), SqsQueue())
    if isinstance(event.get("Records"), list):
        return {"batchItemFailures": deliver_batch(publisher, event["Records"])}
    kind = event.get("kind")
    if kind == "slot":
        resume = event.get("resume") if isinstance(event.get("resume"), dict) else None
        fanned = sweep.fan_out(publisher.table, publisher.queue, str(event.get("slot")), clock.now(), resume=resume)
        logger.info("slot fanned out", extra={"slot": event.get("slot"), "posts": fanned})
        gauge("SlotPostsFannedOut", fanned)
        return {"posts": fanned}
    if kind == "sweep":
        found = sweep.sweep(publisher.table, publisher.queue, clock.now(), timings())
        logger.info("sweep", extra=found)
        gauge("SweepUnfiredPosts", found["queued"])
        gauge("SweepLeasesRecovered", found["recovered"])
        gauge("SweepLeasesReindexed", found["reindexed"])
        return found
    logger.warning("unknown event", extra={"keys": sorted(event)})
    return {"ignored": True}


def deliver_batch(publisher: Publisher, records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages of a batch are independent posts: deliver them side by side so
    one slow platform call does not push the batch towards the timeout."""
    def one(record: dict[str, Any]) -> dict[str, str] | None:
        try:
            body = json.loads(record.get("body") or "{}")
            result = publisher.handle(body if isinstance(body, dict) else {})
            count(result)
            logger.debug("message handled", extra={"result": result, "postId": body.get("postId")})
            return None
        except Exception:
            count_error()
            logger.exception("message failed; SQS will redeliver it", extra={"messageId": record.get("messageId")})
            return {"itemIdentifier": record.get("messageId", "")}

    if len(records) <= 1:
        results = [one(r) for r in records]
    else:
        with ThreadPoolExecutor(max_workers=min(len(records), BATCH_THREADS)) as pool:
            results = list(pool.map(one, records))
    return [r for r in results if r is not None]
