"""Count AWS API calls with a botocore event hook on the shared clients."""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Iterator

from layers_shared import aws

SERVICES = ("dynamodb", "scheduler", "lambda", "sqs", "kms", "secretsmanager")


class CallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.enabled = False

    def hook(self, model, **_kwargs) -> None:  # botocore 'before-call' event
        if self.enabled:
            self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def install(self) -> "CallCounter":
        for service in SERVICES:
            aws.client(service).meta.events.register("before-call", self.hook)
        return self

    @contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        self.calls.clear()
        self.enabled = True
        try:
            yield self.calls
        finally:
            self.enabled = False
