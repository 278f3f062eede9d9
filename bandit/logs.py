"""Logged bandit feedback: the record type every reader produces, and shopgraph's JSONL log.

shopgraph decision log (JSON Lines, UTF-8, one object per line, one line per shown slot)
----------------------------------------------------------------------------------------
::

    {
      "event_id": "9f1c2e:2",            # unique per decision-slot, e.g. "<slate id>:<slot>"
      "sequence": 1234,                  # optional int, increasing in learning order
      "time": "2024-05-01T12:00:00+00:00",
      "context": {                       # the ContextFeatures fields, all optional
        "user_id": "u1", "timestamp": "2024-05-01T12:00:00+00:00", "device": "mobile",
        "page": "home", "preferences": {...}, "recent_categories": ["shoes"],
        "viewed_category": null, "viewed_brand": null, "features": {...},
        "disliked_categories": ["bags"], "disliked_brands": [], "disliked_items": ["p9"]
      },
      "candidates": [                    # the set THIS slot was chosen from (earlier slots'
        {"id": "p1", "category": "shoes", "brand": "acme", "price": 59.9,   # items removed)
         "features": {...}, "popularity": 120, "created_days_ago": 3.5, "ar_enabled": false},
        ...
      ],
      "chosen": "p1",                    # id of the item shown in this slot
      "slot": 0,                         # 0-based
      "probability": 0.93,               # SlateItem.probability: P(chosen at this slot | above)
      "reward": 1.0,                     # summed reward of this item; null = no reward
      "model_version": "ab12cd34:1200"
    }

A line is written once the reward window of the slot has closed. A missing or null
`reward` means nobody interacted within the window and counts as reward 0 — the same
default reward the learner should be taught — because dropping those rows would keep
only engaged impressions and bias every estimate upwards. (`read_shopgraph_log(...,
missing_reward="skip")` drops them instead, for diagnostics.)

`decision_log_line` produces exactly this format.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from bandit.features import ActionFeatures, ActionId, ContextFeatures
from bandit.slates import LearnExample


@dataclass(frozen=True)
class LoggedDecision:
    """One logged decision-slot with its outcome, whatever log it came from."""

    event_id: str
    time: datetime | None
    context: ContextFeatures
    candidates: tuple[ActionFeatures, ...]
    chosen_id: ActionId
    slot: int
    probability: float
    reward: float
    model_version: str | None = None
    sequence: int | None = None

    @property
    def chosen_index(self) -> int:
        """Index of the logged action in `candidates`."""
        for index, candidate in enumerate(self.candidates):
            if candidate.action_id == self.chosen_id:
                return index
        raise ValueError(f"{self.event_id}: chosen {self.chosen_id!r} is not a candidate")

    def to_learn_example(self) -> LearnExample:
        """The learning example this record describes (for training and replay)."""
        return LearnExample(
            context=self.context,
            candidates=self.candidates,
            chosen_id=self.chosen_id,
            probability=self.probability,
            reward=self.reward,
            slot=self.slot,
            sequence=self.sequence,
        )


def read_shopgraph_log(
    path: str | Path, *, missing_reward: Literal["zero", "skip"] = "zero"
) -> list[LoggedDecision]:
    """Read a shopgraph JSONL decision log; malformed lines raise ValueError with a line number."""
    return list(iter_shopgraph_log(path, missing_reward=missing_reward))


def iter_shopgraph_log(
    path: str | Path, *, missing_reward: Literal["zero", "skip"] = "zero"
) -> Iterator[LoggedDecision]:
    """Stream records from a shopgraph JSONL decision log (see module docs)."""
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if row.get("reward") is None and missing_reward == "skip":
                    continue
                record = _record_from_row(row)
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise ValueError(f"{path}:{number}: invalid decision record: {error}") from error
            yield record


def _record_from_row(row: Mapping[str, Any]) -> LoggedDecision:
    candidates = tuple(_action_from_json(c) for c in row["candidates"])
    time = _parse_time(row.get("time"))
    record = LoggedDecision(
        event_id=str(row["event_id"]),
        time=time,
        context=_context_from_json(row.get("context") or {}, default_time=time),
        candidates=candidates,
        chosen_id=row["chosen"],
        slot=int(row.get("slot", 0)),
        probability=float(row["probability"]),
        reward=float(row["reward"]) if row.get("reward") is not None else 0.0,
        model_version=row.get("model_version"),
        sequence=int(row["sequence"]) if row.get("sequence") is not None else None,
    )
    if not 0.0 < record.probability <= 1.0:
        raise ValueError(f"probability {record.probability} is not in (0, 1]")
    if not math.isfinite(record.reward):
        raise ValueError("reward is not finite")
    record.chosen_index  # noqa: B018 - validates that the chosen item is a candidate
    return record


def _parse_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _context_from_json(raw: Mapping[str, Any], *, default_time: datetime | None) -> ContextFeatures:
    return ContextFeatures(
        user_id=raw.get("user_id"),
        timestamp=_parse_time(raw.get("timestamp")) or default_time,
        device=raw.get("device"),
        page=raw.get("page"),
        preferences=raw.get("preferences") or {},
        recent_categories=tuple(raw.get("recent_categories") or ()),
        viewed_category=raw.get("viewed_category"),
        viewed_brand=raw.get("viewed_brand"),
        features=raw.get("features") or {},
        disliked_categories=tuple(raw.get("disliked_categories") or ()),
        disliked_brands=tuple(raw.get("disliked_brands") or ()),
        disliked_items=tuple(raw.get("disliked_items") or ()),
    )


def _action_from_json(raw: Mapping[str, Any]) -> ActionFeatures:
    return ActionFeatures(
        action_id=raw["id"],
        category=raw.get("category"),
        brand=raw.get("brand"),
        price=raw.get("price"),
        features=raw.get("features") or {},
        popularity=raw.get("popularity"),
        created_days_ago=raw.get("created_days_ago"),
        ar_enabled=bool(raw.get("ar_enabled", False)),
    )


def decision_log_line(
    *,
    event_id: str,
    context: ContextFeatures,
    candidates: Sequence[ActionFeatures],
    chosen: ActionId,
    slot: int,
    probability: float,
    reward: float | None,
    model_version: str | None,
    time: datetime | None = None,
    sequence: int | None = None,
) -> str:
    """One line of the shopgraph decision log (no trailing newline)."""
    row = {
        "event_id": event_id,
        "sequence": sequence,
        "time": time.isoformat() if time else None,
        "context": {
            "user_id": context.user_id,
            "timestamp": context.timestamp.isoformat() if context.timestamp else None,
            "device": context.device,
            "page": context.page,
            "preferences": dict(context.preferences),
            "recent_categories": list(context.recent_categories),
            "viewed_category": context.viewed_category,
            "viewed_brand": context.viewed_brand,
            "features": dict(context.features),
            "disliked_categories": list(context.disliked_categories),
            "disliked_brands": list(context.disliked_brands),
            "disliked_items": list(context.disliked_items),
        },
        "candidates": [_action_to_json(c) for c in candidates],
        "chosen": chosen,
        "slot": slot,
        "probability": probability,
        "reward": reward,
        "model_version": model_version,
    }
    return json.dumps(row, ensure_ascii=False, default=_json_default, separators=(",", ":"))


def write_shopgraph_log(path: str | Path, records: Iterable[LoggedDecision]) -> None:
    """Write records in the shopgraph JSONL format (used by tests and converters)."""
    with Path(path).open("w", encoding="utf-8") as handle:
        for r in records:
            line = decision_log_line(
                event_id=r.event_id,
                context=r.context,
                candidates=r.candidates,
                chosen=r.chosen_id,
                slot=r.slot,
                probability=r.probability,
                reward=r.reward,
                model_version=r.model_version,
                time=r.time,
                sequence=r.sequence,
            )
            handle.write(line + "\n")


def _action_to_json(action: ActionFeatures) -> dict[str, Any]:
    return {
        "id": action.action_id,
        "category": action.category,
        "brand": action.brand,
        "price": action.price,
        "features": dict(action.features),
        "popularity": action.popularity,
        "created_days_ago": action.created_days_ago,
        "ar_enabled": action.ar_enabled,
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
