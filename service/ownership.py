"""Looking up a caller's own object by id, answering 404 for everyone else's.

Ids travel in URLs and are opaque, but any caller can send any id. An object that exists but is
someone else's is answered exactly like one that does not exist (the same 404, the same code),
so nobody learns from an answer which ids are in use (ARCHITECTURE.md, Conventions). One helper
keeps that check identical at every lookup.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import InstrumentedAttribute

from service.errors import NotFound
from service.extensions import db

Model = TypeVar("Model")


def owned_or_404(
    model: type[Model],
    object_id: Any,
    *,
    owner: InstrumentedAttribute[Any],
    owner_id: str | None,
    detail: str,
    code: str,
) -> Model:
    """The `model` row `object_id` if its `owner` column is `owner_id`; else NotFound.

    `owner_id` None is a caller that may act on anyone's (a merchant client): only a missing
    row is a 404 then.
    """
    found = db.session.get(model, object_id)
    if found is None or (owner_id is not None and getattr(found, owner.key) != owner_id):
        raise NotFound(detail, code=code)
    return found
