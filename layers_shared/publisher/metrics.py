"""What the publisher did, as CloudWatch metrics (EMF through Powertools).

One count per handled message, by what happened: the numbers an operator
alarms on (failures) or watches (ignored firings show duplicate, early and
stale triggers being absorbed, which is guarantee 4 at work).
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

NAMESPACE = "LayersPublishing"

metrics = Metrics(namespace=NAMESPACE, service="publisher")
_lock = threading.Lock()  # batch messages are handled on several threads

_NAMES = {
    "published": "PostsPublished",
    "draft": "PostsDrafted",
    "failed": "PostsFailed",
    "skipped": "FiringsIgnored",
    "early": "FiringsIgnored",
    "stale": "FiringsIgnored",
    "lost-claim": "FiringsIgnored",
}


def metric_for(result: str) -> str:
    """The metric a `Publisher.handle` result counts towards."""
    if result.startswith("wait:"):
        return "StepsDeferred"
    return _NAMES.get(result, "MessagesOther")


def count(result: str) -> None:
    with _lock:
        metrics.add_metric(name=metric_for(result), unit=MetricUnit.Count, value=1)


def count_error() -> None:
    with _lock:
        metrics.add_metric(name="MessagesRedelivered", unit=MetricUnit.Count, value=1)


def gauge(name: str, value: int) -> None:
    """Counts of a slot or sweep invocation (zero included: a quiet sweep is news too)."""
    with _lock:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flushed(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Like Powertools' `log_metrics`, but the set is cleared even when metrics
    are switched off (the local stack), so a long-running process does not
    accumulate them, and an invocation with nothing to count stays silent."""
    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            with _lock:
                if metrics.metric_set:
                    metrics.flush_metrics()
                metrics.clear_metrics()
    return wrapper
