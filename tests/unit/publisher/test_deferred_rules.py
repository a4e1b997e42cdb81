"""Deferred by our own pacing (issue 13): no attempt spent, the retry window
not consumed, the same action again after the wait; retries jittered."""
from __future__ import annotations

from datetime import timedelta

from layers_shared import clock
from layers_shared.platforms.port import Outcome
from layers_shared.publisher.outcome import decide
from tests.unit.publisher.test_outcome_rules import NOW, T, post


def paced(wait: float, **state) -> Outcome:
    return Outcome("deferred", state=state, retry_after=wait)


def test_a_submit_held_back_gives_back_the_attempt_the_claim_counted():
    d = decide(post(attempts=1, nextAction="submit", submitStartedAt="x"), paced(42.5, pacedUntil=9), NOW, T)
    assert d.status is None and d.next == ("submit", 42.5)
    assert d.set["attempts"] == 0 and "submitStartedAt" in d.remove
    assert d.set["platformState"] == {"pacedUntil": 9}
    assert "lastTransientError" not in d.set


def test_a_read_held_back_keeps_the_publish_id_and_counts_no_poll():
    held = post(nextAction="poll", polls=3, platformState={"publishId": "p1"})
    d = decide(held, paced(4), NOW, T)
    assert d.next == ("poll", 4) and "polls" not in d.set and "attempts" not in d.set
    assert d.set["platformState"] == {"publishId": "p1"}


def test_time_held_back_goes_back_to_the_retry_window():
    # 16 minutes of pacing, then a retryable failure: the post still gets its retry.
    first = NOW - timedelta(minutes=16)
    waited = post(attempts=0, attemptedAt=clock.to_storage(first), nextAction="submit")
    grace = 0
    for _ in range(2):
        d = decide({**waited, "windowGrace": grace}, paced(480), first, T)
        grace = d.set["windowGrace"]
    assert grace == 960
    retried = decide(post(attempts=1, attemptedAt=clock.to_storage(first), windowGrace=grace),
                     Outcome.retry("PLATFORM_UNAVAILABLE", "503"), NOW, T, rand=lambda: 1.0)
    assert retried.status is None and retried.next == ("submit", 15)
    without = decide(post(attempts=1, attemptedAt=clock.to_storage(first)),
                     Outcome.retry("PLATFORM_UNAVAILABLE", "503"), NOW, T, rand=lambda: 1.0)
    assert without.status == "failed"


def test_a_wait_longer_than_an_sqs_delay_is_split():
    d = decide(post(nextAction="submit"), paced(990), NOW, T)
    assert d.next == ("submit", 900)


def test_retries_are_spread_over_the_backoff_but_never_before_retry_after():
    low = decide(post(attempts=3), Outcome.retry("PLATFORM_UNAVAILABLE", "503"), NOW, T, rand=lambda: 0.0)
    high = decide(post(attempts=3), Outcome.retry("PLATFORM_UNAVAILABLE", "503"), NOW, T, rand=lambda: 1.0)
    assert low.next == ("submit", 0.0) and high.next == ("submit", 60)
    told = decide(post(attempts=1), Outcome.retry("RATE_LIMITED", "x", retry_after=40), NOW, T, rand=lambda: 0.0)
    assert told.next == ("submit", 40)
