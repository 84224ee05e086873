"""`POST /v1/oauth/token` answers as RFC 6749 §5.1/§5.2 say, and its errors stay problems too.

A real OAuth client library (Authlib's client-credentials flow) talks to the live server, so
the answers are checked the way a merchant's back office would read them.
"""

from __future__ import annotations

import base64

import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from service.auth.clients import create_client
from tests.conftest import bearer
from tests.live_server import served_minifin

PROBLEM_MEMBERS = ["type", "title", "status", "detail", "code"]


@pytest.fixture
def merchant(app):
    with app.app_context():
        client, secret = create_client("back office", ["templates:write", "vouchers:redeem"])
    return client.id, secret


@pytest.fixture(scope="module")
def live(app_env):
    with served_minifin(app_env) as server:
        yield server


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _assert_oauth_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["error"] == error
    description = body["error_description"]
    assert description and all(" " <= c <= "~" and c not in '"\\' for c in description)
    assert set(PROBLEM_MEMBERS) <= set(body)
    assert body["status"] == status
    assert body["type"].endswith("/" + body["code"])
    return body


def _form(merchant, **changes) -> dict:
    client_id, secret = merchant
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    form.update(changes)
    return {name: value for name, value in form.items() if value is not None}


def test_a_token_answer_is_never_cached(client, merchant):
    response = client.post("/v1/oauth/token", data=_form(merchant))

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert response.get_json()["token_type"] == "Bearer"


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"grant_type": None}, "invalid_request", "validation_failed"),
        ({"grant_type": "password"}, "unsupported_grant_type", "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "unsupported_grant_type", "unsupported_grant_type"),
        ({"scope": "deposits:settle"}, "invalid_scope", "invalid_scope"),
        ({"scope": "no-such-scope"}, "invalid_scope", "invalid_scope"),
        ({"client_id": "x" * 65}, "invalid_request", "validation_failed"),
    ],
)
def test_a_bad_request_is_a_400_oauth_error(client, merchant, changes, error, code):
    response = client.post("/v1/oauth/token", data=_form(merchant, **changes))

    assert _assert_oauth_error(response, 400, error)["code"] == code


@pytest.mark.parametrize(
    "changes", [{"client_secret": "mcs_wrong"}, {"client_id": "cli_unknown"}, {"client_id": None}]
)
def test_a_client_that_fails_to_authenticate_in_the_body_is_a_401_invalid_client(
    client, merchant, changes
):
    response = client.post("/v1/oauth/token", data=_form(merchant, **changes))

    _assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_client_that_fails_basic_auth_is_challenged_to_basic(client, merchant):
    response = client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(merchant[0], "mcs_wrong"),
    )

    _assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"] == 'Basic realm="minifin"'


def test_basic_credentials_are_form_decoded_as_rfc_6749_says(client, merchant):
    client_id, secret = merchant
    encoded = "".join(f"%{byte:02X}" for byte in secret.encode())

    response = client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(client_id, encoded),
    )

    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"data": "grant_type=client_credentials&grant_type=password"}, "invalid_request"),
        ({"data": "{", "content_type": "application/json"}, "malformed_json"),
        ({"data": "hello", "content_type": "text/plain"}, "unsupported_media_type"),
        ({"data": "grant_type=" + "x" * 70_000}, "payload_too_large"),
    ],
)
def test_a_malformed_request_is_a_400_invalid_request_with_our_finer_code(client, kwargs, code):
    kwargs.setdefault("content_type", "application/x-www-form-urlencoded")

    response = client.post("/v1/oauth/token", **kwargs)

    assert _assert_oauth_error(response, 400, "invalid_request")["code"] == code


def test_two_ways_of_authenticating_at_once_is_invalid_request(client, merchant):
    response = client.post(
        "/v1/oauth/token", data=_form(merchant), headers=_basic(merchant[0], merchant[1])
    )

    _assert_oauth_error(response, 400, "invalid_request")


def test_unknown_parameters_are_ignored_as_rfc_6749_requires(client, merchant):
    response = client.post("/v1/oauth/token", data=_form(merchant, audience="x", resource="y"))

    assert response.status_code == 200


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_gets_a_client_credentials_token_from_the_live_server(live, merchant, method):
    client_id, secret = merchant
    with OAuth2Session(
        client_id, secret, scope="vouchers:redeem", token_endpoint_auth_method=method
    ) as session:
        token = session.fetch_token(f"{live.url}/v1/oauth/token", grant_type="client_credentials")
        templates = session.get(f"{live.url}/v1/voucher-templates")

    assert token["token_type"] == "Bearer" and token["scope"] == "vouchers:redeem"
    assert token["expires_at"] > 0
    assert templates.status_code == 200
    assert templates.request.headers["Authorization"] == bearer(token["access_token"])[
        "Authorization"
    ]


@pytest.mark.parametrize(
    ("secret", "scope", "error"),
    [
        ("mcs_wrong", "vouchers:redeem", "invalid_client"),
        (None, "deposits:settle", "invalid_scope"),
    ],
)
@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_reads_our_errors_as_oauth_errors(live, merchant, secret, scope, error, method):
    client_id, real_secret = merchant
    with OAuth2Session(
        client_id, secret or real_secret, scope=scope, token_endpoint_auth_method=method
    ) as session, pytest.raises(OAuthError) as refused:  # fmt: skip
        session.fetch_token(f"{live.url}/v1/oauth/token", grant_type="client_credentials")

    assert refused.value.error == error
    assert refused.value.description
