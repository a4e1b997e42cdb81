"""The `RateCounters` port: the DynamoDB adapter and the in-memory fake count
alike (each test runs on both, conftest.py `world`)."""
from __future__ import annotations

import uuid


def test_each_bucket_counts_from_one(world):
    rates, a, b = world.ports["rates"], f"org_{uuid.uuid4()}#test#write-light#60", f"org_{uuid.uuid4()}#live#x#60"
    assert [rates.count(a, 180) for _ in range(3)] == [1, 2, 3]
    assert rates.count(b, 180) == 1
    assert rates.count(a, 999) == 4  # a later expiry does not restart the count
