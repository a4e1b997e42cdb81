"""`dry_run=True` in the SDK: every check, nothing written, no key consumed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import layers
from layers import Layers
from tests import support


@pytest.fixture(scope="module")
def client(stack) -> Layers:
    return Layers(support.KEY, base_url=stack.base_url, max_retries=0)


def test_schedule_dry_run_answers_without_writing(client: Layers, stack) -> None:
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=40)
    targets = [{"socialAccountId": support.PRIVATE_TIKTOK, "mode": "publish"}]
    result = client.publishing.schedule(support.VIDEO, when, targets, dry_run=True)
    assert result == {"dryRun": True, "valid": True, "gateStatus": "queued",
                      "scheduledFor": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      "targets": [{"socialAccountId": support.PRIVATE_TIKTOK, "platform": "tiktok",
                                   "mode": "publish", "privacyLevel": "FOLLOWER_OF_CREATOR"}]}
    listed = client.publishing.list_scheduled_posts(support.prj(1), from_=when, to=when + timedelta(seconds=1))
    assert list(listed) == []


def test_dry_run_raises_what_the_real_call_would(client: Layers) -> None:
    targets = [{"socialAccountId": support.TIKTOK, "mode": "publish", "firstCommentOverride": "link in bio"}]
    with pytest.raises(layers.LayersError) as err:
        client.publishing.publish_now(support.VIDEO, targets, dry_run=True)
    assert err.value.status == 422
    assert err.value.details["issues"][0]["path"] == "targets[0].firstCommentOverride"


def test_publish_now_dry_run(client: Layers) -> None:
    result = client.publishing.publish_now(support.VIDEO, [{"socialAccountId": support.INSTAGRAM, "mode": "publish"}],
                                           dry_run=True)
    assert result["dryRun"] is True and result["targets"][0]["privacyLevel"] is None
