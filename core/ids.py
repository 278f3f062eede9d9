"""Row ids as clients send them (inside Relay global ids): one rule for every parse.

A row id is ASCII decimal digits naming a positive integer the id column can hold: 32 bits
for `IntField` keys (PostgreSQL `integer`), 64 bits for `BigIntField` keys. Anything else
names no row. `str.isdigit()` alone is not enough: it accepts `"²"` (which `int()` then
refuses) and the Arabic-Indic one `"\u0661"` (which `int()` reads as 1, so the id
`Product:\u0661` found product 1), and a value past the column's range made PostgreSQL
fail the query instead of finding nothing.
"""

from __future__ import annotations

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
_MAX_DIGITS = len(str(INT64_MAX))


def parse_row_id(text: str, *, max_id: int = INT32_MAX) -> int | None:
    """The row id `text` names, or None when it names no row."""
    if not (0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= max_id else None
