"""A short per-process memory of sessions found live, so bursts of requests skip the database."""

from __future__ import annotations

import threading
import time
from typing import Any


class LiveSessions:
    """Session id → the user row it authenticated, kept for `seconds` (0 turns it off).

    Every authenticated request reads it, so a read takes no lock: one dictionary lookup (atomic
    in CPython) and a clock comparison. Writes, evictions and `forget` take the lock. When full,
    expired entries go first, then the oldest stored.
    """

    def __init__(self, seconds: float, max_entries: int = 50_000):
        self._seconds = seconds
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Any]] = {}  # id → (expires at, row), oldest first
        self._lock = threading.Lock()
        self.clock = time.monotonic

    def get(self, session_id: str) -> Any | None:
        entry = self._entries.get(session_id)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def put(self, session_id: str, row: Any) -> None:
        if self._seconds <= 0:
            return
        now = self.clock()
        with self._lock:
            self._entries.pop(session_id, None)  # re-stored: it becomes the newest
            if len(self._entries) >= self._max_entries:
                self._evict(now)
            self._entries[session_id] = (now + self._seconds, row)

    def forget(self, session_id: str) -> None:
        """Called when this process revokes a session, so it is refused on the next request."""
        with self._lock:
            self._entries.pop(session_id, None)

    def _evict(self, now: float) -> None:
        """Drop the expired entries, then if still full the oldest tenth (caller locks)."""
        for key in [k for k, (expires, _) in self._entries.items() if expires <= now]:
            del self._entries[key]
        if len(self._entries) >= self._max_entries:
            for key in list(self._entries)[: max(1, self._max_entries // 10)]:
                del self._entries[key]
