"""A short per-process memory of sessions found live, so bursts of requests skip the database."""

from __future__ import annotations

import threading
from typing import Any

from cachetools import TTLCache


class LiveSessions:
    """Session id → the user row it authenticated, kept for `seconds` (0 turns it off)."""

    def __init__(self, seconds: float, max_entries: int = 50_000):
        self._cache: TTLCache[str, Any] | None = (
            TTLCache(maxsize=max_entries, ttl=seconds) if seconds > 0 else None
        )
        self._lock = threading.Lock()

    def get(self, session_id: str) -> Any | None:
        if self._cache is None:
            return None
        with self._lock:
            return self._cache.get(session_id)

    def put(self, session_id: str, row: Any) -> None:
        if self._cache is not None:
            with self._lock:
                self._cache[session_id] = row

    def forget(self, session_id: str) -> None:
        """Called when this process revokes a session, so it is refused on the next request."""
        if self._cache is not None:
            with self._lock:
                self._cache.pop(session_id, None)
