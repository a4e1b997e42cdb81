"""Deterministic posting instructions by platform and media type.

The same input always gives the same text, so tests and the sandbox can assert
it, and it is the fallback of any smarter writer. The caption (and the first
comment) travel in the message just before this one, so the steps point at it
instead of repeating it.
"""
from __future__ import annotations

from layers_shared.instructions.port import MAX_CHARS


class TemplateWriter:
    def write(self, platform: str | None, media_type: str, caption: str | None,
              first_comment: str | None, media_count: int) -> str:
        platform_key = (platform or "").strip().lower()
        count = max(1, int(media_count or 1))
        many = media_type == "slideshow" or (media_type == "image" and count > 1)
        has_caption = bool(caption and caption.strip())
        has_comment = bool(first_comment and first_comment.strip())

        if platform_key == "tiktok":
            title, steps = ("How to post this on TikTok:",
                            _tiktok_video() if media_type == "video" else _tiktok_photos(count, many))
        elif platform_key == "instagram":
            if media_type == "video":
                title, steps = "How to post this as an Instagram Reel:", _instagram_reel()
            elif many:
                title, steps = "How to post this as an Instagram carousel:", _instagram_carousel(count)
            else:
                title, steps = "How to post this on Instagram:", _instagram_image()
        else:
            title, steps = "How to post this on TikTok or Instagram:", _generic(media_type, count, many)

        steps = [_save_step(media_type, count, many)] + steps
        steps.append(_caption_step(has_caption, has_comment))
        steps.append(_POST_STEP.get(platform_key, "Tap Post (TikTok) or Share (Instagram) and you're live!"))
        if has_comment:
            steps.append("Once it's up, post the first comment from the caption message under your post.")
        text = title + "\n" + "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
        return _fit(text)


_POST_STEP = {
    "tiktok": "Tap Post and you're live!",
    "instagram": "Tap Share and you're live!",
}


def _save_step(media_type: str, count: int, many: bool) -> str:
    if media_type == "video":
        return "Press and hold the video above and tap Save to put it in your camera roll."
    if many:
        return f"Press and hold each of the {count} photos above and tap Save, keeping them in order."
    return "Press and hold the photo above and tap Save to put it in your camera roll."


def _caption_step(has_caption: bool, has_comment: bool) -> str:
    if not has_caption:
        return "Add a caption if you like (none was written for this post)."
    if has_comment:
        return ("Copy the caption from the message above (just the caption, not the first comment) "
                "and paste it into the caption box.")
    return "Copy the caption from the message above and paste it into the caption box."


def _tiktok_video() -> list[str]:
    return [
        "Open TikTok and tap + at the bottom of the screen.",
        "Tap Upload (bottom right) and pick the video you just saved.",
        "Tap Next; trim or add a sound only if you want to.",
    ]


def _tiktok_photos(count: int, many: bool) -> list[str]:
    pick = f"select the {count} photos in the same order" if many else "select the photo"
    return [
        "Open TikTok and tap + at the bottom of the screen.",
        f"Tap Upload, switch to the Photos tab and {pick}.",
        "Tap Next; add a sound if you like.",
    ]


def _instagram_reel() -> list[str]:
    return [
        "Open Instagram, tap + and choose Reel.",
        "Pick the video you just saved and tap Next.",
    ]


def _instagram_carousel(count: int) -> list[str]:
    return [
        "Open Instagram, tap + and choose Post.",
        f"Tap the Select multiple icon and choose the {count} photos in the same order.",
        "Tap Next, adjust filters if you like, then Next again.",
    ]


def _instagram_image() -> list[str]:
    return [
        "Open Instagram, tap + and choose Post.",
        "Pick the photo you just saved, then tap Next twice.",
    ]


def _generic(media_type: str, count: int, many: bool) -> list[str]:
    what = "the video" if media_type == "video" else (f"the {count} photos in order" if many else "the photo")
    return [
        "Open TikTok or Instagram and tap +.",
        f"Choose Upload (TikTok) or Post/Reel (Instagram) and pick {what}.",
        "Tap Next until you reach the caption screen.",
    ]


def _fit(text: str) -> str:
    """Guard the length contract; the templates are far below it by design."""
    if len(text) <= MAX_CHARS:
        return text
    cut = text[: MAX_CHARS - 1]
    return cut[: cut.rfind("\n")] if "\n" in cut else cut
