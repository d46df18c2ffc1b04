"""A bounded least-recently-used cache shared by the platform's per-process caches.

Compiled definitions, page form classes, translated documents and rendered blank pages are all
derived from immutable inputs (a stored definition version never changes), so each worker keeps
them in memory. Each cache is bounded, so a worker serving many forms keeps a fixed footprint,
and safe across threads (gunicorn's threaded workers share one).

The value is made outside the lock: two threads missing the same key at once both make it and
the second one stored wins. That costs a repeated computation, never a wrong value, and keeps a
slow compile from blocking every other lookup.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """At most ``size`` entries; the least recently used one goes first."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("an LRU cache holds at least one entry")
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        """The value stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        """Store ``value`` under ``key``, dropping the oldest entries beyond the bound."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The cached value, or ``make()`` stored and returned."""
        found = self.get(key)
        return found if found is not None else self.put(key, make())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
