"""A small bounded cache whose entries expire (per-shopper features read on every slate)."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any


class TTLCache:
    """Entries expire after `ttl` seconds; the oldest go first beyond `max_entries`."""

    def __init__(self, *, ttl: float, max_entries: int = 50_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[Any, tuple[Any, float]] = OrderedDict()

    def get(self, key: Any) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[1] > self.ttl:
            return None
        return entry[0]

    def put(self, key: Any, value: Any) -> None:
        self._entries[key] = (value, time.monotonic())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, key: Any) -> None:
        self._entries.pop(key, None)
