"""Merchant clients: the client-credentials grant and scope checks."""

from __future__ import annotations

import base64

import pytest
from flask import g
from flask_smorest import Blueprint

from service.auth.clients import create_client
from service.auth.decorators import client_required
from service.auth.models import MerchantClient
from service.errors import InvalidRequest
from service.extensions import db
from tests.conftest import bearer


@pytest.fixture
def merchant(app):
    with app.app_context():
        client, secret = create_client("Store till 7", ["vouchers:redeem", "identity:read"])
        return client.id, secret


def _token(client, **form):
    return client.post("/v1/oauth/token", data={"grant_type": "client_credentials", **form})


def test_a_client_gets_a_scoped_token_with_its_secret_in_the_form(client, merchant):
    client_id, secret = merchant

    response = _token(client, client_id=client_id, client_secret=secret)

    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "identity:read vouchers:redeem"
    assert body["expires_in"] == 900
    assert response.headers["Cache-Control"] == "no-store"


def test_a_client_can_authenticate_with_http_basic_and_json(client, merchant):
    client_id, secret = merchant
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()

    response = client.post(
        "/v1/oauth/token",
        json={"grant_type": "client_credentials", "scope": "vouchers:redeem"},
        headers={"Authorization": f"Basic {basic}"},
    )

    assert response.status_code == 200
    assert response.get_json()["scope"] == "vouchers:redeem"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"client_secret": "mcs_wrong"}, 401, "invalid_client"),
        ({"client_id": "cli_unknown"}, 401, "invalid_client"),
        ({"scope": "deposits:settle"}, 400, "invalid_scope"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_bad_client_credentials_are_refused(client, merchant, change, status, code):
    client_id, secret = merchant
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}

    response = client.post("/v1/oauth/token", data={**form, **change})

    assert response.status_code == status
    assert response.get_json()["code"] == code


def test_a_disabled_client_cannot_get_or_use_tokens(app, client, merchant):
    client_id, secret = merchant
    token = _token(client, client_id=client_id, client_secret=secret).get_json()["access_token"]
    with app.app_context():
        row = db.session.get(MerchantClient, client_id)
        row.disabled_at = row.created_at
        db.session.commit()

    assert _token(client, client_id=client_id, client_secret=secret).status_code == 401
    probe = app.view_functions["test_probe.probe"]
    with app.test_request_context(headers=bearer(token)):
        response = app.make_response(_call(probe))
    assert response.status_code == 401


def test_secrets_are_stored_hashed(app, merchant):
    client_id, secret = merchant
    with app.app_context():
        row = db.session.get(MerchantClient, client_id)
        assert secret not in row.secret_hash
        assert row.secret_hash.startswith("scrypt:")


def test_creating_a_client_with_an_unknown_scope_fails(app):
    with app.app_context(), pytest.raises(InvalidRequest):
        create_client("x", ["everything"])


def _call(view):
    from service.errors import DomainError, handle_domain_error

    try:
        return view()
    except DomainError as exc:
        return handle_domain_error(exc)


@pytest.fixture(autouse=True, scope="module")
def _probe_route(app):
    """A route guarded by client_required, registered once for these tests."""
    if "test_probe.probe" in app.view_functions:
        return
    blp = Blueprint("test_probe", __name__)

    @blp.route("/test/probe")
    @client_required("vouchers:redeem")
    def probe():
        return {"client": g.client.id}

    app.view_functions["test_probe.probe"] = probe


def test_client_required_checks_the_scopes(app, client, merchant):
    client_id, secret = merchant
    probe = app.view_functions["test_probe.probe"]
    narrow = _token(client, client_id=client_id, client_secret=secret, scope="identity:read")
    full = _token(client, client_id=client_id, client_secret=secret)

    with app.test_request_context(headers=bearer(narrow.get_json()["access_token"])):
        refused = app.make_response(_call(probe))
    with app.test_request_context(headers=bearer(full.get_json()["access_token"])):
        allowed = app.make_response(_call(probe))

    assert refused.status_code == 403
    assert refused.get_json()["code"] == "insufficient_scope"
    assert allowed.status_code == 200
    assert allowed.get_json() == {"client": client_id}


def test_a_user_token_is_not_a_client_token(app, login):
    tokens = login()
    probe = app.view_functions["test_probe.probe"]
    with app.test_request_context(headers=bearer(tokens["access_token"])):
        response = app.make_response(_call(probe))
    assert response.status_code == 401
    assert response.get_json()["code"] == "client_token_required"
