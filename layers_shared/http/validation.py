"""Turning request bodies into JSON objects, or `details.issues[]`."""
from __future__ import annotations

import json
from typing import Any

from layers_shared import errors
# Checking a parsed body against its model is not HTTP's business: the domain
# checks stored intents the same way (re-exported for the handlers).
from layers_shared.domain.model_checks import issues_of, path_of, require, validate  # noqa: F401


def parse_json(raw: str | None, *, empty_is_object: bool) -> Any:
    """Any text -> a JSON object, or 422 with path "" (never a crash)."""
    if raw is None or raw.strip() == "":
        if empty_is_object:
            return {}
        raise errors.validation([errors.issue("", "required", "a JSON object body is required")])
    try:
        value = json.loads(raw)
    except RecursionError:
        raise errors.validation([errors.issue("", "too_deep", "the JSON body is nested too deeply")]) from None
    except (ValueError, TypeError):
        raise errors.validation([errors.issue("", "invalid_json", "the body is not valid JSON")]) from None
    if not isinstance(value, dict):
        raise errors.validation([errors.issue("", "invalid_type", "the body must be a JSON object")])
    if _has_lone_surrogate(raw, value):
        raise errors.validation([errors.issue("", "invalid_unicode",
                                              "the body escapes a lone UTF-16 surrogate (e.g. \\ud800)")])
    return value


def _has_lone_surrogate(raw: str, value: Any) -> bool:
    """`"\\ud800"` is JSON text but no Unicode: it could be neither hashed, stored
    nor echoed back as UTF-8. Only bodies with a `\\u` escape need the check."""
    if "\\u" not in raw:
        return False
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (RecursionError, ValueError):
        return False  # json.loads accepted it; leave depth to the validators
    return False
