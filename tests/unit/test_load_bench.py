"""bench/load.py's own rules: when T is, how posts are split into schedule
requests, and what makes a run fail."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from bench import load

NOW = datetime(2026, 5, 1, 13, 59, 30, 250000, tzinfo=timezone.utc)


def test_a_relative_t_is_a_whole_second_after_the_offset():
    assert load.parse_at("+60s", NOW) == datetime(2026, 5, 1, 14, 0, 31, tzinfo=timezone.utc)
    assert load.parse_at("+2m", NOW) == datetime(2026, 5, 1, 14, 1, 31, tzinfo=timezone.utc)
    assert load.parse_at("+30", NOW.replace(microsecond=0)) == datetime(2026, 5, 1, 14, 0, 0, tzinfo=timezone.utc)


def test_an_absolute_t_needs_an_offset():
    assert load.parse_at("2026-05-01T16:00:00+02:00", NOW) == datetime(2026, 5, 1, 14, tzinfo=timezone.utc)
    assert load.wire(load.parse_at("2026-05-01T14:00:00.5Z", NOW)) == "2026-05-01T14:00:00.500Z"
    with pytest.raises(ValueError):
        load.parse_at("2026-05-01T14:00:00", NOW)


def _source(name: str, n: int, project: str = "prj_1") -> load.Source:
    return load.Source(name, project, tuple(f"sa_{name}_{i}" for i in range(n)))


def test_requests_carry_at_most_50_targets_each_account_once():
    requests = load.plan([_source("c", 120)], 2000)
    assert len(requests) == 40 and all(len(accounts) == 50 for _, accounts in requests)
    assert all(len(set(accounts)) == len(accounts) for _, accounts in requests)
    per_account = Counter(a for _, accounts in requests for a in accounts)
    assert sum(per_account.values()) == 2000 and max(per_account.values()) - min(per_account.values()) <= 1


def test_few_accounts_make_smaller_requests_and_containers_take_turns():
    requests = load.plan([_source("a", 7), _source("b", 3, "prj_2")], 25)
    assert [(c, len(t)) for c, t in requests] == [("a", 7), ("b", 3), ("a", 7), ("b", 3), ("a", 5)]
    assert all(a.startswith(f"sa_{c}_") for c, accounts in requests for a in accounts)


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert [load.percentile(values, p) for p in (50, 90, 99, 100)] == [50.0, 90.0, 99.0, 100.0]
    assert load.percentile([3.0], 99) == 3.0


def test_lateness_is_read_from_the_posts_own_instants():
    posts = [{"scheduledFor": "2026-05-01T14:00:00Z", "publishedAt": "2026-05-01T14:00:01.250Z"},
             {"scheduledFor": "2026-05-01T14:00:00Z", "publishedAt": None}]
    assert load.lateness(posts, "publishedAt") == [1.25]


def _post(i: int, status: str = "published", code: str | None = None) -> dict:
    return {"id": f"sp_{i}", "status": status, "scheduledFor": "2026-05-01T14:00:00Z",
            "attemptedAt": "2026-05-01T14:00:01Z",
            "publishedAt": "2026-05-01T14:00:02Z" if status == "published" else None,
            "lastError": {"code": code} if code else None}


def test_duplicates_count_extra_deliveries_and_posts_published_without_one():
    posts = {p["id"]: p for p in (_post(1), _post(2), _post(3))}
    deliveries = [{"kind": "post", "scheduledPostId": i} for i in ("sp_1", "sp_1", "sp_1", "sp_2", "sp_other")]
    assert load.duplicates(deliveries + [{"kind": "sms"}], posts) == (2, 1)
    assert load.duplicates(None, posts) is None


def _report(posts: list[dict], dup: tuple[int, int] | None = (0, 0), requested: int | None = None):
    at = datetime(2026, 5, 1, 14, tzinfo=timezone.utc)
    scheduled = load.Scheduled(ids={p["id"]: "prj_1" for p in posts}, seconds=1.0,
                               finished_at=at - timedelta(seconds=5))
    return load.report(requested=requested or len(posts), at=at, scheduled=scheduled,
                       posts={p["id"]: p for p in posts}, dup=dup, api=load.Api("http://x", "lp_test_k"),
                       requests=1, wall=9.0)


def test_a_run_where_every_post_published_once_passes_and_says_what_it_measured():
    text, ok = _report([_post(1), _post(2)])
    assert ok
    assert "published: 2" in text and "failed: 0" in text and "still pending: 0" in text
    assert "duplicates: 0" in text and "(finished 5.0 s before T)" in text
    assert "lateness publishedAt-scheduledFor s: p50 2.000  p90 2.000  p99 2.000  max 2.000  (n=2)" in text
    assert "lateness attemptedAt-scheduledFor s: p50 1.000" in text


@pytest.mark.parametrize("posts, dup, requested", [
    ([_post(1), _post(2, "failed", "PLATFORM_REJECTED")], (0, 0), None),
    ([_post(1), _post(2, "publishing")], (0, 0), None),
    ([_post(1)], (1, 0), None),
    ([_post(1)], (0, 1), None),
    ([_post(1)], (0, 0), 2),  # one post could not be scheduled
])
def test_a_failed_pending_duplicated_or_unscheduled_post_fails_the_run(posts, dup, requested):
    text, ok = _report(posts, dup, requested)
    assert not ok


def test_failures_are_counted_by_error_code_and_duplicates_may_be_unobservable():
    text, ok = _report([_post(1, "failed", "PLATFORM_REJECTED"), _post(2, "failed", "PLATFORM_REJECTED"),
                        _post(3, "queued")], dup=None)
    assert "failed: 2 {'PLATFORM_REJECTED': 2}" in text and "still pending: 1 {'queued': 1}" in text
    assert "duplicates: not observable on this stage" in text and not ok
