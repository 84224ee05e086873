"""Voucher templates: merchants write them, users read what is on sale, bad input is a problem."""

from __future__ import annotations

import pytest

from tests.conftest import bearer
from tests.gifting_helpers import COFFEE, client_token


@pytest.fixture
def merchant(app, client):
    return bearer(client_token(app, client, "templates:write"))


def _create(client, merchant, **changes):
    return client.post("/v1/voucher-templates", json={**COFFEE, **changes}, headers=merchant)


def test_a_merchant_creates_a_template_with_defaults(client, merchant):
    response = _create(client, merchant)

    assert response.status_code == 201
    body = response.get_json()
    assert body["id"].startswith("vtp_")
    assert body["currency"] == "CNY"
    assert body["claim_window_hours"] == 24
    assert body["validity_days"] == 365
    assert body["active"] is True
    assert body["covers"][0]["name"] == "birthday"


def test_logged_in_users_see_only_templates_on_sale(client, merchant, login):
    on_sale = _create(client, merchant).get_json()
    retired = _create(client, merchant, name="Old blend").get_json()
    client.patch(f"/v1/voucher-templates/{retired['id']}", json={"active": False}, headers=merchant)
    user = bearer(login()["access_token"])

    listed = client.get("/v1/voucher-templates", headers=user).get_json()["data"]
    hidden = client.get(f"/v1/voucher-templates/{retired['id']}", headers=user)

    assert [t["id"] for t in listed] == [on_sale["id"]]
    assert hidden.status_code == 404
    assert hidden.get_json()["code"] == "template_not_found"
    everything = client.get("/v1/voucher-templates", headers=merchant).get_json()["data"]
    assert {t["id"] for t in everything} == {on_sale["id"], retired["id"]}
    inactive = client.get("/v1/voucher-templates?active=false", headers=merchant).get_json()["data"]
    assert [t["id"] for t in inactive] == [retired["id"]]


def test_a_merchant_updates_a_template_partially(client, merchant):
    template = _create(client, merchant).get_json()

    response = client.patch(
        f"/v1/voucher-templates/{template['id']}", json={"price_fen": 2500}, headers=merchant
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["price_fen"] == 2500
    assert body["name"] == COFFEE["name"]
    assert body["updated_at"] >= template["updated_at"]


def test_the_kind_cannot_change_after_creation(client, merchant):
    template = _create(client, merchant).get_json()

    response = client.patch(
        f"/v1/voucher-templates/{template['id']}", json={"kind": "stored_value"}, headers=merchant
    )

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"kind": ["Unknown field."]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"face_value_fen": 0}, "face_value_fen"),
        ({"price_fen": -5}, "price_fen"),
        ({"price_fen": 12.5}, "price_fen"),
        ({"price_fen": "2900"}, "price_fen"),
        ({"kind": "coupon"}, "kind"),
        ({"covers": []}, "covers"),
        ({"covers": [{"name": "x", "image_url": "javascript:alert(1)"}]}, "covers"),
        ({"claim_window_hours": 0}, "claim_window_hours"),
        ({"name": ""}, "name"),
        ({"price_fen": 5000}, "price_fen"),  # more than the face value
        ({"covers": [COFFEE["covers"][0], COFFEE["covers"][0]]}, "covers"),  # duplicate names
    ],
)
def test_bad_templates_are_refused_with_the_field_named(app, client, merchant, changes, field):
    response = _create(client, merchant, **changes)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert client.get("/v1/voucher-templates", headers=merchant).get_json()["data"] == []


def test_users_and_clients_without_the_scope_cannot_write(app, client, login):
    user = bearer(login()["access_token"])
    till = bearer(client_token(app, client, "vouchers:redeem"))

    as_user = client.post("/v1/voucher-templates", json=COFFEE, headers=user)
    as_till = client.post("/v1/voucher-templates", json=COFFEE, headers=till)
    anonymous = client.get("/v1/voucher-templates")

    assert as_user.status_code == 401
    assert as_user.get_json()["code"] == "client_token_required"
    assert as_till.status_code == 403
    assert as_till.get_json()["code"] == "insufficient_scope"
    assert anonymous.status_code == 401


def test_an_unknown_template_is_a_404_problem(client, merchant):
    response = client.patch(
        "/v1/voucher-templates/vtp_nope", json={"active": False}, headers=merchant
    )

    assert response.status_code == 404
    assert response.get_json()["code"] == "template_not_found"
