"""CPU time a burst costs: the workers' processes, and the PostgreSQL server's work for them.

On a machine shared with other work a burst's rate moves by up to a quarter from one run to the
next, because the burst is CPU-bound and the CPU it gets varies; the CPU it uses varies far
less (bench/api.py reads its servers' CPU for the same reason). The database's share is read
from /proc for the server's processes that serve the workers: their backends, found by the
`application_name` the workers connect with (`PGAPPNAME`, which libpq reads), and the server's
background processes (WAL writer, checkpointer, background writer), whose work grows with the
workers' writes. The bench's own connections (seeding, releasing, the poll) are left out. When
the server is not on this machine (its processes are not in /proc) the database's share is
unknown (None); on SQLite the database works inside the workers.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench.servers import process_cpu_seconds

WORKER_APP_NAME = "minifin-bench-worker"
_SERVING = text(
    "SELECT pid FROM pg_stat_activity "
    "WHERE backend_type <> 'client backend' OR application_name = :name"
)


def serving_pids(engine: Engine) -> list[int] | None:
    """The server processes doing the workers' work, or None if the server is not local."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        own = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        comm = Path(f"/proc/{own}/comm")
        if not comm.exists() or not comm.read_text().startswith("postgres"):
            return None
        return list(connection.execute(_SERVING, {"name": WORKER_APP_NAME}).scalars())


class ServerCpu:
    """The database server's CPU seconds for the workers between `begin()` and `seconds()`."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._start: dict[int, float] | None = None

    def begin(self) -> None:
        pids = serving_pids(self._engine)
        self._start = None if pids is None else {pid: process_cpu_seconds(pid) for pid in pids}

    def seconds(self) -> float | None:
        """CPU seconds since `begin()`; a backend that started since counts from zero."""
        pids = serving_pids(self._engine)
        if self._start is None or pids is None:
            return None
        return sum(process_cpu_seconds(pid) - self._start.get(pid, 0.0) for pid in pids)
