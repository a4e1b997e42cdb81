"""Simulated AWS around the real publisher: the publish queue, KMS, the
platforms' HTTP (in process), each advancing the simulated clock by what the
call would take, and the CPU our own code spends measured apart from them.

Every stand-in here replaces a boundary the code already has (the `Queue`
port, the boto3 KMS client, the HTTP client's connection pool): the publisher
itself runs unmodified.
"""
from __future__ import annotations

import heapq
import itertools
import json
import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, urlsplit

from layers_shared import clock
from layers_shared.publisher.queue import Outgoing, delay_seconds
from tests.fakes.http_server import FakeServer, Request

# Latencies of the calls, seconds (typical in-region figures; docs/capacity.md).
LATENCY = {
    "GetItem": 0.004, "BatchGetItem": 0.008, "PutItem": 0.006, "UpdateItem": 0.006, "DeleteItem": 0.006,
    "TransactWriteItems": 0.015, "Query": 0.008,
    "SendMessageBatch": 0.012, "Decrypt": 0.008, "Encrypt": 0.008,
}
PLATFORM_LATENCY = {"init": 0.35, "status": 0.15, "creator_info": 0.15, "token": 0.2, "other": 0.2}


class Costs:
    """CPU spent outside our code (the simulated services), to subtract."""

    def __init__(self) -> None:
        self.external_cpu = 0.0
        self.calls: Counter[str] = Counter()

    def external(self, name: str, fn: Callable[[], Any], latency: float) -> Any:
        started = time.process_time()
        try:
            return fn()
        finally:
            self.external_cpu += time.process_time() - started
            self.calls[name] += 1
            advance(latency)


def advance(seconds: float) -> None:
    clock.set_now(clock.now() + timedelta(seconds=seconds))


@dataclass(order=True)
class Message:
    visible_at: float
    seq: int
    body: dict[str, Any] = field(compare=False)
    receives: int = field(default=0, compare=False)


class SimQueue:
    """The `Queue` port on simulated time: a message becomes visible at its
    send instant plus its delay (whole seconds, as SqsQueue sends it)."""

    BATCH = 10

    def __init__(self, costs: Costs) -> None:
        self.costs = costs
        self.delayed: list[Message] = []
        self.ready: deque[Message] = deque()
        self._seq = itertools.count()
        self.sent = 0

    def send(self, messages: Iterable[Outgoing]) -> None:
        pending = list(messages)
        for start in range(0, len(pending), self.BATCH):
            chunk = pending[start:start + self.BATCH]

            def put() -> None:
                at = clock.now().timestamp()
                for m in chunk:
                    heapq.heappush(self.delayed, Message(at + delay_seconds(m.delay), next(self._seq), m.body))
            self.costs.external("SendMessageBatch", put, LATENCY["SendMessageBatch"])
            self.sent += len(chunk)

    def requeue(self, message: Message, at: float) -> None:
        message.visible_at = at
        heapq.heappush(self.delayed, message)

    def advance(self, now: float) -> None:
        while self.delayed and self.delayed[0].visible_at <= now:
            self.ready.append(heapq.heappop(self.delayed))

    def next_visible(self) -> float | None:
        return self.delayed[0].visible_at if self.delayed else None

    def take(self, up_to: int) -> list[Message]:
        return [self.ready.popleft() for _ in range(min(up_to, len(self.ready)))]

    def empty(self) -> bool:
        return not self.delayed and not self.ready


class SimKms:
    """KMS for the token vault: 'ciphertext' is the plaintext wrapped with its
    context (the model needs the call count and latency, not secrecy)."""

    def __init__(self, costs: Costs) -> None:
        self.costs = costs

    def encrypt(self, KeyId: str, Plaintext: bytes, EncryptionContext: dict[str, str]) -> dict[str, Any]:
        blob = json.dumps({"c": EncryptionContext, "p": Plaintext.decode()}).encode()
        return self.costs.external("Encrypt", lambda: {"CiphertextBlob": blob}, LATENCY["Encrypt"])

    def decrypt(self, CiphertextBlob: bytes, EncryptionContext: dict[str, str]) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            data = json.loads(CiphertextBlob)
            assert data["c"] == EncryptionContext
            return {"Plaintext": data["p"].encode()}
        return self.costs.external("Decrypt", run, LATENCY["Decrypt"])


class _Answer:
    def __init__(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.status, self.headers, self.data = status, headers, data


class InProcessPool:
    """Stands in for urllib3's PoolManager under `HttpClient`: requests go to
    the fakes' `handle` in process (same requests, same answers, same
    recording and limits as over a socket), and take PLATFORM_LATENCY."""

    def __init__(self, costs: Costs, fakes: dict[str, FakeServer], kind_of: Callable[[str], str],
                 on_request: Callable[[str, Request, float], None] | None = None) -> None:
        self.costs, self.fakes, self.kind_of, self.on_request = costs, fakes, kind_of, on_request

    def request(self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                **_: Any) -> _Answer:
        parts = urlsplit(url)
        fake = self.fakes[parts.netloc]
        request = Request(method, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)),
                          {k.lower(): v for k, v in (headers or {}).items()}, body or b"")
        kind = self.kind_of(parts.path)
        if self.on_request is not None:
            self.on_request(kind, request, clock.now().timestamp())

        def run() -> _Answer:
            fault = fake._record(request)
            response = fake._answer(request) if fault is None or fault.status is None else None
            assert response is not None, "the load model scripts no faults"
            payload = json.dumps(response.body).encode() if isinstance(response.body, (dict, list)) else \
                (response.body or "").encode()
            return _Answer(response.status, {"content-type": "application/json", **response.headers}, payload)
        return self.costs.external(f"http:{kind}", run, PLATFORM_LATENCY.get(kind, PLATFORM_LATENCY["other"]))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]
