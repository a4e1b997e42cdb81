"""The instructions-writer port: the third notify-device message, telling the
creator how to post the media by hand in the native app."""
from __future__ import annotations

from typing import Protocol

MAX_CHARS = 1500  # one readable text bubble; Linq allows far more, people do not


class InstructionsWriter(Protocol):
    def write(self, platform: str | None, media_type: str, caption: str | None,
              first_comment: str | None, media_count: int) -> str:
        """Plain text, numbered steps, no greeting, at most `MAX_CHARS` characters.

        `platform` is "tiktok" or "instagram" (None when the content is not yet
        tied to one); `media_type` is "video", "image" or "slideshow".
        """
        ...
