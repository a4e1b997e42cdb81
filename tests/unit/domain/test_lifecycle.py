"""The scheduled-post lifecycle: transitions and which 409 a steer gets."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from layers_shared.domain import lifecycle
from layers_shared.domain.errors import Conflict

statuses = st.sampled_from(lifecycle.STATUSES)


def test_the_statuses_are_the_documented_ones():
    assert set(lifecycle.STATUSES) == {"queued", "publishing", "published", "draft", "failed", "canceled"}
    assert lifecycle.TERMINAL == {"published", "draft", "failed", "canceled"}


def test_the_transitions_are_the_documented_ones():
    edges = {(a, b) for a in lifecycle.STATUSES for b in lifecycle.STATUSES if lifecycle.can_transition(a, b)}
    assert edges == {("queued", "publishing"), ("queued", "canceled"), ("publishing", "published"),
                     ("publishing", "draft"), ("publishing", "failed")}


@given(statuses, statuses)
def test_terminal_posts_never_move_and_nothing_returns_to_queued(source, target):
    if lifecycle.is_terminal(source):
        assert not lifecycle.can_transition(source, target)
    assert not lifecycle.can_transition(source, "queued")
    assert not lifecycle.can_transition(source, source)


@given(st.lists(st.integers(min_value=0, max_value=10), max_size=10))
def test_every_walk_from_queued_ends_within_two_steps(choices):
    """Any run of allowed moves is short and ends terminal; a post that was
    ever publishing never ends canceled."""
    status, seen = "queued", ["queued"]
    for choice in choices:
        moves = sorted(lifecycle.TRANSITIONS[status])
        if not moves:
            break
        status = moves[choice % len(moves)]
        seen.append(status)
    assert len(seen) <= 3
    if "publishing" in seen:
        assert "canceled" not in seen
    if len(choices) >= 2:
        assert lifecycle.is_terminal(status)


@given(statuses)
def test_conflict_reason_matches_the_status(status):
    reason = lifecycle.conflict_reason(status)
    if status == "queued":
        assert reason is None and lifecycle.can_steer(status)
    elif status == "publishing":
        assert reason == lifecycle.ALREADY_PUBLISHING and not lifecycle.can_steer(status)
    else:
        assert lifecycle.is_terminal(status) and reason == lifecycle.NOT_QUEUED


@given(statuses.filter(lambda s: s != "queued"), st.sampled_from(["be rescheduled", "be canceled"]))
def test_steer_conflict_is_a_409_conflict_with_the_reason(status, action):
    error = lifecycle.steer_conflict("sp_x", status, action)
    assert isinstance(error, Conflict) and error.reason == lifecycle.conflict_reason(status)
    assert error.details == {"reason": lifecycle.conflict_reason(status), "scheduledPostId": "sp_x", "status": status}
    assert action in error.message


def test_require_steerable_passes_queued_only():
    lifecycle.require_steerable("sp_x", "queued", "be canceled")
    for status in lifecycle.STATUSES:
        if status != "queued":
            try:
                lifecycle.require_steerable("sp_x", status, "be canceled")
            except Exception as exc:  # noqa: BLE001 - asserting the type below
                assert isinstance(exc, Conflict)
            else:
                raise AssertionError(f"{status} should not be steerable")
