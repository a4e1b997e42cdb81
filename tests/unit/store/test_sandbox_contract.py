"""The `SandboxRecords` port: the DynamoDB adapter and the in-memory fake
remember alike (each test runs on both, conftest.py `world`)."""
from __future__ import annotations

import uuid


def test_submits_are_counted_per_post(world):
    records, post, other = world.ports["sandbox"], f"sp_{uuid.uuid4()}", f"sp_{uuid.uuid4()}"
    assert [records.count_submit(post) for _ in range(3)] == [1, 2, 3]
    assert records.count_submit(other) == 1


def test_what_was_created_is_read_back_and_nothing_before(world):
    records, post = world.ports["sandbox"], f"sp_{uuid.uuid4()}"
    assert records.created(post) is None
    records.count_submit(post)  # a submit that created nothing is not a creation
    assert records.created(post) is None
    records.record_created(post, "7301234567890123456")
    assert records.created(post) == "7301234567890123456"
