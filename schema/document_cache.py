"""A bounded memo of results computed from a parsed document, keyed by the document's
identity.

The parser cache hands out one `DocumentNode` per distinct query text, so identity is a
sound key while the document lives; each entry keeps its document alive, so its id cannot be
reused by another object meanwhile. Keying by identity matters: graphql-core hashes and
compares documents structurally, node by node (tens of microseconds for a small page query,
on every request), which is what `functools.lru_cache` over a document would do.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from graphql import DocumentNode

T = TypeVar("T")


class DocumentMemo(Generic[T]):
    def __init__(self, maxsize: int = 1024) -> None:
        self.maxsize = maxsize
        self.misses = 0  # values computed (and stored), for tests and diagnostics
        self._entries: OrderedDict[tuple, tuple[DocumentNode, T]] = OrderedDict()

    def get(self, document: DocumentNode, extra: Hashable, compute: Callable[[], T]) -> T:
        key = (id(document), extra)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is document:
            self._entries.move_to_end(key)
            return entry[1]
        value = compute()
        self.misses += 1
        self._entries[key] = (document, value)
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)


def int_variables(variables: dict[str, Any] | None) -> tuple:
    """The integer variables (page sizes) that an estimate may depend on, hashable."""
    if not variables:
        return ()
    return tuple(
        sorted(
            (k, v) for k, v in variables.items() if isinstance(v, int) and not isinstance(v, bool)
        )
    )
