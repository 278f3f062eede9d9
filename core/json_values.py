"""What text and JSON values the database and our JSON encoders can store: one rule.

Everything a client sends as text or as a JSON object ends up in PostgreSQL (text, JSONB),
in SQLite, and in orjson (responses, events, the decision log). Each of them refuses
something the others accept, and a refusal deep in a background writer stalled it for
everyone (issue 12). So values are checked at the edge with the strictest of their rules:

- text: no NUL character (PostgreSQL text and JSONB cannot hold it) and no lone UTF-16
  surrogate (`"\\ud800"` is valid JSON, but neither UTF-8, PostgreSQL nor orjson accept it);
- integers within the signed 64-bit range (SQLite's integers; orjson refuses ≥ 2^64);
- finite floats (Python's JSON parser reads `NaN` and `Infinity`; JSONB refuses them);
- objects and arrays nested at most `MAX_JSON_DEPTH` levels (orjson gives up at 255;
  anything deeper than a few levels is not a real commerce payload);
- object keys are text.

Per-field limits (size in bytes, a smaller depth) come on top, through `json_object`.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from core.errors import InvalidInput

MIN_INT = -(2**63)
MAX_INT = 2**63 - 1
MAX_JSON_DEPTH = 32

NUL_MESSAGE = "Strings must not contain the NUL character (U+0000)"
SURROGATE_MESSAGE = "Strings must be valid Unicode (no lone surrogate code points)"


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    if "\x00" in text:
        return NUL_MESSAGE
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return SURROGATE_MESSAGE
    return None


def json_problem(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a decoded JSON value cannot be stored, or None. Iterative: the value may nest
    deeper than the interpreter's stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if not MIN_INT <= item <= MAX_INT:
                return "Integers must be within the signed 64-bit range"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "Numbers must be finite"
        elif isinstance(item, str):
            if problem := text_problem(item):
                return problem
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                return f"JSON values nest at most {max_depth} levels"
            if isinstance(item, dict):
                for key in item:
                    if not isinstance(key, str):
                        return "Object keys must be strings"
                    if problem := text_problem(key):
                        return problem
                children = item.values()
            else:
                children = item
            stack.extend((child, depth + 1) for child in children)
        else:
            return f"{type(item).__name__} is not a JSON value"
    return None


def json_object(
    value: Any, *, field: str, max_bytes: int, max_depth: int = MAX_JSON_DEPTH
) -> dict[str, Any]:
    """`value` as a storable JSON object of at most `max_bytes` (compact UTF-8) and
    `max_depth` levels (`{}` is one level), or InvalidInput naming `field`. None is `{}`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"`{field}` must be a JSON object", field=field)
    if problem := json_problem(value, max_depth=max_depth):
        raise InvalidInput(f"`{field}`: {problem}", field=field)
    if len(orjson.dumps(value)) > max_bytes:
        raise InvalidInput(f"`{field}` is limited to {max_bytes} bytes", field=field)
    return value
