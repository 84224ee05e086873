"""Domain errors and the one handler that turns every error into application/problem+json.

Services raise subclasses of DomainError (and the gateway its GatewayErrors, which carry the same
fields); routes never build error responses themselves. HTTP
errors from Flask, webargs (validation), Flask-Limiter and unexpected exceptions go through the
same handler, so a client parses one shape everywhere (RFC 9457).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from service.gateway.errors import GatewayError

PROBLEM_MIME = "application/problem+json"
PROBLEM_TYPE_BASE = "https://minifin.dev/problems/"
log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of every error a use case may raise; subclasses fix status, code and title."""

    status: ClassVar[int] = 400
    code: str = "bad_request"  # a class default an instance may override
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
    ):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers or {})
        if code:
            self.code = code


class InvalidRequest(DomainError):
    status, code, title = 400, "invalid_request", "Invalid request"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, *, code: str | None = None, **kwargs: Any):
        super().__init__(detail, code=code, **kwargs)
        error = "invalid_token" if self.code != "unauthorized" else "invalid_request"
        self.headers.setdefault("WWW-Authenticate", f'Bearer realm="minifin", error="{error}"')


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class Unprocessable(DomainError):
    status, code, title = 422, "validation_failed", "The request body is not valid"


class TooManyRequests(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"


class ServiceUnavailable(DomainError):
    """The gateway (or another dependency) is unreachable or busy; the client should retry."""

    status, code, title = 503, "gateway_unavailable", "The payment platform is unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5, **kwargs: Any):
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(retry_after))


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Build a problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    response.headers.update(headers or {})
    return response


def _flatten_webargs_messages(messages: Mapping[str, Any]) -> dict[str, Any]:
    """webargs nests messages by location (`json`, `query`, …); clients want field → messages."""
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, Mapping):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def handle_domain_error(error: DomainError | GatewayError) -> Response:
    return problem(
        error.status,
        error.code,
        error.detail,
        title=error.title,
        errors=error.errors,
        headers=error.headers,
    )


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(error, "valid_methods", None)  # only MethodNotAllowed has them
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    retry_after = getattr(error, "retry_after", None)
    if status == 429 and retry_after is None:
        headers.setdefault("Retry-After", "60")
    messages = data.get("messages")
    if status == 422 and messages:
        return problem(
            422,
            "validation_failed",
            "The request has invalid or unknown fields; see errors.",
            title="The request body is not valid",
            errors=_flatten_webargs_messages(messages),
            headers=headers,
        )
    if status == 400 and messages:
        return problem(400, "malformed_json", "The body is not valid JSON.", headers=headers)
    detail = error.description or HTTPStatus(status).phrase
    return problem(status, _HTTP_CODES.get(status, "http_error"), detail, headers=headers)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error", exc_info=error)
    return problem(500, "internal_error", "Something went wrong on our side.")


def register_error_handlers(app: Flask) -> None:
    """Install the problem+json handlers (after flask-smorest, replacing its JSON handler)."""
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(GatewayError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
