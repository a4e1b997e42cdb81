"""The first comment survives a transient failure (found by `make campaign-live`:
5 live posts of 80 lost their first comment to one 5xx or 429).

After media_publish the post is live whatever happens to the comment; a
comment refused for now is tried again on the next poll (reading first, so a
comment whose answer was lost is not posted twice), a few times at most, then
the post is published without it. A comment refused for good is not retried.
"""
from __future__ import annotations

from tests.fakes.http_server import Fault
from tests.fakes.instagram import error_fault
from tests.unit.platforms.test_instagram import V, adapter, delivery, run  # noqa: F401 (fixtures)

COMMENTS = rf"{V}/\d+/comments"


def _comments(instagram_server):
    return [c["text"] for c in instagram_server.media[0].comments]


def test_a_comment_refused_for_now_is_posted_on_the_next_poll(adapter, delivery, instagram_server):
    instagram_server.fault("POST", COMMENTS, Fault(status=500, body={"error": {"code": 2, "is_transient": True,
                                                                               "message": "Service temporarily unavailable"}}))
    outcome = run(adapter, delivery(firstComment="More at acme.example"))
    assert outcome.kind == "published" and outcome.external_id == instagram_server.media[0].id
    assert outcome.external_url
    assert _comments(instagram_server) == ["More at acme.example"]


def test_a_throttled_comment_is_posted_later(adapter, delivery, instagram_server):
    instagram_server.fault("POST", COMMENTS, error_fault(400, 4, "Application request limit reached"), times=2)
    outcome = run(adapter, delivery(firstComment="first!"))
    assert outcome.kind == "published"
    assert _comments(instagram_server) == ["first!"]


def test_a_comment_whose_answer_was_lost_is_not_posted_twice(adapter, delivery, instagram_server, slow):
    instagram_server.fault("POST", COMMENTS, Fault(delay=slow))   # posted, the answer comes too late
    outcome = run(adapter, delivery(firstComment="only once"))
    assert outcome.kind == "published"
    assert _comments(instagram_server) == ["only once"]


def test_a_comment_that_keeps_failing_leaves_the_post_published_without_it(adapter, delivery, instagram_server):
    instagram_server.fault("POST", COMMENTS, Fault(status=503, body={"error": {"code": 2, "is_transient": True,
                                                                               "message": "down"}}), times=10)
    outcome = run(adapter, delivery(firstComment="never"))
    assert outcome.kind == "published" and outcome.external_id == instagram_server.media[0].id
    assert _comments(instagram_server) == []
    assert len(instagram_server.calls("POST", COMMENTS)) == 3
