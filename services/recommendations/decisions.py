"""A decision (a slate as decided) and its compact row format.

A decision must be rebuildable exactly from its row: the learner, in another process and
maybe on another machine, learns every reward from the logged decision, so the features it
sees must be the very ones the slate was ranked with. The changing product features are
therefore logged in the form the learner uses them -- price in cents, popularity in
thousandths, age in whole days (`loggable`) -- and the catalog index builds its candidates
in that form too, so nothing is lost between ranking and logging.

Row format (`RecommendationEvent.payload`), version 1::

    byte 0        format version (1)
    bytes 1..     zlib( header | ids | cents | popularity | age | items | context )
    header        <HHI: number of candidates, number of shown items, context length
    ids ... age   one column per changing feature, int32/int64/int64/int32, each
                  byte-shuffled (all first bytes, then all second bytes, ...) so that zlib
                  sees the runs of equal high bytes; MISSING marks an unknown value
    items         candidate index (uint16), probability (float64), score (float64)
    context       the context features as JSON (orjson), without empty fields

About 1.4 KB for 150 candidates and 10 items, where the JSON columns it replaced took about
7 KB (`bench/decision_log_size.py` measures both).
"""

from __future__ import annotations

import contextlib
import math
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import orjson

from bandit.features import ActionFeatures, ContextFeatures
from bandit.slates import Slate, SlateItem
from models import RecommendationEvent

FORMAT_VERSION = 1
MISSING = -(2**31)
_HEADER = struct.Struct("<HHI")
_CENT = Decimal("0.01")
# Context fields stored as they are; `timestamp` is the decision time (stored only when it
# differs from the row's `created_at`); the sequences are lists.
_CONTEXT_SEQUENCES = (
    "recent_categories",
    "disliked_categories",
    "disliked_brands",
    "disliked_items",
)
_CONTEXT_FIELDS = (
    "user_id",
    "device",
    "page",
    "preferences",
    "viewed_category",
    "viewed_brand",
    "features",
    *_CONTEXT_SEQUENCES,
)


class UnloggableDecision(ValueError):
    """A decision that cannot be written in the row format (its JSON cannot be encoded,
    or a candidate's feature is out of range). The writer drops it and counts it."""


class UnreadableDecision(ValueError):
    """A logged decision row that cannot be decoded."""


def loggable(action: ActionFeatures) -> ActionFeatures:
    """`action` with its changing features in the precision the log keeps exactly: price
    in cents, popularity in thousandths, age in whole days (the learner only uses the age
    band, whose limits are whole days, so flooring changes no feature)."""
    price = None if action.price is None else Decimal(str(action.price)).quantize(_CENT)
    popularity = None if action.popularity is None else round(float(action.popularity), 3)
    age = action.created_days_ago
    age = None if age is None or not math.isfinite(age) else float(math.floor(age))
    if (price, popularity, age) == (action.price, action.popularity, action.created_days_ago):
        return action
    return action.with_state(price=price, popularity=popularity, created_days_ago=age)


@dataclass
class Decision:
    """A slate as decided: enough to log it and to learn any reward on it exactly."""

    event_id: str
    user_id: int | None
    session_id: str | None
    context: ContextFeatures
    candidates: tuple[ActionFeatures, ...]
    slate: Slate
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def slot_of(self, product_id: int) -> SlateItem | None:
        for item in self.slate.items:
            if item.action_id == product_id:
                return item
        return None

    def to_row(self) -> RecommendationEvent:
        """The row to insert; raises `UnloggableDecision`."""
        return RecommendationEvent(
            event_id=self.event_id,
            user_id=self.user_id,
            session_id=self.session_id,
            payload=encode(self),
            model_version=self.slate.model_version,
            created_at=self.created_at,
        )


def _shuffled(values: Sequence[int], dtype: type) -> bytes:
    array = np.asarray(values, dtype=dtype)
    return array.view(np.uint8).reshape(len(array), array.itemsize).T.tobytes()


def _unshuffled(data: memoryview, count: int, dtype: type) -> tuple[np.ndarray, int]:
    size = np.dtype(dtype).itemsize * count
    raw = np.frombuffer(data[:size], dtype=np.uint8).reshape(np.dtype(dtype).itemsize, count)
    return raw.T.copy().view(dtype).ravel(), size


def _scaled(value: Any, scale: int, limit: int) -> int:
    if value is None:
        return MISSING
    scaled = round(float(value) * scale) if scale != 100 else int(Decimal(str(value)) * 100)
    if not -limit < scaled < limit or scaled == MISSING:
        raise UnloggableDecision(f"feature value {value!r} is out of range")
    return scaled


def encode(decision: Decision) -> bytes:
    """The payload of a decision; raises `UnloggableDecision`."""
    candidates = decision.candidates
    for candidate in candidates:
        if loggable(candidate) is not candidate:
            raise UnloggableDecision(f"candidate {candidate.action_id} is not in logged form")
    position = {c.action_id: i for i, c in enumerate(candidates)}
    try:
        ids = [int(c.action_id) for c in candidates]
        chosen = [position[item.action_id] for item in decision.slate.items]
        context = _context_json(decision.context, decision.created_at)
        body = b"".join(
            (
                _HEADER.pack(len(candidates), len(chosen), len(context)),
                _shuffled(ids, np.int32),
                _shuffled([_scaled(c.price, 100, 2**62) for c in candidates], np.int64),
                _shuffled([_scaled(c.popularity, 1000, 2**62) for c in candidates], np.int64),
                _shuffled([_scaled(c.created_days_ago, 1, 2**31) for c in candidates], np.int32),
                np.asarray(chosen, dtype=np.uint16).tobytes(),
                np.asarray([i.probability for i in decision.slate.items], np.float64).tobytes(),
                np.asarray([i.score for i in decision.slate.items], np.float64).tobytes(),
                context,
            )
        )
    except UnloggableDecision:
        raise
    except (TypeError, ValueError, KeyError, OverflowError, struct.error) as error:
        # orjson.JSONEncodeError is a TypeError: integers past 64 bits, lone surrogates,
        # nesting deeper than 254 levels.
        raise UnloggableDecision(str(error)) from error
    return bytes([FORMAT_VERSION]) + zlib.compress(body, 6)


