"""Request-level rules every endpoint shares: body size, content type, well-formed JSON.

They run before routing reaches a view, so a view only ever sees a body of the right type and
shape, and every refusal is the same problem document.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from service.errors import DomainError
from service.extensions import limiter

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_FORM_TYPES = {"application/x-www-form-urlencoded"}


class UnsupportedMediaType(DomainError):
    status, code, title = 415, "unsupported_media_type", "Unsupported media type"


class MalformedJson(DomainError):
    status, code, title = 400, "malformed_json", "Malformed JSON"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Payload too large"


def accepts_form(view: Callable) -> Callable:
    """Mark a view as taking `application/x-www-form-urlencoded` as well as JSON."""
    view.accepts_form = True  # type: ignore[attr-defined]
    return view


def rate_limited(limit: Callable[[], str]) -> Callable[[Callable], Callable]:
    """Limit a view per client address with Flask-Limiter (the limit is read per request)."""

    def decorator(view: Callable) -> Callable:
        limited = limiter.limit(limit)(view)
        limited.rate_limited = True  # type: ignore[attr-defined]
        return limited

    return decorator


@limiter.request_filter
def _not_rate_limited() -> bool:
    """Spare the limiter's bookkeeping on the many views that have no limit (most requests)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "rate_limited", False)


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def check_request_body() -> None:
    """Refuse bodies that are too large, of the wrong type, or not a JSON object."""
    if request.method not in _BODY_METHODS:
        return
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding")
    if not has_body:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    form_ok = bool(getattr(view, "accepts_form", False))
    mimetype = request.mimetype
    if form_ok and mimetype in _FORM_TYPES:
        return
    if not _is_json(mimetype):
        accepted = "application/json" + (" or a form" if form_ok else "")
        raise UnsupportedMediaType(f"Send the body as {accepted}.")
    try:
        body = request.get_json(silent=False)
    except RequestEntityTooLarge as exc:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.") from exc
    except Exception as exc:  # werkzeug raises BadRequest for undecodable JSON
        raise MalformedJson("The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise MalformedJson("The body must be a JSON object.")


def install(app: Flask) -> None:
    app.before_request(check_request_body)
