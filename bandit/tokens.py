"""Safe VW text-format tokens: escaping, flattening of JSON-like values, and buckets.

VW's text format gives meaning to `|` (namespace), `:` (value), whitespace and newlines
(feature / example separators); pyvw also joins the lines of a multi-line example with
`\\n`. Any of those inside a value could end a feature early or inject new features,
namespaces or whole actions. Every token that reaches a VW line therefore goes through
`escape`, which percent-encodes everything outside a small ASCII set. Percent-encoding is
injective, so distinct values stay distinct features (replacing characters with `_` would
merge e.g. every Japanese brand name into one feature).

Free-form dicts (user preferences, product `features` JSON) are flattened into
`key=value` tokens, with depth, list length, token length and token count bounded so a
large or hostile payload cannot blow up an example.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import unicodedata
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

# Characters that are inert in VW text format and in our `key=value` convention.
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./")
MAX_TOKEN_CHARS = 64
MAX_FLATTEN_DEPTH = 3
MAX_LIST_ITEMS = 16


def escape(value: object, max_chars: int = MAX_TOKEN_CHARS, *, fold_case: bool = True) -> str:
    """Return `value` as a VW-safe token fragment (possibly empty; `None` gives "").

    The text is NFKC-normalised and, unless `fold_case` is False (identifiers),
    case-folded so "Shoes" and "shoes" are one feature. Every character outside
    `[A-Za-z0-9_./-]` is then percent-encoded as UTF-8. Over-long results are cut and
    suffixed with a digest of the full text, so two long values that share a prefix still
    map to different tokens.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if fold_case:
        text = text.casefold()
    if all(ch in _SAFE for ch in text):
        escaped = text
    else:
        escaped = "".join(
            ch if ch in _SAFE else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in text
        )
    if len(escaped) > max_chars:
        digest = hashlib.blake2b(escaped.encode("ascii"), digest_size=4).hexdigest()
        escaped = f"{escaped[: max_chars - 9]}~{digest}"
    return escaped


def token(key: str, value: object, *, fold_case: bool = True) -> str | None:
    """`key=value` with both sides escaped, or None when the value is None or empty."""
    escaped_value = escape(value, fold_case=fold_case)
    if not escaped_value:
        return None
    return f"{escape(key)}={escaped_value}"


def log2_bucket(value: float, *, steps_per_octave: int = 1) -> str | None:
    """Bucket a non-negative magnitude on a log2 scale (`steps_per_octave` buckets per doubling).

    Returns e.g. "b5" for 32 <= value < 64 (one step per octave), "zero" for 0 and None for
    values that are negative, NaN or infinite (callers drop those).
    """
    if not math.isfinite(value) or value < 0:
        return None
    if value == 0:
        return "zero"
    # Values below 1 share one bucket: they are rare for prices/counts and
    # would otherwise create unbounded negative buckets.
    if value < 1:
        return "lt1"
    return f"b{math.floor(math.log2(value) * steps_per_octave)}"


def number_token_value(value: float) -> str | None:
    """Categorical form of a free-form number: small integers verbatim, others log-bucketed."""
    if not math.isfinite(value):
        return None
    if float(value).is_integer() and abs(value) <= 10:
        return str(int(value))
    bucket = log2_bucket(abs(value))
    return f"neg{bucket}" if value < 0 else bucket


def flatten(
    data: Mapping[str, Any],
    *,
    prefix: str = "",
    max_tokens: int = 32,
) -> list[str]:
    """Flatten a JSON-like mapping into at most `max_tokens` sorted, escaped `key=value` tokens.

    Nested mappings become dotted keys (up to `MAX_FLATTEN_DEPTH` levels), list items
    become repeated `key=item` tokens (at most `MAX_LIST_ITEMS` per list), numbers are
    bucketed (`number_token_value`), booleans become `true`/`false`, `None` and empty
    values are dropped. Tokens are de-duplicated and sorted before truncation, so the
    kept subset is deterministic regardless of dict insertion order.
    """
    tokens = {t for t in _walk(data, prefix, depth=0) if t is not None}
    return sorted(tokens)[:max_tokens]


def _walk(value: Any, key: str, depth: int) -> Iterator[str | None]:
    if isinstance(value, Mapping):
        if depth >= MAX_FLATTEN_DEPTH:
            return
        # Sorting bounds the work deterministically when a mapping is huge.
        for sub_key in sorted(value, key=str)[: MAX_LIST_ITEMS * 4]:
            child = f"{key}.{sub_key}" if key else str(sub_key)
            yield from _walk(value[sub_key], child, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        for item in itertools.islice(items, MAX_LIST_ITEMS):
            if not isinstance(item, Mapping | list | tuple | set | frozenset):
                yield _scalar_token(key or "value", item)
    else:
        yield _scalar_token(key or "value", value)


def _scalar_token(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return token(key, "true" if value else "false")
    if isinstance(value, int | float | Decimal):
        bucket = number_token_value(float(value))
        return token(key, bucket) if bucket is not None else None
    return token(key, value)
