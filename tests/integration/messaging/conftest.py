"""One moto table per test module (named after it) and a fake Linq whose own
idempotency-key dedup is off: these tests prove we never rely on it."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.linq import FakeLinq

TOKEN = "test-linq-token"


@pytest.fixture(scope="module")
def table(request: pytest.FixtureRequest) -> Iterator[Any]:
    from layers_shared import aws
    from layers_shared.store.table import Table
    from local import aws_world

    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-") + "-test"
    mock = aws_world.start(name)
    yield Table(name)
    mock.stop()
    aws.reset()


@pytest.fixture
def linq() -> Iterator[FakeLinq]:
    with FakeLinq(token=TOKEN, honour_idempotency=False) as fake:
        yield fake
