"""An optional LLM instructions writer (Amazon Bedrock, Converse API).

Never required and never in the way: any error, an empty or oversized answer,
or running past the time budget gives the template's text instead. The
template's steps are handed to the model as the facts to rephrase, so the
model cannot invent app steps that do not exist.

The budget is enforced by wall clock on a worker thread: the shared AWS
client (`layers_shared.aws`) has its own read timeout and retries, which are
longer than a notify-device call can wait for a nicer sentence.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from layers_shared.instructions.port import MAX_CHARS, InstructionsWriter
from layers_shared.instructions.template import TemplateWriter

log = logging.getLogger(__name__)

_SYSTEM = (
    "You write the short text message that tells a creator how to post content by hand in the "
    "TikTok or Instagram mobile app. The media and the caption were sent in the two messages just "
    "before yours. Rules: plain text only (no markdown, no emoji), numbered steps, friendly and "
    "concise, no greeting and no sign-off, keep every step of the reference steps and add none that "
    "an app does not have, never repeat the caption, stay under 1000 characters."
)


class BedrockWriter:
    def __init__(self, model_id: str, *, client: Any = None, fallback: InstructionsWriter | None = None,
                 timeout_seconds: float = 3.0, max_tokens: int = 400):
        self.model_id = model_id
        self._client = client
        self.fallback = fallback or TemplateWriter()
        self.timeout_seconds = timeout_seconds
        self.max_tokens = max_tokens

    def write(self, platform: str | None, media_type: str, caption: str | None,
              first_comment: str | None, media_count: int) -> str:
        reference = self.fallback.write(platform, media_type, caption, first_comment, media_count)
        prompt = _prompt(platform, media_type, bool(caption and caption.strip()),
                         bool(first_comment and first_comment.strip()), media_count, reference)
        try:
            text = self._ask_within_budget(prompt)
        except Exception as exc:  # any failure of an optional nicety falls back; its text may hold anything
            log.warning("instructions writer fell back to the template: %s", type(exc).__name__)
            return reference
        text = _clean(text)
        if not text or len(text) > MAX_CHARS:
            log.warning("instructions writer fell back to the template: %s", "empty" if not text else "too long")
            return reference
        return text

    def _ask_within_budget(self, prompt: str) -> str:
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["text"] = self._ask(prompt)
            except BaseException as exc:  # handed to the caller's thread
                outcome["error"] = exc

        # A daemon thread, not a pool: a hung call must not hold up the next one.
        worker = threading.Thread(target=run, name="instructions-bedrock", daemon=True)
        worker.start()
        worker.join(self.timeout_seconds)
        if worker.is_alive():
            raise TimeoutError(f"no answer within {self.timeout_seconds}s")
        if "error" in outcome:
            raise outcome["error"]
        return str(outcome.get("text") or "")

    def _ask(self, prompt: str) -> str:
        answer = self._bedrock().converse(
            modelId=self.model_id,
            system=[{"text": _SYSTEM}],
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": self.max_tokens, "temperature": 0.3},
        )
        content = (((answer or {}).get("output") or {}).get("message") or {}).get("content") or []
        return "".join(block.get("text", "") for block in content if isinstance(block, dict))

    def _bedrock(self) -> Any:
        if self._client is None:  # lazily: the template path and cold starts never pay for boto3
            from layers_shared import aws

            self._client = aws.client("bedrock-runtime")
        return self._client


def _prompt(platform: str | None, media_type: str, has_caption: bool, has_comment: bool,
            media_count: int, reference: str) -> str:
    return (
        f"Platform: {platform or 'TikTok or Instagram (creator chooses)'}\n"
        f"Media type: {media_type}, {media_count} file(s)\n"
        f"Caption sent: {'yes' if has_caption else 'no'}\n"
        f"First comment to post after publishing: {'yes, it is in the caption message' if has_comment else 'no'}\n"
        f"Reference steps (rephrase these, keep their order and content):\n{reference}"
    )


def _clean(text: str) -> str:
    """Text messages render markdown literally; drop the marks a model tends to add."""
    text = text.replace("**", "").replace("__", "").strip()
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()
