"""Platform limits and privacy levels as pure rules (decisions.md, "Platform limits")."""
from __future__ import annotations

import itertools

from hypothesis import given, strategies as st

from layers_shared.domain import platform_limits as limits, privacy
from layers_shared.domain.platform_limits import Effective

EMOJI = "\U0001F600"  # two UTF-16 units, one character


def tiktok(media_type="video", caption="", count=1, **kw) -> Effective:
    return Effective("tiktok", media_type, count, caption, kw.pop("first_comment", ""), **kw)


def instagram(media_type="image", caption="", count=1, **kw) -> Effective:
    return Effective("instagram", media_type, count, caption, kw.pop("first_comment", ""), **kw)


def paths(found):
    return [(i["path"], i["code"]) for i in found]


@given(st.text(max_size=3000))
def test_tiktok_video_caption_is_measured_in_utf16_units(text):
    found = limits.issues("targets[0]", tiktok(caption=text, caption_overridden=True))
    too_long = len(text.encode("utf-16-le")) // 2 > 2200
    assert paths(found) == ([("targets[0].captionOverride", "caption_too_long")] if too_long else [])


def test_emoji_count_twice_for_tiktok_but_once_for_instagram():
    text = EMOJI * 1101  # 2202 units, 1101 characters
    assert paths(limits.issues("targets[0]", tiktok(caption=text))) == [("targets[0]", "caption_too_long")]
    assert limits.issues("targets[0]", instagram(caption=text)) == []


def test_tiktok_photo_description_and_image_count():
    assert limits.issues("t", tiktok("slideshow", "x" * 4000, 35)) == []
    assert paths(limits.issues("t", tiktok("slideshow", "x" * 4001, 36))) == [
        ("t", "caption_too_long"), ("t", "media_count")]
    assert paths(limits.issues("t", tiktok("image", "", 0))) == [("t", "media_count")]


def test_first_comment_override_on_tiktok_is_refused_but_the_containers_is_not():
    assert paths(limits.issues("t", tiktok(first_comment="hi", first_comment_overridden=True))) == [
        ("t.firstCommentOverride", "not_supported_on_tiktok")]
    assert limits.issues("t", tiktok(first_comment="hi")) == []


@given(st.integers(0, 60), st.integers(0, 40))
def test_instagram_hashtags_and_mentions(tags, names):
    caption = " ".join([f"#tag{i}" for i in range(tags)] + [f"@user.{i}" for i in range(names)])
    codes = [c for _, c in paths(limits.issues("t", instagram(caption=caption)))]
    assert ("too_many_hashtags" in codes) == (tags > 30)
    assert ("too_many_mentions" in codes) == (names > 20)


def test_words_with_hash_or_at_inside_are_not_tags():
    assert limits.hashtags("a#b c#d #real &#35;") == 1
    assert limits.mentions("me@example.com @real") == 1


@given(st.integers(0, 15))
def test_instagram_carousel_takes_2_to_10(count):
    found = limits.issues("t", instagram("slideshow", count=count))
    assert bool(found) == (not 2 <= count <= 10)


def test_instagram_caption_and_first_comment_length_all_at_once():
    found = limits.issues("t", instagram(caption="x" * 2201, first_comment="y" * 2201,
                                         caption_overridden=True, first_comment_overridden=True))
    assert paths(found) == [("t.captionOverride", "caption_too_long"),
                            ("t.firstCommentOverride", "first_comment_too_long")]


@given(st.text(max_size=200))
def test_photo_title_is_the_first_line_cut_on_a_character_boundary(text):
    title = limits.photo_title(text)
    assert text.split("\n", 1)[0].startswith(title)
    assert limits.utf16_units(title) <= 90
    assert "\n" not in title


def test_privacy_resolution():
    # Every case, not a sample: each non-empty set of offered levels (15) with no level
    # or each level requested (5) is 75 cases, fewer than hypothesis's 100 examples.
    for size in range(1, len(privacy.OPENNESS) + 1):
        for offered in itertools.combinations(privacy.OPENNESS, size):
            options = set(offered)
            for requested in (None, *privacy.OPENNESS):
                level, allowed = privacy.resolve(requested, options)
                if requested is None:
                    assert allowed and level in options, options
                    assert all(privacy.OPENNESS.index(level) <= privacy.OPENNESS.index(o) for o in options)
                else:
                    assert level == requested and allowed == (requested in options), (options, requested)


def test_omitted_level_is_public_on_a_public_account_and_followers_on_a_private_one():
    assert privacy.resolve(None, privacy.PUBLIC_OPTIONS) == ("PUBLIC_TO_EVERYONE", True)
    assert privacy.resolve(None, privacy.PRIVATE_OPTIONS) == ("FOLLOWER_OF_CREATOR", True)
    assert privacy.resolve(None, None) == (None, True)       # unknown: the publisher decides
    assert privacy.resolve("SELF_ONLY", None) == ("SELF_ONLY", True)
