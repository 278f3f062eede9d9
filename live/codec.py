"""The wire format of live events: one JSON object per event, encoded once, decoded once.

Values that JSON lacks are encoded as strings, chosen so that a GraphQL client can use them
as they are and nothing is rounded:

- `Decimal` -> plain decimal notation, exact and never in exponent form: `"19.90"`, `"100"`;
- `datetime`, `date`, `time` -> ISO 8601 (`"2024-05-01T12:00:00+00:00"`); use aware
  datetimes, a naive one is sent as written, without an offset;
- `UUID` -> its canonical string; `Enum` -> its value.

Decoding does not guess types back: a receiver sees these values as strings. NaN and
infinities are refused, because they are not JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


def encode_payload(payload: Mapping[str, Any]) -> str:
    """Serialise an event payload to compact JSON text.

    Raises `TypeError` for a payload that is not a mapping or holds a value of an unsupported
    type, and `ValueError` for NaN or infinite numbers: both are programming errors.
    """
    if not isinstance(payload, Mapping):
        raise TypeError(f"a live event payload must be a mapping, not {type(payload).__name__}")
    return json.dumps(
        payload,
        default=_encode_value,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def decode_payload(message: str | bytes) -> dict[str, Any]:
    """Parse a message from the bus; raises `ValueError` unless it is a JSON object."""
    value = json.loads(message)
    if not isinstance(value, dict):
        raise ValueError(f"a live event must be a JSON object, not {type(value).__name__}")
    return value


def _encode_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value} in a live event: it is not a JSON number")
        # "f" keeps plain notation: str(Decimal("1E+2")) would give "1E+2".
        return format(value, "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"cannot send a {type(value).__name__} in a live event")
