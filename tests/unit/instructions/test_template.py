"""The deterministic instructions template."""
from __future__ import annotations

import re

import pytest

from layers_shared.instructions import MAX_CHARS, InstructionsWriter, TemplateWriter, writer_from_env

CASES = [
    ("tiktok", "video", 1, "TikTok", "video"),
    ("tiktok", "image", 1, "TikTok", "Photos tab"),
    ("tiktok", "slideshow", 4, "TikTok", "4 photos"),
    ("instagram", "video", 1, "Reel", "video"),
    ("instagram", "slideshow", 3, "carousel", "3 photos"),
    ("instagram", "image", 1, "Instagram", "photo"),
]


@pytest.mark.parametrize("platform, media_type, count, title_word, body_word", CASES)
def test_each_platform_and_media_type_has_numbered_steps(platform, media_type, count, title_word, body_word) -> None:
    writer: InstructionsWriter = TemplateWriter()
    text = writer.write(platform, media_type, "A caption", None, count)

    title, *steps = text.splitlines()
    assert title_word in title
    assert body_word in text
    assert [int(re.match(r"(\d+)\. ", s).group(1)) for s in steps] == list(range(1, len(steps) + 1))
    assert len(text) <= MAX_CHARS
    assert "first comment" not in text.lower()
    assert not re.match(r"(hi|hey|hello)\b", text, re.IGNORECASE)  # no greeting


def test_tiktok_and_instagram_steps_differ() -> None:
    writer = TemplateWriter()
    assert "Reel" in writer.write("instagram", "video", "c", None, 1)
    assert "Reel" not in writer.write("tiktok", "video", "c", None, 1)
    assert "Upload" in writer.write("tiktok", "video", "c", None, 1)


def test_first_comment_is_mentioned_when_present() -> None:
    text = TemplateWriter().write("instagram", "image", "caption", "link in bio!", 1)
    assert "first comment" in text.lower()
    assert TemplateWriter().write("instagram", "image", "caption", "   ", 1).lower().count("first comment") == 0


def test_missing_caption_is_said_not_pasted() -> None:
    text = TemplateWriter().write("tiktok", "video", None, None, 1)
    assert "Copy the caption" not in text and "caption" in text.lower()


def test_deterministic_and_tolerant_of_unknown_platform() -> None:
    writer = TemplateWriter()
    assert writer.write("tiktok", "slideshow", "c", "fc", 5) == writer.write("tiktok", "slideshow", "c", "fc", 5)
    generic = writer.write(None, "image", "c", None, 2)
    assert "TikTok" in generic and "Instagram" in generic and "2 photos" in generic


def test_long_captions_never_push_it_over_the_limit() -> None:
    text = TemplateWriter().write("instagram", "slideshow", "x" * 5000, "y" * 5000, 10)
    assert len(text) <= MAX_CHARS
    assert "x" * 20 not in text  # the caption is pointed at, not repeated


def test_writer_from_env_defaults_to_the_template(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSTRUCTIONS_WRITER", raising=False)
    assert isinstance(writer_from_env(), TemplateWriter)
    monkeypatch.setenv("INSTRUCTIONS_WRITER", "bedrock")
    monkeypatch.delenv("INSTRUCTIONS_MODEL_ID", raising=False)
    assert isinstance(writer_from_env(), TemplateWriter)  # bedrock without a model id: template
