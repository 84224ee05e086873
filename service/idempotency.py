"""Idempotency keys: a retried POST gets the first answer instead of doing the work twice.

The first request with a key records that it started (in its own transaction, before the work)
and, when the work is done, the status and body it answered. A retry with the same key and the
same body gets that answer replayed; with another body it is a 422; while the first is still
running it is a 409. 5xx answers are not kept, so a client may retry after a failure; the use
cases themselves are safe to repeat (they reuse the gateway's request numbers). A record left
`started` by a crashed process is taken over after STALE_AFTER.

Every 4xx is kept like a success, whether a use case raised it or the body failed validation, so
many requests racing on one key get one consistent answer: the replayed 4xx, a 409 while the
first runs, or, when the first's record was dropped (after a 5xx) between a racer's insert and
its read, the racer's own result: it starts again instead of reading a record that is gone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request
from flask_smorest import Blueprint
from sqlalchemy import String, Text, delete, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import HTTPException

from service.components import blind_index
from service.dbtypes import UTCDateTime, utcnow
from service.errors import (
    Conflict,
    DomainError,
    InvalidRequest,
    Unprocessable,
    handle_domain_error,
    handle_http_exception,
)
from service.extensions import Model, db
from service.gateway.errors import GatewayError
from service.sql import insert_ignoring_conflicts, rows_changed

log = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
KEEP_FOR = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)
STARTED, COMPLETED = "started", "completed"
BEGIN_ATTEMPTS = 5


class IdempotencyRecord(Model):
    """One key of one caller: the request's fingerprint and, once known, its answer."""

    __tablename__ = "idempotency_records"

    principal: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


def _principal() -> str:
    """Whose key it is: the signed-in user's, else the merchant client's (one of them is set)."""
    return (getattr(g, "user", None) or g.client).id


def _fingerprint() -> str:
    """A keyed digest of the request, the only trace of its body that is kept.

    Bodies may hold personal data, and an ID number has so little entropy that a plain hash of
    it could be reversed by trying them all, so the digest is an HMAC under a server key.
    """
    body = request.get_json(silent=True)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")) if body is not None else ""
    return blind_index().digest("idempotency", f"{request.method} {request.path}\n{canonical}")


def _begin(principal: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Record the start; returns the earlier record when the key was used before.

    The earlier record may vanish between our refused insert and our read (its request ended
    in a 5xx and was forgotten): then the key is free again and we try once more to take it.
    """
    for _attempt in range(BEGIN_ATTEMPTS):
        earlier = _try_begin(principal, key, fingerprint)
        if earlier is not _GONE:
            return earlier
    raise Conflict(
        "Requests with this key keep failing at the same time; retry shortly.",
        code="idempotency_request_in_progress",
        headers={"Retry-After": "1"},
    )


_GONE: Any = object()


def _try_begin(principal: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    now = utcnow()
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal,
            IdempotencyRecord.key == key,
            IdempotencyRecord.expires_at < now,
        )
    )
    fresh = insert_ignoring_conflicts(
        IdempotencyRecord,
        {"principal": principal, "key": key, "request_hash": fingerprint, "state": STARTED,
         "started_at": now, "expires_at": now + KEEP_FOR},
    )  # fmt: skip
    if fresh:
        db.session.commit()
        return None
    earlier = db.session.get(IdempotencyRecord, (principal, key))
    if earlier is None:
        db.session.rollback()
        return _GONE
    if earlier.state == STARTED and now - earlier.started_at > STALE_AFTER:
        taken = rows_changed(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key,
                   IdempotencyRecord.started_at == earlier.started_at)
            .values(started_at=now, request_hash=fingerprint)
        )  # fmt: skip
        db.session.commit()
        if taken:
            log.warning("idempotency key of %s taken over after a stalled first attempt", principal)
            return None
    db.session.rollback()
    return earlier


def _forget(principal: str, key: str) -> None:
    """Drop the record, so that a retry runs again (after a crash, a 5xx or a malformed body)."""
    db.session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
        )
    )
    db.session.commit()


def _finish(principal: str, key: str, response: Response) -> None:
    """Keep the answer for replay, unless it is a 5xx worth retrying."""
    if response.status_code >= 500:
        _forget(principal, key)
        return
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.principal == principal, IdempotencyRecord.key == key)
        .values(state=COMPLETED, response_status=response.status_code,
                response_body=response.get_data(as_text=True))
    )  # fmt: skip
    db.session.commit()


def idempotent(*, required: bool) -> Callable[[Callable], Callable]:
    """Honour an `Idempotency-Key` header on a POST (put it under the auth decorator)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            key = request.headers.get(HEADER, "").strip()
            if not key:
                if required:
                    raise InvalidRequest(
                        f"Send an {HEADER} header (a unique string per operation).",
                        code="idempotency_key_required",
                    )
                return view(*args, **kwargs)
            if len(key) > MAX_KEY_LENGTH:
                raise InvalidRequest(
                    f"The {HEADER} is longer than {MAX_KEY_LENGTH} characters.",
                    code="idempotency_key_invalid",
                )
            principal, fingerprint = _principal(), _fingerprint()
            earlier = _begin(principal, key, fingerprint)
            if earlier is not None:
                return _replay(earlier, fingerprint)
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except (DomainError, GatewayError) as error:  # answered, and replayed, as problems
                response = handle_domain_error(error)
            except HTTPException as error:  # the body's validation (webargs' 422), a 404…
                db.session.rollback()
                if (error.code or 500) >= 500:
                    _forget(principal, key)
                    raise
                response = handle_http_exception(error)
            except BaseException:
                db.session.rollback()
                _forget(principal, key)
                raise
            _finish(principal, key, response)
            return response

        replayed = "Repeat it to retry safely: the first answer is replayed."
        described = key_parameter(required, replayed)
        return Blueprint.doc(parameters=[described])(wrapper)

    return decorator


def key_parameter(required: bool, description: str) -> dict[str, Any]:
    """The OpenAPI header parameter of an `Idempotency-Key`: 1–255 characters, not all blank
    (a blank key counts as none)."""
    return {
        "in": "header",
        "name": HEADER,
        "required": required,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"},
        "description": description,
    }


def _replay(earlier: IdempotencyRecord, fingerprint: str) -> Response:
    if earlier.request_hash != fingerprint:
        raise Unprocessable(
            f"This {HEADER} was used with a different request.", code="idempotency_key_reused"
        )
    status = earlier.response_status  # set when, and only when, the record is completed
    if earlier.state != COMPLETED or status is None:
        raise Conflict(
            "A request with this key is still being processed; retry shortly.",
            code="idempotency_request_in_progress",
            headers={"Retry-After": "1"},
        )
    body = earlier.response_body or ""
    mimetype = "application/problem+json" if status >= 400 else "application/json"
    response = Response(body, status=status, mimetype=mimetype)
    response.headers["Idempotent-Replayed"] = "true"
    return response
