"""Re-sealing every encrypted column under the newest field key, in batches, after a rotation.

Each capability declares its sealed columns (`SealedColumns`); this module knows nothing of the
models beyond that. A batch is read by primary key (so a run is resumable and never loops), each
value opened and sealed again for the same owner, and written back only if it has not changed
meanwhile, so a concurrent erasure or update always wins over the rotation.

The caller hands in the database session (`minifin keys rotate --fields` passes the app's), so the
security package imports nothing of the rest of Minifin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

from service.security.fields import FieldCipher

# A session, or Flask-SQLAlchemy's `db.session` (a scoped session).
DbSession = Session | scoped_session[Any]


@dataclass(frozen=True)
class SealedColumns:
    """A model's sealed columns and the column naming the owner each value is bound to."""

    model: type[DeclarativeBase]
    owner: str
    columns: tuple[str, ...]

    def stale(self, prefix: str) -> Any:
        """Rows with a value not sealed under the active key."""
        return or_(*(
            and_(getattr(self.model, c).is_not(None), ~getattr(self.model, c).startswith(prefix))
            for c in self.columns
        ))  # fmt: skip


def count_stale(session: DbSession, registry: Iterable[SealedColumns], cipher: FieldCipher) -> int:
    """How many rows still hold a value sealed under an older key."""
    return sum(
        session.scalar(select(func.count()).select_from(spec.model).where(
            spec.stale(cipher.prefix())))
        for spec in registry
    )  # fmt: skip


def reseal_all(
    session: DbSession,
    registry: Iterable[SealedColumns],
    cipher: FieldCipher,
    *,
    batch_size: int = 500,
    progress: Callable[[int], None] = lambda rows: None,
) -> int:
    """Re-seal every stale value under the cipher's active key; returns the rows rewritten."""
    rewritten = 0
    for spec in registry:
        (key,) = spec.model.__table__.primary_key
        after = None
        while True:
            query = select(key, getattr(spec.model, spec.owner),
                           *(getattr(spec.model, c) for c in spec.columns))  # fmt: skip
            query = query.where(spec.stale(cipher.prefix())).order_by(key).limit(batch_size)
            if after is not None:
                query = query.where(key > after)
            rows = session.execute(query).all()
            if not rows:
                break
            for row_key, owner, *values in rows:
                rewritten += _reseal_row(session, spec, key, row_key, owner, values, cipher)
            session.commit()
            after = rows[-1][0]
            progress(len(rows))
    return rewritten


def _reseal_row(
    session: DbSession,
    spec: SealedColumns,
    key: Any,
    row_key: Any,
    owner: str,
    values: list,
    cipher: FieldCipher,
) -> int:
    changes = {
        column: cipher.seal(cipher.open(value, owner=owner), owner=owner)
        for column, value in zip(spec.columns, values, strict=True)
        if value is not None and cipher.sealed_with_old_key(value)
    }
    unchanged = [getattr(spec.model, c) == v for c, v in zip(spec.columns, values, strict=True)
                 if v is not None]  # fmt: skip
    written = session.execute(
        update(spec.model).where(key == row_key, *unchanged).values(**changes)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return cast(CursorResult[Any], written).rowcount  # an UPDATE answers with a cursor result
