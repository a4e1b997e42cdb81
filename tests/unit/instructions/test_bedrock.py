"""The optional Bedrock writer, with a fake client (no network): it answers, or
it falls back to the template on error, timeout, empty or oversized answers."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from layers_shared.instructions import MAX_CHARS, TemplateWriter, writer_from_env
from layers_shared.instructions.bedrock import BedrockWriter

ARGS = ("tiktok", "slideshow", "A caption", "A first comment", 3)


class FakeBedrock:
    def __init__(self, text: str = "", *, error: Exception | None = None, delay: float = 0.0):
        self.text, self.error, self.delay = text, error, delay
        self.calls: list[dict[str, Any]] = []
        self.released = threading.Event()

    def converse(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if self.delay:
            self.released.wait(self.delay)
        if self.error:
            raise self.error
        return {"output": {"message": {"role": "assistant", "content": [{"text": self.text}]}},
                "stopReason": "end_turn"}


def template() -> str:
    return TemplateWriter().write(*ARGS)


def test_uses_the_model_answer_and_asks_with_the_converse_api() -> None:
    client = FakeBedrock("How to post on TikTok:\n1. **Save** the 3 photos.\n\n2. Post them.")
    writer = BedrockWriter("anthropic.claude-3-haiku", client=client)

    text = writer.write(*ARGS)

    assert text == "How to post on TikTok:\n1. Save the 3 photos.\n2. Post them."
    (request,) = client.calls
    assert request["modelId"] == "anthropic.claude-3-haiku"
    assert request["messages"][0]["role"] == "user"
    prompt = request["messages"][0]["content"][0]["text"]
    assert "tiktok" in prompt and "slideshow" in prompt and template() in prompt
    assert "A caption" not in prompt  # the caption is never sent to the model
    assert request["inferenceConfig"]["maxTokens"] > 0


def test_falls_back_to_the_template_on_error() -> None:
    writer = BedrockWriter("m", client=FakeBedrock(error=RuntimeError("ThrottlingException")))
    assert writer.write(*ARGS) == template()


def test_falls_back_to_the_template_on_timeout() -> None:
    client = FakeBedrock("late answer", delay=5)
    writer = BedrockWriter("m", client=client, timeout_seconds=0.2)
    started = time.monotonic()

    assert writer.write(*ARGS) == template()
    assert time.monotonic() - started < 1.5
    client.released.set()


@pytest.mark.parametrize("answer", ["", "   \n ", "x" * (MAX_CHARS + 1)])
def test_falls_back_on_empty_or_oversized_answers(answer: str) -> None:
    assert BedrockWriter("m", client=FakeBedrock(answer)).write(*ARGS) == template()


def test_writer_from_env_selects_bedrock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTRUCTIONS_WRITER", "bedrock")
    monkeypatch.setenv("INSTRUCTIONS_MODEL_ID", "anthropic.claude-3-haiku")
    monkeypatch.setenv("INSTRUCTIONS_TIMEOUT_SECONDS", "1.5")
    writer = writer_from_env()
    assert isinstance(writer, BedrockWriter)
    assert writer.model_id == "anthropic.claude-3-haiku" and writer.timeout_seconds == 1.5


def test_default_client_failure_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from layers_shared import aws

    def broken(service: str) -> Any:
        raise RuntimeError(f"no client for {service}")

    monkeypatch.setattr(aws, "client", broken)
    assert BedrockWriter("m", timeout_seconds=0.5).write(*ARGS) == template()
