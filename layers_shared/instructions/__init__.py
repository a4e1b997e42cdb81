"""Posting instructions for the device handoff: a deterministic template by
default, an optional LLM writer (Bedrock) that falls back to it."""
from __future__ import annotations

import logging
import os

from layers_shared.instructions.port import MAX_CHARS, InstructionsWriter
from layers_shared.instructions.template import TemplateWriter

__all__ = ["InstructionsWriter", "MAX_CHARS", "TemplateWriter", "writer_from_env"]

log = logging.getLogger(__name__)


def writer_from_env() -> InstructionsWriter:
    """`INSTRUCTIONS_WRITER=bedrock` (with `INSTRUCTIONS_MODEL_ID`) selects Bedrock; anything else the template."""
    choice = (os.environ.get("INSTRUCTIONS_WRITER") or "template").strip().lower()
    if choice == "bedrock":
        model_id = (os.environ.get("INSTRUCTIONS_MODEL_ID") or "").strip()
        if model_id:
            # Imported here so the template path never loads the Bedrock module.
            from layers_shared.instructions.bedrock import BedrockWriter

            return BedrockWriter(model_id, timeout_seconds=_timeout())
        log.warning("INSTRUCTIONS_WRITER=bedrock without INSTRUCTIONS_MODEL_ID: using the template")
    return TemplateWriter()


def _timeout() -> float:
    try:
        return max(0.1, float(os.environ.get("INSTRUCTIONS_TIMEOUT_SECONDS") or 3))
    except ValueError:
        return 3.0
