"""WAL a burst writes and the checkpoints that start while it runs (PostgreSQL).

A checkpoint that starts during a burst makes every page the burst then touches for the first
time go to the WAL whole (a full-page image, 8 KiB) and has the checkpointer write pages out
beside the workers: a 100 000-gift burst writes enough WAL to set one off on a server with the
default `max_wal_size` (1 GB; a checkpoint is requested after about half of it), where a 20 000
burst does not. The bench checkpoints before each burst, so the count is the burst's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine

_READ = text(
    "SELECT pg_current_wal_lsn() AS lsn, checkpoints_timed + checkpoints_req AS checkpoints"
    " FROM pg_stat_bgwriter"
)
_SINCE = text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), CAST(:lsn AS pg_lsn))")


@dataclass
class Wal:
    """What the server wrote between `begin()` and `end()`."""

    bytes: int
    checkpoints: int


class WalMeter:
    """The WAL written and the checkpoints started between `begin()` and `end()`; nothing on
    SQLite."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._start: tuple[str, int] | None = None

    def begin(self) -> None:
        if self._engine.dialect.name != "postgresql":
            return
        with self._engine.connect() as connection:
            row = connection.execute(_READ).one()
        self._start = (str(row.lsn), int(row.checkpoints))

    def end(self) -> Wal | None:
        if self._start is None:
            return None
        lsn, checkpoints = self._start
        with self._engine.connect() as connection:
            written = connection.execute(_SINCE, {"lsn": lsn}).scalar_one()
            now = connection.execute(_READ).one()
        return Wal(int(written), int(now.checkpoints) - checkpoints)
