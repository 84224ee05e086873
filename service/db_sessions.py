"""How long a PostgreSQL session may hold what it has taken when its process goes silent.

A worker that claims a batch of due gifts holds their rows locked (`FOR UPDATE SKIP LOCKED`)
until it commits. If its network link to the database is cut mid-batch (a partition: bytes stop,
no FIN, no RST), neither side learns of it by itself: with the kernel's defaults TCP gives up
after hours, and for those hours the gifts stay locked and unsent. Every PostgreSQL session is
therefore opened with bounds on both sides of the connection:

- on the server, `idle_in_transaction_session_timeout` ends a session that has left a
  transaction open without sending a statement (the cut worker's case: it is waiting for an
  answer that never arrives, or its next statement never arrives), which rolls the batch back and
  frees its rows for another worker; `statement_timeout` bounds a statement cut off while it
  runs; and the server's own TCP keepalives and `tcp_user_timeout` end a session whose client
  stopped acknowledging what the server sends;
- on the client, libpq's keepalives and `tcp_user_timeout` make the cut worker's pending call
  fail instead of waiting for ever, so it drops the connection and, once the link is back, opens
  a new one (the pool pings connections before use).

The transaction is the lease: a cut worker's batch is either committed whole before the cut, or
rolled back by the server, and its late COMMIT (if one ever gets through) finds the session gone.
No gift can be sent by two workers, and none waits longer than about the idle bound plus one
poll interval (the statement bound, too, if the cut came while a statement ran). No transaction
is held open across a gateway call (ARCHITECTURE.md, the transaction rule), so the bounds
apply to the API's sessions as well.
"""

from __future__ import annotations

from typing import Any

from config import Settings


def engine_options(settings: Settings) -> dict[str, Any]:
    """SQLAlchemy engine options: none for SQLite; for PostgreSQL, pings and the bounds above."""
    if settings.uses_sqlite:
        return {}  # a file database never drops a connection
    return {"pool_pre_ping": True, "connect_args": connect_args(settings)}


def connect_args(settings: Settings) -> dict[str, Any]:
    """libpq's parameters for every PostgreSQL connection Minifin opens: the engine's, and a
    worker's LISTEN connection (scheduler/wakeup.py), which must notice a cut link as well."""
    tcp = settings.db_tcp_timeout_seconds
    idle, interval = max(1, tcp // 2), max(1, tcp // 6)
    server = {
        "idle_in_transaction_session_timeout": f"{settings.db_idle_in_transaction_seconds}s",
        "statement_timeout": f"{settings.db_statement_timeout_seconds}s",
        "tcp_keepalives_idle": idle,
        "tcp_keepalives_interval": interval,
        "tcp_keepalives_count": 3,
        "tcp_user_timeout": tcp * 1000,
    }
    return {
        "keepalives": 1,
        "keepalives_idle": idle,
        "keepalives_interval": interval,
        "keepalives_count": 3,
        "tcp_user_timeout": tcp * 1000,
        "connect_timeout": tcp,
        "options": " ".join(f"-c {name}={value}" for name, value in server.items()),
    }
