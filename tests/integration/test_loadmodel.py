"""The load model's machinery at CI size (the 100,000-post run is `make
loadmodel`): the real publisher, on simulated time, against the metered
in-memory table and the in-process fake TikTok. Simulated time makes the
figures independent of this machine's load, so the targets can be asserted."""
from __future__ import annotations

import pytest

from bench.loadmodel import __main__ as loadmodel
from bench.loadmodel.model import Options, run, sizing


@pytest.fixture(autouse=True)
def _restore():
    """The model configures its process (environment, KMS client, HTTP pool,
    the fan-out's parallelism): none of it may leak into later tests."""
    import os

    from layers_shared import aws, clock, http_client
    from layers_shared.publisher import sweep

    parallel = sweep.run_parallel
    environment = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(environment)
    sweep.run_parallel = parallel
    clock.set_now(None)
    aws._clients.pop("kms", None)
    http_client._pool = None


def test_the_model_reads_the_publishers_sizing_from_the_template():
    size = sizing()
    assert (size.batch_size, size.max_concurrency, size.memory_mb, size.timeout) == (25, 300, 1024, 120)
    assert size.visibility_timeout >= 6 * size.timeout


def test_a_burst_publishes_every_post_once_within_the_targets():
    result = run(Options(posts=400, accounts=200))
    lines, missed = loadmodel.burst_report(result)
    assert missed == [], "\n".join(lines)
    assert result.statuses == {"published": 400}
    assert len(result.lateness) == 400                      # every post reached TikTok, each init counted once
    assert result.meter.throttled_requests == 0
    assert result.meter.targets["GSI2"].wru > 0               # the meter saw the work queue's writes


def test_one_account_is_paced_at_its_tokens_limit():
    result = run(Options(posts=100, accounts=1))
    lines, missed = loadmodel.one_account_report(result)
    assert missed == [], "\n".join(lines)
    assert result.max_init_per_minute == 6 and not any(result.rate_limited.values())


def test_a_throttled_table_is_reported_as_a_missed_target():
    """The check can fail: a partition limit far below the burst's need."""
    result = run(Options(posts=200, accounts=100, wcu_limit=5))
    _, missed = loadmodel.burst_report(result)
    assert any("throttled" in m for m in missed)
