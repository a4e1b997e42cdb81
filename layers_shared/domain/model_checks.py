"""A value checked against a model: the model, or `details.issues[]`-shaped
problems. Shared by request bodies (the handlers) and stored intents the domain
re-reads (a stash's targets), so it speaks domain errors, not HTTP.

pydantic is imported by the first value validated, not at import: a request
refused before its body is read needs none of it (docs/adr/0006-cold-start.md).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from layers_shared.domain.errors import ValidationFailed, issue

if TYPE_CHECKING:
    from pydantic import ValidationError

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
        found.append(issue(path_of(loc, prefix), _CODES.get(err["type"], err["type"]), message))
    return found


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
        return None, [issue(prefix, "too_deep", "value is nested too deeply")]


def require(model: type[M], data: Any) -> M:
    value, problems = validate(model, data)
    if problems:
        raise ValidationFailed(problems)
    return value  # type: ignore[return-value]
