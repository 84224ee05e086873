"""One lock per user that every change to their identity data takes first: the user's own row.

Starting an attempt (count the day's attempts, then record one), recording an outcome (bind the
identity when it passed) and erasing (cancel what is pending, delete the identity) each read
state and then write on the strength of it. Under PostgreSQL's READ COMMITTED two of them could
read the same state and both act (seven attempts recorded against a limit of five; a pass bound
just after an erasure looked and found nothing). Taking the user's row first, in all three, makes
them run one after another for that user, and each reads what the one before it committed.
"""

from __future__ import annotations

from sqlalchemy import select, update

from service.auth.models import User
from service.extensions import db


def lock_user(user_id: str) -> None:
    """Hold the user's row until the current transaction ends.

    PostgreSQL: `SELECT … FOR UPDATE`. SQLite has no row locks and begins a transaction only at
    its first write, so a write that changes nothing takes the database's write lock now, before
    the reads that follow, instead of at the insert that would come too late.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    else:
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(app_id=User.app_id)
            .execution_options(synchronize_session=False)
        )
