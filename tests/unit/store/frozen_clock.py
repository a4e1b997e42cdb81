"""A clock frozen at a millisecond instant (what storage keeps) for a
contract test, moved by hand: `later(seconds)`. Imported by the suites whose
conditions compare stored instants (leases, TTLs)."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import pytest

from layers_shared import clock


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    clock.set_now(clock.truncate_ms(clock.now()))
    yield
    clock.set_now(None)


def later(seconds: int) -> None:
    clock.set_now(clock.now() + timedelta(seconds=seconds))
