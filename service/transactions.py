"""Ending the database transaction before Minifin waits on the network.

The transaction rule (ARCHITECTURE.md): no database transaction is open across a gateway call.
The session begins a transaction at its first read, so a use case that has read what a call
needs still holds one. Left open, it keeps the read's locks, and on PostgreSQL an `idle in
transaction` session, for as long as the platform takes to answer; the server's idle bound
(`db_sessions.py`) may even end the session under it. One named step makes the end visible at
every call site and the same everywhere.
"""

from __future__ import annotations

from service.extensions import db


class UnsavedChanges(RuntimeError):
    """Raised instead of silently throwing away changes that were never committed."""


def end_transaction_before_call() -> None:
    """End the current (read-only) transaction right before a gateway call.

    What the call needs is read into plain values first: every object loaded so far is expired
    here, and touching one again begins a new transaction. What must outlast the call (the
    intent, its outbox rows) is committed before this by the use case, as the rule says; a
    change still waiting in the session would be lost here, so it is refused instead.
    """
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise UnsavedChanges("uncommitted changes before a gateway call: commit the intent first")
    session.rollback()
