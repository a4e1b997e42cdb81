"""Turning request bodies and pydantic errors into `details.issues[]`."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from layers_shared import errors

if TYPE_CHECKING:
    from pydantic import ValidationError

# pydantic is imported by the first body validated, not by every request's
# pipeline (`parse_json`): a 401 needs none of it (docs/adr/0006-cold-start.md).

M = TypeVar("M")

_CODES = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "literal_error": "invalid_enum",
    "enum": "invalid_enum",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "string_pattern_mismatch": "invalid_format",
    "too_short": "too_few",
    "too_long": "too_many",
    "bool_type": "invalid_type",
    "string_type": "invalid_type",
    "int_type": "invalid_type",
    "dict_type": "invalid_type",
    "list_type": "invalid_type",
    "model_type": "invalid_type",
    "model_attributes_type": "invalid_type",
    "value_error": "invalid",
}


def path_of(loc: tuple[Any, ...] | list[Any], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def issues_of(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    found = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        message = err["msg"]
        if err["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        found.append(errors.issue(path_of(loc, prefix), _CODES.get(err["type"], err["type"]), message))
    return found


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


def validate(model: type[M], data: Any, prefix: str = "") -> tuple[M | None, list[dict[str, str]]]:
    """Validate without raising: the model or the issues found."""
    from pydantic import BaseModel, TypeAdapter, ValidationError

    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate(data), []
        return TypeAdapter(model).validate_python(data), []
    except ValidationError as exc:
        return None, issues_of(exc, prefix)
    except RecursionError:
        return None, [errors.issue(prefix, "too_deep", "value is nested too deeply")]


def require(model: type[M], data: Any) -> M:
    value, problems = validate(model, data)
    if problems:
        raise errors.validation(problems)
    return value  # type: ignore[return-value]
