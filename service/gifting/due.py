"""Taking a batch of gifts whose time has come, shared by sending and by expiry.

One conditional UPDATE moves up to `limit` gifts from one status to the next and returns their
ids; on PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so concurrent workers take
disjoint batches, and the caller's work on them commits in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from service.extensions import db
from service.gifting.models import Gift
from service.sql import seconds_until_earliest


def take_due_gifts(
    from_status: str, due_column: Any, now: datetime, limit: int, **new_values: Any
) -> list[str]:
    """Move gifts in `from_status` whose `due_column` has passed; returns the ids moved."""
    due = (
        select(Gift.id)
        .where(Gift.status == from_status, due_column <= now)
        .order_by(due_column)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(
        db.session.scalars(
            update(Gift)
            .where(Gift.id.in_(due.scalar_subquery()), Gift.status == from_status)
            .values(**new_values)
            .returning(Gift.id)
            .execution_options(synchronize_session=False)
        ).all()
    )


def seconds_until_due(status: str, due_column: Any, horizon: float) -> float:
    """How long until the earliest gift in `status` falls due (at most `horizon`)."""
    return seconds_until_earliest(due_column, Gift.status == status, horizon=horizon)