def _context_json(context: ContextFeatures, created_at: datetime) -> bytes:
    data: dict[str, Any] = {}
    for name in _CONTEXT_FIELDS:
        value = getattr(context, name)
        if value is not None and value != {} and value != () and value != []:
            data[name] = list(value) if name in _CONTEXT_SEQUENCES else value
    if context.timestamp is not None and context.timestamp != created_at:
        data["timestamp"] = context.timestamp.isoformat()
    elif context.timestamp is None:
        data["timestamp"] = None
    return orjson.dumps(data)


@dataclass(frozen=True)
class LoggedDecision:
    """A decoded payload: what was shown, and the candidates' logged state."""

    context: ContextFeatures
    candidate_ids: tuple[int, ...]
    # Per candidate: (price, popularity, age in days), None where unknown.
    states: tuple[tuple[Decimal | None, float | None, float | None], ...]
    items: tuple[SlateItem, ...]


def decode(payload: bytes, *, created_at: datetime) -> LoggedDecision:
    """Decode a row's payload; raises `UnreadableDecision`."""
    try:
        if not payload or payload[0] != FORMAT_VERSION:
            raise UnreadableDecision("unknown decision format")
        body = memoryview(zlib.decompress(payload[1:]))
        n, k, context_length = _HEADER.unpack_from(body)
        offset = _HEADER.size
        columns = []
        for dtype in (np.int32, np.int64, np.int64, np.int32):
            column, size = _unshuffled(body[offset:], n, dtype)
            columns.append(column.tolist())
            offset += size
        chosen = np.frombuffer(body[offset : offset + 2 * k], np.uint16).tolist()
        offset += 2 * k
        probabilities = np.frombuffer(body[offset : offset + 8 * k], np.float64).tolist()
        offset += 8 * k
        scores = np.frombuffer(body[offset : offset + 8 * k], np.float64).tolist()
        offset += 8 * k
        context = _context_from_json(
            orjson.loads(body[offset : offset + context_length]), created_at
        )
    except UnreadableDecision:
        raise
    except (zlib.error, struct.error, ValueError, TypeError, IndexError) as error:
        raise UnreadableDecision(str(error)) from error
    ids, cents, popularity, age = columns
    states = tuple(
        (
            None if c == MISSING else Decimal(c).scaleb(-2),
            None if p == MISSING else p / 1000,
            None if a == MISSING else float(a),
        )
        for c, p, a in zip(cents, popularity, age, strict=True)
    )
    items = tuple(
        SlateItem(action_id=ids[index], slot=slot, probability=p, score=s)
        for slot, (index, p, s) in enumerate(zip(chosen, probabilities, scores, strict=True))
    )
    return LoggedDecision(context, tuple(ids), states, items)


def _context_from_json(data: Mapping[str, Any], created_at: datetime) -> ContextFeatures:
    if not isinstance(data, dict):
        raise UnreadableDecision("the context is not an object")
    values = {name: data[name] for name in _CONTEXT_FIELDS if name in data}
    for name in _CONTEXT_SEQUENCES:
        values[name] = tuple(values.get(name) or ())
    stamp = data.get("timestamp", created_at)
    values["timestamp"] = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
    return ContextFeatures(**values)


def candidate_ids(events: Iterable[RecommendationEvent]) -> set[int]:
    """Every candidate id of the readable ones among `events`."""
    ids: set[int] = set()
    for event in events:
        with contextlib.suppress(UnreadableDecision):
            ids.update(decode(event.payload, created_at=event.created_at).candidate_ids)
    return ids


def logged_items(event: RecommendationEvent) -> tuple[SlateItem, ...]:
    """The items a logged decision showed, in slot order; raises `UnreadableDecision`."""
    return decode(event.payload, created_at=event.created_at).items


def rebuild(
    event: RecommendationEvent,
    products: Mapping[int, ActionFeatures],
    logged: LoggedDecision | None = None,
) -> Decision | None:
    """The decision a row logged, from the products' static attributes (`products`, keyed
    by id) and the state logged with it (`logged`: the decoded payload, when the caller has
    it already); None when a candidate is no longer in `products`. Raises
    `UnreadableDecision`."""
    if logged is None:
        logged = decode(event.payload, created_at=event.created_at)
    candidates = []
    for product_id, (price, popularity, age) in zip(
        logged.candidate_ids, logged.states, strict=True
    ):
        base = products.get(product_id)
        if base is None:
            return None
        candidates.append(base.with_state(price=price, popularity=popularity, created_days_ago=age))
    return Decision(
        event_id=event.event_id,
        user_id=event.user_id,
        session_id=event.session_id,
        context=logged.context,
        candidates=tuple(candidates),
        slate=Slate(items=logged.items, model_version=event.model_version),
        created_at=event.created_at,
    )
