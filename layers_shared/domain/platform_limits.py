"""What TikTok and Instagram would refuse, as pure rules (decisions.md,
"Platform limits, checked before anything is written").

They run on the effective values of a target (its override, else the
container's own) at schedule / publish-now / promotion time, and again in the
publisher, so a post is refused up front instead of being cut or dropped at
`scheduledFor`. Issues name the override when the partner supplied one (they
can fix it there) and the whole target when the value is the container's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from layers_shared.domain.errors import issue

TIKTOK_VIDEO_CAPTION_MAX = 2200   # UTF-16 units: TikTok's measure (platform-apis.md §1.3)
TIKTOK_PHOTO_DESCRIPTION_MAX = 4000
TIKTOK_PHOTO_TITLE_MAX = 90
TIKTOK_PHOTOS = (1, 35)
INSTAGRAM_CAPTION_MAX = 2200      # characters (code points)
INSTAGRAM_HASHTAGS_MAX = 30
INSTAGRAM_MENTIONS_MAX = 20
INSTAGRAM_CAROUSEL = (2, 10)
INSTAGRAM_FIRST_COMMENT_MAX = 2200

# A tag starts a word: `a#b` and `me@example.com` are not tags to Instagram.
_HASHTAG = re.compile(r"(?<![\w#&])#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")


@dataclass(frozen=True)
class Effective:
    """One target's content as it would go out."""
    platform: str
    media_type: str
    media_count: int
    caption: str
    first_comment: str
    caption_overridden: bool = False
    first_comment_overridden: bool = False


def utf16_units(text: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def hashtags(text: str) -> int:
    return len(_HASHTAG.findall(text))


def mentions(text: str) -> int:
    return len(_MENTION.findall(text))


def issues(at: str, e: Effective) -> list[dict[str, str]]:
    """Every limit the target breaks; `at` is `targets[i]`."""
    caption_at = f"{at}.captionOverride" if e.caption_overridden else at
    comment_at = f"{at}.firstCommentOverride" if e.first_comment_overridden else at
    found: list[dict[str, str]] = []
    if e.platform == "tiktok":
        if e.first_comment_overridden:
            found.append(issue(f"{at}.firstCommentOverride", "not_supported_on_tiktok",
                                      "TikTok has no comments API; omit firstCommentOverride on TikTok targets"))
        units = utf16_units(e.caption)
        if e.media_type == "video":
            if units > TIKTOK_VIDEO_CAPTION_MAX:
                found.append(issue(caption_at, "caption_too_long",
                                          f"caption is {units} UTF-16 units; a TikTok video caption takes at "
                                          f"most {TIKTOK_VIDEO_CAPTION_MAX}"))
        else:
            if units > TIKTOK_PHOTO_DESCRIPTION_MAX:
                found.append(issue(caption_at, "caption_too_long",
                                          f"caption is {units} UTF-16 units; a TikTok photo description takes "
                                          f"at most {TIKTOK_PHOTO_DESCRIPTION_MAX}"))
            low, high = TIKTOK_PHOTOS
            if not low <= e.media_count <= high:
                found.append(issue(at, "media_count",
                                          f"the container has {e.media_count} images; a TikTok photo post takes "
                                          f"{low} to {high}"))
    elif e.platform == "instagram":
        length = len(e.caption)
        if length > INSTAGRAM_CAPTION_MAX:
            found.append(issue(caption_at, "caption_too_long",
                                      f"caption is {length} characters; Instagram takes at most "
                                      f"{INSTAGRAM_CAPTION_MAX}"))
        tags = hashtags(e.caption)
        if tags > INSTAGRAM_HASHTAGS_MAX:
            found.append(issue(caption_at, "too_many_hashtags",
                                      f"caption has {tags} hashtags; Instagram takes at most "
                                      f"{INSTAGRAM_HASHTAGS_MAX}"))
        named = mentions(e.caption)
        if named > INSTAGRAM_MENTIONS_MAX:
            found.append(issue(caption_at, "too_many_mentions",
                                      f"caption has {named} @mentions; Instagram takes at most "
                                      f"{INSTAGRAM_MENTIONS_MAX}"))
        if e.media_type == "slideshow":
            low, high = INSTAGRAM_CAROUSEL
            if not low <= e.media_count <= high:
                found.append(issue(at, "media_count",
                                          f"the container has {e.media_count} items; an Instagram carousel "
                                          f"takes {low} to {high}"))
        comment = len(e.first_comment)
        if comment > INSTAGRAM_FIRST_COMMENT_MAX:
            found.append(issue(comment_at, "first_comment_too_long",
                                      f"first comment is {comment} characters; Instagram takes at most "
                                      f"{INSTAGRAM_FIRST_COMMENT_MAX}"))
    return found


def photo_title(caption: str) -> str:
    """TikTok photo `title`: the caption's first line, cut at 90 UTF-16 units
    on a character boundary (the documented derivation, not a truncation of
    what the partner sent: the whole caption goes to `description`)."""
    return cut_utf16(caption.split("\n", 1)[0], TIKTOK_PHOTO_TITLE_MAX)


def cut_utf16(text: str, limit: int) -> str:
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def summary(found: Sequence[dict[str, str]]) -> str:
    return "; ".join(f"{i['path'] or 'post'}: {i['message']}" for i in found)
