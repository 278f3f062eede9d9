"""The JSON wire format of live events."""

from __future__ import annotations

import enum
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from live import decode_payload, encode_payload


class Status(enum.Enum):
    PAID = "PAID"


def test_values_json_lacks_become_exact_strings() -> None:
    order_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    message = encode_payload(
        {
            "total": Decimal("19.90"),
            "discount": Decimal("1E+2"),
            "tiny": Decimal("0.000001"),
            "paidAt": datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
            "shipAt": datetime(2024, 5, 2, 9, 0, tzinfo=timezone(timedelta(hours=2))),
            "day": date(2024, 5, 1),
            "opens": time(9, 30),
            "id": order_id,
            "status": Status.PAID,
            "lines": [{"price": Decimal("2.50")}],
        }
    )
    assert json.loads(message) == {
        "total": "19.90",
        "discount": "100",
        "tiny": "0.000001",
        "paidAt": "2024-05-01T12:30:00+00:00",
        "shipAt": "2024-05-02T09:00:00+02:00",
        "day": "2024-05-01",
        "opens": "09:30:00",
        "id": "12345678-1234-5678-1234-567812345678",
        "status": "PAID",
        "lines": [{"price": "2.50"}],
    }


def test_round_trip_keeps_plain_json_and_unicode() -> None:
    payload = {"name": "Crème brûlée", "qty": 3, "ok": True, "note": None, "tags": ["a"]}
    message = encode_payload(payload)
    assert "Crème" in message  # no \\u escapes: smaller on the wire
    assert decode_payload(message) == payload
    assert decode_payload(message.encode()) == payload


@pytest.mark.parametrize(
    "payload",
    [{"x": float("nan")}, {"x": float("inf")}, {"x": Decimal("NaN")}, {"x": Decimal("-Infinity")}],
)
def test_non_finite_numbers_are_refused(payload: dict) -> None:
    with pytest.raises(ValueError):
        encode_payload(payload)


def test_unknown_types_and_non_mappings_are_refused() -> None:
    with pytest.raises(TypeError):
        encode_payload({"x": {1, 2}})
    with pytest.raises(TypeError):
        encode_payload([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize("message", ["[1]", '"text"', "3", "null", "{broken"])
def test_decoding_accepts_only_json_objects(message: str) -> None:
    with pytest.raises(ValueError):
        decode_payload(message)
