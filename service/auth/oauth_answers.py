"""The token endpoint answers as OAuth 2.0 says (RFC 6749 §5.1 and §5.2), so that standard
OAuth client libraries understand it, while keeping the problem document every other endpoint
answers (RFC 9457), so that both kinds of client read the same body.

An error from `POST /v1/oauth/token`, wherever it was raised (the body's parsing at the request
boundary, the schema, the grant), becomes:

    HTTP/1.1 400 Bad Request            (401 for invalid_client)
    Content-Type: application/json
    Cache-Control: no-store
    WWW-Authenticate: Basic realm="minifin"   (with the 401)

    {"error": "invalid_scope", "error_description": "This client was not granted: …",
     "type": "https://minifin.dev/problems/invalid_scope", "title": "…", "status": 400,
     "detail": "This client was not granted: …", "code": "invalid_scope"}

`error` is one of RFC 6749's codes: `invalid_request` (anything wrong with the request itself:
a missing `grant_type`, a parameter given twice, two ways of authenticating at once, a body that
is too large or not a form or JSON), `invalid_client`, `invalid_grant`,
`unsupported_grant_type`, `invalid_scope`; `code` keeps Minifin's own finer code. A 429 (rate
limited) and a 5xx are not OAuth errors and stay plain problems. The 401 challenges `Basic`,
the way the endpoint authenticates clients (RFC 6749 §2.3.1), never `Bearer`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import unquote_plus

from flask import Response, current_app, request

from service.errors import InvalidRequest

OAUTH_ERRORS = frozenset(
    {"invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type",
     "invalid_scope"}
)  # fmt: skip
NOT_OAUTH_ERRORS = frozenset({429})
BASIC_CHALLENGE = 'Basic realm="minifin"'


class UnsupportedGrantType(InvalidRequest):
    code, title = "unsupported_grant_type", "Unsupported grant type"


def oauth_token_endpoint(view: Callable) -> Callable:
    """Mark the view whose answers `as_oauth_answer` rewrites."""
    view.oauth_token_endpoint = True  # type: ignore[attr-defined]
    return view


def is_oauth_token_request() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "oauth_token_endpoint", False))


def client_credentials(body: dict) -> tuple[str, str]:
    """The client's id and secret, from HTTP Basic or from the body, never from both.

    Basic credentials are form-encoded before base64 (RFC 6749 §2.3.1), so they are decoded.
    """
    repeated = sorted(name for name, values in request.form.lists() if len(values) > 1)
    if repeated:
        raise InvalidRequest(f"Give each parameter once: {', '.join(repeated)}.")
    basic = request.authorization
    if basic is not None and basic.type == "basic":
        if body.get("client_id") is not None or body.get("client_secret") is not None:
            raise InvalidRequest("Authenticate with HTTP Basic or in the body, not both.")
        return unquote_plus(basic.username or ""), unquote_plus(basic.password or "")
    return body.get("client_id") or "", body.get("client_secret") or ""


def require_client_credentials_grant(grant_type: str) -> None:
    if grant_type != "client_credentials":
        raise UnsupportedGrantType("This endpoint grants client_credentials only.")


def _oauth_error(code: str, status: int) -> str:
    if status == 401 or code == "invalid_client":
        return "invalid_client"
    return code if code in OAUTH_ERRORS else "invalid_request"


def as_oauth_answer(response: Response) -> Response:
    """Give a token answer its no-store headers and turn a problem into an OAuth error."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    status = response.status_code
    if status < 400 or status >= 500 or status in NOT_OAUTH_ERRORS:
        return response
    try:
        problem = json.loads(response.get_data(as_text=True))
    except ValueError:
        problem = {}
    code = str(problem.get("code") or "invalid_request")
    error = _oauth_error(code, status)
    status = 401 if error == "invalid_client" else 400
    detail = str(problem.get("detail") or error)
    # RFC 6749 allows only printable ASCII but `"` and `\\` in error_description.
    description = "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in detail)
    body = {"error": error, "error_description": description, **problem, "status": status}
    body.setdefault("code", code)
    answer = Response(json.dumps(body, ensure_ascii=False), status=status,
                      mimetype="application/json")  # fmt: skip
    for name in ("Cache-Control", "Pragma", "Allow"):
        if name in response.headers:
            answer.headers[name] = response.headers[name]
    if status == 401:
        answer.headers["WWW-Authenticate"] = BASIC_CHALLENGE
    return answer
