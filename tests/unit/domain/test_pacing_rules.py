"""Pacing rules (issue 13): slots under a sliding-window limit, full jitter."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from layers_shared.domain.pacing import full_jitter, keep, next_slot

WINDOW = 60_000


def _reserve_all(arrivals: list[int], limit: int) -> list[int]:
    """Hand out a slot to each arrival in order, as the table-backed budget does."""
    kept: list[int] = []
    slots = []
    for now in arrivals:
        slot = next_slot(kept, now, limit, WINDOW)
        kept = keep(kept, slot, limit)
        slots.append(slot)
    return slots


# Arrivals spread over ten minutes, or in bursts (a start, a count, a spacing in ms): uniform
# lists alone are short (hypothesis draws ~6 items on average) and almost never fill a window
# at a limit of 20 or 30; the bursts do, so 100 examples reach every limit where 300 uniform
# ones did not.
_uniform = st.lists(st.integers(min_value=0, max_value=600_000), min_size=1, max_size=80).map(sorted)
_burst = st.tuples(st.integers(min_value=0, max_value=600_000), st.integers(min_value=1, max_value=40),
                   st.integers(min_value=0, max_value=3_000))
_bursts = st.lists(_burst, min_size=1, max_size=4).map(
    lambda bursts: sorted(start + i * gap for start, count, gap in bursts for i in range(count)))
arrivals = _uniform | _bursts
limits = st.sampled_from([1, 6, 20, 30])


@settings(max_examples=100)
@given(arrivals, limits)
def test_no_sliding_window_ever_holds_more_than_the_limit(times, limit):
    slots = sorted(_reserve_all(times, limit))
    for i, start in enumerate(slots):
        # TikTok's check: calls within the 60 s before (and at) this one.
        assert sum(1 for s in slots[i:] if s - start < WINDOW) <= limit


@settings(max_examples=100)
@given(arrivals, limits)
def test_a_slot_is_never_before_its_arrival_and_never_goes_backwards(times, limit):
    slots = _reserve_all(times, limit)
    assert all(slot >= now for slot, now in zip(slots, times))
    assert slots == sorted(slots)


@settings(max_examples=100)
@given(arrivals, limits)
def test_pacing_holds_nothing_back_that_the_limit_allows(times, limit):
    # Work-conserving: a call waits only when `limit` calls already sit in the
    # minute before its slot (so pacing runs exactly at the token's limit).
    slots = _reserve_all(times, limit)
    for i, (slot, now) in enumerate(zip(slots, times)):
        if slot > now:
            before = [s for s in slots[:i] if slot - WINDOW <= s <= slot]
            assert len(before) >= limit or slots[i - 1] == slot


def test_one_hundred_calls_at_once_at_six_a_minute_take_sixteen_and_a_half_minutes():
    slots = _reserve_all([0] * 100, 6)
    assert slots[:6] == [0] * 6 and slots[6:12] == [WINDOW] * 6
    assert slots[-1] == 16 * WINDOW


@given(st.floats(min_value=0, max_value=900), st.floats(min_value=0, max_value=900),
       st.floats(min_value=0, max_value=1))
def test_full_jitter_stays_between_what_the_platform_asked_and_the_backoff(backoff, floor, draw):
    wait = full_jitter(backoff, floor, lambda: draw)
    assert floor <= wait <= max(floor, backoff) + 1e-9


def test_full_jitter_spreads_a_crowd_over_the_whole_backoff():
    waits = [full_jitter(60.0, 0.0, lambda d=d: d / 100) for d in range(101)]
    assert min(waits) == 0.0 and max(waits) == 60.0


# -- Meta usage headers and the publishing quota --------------------------

from layers_shared.domain.pacing import USAGE_WAIT, meta_usage_waits, publishing_quota_left  # noqa: E402

pct = st.one_of(st.integers(min_value=0, max_value=150), st.floats(min_value=0, max_value=150), st.none(),
                st.text(max_size=3))


def _app(call, cpu, time_):
    import json

    return {"x-app-usage": json.dumps({"call_count": call, "total_cputime": cpu, "total_time": time_})}


@given(pct, pct, pct)
def test_the_app_is_held_exactly_when_one_of_its_usages_reaches_ninety_percent(call, cpu, time_):
    numbers = [v for v in (call, cpu, time_) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    app, business = meta_usage_waits(_app(call, cpu, time_))
    assert business is None
    assert app == (USAGE_WAIT if any(v >= 90 for v in numbers) else None)


def test_the_business_is_held_as_long_as_meta_estimates():
    import json

    header = {"x-business-use-case-usage": json.dumps({"17841400000000001": [
        {"type": "instagram", "call_count": 40, "total_cputime": 5, "total_time": 5,
         "estimated_time_to_regain_access": 12}]})}
    assert meta_usage_waits(header) == (None, 720.0)
    busy = {"x-business-use-case-usage": json.dumps({"1": [{"call_count": 95, "total_time": 1}]})}
    assert meta_usage_waits(busy) == (None, USAGE_WAIT)


@given(st.one_of(st.text(max_size=40), st.just("[1, 2]"), st.just('{"call_count": "95"}')),
       st.one_of(st.text(max_size=40), st.just('{"1": {"call_count": 99}}'), st.just('{"1": [7]}')))
def test_headers_in_shapes_meta_does_not_send_never_raise(app, business):
    # Whatever comes back, the call that carried it has already happened:
    # reading the headers must never turn a good answer into an error.
    waits = meta_usage_waits({"x-app-usage": app, "x-business-use-case-usage": business})
    assert len(waits) == 2 and all(w is None or w >= 0 for w in waits)
    assert meta_usage_waits({}) == (None, None)


def test_the_quota_left_is_total_minus_usage_and_unknown_when_not_said():
    assert publishing_quota_left({"data": [{"quota_usage": 48, "config": {"quota_total": 50}}]}) == 2
    assert publishing_quota_left({"data": [{"quota_usage": 50, "config": {"quota_total": 50}}]}) == 0
    assert publishing_quota_left({"data": []}) is None
    assert publishing_quota_left({"error": {"code": 4}}) is None
