from datetime import datetime, timezone, timedelta

import pytest

from layers_shared import clock


def test_offsets_are_converted_to_utc():
    assert clock.parse_instant("2026-05-21T09:00:00-04:00") == datetime(2026, 5, 21, 13, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["2026-05-21T09:00:00", "2026-05-21T09:00"])
def test_naive_times_are_refused(text):
    with pytest.raises(clock.InstantError) as err:
        clock.parse_instant(text)
    assert err.value.code == "naive_datetime"


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01T00:00:00Z", "", "2026-05-21 09:00:00Z"])
def test_garbage_is_refused(text):
    with pytest.raises(clock.InstantError):
        clock.parse_instant(text)


def test_wire_form_has_z_and_drops_zero_millis():
    at = datetime(2026, 4, 19, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert clock.to_wire(at) == "2026-04-19T12:00:00Z"
    assert clock.to_wire(at.replace(microsecond=187000)) == "2026-04-19T12:00:00.187Z"


def test_storage_form_sorts_like_time():
    a = clock.to_storage(datetime(2026, 1, 1, 9, 59, 59, 999000, tzinfo=timezone.utc))
    b = clock.to_storage(datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc))
    assert len(a) == len(b) and a < b
    assert clock.parse_instant(b) == datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc)
