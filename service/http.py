"""Request-level rules every endpoint shares: body size, content type, well-formed JSON, text
that is Unicode, and which answers may carry `Retry-After`.

They run before routing reaches a view, so a view only ever sees a body of the right type and
shape, and every refusal is the same problem document.

Text that is not Unicode is refused here, once for every route: an unpaired UTF-16 surrogate
(`"\\ud800"` in a JSON string) or bytes that are not UTF-8 in the path, the query string or a
form body (ED A0 80 is how a surrogate travels in a URL). Python holds such strings happily, but
no encoder writes them, so further in they became 500s from the database driver, hashing or
signing. Werkzeug would replace bad bytes in a path with U+FFFD and keep them escaped in a
query; refusing them says what is wrong instead of acting on text the client did not send.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, current_app, request
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


class InvalidText(DomainError):
    status, code, title = 400, "invalid_text", "Text that is not Unicode"


_SURROGATE = re.compile("[\ud800-\udfff]")
# Retry-After means "come back later": for a 429, a 503, and the 409 of a request still running
# under the same Idempotency-Key. Flask-Limiter adds it to every answer of a limited route.
RETRY_AFTER_STATUSES = frozenset({409, 429, 503})


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


def _is_rate_limited() -> bool:
    """Whether the request's view has a limit, learned once per endpoint (views are fixed)."""
    endpoint = request.endpoint or ""
    known = current_app.extensions[_LIMITED_ENDPOINTS]
    limited = known.get(endpoint)
    if limited is None:
        view = current_app.view_functions.get(endpoint)
        limited = known[endpoint] = bool(getattr(view, "rate_limited", False))
    return limited


_LIMITED_ENDPOINTS = "minifin_limited_endpoints"


def confine_limiter(app: Flask) -> None:
    """Run Flask-Limiter's request hooks only for views that have a limit.

    Minifin sets no default or application-wide limit, so on any other view the limiter's
    before-request check, header injection and teardown find nothing to do; yet they built its
    per-request context each time, a fifth of an authenticated GET's cost. A limited view keeps
    all three unchanged. Fails loudly if the limiter's hooks are not where it registers them.
    """
    app.extensions[_LIMITED_ENDPOINTS] = {}
    hooks: dict[str, list[Callable]] = {
        "before": app.before_request_funcs.setdefault(None, []),
        "after": app.after_request_funcs.setdefault(None, []),
        "teardown": app.teardown_request_funcs.setdefault(None, []),
    }
    found = 0
    for kind, funcs in hooks.items():
        for index, hook in enumerate(funcs):
            owner = getattr(hook, "__self__", None)
            if isinstance(hook, functools.partial) and hook.args:
                owner = hook.args[0]
            if owner is limiter:
                funcs[index] = _only_when_limited(hook, passes_response=kind == "after")
                found += 1
    if found != len(hooks):
        raise RuntimeError(f"expected one Flask-Limiter hook of each kind, found {found}")


def _only_when_limited(hook: Callable, *, passes_response: bool) -> Callable:
    if passes_response:

        def after(response: Response) -> Response:
            return hook(response) if _is_rate_limited() else response

        return after

    def before_or_teardown(*args: Any) -> None:
        if _is_rate_limited():
            hook(*args)

    return before_or_teardown


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def _check_unsized_body(limit: int) -> None:
    """A chunked body has no Content-Length: read it, and refuse it past the limit too.

    Werkzeug stops reading such a body at MAX_CONTENT_LENGTH without saying so, which left a
    truncated body (a 400 "not JSON") instead of a 413; one more byte from the server's own
    stream tells whether there was more.
    """
    data = request.get_data(cache=True)
    if len(data) >= limit and request.environ["wsgi.input"].read(1):
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")


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
    if request.content_length is None:
        _check_unsized_body(limit)
    view = current_app.view_functions.get(request.endpoint or "")
    form_ok = bool(getattr(view, "accepts_form", False))
    mimetype = request.mimetype
    if form_ok and mimetype in _FORM_TYPES:
        _check_utf8(request.get_data(cache=True), "The form body")
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
    _check_json_text(body)


def _check_utf8(raw: bytes | str, where: str, *, percent_encoded: bool = True) -> None:
    """`raw` (a path, a query string, a form body), percent-decoded if it is so, must be UTF-8."""
    if isinstance(raw, str):  # WSGI hands over the path's and query's bytes as latin-1
        if raw.isascii() and (not percent_encoded or "%" not in raw):
            return  # ASCII is UTF-8: most requests stop here, decoding nothing
        raw = raw.encode("latin-1", "replace")
    try:
        (unquote_to_bytes(raw) if percent_encoded else raw).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidText(
            f"{where} is not UTF-8 (an unpaired surrogate, or bytes of another encoding)."
        ) from None


def _check_json_text(value: Any, path: str = "body") -> None:
    """Every string of a JSON document, keys included, must be free of lone surrogates."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise InvalidText(
                    f"A string at {where} holds an unpaired UTF-16 surrogate, which is not text."
                )
        elif isinstance(item, dict):
            for key, member in item.items():
                stack.append((key, f"{where} (a member name)"))
                stack.append((member, f"{where}.{key}" if not _SURROGATE.search(key) else where))
        elif isinstance(item, list):
            stack.extend((member, f"{where}[{index}]") for index, member in enumerate(item))


def check_request_text() -> None:
    """The path and the query string of every request must be UTF-8 (see the module's text).

    The path is checked as the client sent it (gunicorn's RAW_URI, werkzeug's REQUEST_URI,
    still percent-encoded), because werkzeug's server turns bad bytes into U+FFFD before
    PATH_INFO, and as PATH_INFO (percent-decoded) where a server gives no raw URI.
    """
    environ = request.environ
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw_uri:
        _check_utf8(raw_uri.split("?", 1)[0], "The path")
    _check_utf8(environ.get("PATH_INFO", ""), "The path", percent_encoded=False)
    _check_utf8(environ.get("QUERY_STRING", ""), "The query string")


def only_meaningful_retry_after(response: Response) -> Response:
    """Drop `Retry-After` from answers where it means nothing (a 201, a 422, …)."""
    if response.status_code not in RETRY_AFTER_STATUSES:
        response.headers.pop("Retry-After", None)
    return response


def install(app: Flask) -> None:
    confine_limiter(app)
    app.before_request(check_request_text)
    app.before_request(check_request_body)
    # Flask runs after-request functions last-registered first; Flask-Limiter adds its headers
    # in one registered before this, so this one goes first in the list, to run after it.
    app.after_request_funcs.setdefault(None, []).insert(0, only_meaningful_retry_after)
