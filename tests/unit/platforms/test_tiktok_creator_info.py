"""creator_info before every TikTok direct-post init, and the platform limits
in the publisher (decisions.md, "Platform limits"): a post is refused rather
than cut, and a privacy level TikTok would refuse never spends an init."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from layers_shared.platforms.creator_info import CreatorInfo
from layers_shared.platforms.port import Credentials, Delivery
from layers_shared.platforms.tiktok import TikTokAdapter
from tests.fakes.tiktok import PRIVATE_OPTIONS, FakeTikTok, envelope
from tests.fakes.http_server import Fault

ACCESS, REFRESH = "act.ci-access", "rft.ci-refresh"
VIDEO_INIT = "/v2/post/publish/video/init/"
CONTENT_INIT = "/v2/post/publish/content/init/"
CREATOR_INFO = "/v2/post/publish/creator_info/query/"
PHOTOS = [{"url": f"https://media.example.com/{i}.jpg", "kind": "image"} for i in range(2)]


@pytest.fixture
def adapter(tiktok_server: FakeTikTok, timeouts: dict[str, float]) -> TikTokAdapter:
    return TikTokAdapter(base_url=tiktok_server.url, client_key="ck_test", client_secret="cs_test", **timeouts)


@pytest.fixture
def delivery(tiktok_server: FakeTikTok, make_post: Callable, make_account: Callable) -> Callable[..., Delivery]:
    tiktok_server.add_account(ACCESS, REFRESH)

    def build(store: Any = None, **post: Any) -> Delivery:
        return Delivery(post=make_post(**post), account=make_account(),
                        credentials=Credentials(ACCESS, REFRESH, "2099-01-01T00:00:00Z", "open_fake_1"),
                        creator_info_store=store)
    return build


class Budget:
    """A Store stand-in: counts what the adapter spends and caches."""

    def __init__(self, calls_left: int = 20):
        self.calls_left = calls_left
        self.remembered: list[CreatorInfo] = []

    def take_call(self, account_id: str) -> float | None:
        if self.calls_left <= 0:
            return 17.0
        self.calls_left -= 1
        return None

    def remember(self, account_id: str, info: CreatorInfo) -> None:
        self.remembered.append(info)


def test_a_caption_over_the_limit_fails_the_post_and_is_never_cut(adapter, delivery, tiktok_server):
    outcome = adapter.submit(delivery(caption="a" * 2199 + "😀"))  # 2201 UTF-16 units
    assert outcome.kind == "failed" and outcome.error.code == "PLATFORM_LIMIT_EXCEEDED"
    assert "2201 UTF-16 units" in outcome.error.message
    assert tiktok_server.requests == []


def test_a_photo_description_over_4000_units_fails_but_the_title_is_derived(adapter, delivery, tiktok_server):
    assert adapter.submit(delivery(mediaType="slideshow", media=PHOTOS, caption="x" * 4001)).error.code == \
        "PLATFORM_LIMIT_EXCEEDED"
    first_line = "😀" * 50  # 100 units: the title is cut at 90 on a character boundary
    outcome = adapter.submit(delivery(mediaType="slideshow", media=PHOTOS, caption=first_line + "\nmore"))
    assert outcome.kind == "processing"
    info = tiktok_server.calls("POST", CONTENT_INIT)[0].json["post_info"]
    assert info["title"] == "😀" * 45 and info["description"] == first_line + "\nmore"


def test_private_account_with_omitted_level_posts_to_followers(adapter, delivery, tiktok_server):
    tiktok_server.set_creator(ACCESS, PRIVATE_OPTIONS)
    assert adapter.submit(delivery()).kind == "processing"
    assert tiktok_server.calls("POST", VIDEO_INIT)[0].json["post_info"]["privacy_level"] == "FOLLOWER_OF_CREATOR"


@pytest.mark.parametrize("where", ["settings", "resolved"])
def test_a_level_no_longer_offered_fails_without_an_init(adapter, delivery, tiktok_server, where):
    tiktok_server.set_creator(ACCESS, PRIVATE_OPTIONS)  # the account went private after scheduling
    post = ({"tiktokPostSettings": {"privacyLevel": "PUBLIC_TO_EVERYONE"}} if where == "settings"
            else {"privacyLevel": "PUBLIC_TO_EVERYONE"})
    outcome = adapter.submit(delivery(**post))
    assert outcome.kind == "failed" and outcome.error.code == "PRIVACY_LEVEL_NOT_ALLOWED"
    assert "FOLLOWER_OF_CREATOR" in outcome.error.message
    assert tiktok_server.inits() == [] and len(tiktok_server.creator_info_calls()) == 1


def test_interactions_the_creator_disabled_are_sent_disabled(adapter, delivery, tiktok_server):
    tiktok_server.set_creator(ACCESS, None, comment_disabled=True, duet_disabled=True, stitch_disabled=True)
    settings = {"disableComment": False, "disableDuet": False, "disableStitch": False}
    assert adapter.submit(delivery(tiktokPostSettings=settings)).kind == "processing"
    info = tiktok_server.calls("POST", VIDEO_INIT)[0].json["post_info"]
    assert info["disable_comment"] and info["disable_duet"] and info["disable_stitch"]


def test_creator_info_errors_in_an_http_200_stop_the_post(adapter, delivery, tiktok_server):
    tiktok_server.fault("POST", CREATOR_INFO, Fault(status=200, body=envelope({}, "spam_risk_too_many_posts")))
    outcome = adapter.submit(delivery())
    assert outcome.kind == "failed" and outcome.error.platformCode == "spam_risk_too_many_posts"
    assert tiktok_server.inits() == []


def test_an_unreadable_creator_info_is_retried_later_without_an_init(adapter, delivery, tiktok_server):
    tiktok_server.fault("POST", CREATOR_INFO, Fault(status=503, body=envelope({}, "internal_error")))
    outcome = adapter.submit(delivery())
    assert outcome.kind == "retry" and tiktok_server.inits() == []


def test_the_budget_is_spent_per_read_and_a_spent_budget_defers_without_a_call(adapter, delivery, tiktok_server):
    budget = Budget(calls_left=1)
    assert adapter.submit(delivery(store=budget)).kind == "processing"
    assert [i.privacy_level_options[0] for i in budget.remembered] == ["PUBLIC_TO_EVERYONE"]
    outcome = adapter.submit(delivery(store=budget))
    # Our own budget, not TikTok: deferred, so the publisher spends no attempt on it.
    assert outcome.kind == "deferred" and outcome.error.code == "CREATOR_INFO_RATE_LIMITED"
    assert outcome.retry_after == 17.0
    assert len(tiktok_server.creator_info_calls()) == 1 and len(tiktok_server.inits()) == 1


def test_drafts_do_not_read_creator_info(adapter, delivery, tiktok_server):
    assert adapter.submit(delivery(mode="draft")).kind == "processing"
    assert tiktok_server.creator_info_calls() == []


def test_creator_info_for_schedule_time(adapter, tiktok_server):
    tiktok_server.add_account(ACCESS, REFRESH)
    tiktok_server.set_creator(ACCESS, PRIVATE_OPTIONS, duet_disabled=True)
    info, rotated = adapter.creator_info(Credentials(ACCESS, REFRESH, "2099-01-01T00:00:00Z"))
    assert info == CreatorInfo(tuple(PRIVATE_OPTIONS), False, True, False) and rotated is None
    tiktok_server.revoke_access(ACCESS)
    info, rotated = adapter.creator_info(Credentials(ACCESS, REFRESH, "2099-01-01T00:00:00Z"))
    assert isinstance(info, CreatorInfo) and rotated is not None and rotated.refresh_token != REFRESH
