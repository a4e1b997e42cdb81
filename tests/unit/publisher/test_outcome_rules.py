"""The pure outcome rules: what each adapter outcome does to a post."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from layers_shared import clock
from layers_shared.platforms.port import Outcome
from layers_shared.publisher.outcome import decide
from layers_shared.publisher.settings import Timings

NOW = datetime(2026, 4, 19, 14, 0, 0, tzinfo=timezone.utc)
T = Timings(lease=300, retry_base=15, max_attempts=5, retry_window=600, poll_base=5, poll_cap=120,
            processing_limit=7200, sweep_grace=10)


def post(**kw):
    return {"id": "sp_x", "attempts": 1, "attemptedAt": clock.to_storage(NOW), **kw}


def test_published_is_terminal_and_leaves_the_work_queue():
    d = decide(post(), Outcome("published", external_id="73", external_url="https://t/73"), NOW, T)
    assert d.status == "published" and d.next is None
    assert d.set["externalId"] == "73" and d.set["externalUrl"] == "https://t/73"
    assert d.set["publishedAt"] == clock.to_storage(NOW)
    assert {"GSI2PK", "GSI2SK", "submitStartedAt", "lastError"} <= set(d.remove)


def test_draft_without_url_keeps_url_unset():
    d = decide(post(), Outcome("draft", external_id="p1"), NOW, T)
    assert d.status == "draft" and "externalUrl" not in d.set


def test_failed_records_last_error_with_platform_code():
    d = decide(post(), Outcome.failed("PLATFORM_REJECTED", "no", "spam"), NOW, T)
    assert d.status == "failed"
    assert d.set["lastError"] == {"code": "PLATFORM_REJECTED", "message": "no", "platformCode": "spam"}


def test_retry_backs_off_exponentially_and_honours_retry_after():
    top = lambda: 1.0  # noqa: E731 - the top of the full-jitter draw (test_deferred_rules covers the spread)
    first = decide(post(attempts=1), Outcome.retry("RATE_LIMITED", "slow down"), NOW, T, rand=top)
    assert first.status is None and first.next == ("submit", 15)
    assert "submitStartedAt" in first.remove  # nothing went out: a new submit is allowed
    third = decide(post(attempts=3), Outcome.retry("RATE_LIMITED", "slow down"), NOW, T, rand=top)
    assert third.next == ("submit", 60)
    told = decide(post(attempts=1), Outcome.retry("RATE_LIMITED", "slow down", retry_after=40), NOW, T, rand=top)
    assert told.next == ("submit", 40)


def test_retry_stops_after_five_attempts():
    d = decide(post(attempts=5), Outcome.retry("PLATFORM_UNAVAILABLE", "503", "internal_error"), NOW, T)
    assert d.status == "failed" and d.set["lastError"]["platformCode"] == "internal_error"


def test_retry_stops_when_the_next_attempt_would_leave_the_ten_minute_window():
    started = clock.to_storage(NOW - timedelta(minutes=9, seconds=50))
    d = decide(post(attempts=2, attemptedAt=started), Outcome.retry("RATE_LIMITED", "x"), NOW, T,
               rand=lambda: 1.0)
    assert d.status == "failed"


def test_processing_polls_later_with_growing_capped_waits():
    delays = [decide(post(polls=n), Outcome("processing", state={"publishId": "p"}), NOW, T).next for n in range(8)]
    assert [d[0] for d in delays] == ["poll"] * 8
    waits = [d[1] for d in delays]
    assert waits == sorted(waits) and waits[0] == 5 and max(waits) == 120
    d = decide(post(), Outcome("processing", state={"publishId": "p"}), NOW, T)
    assert d.set["platformState"] == {"publishId": "p"} and d.set["nextAction"] == "poll"


def test_processing_forever_fails():
    since = clock.to_storage(NOW - timedelta(hours=3))
    d = decide(post(waitingSince=since), Outcome("processing", state={"publishId": "p"}), NOW, T)
    assert d.status == "failed" and d.set["lastError"]["code"] == "PROCESSING_TIMEOUT"


def test_unknown_is_confirmed_by_a_read_never_resubmitted():
    d = decide(post(), Outcome("unknown"), NOW, T)
    assert d.status is None and d.next is not None and d.next[0] == "confirm"
    assert d.set["nextAction"] == "confirm"
