"""Credit consents over real HTTP to the live mock: granted with an `auth_zhima` code for one
purpose, listed with their trail, replaced, withdrawn, expired, and each refusal with its code."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from service.credit.models import CreditConsent
from service.dbtypes import utcnow
from service.extensions import db
from tests.conftest import auth_code, bearer
from tests.credit_helpers import ZHIMA, check, grant, start_deposit
from tests.identity_helpers import ZHANG_WEI, verify


@pytest.fixture
def zhang(login, demo_users):
    """Demo user 0, logged in: their access token, Minifin id and platform id."""
    body = login(0)
    return {"token": body["access_token"], "id": body["user"]["id"],
            "platform_id": demo_users[0]["user_id"]}  # fmt: skip


@pytest.fixture
def wang(login, demo_users):
    body = login(1)
    return {"token": body["access_token"], "id": body["user"]["id"],
            "platform_id": demo_users[1]["user_id"]}  # fmt: skip


def _grant(client, person, mock_idp, purpose="credit_check", **options):
    return grant(client, person["token"], mock_idp.url, person["platform_id"], purpose, **options)


def _consent_rows(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(CreditConsent))
        db.session.rollback()
    return count


def _get(client, person, consent_id):
    return client.get(f"/v1/credit/consents/{consent_id}", headers=bearer(person["token"]))


def _withdraw(client, person, consent_id):
    return client.delete(f"/v1/credit/consents/{consent_id}", headers=bearer(person["token"]))


def test_a_consent_is_granted_for_one_purpose_with_evidence_and_no_personal_data(
    client, zhang, mock_idp
):
    response = _grant(client, zhang, mock_idp, "deposit_waiver")

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"].startswith("cns_")
    assert body["purpose"] == "deposit_waiver"
    assert body["scope"] == "auth_zhima"
    assert body["status"] == "active"
    assert body["policy_version"] == "2026-11"
    assert body["withdrawn_at"] is None
    assert body["expires_at"] > body["granted_at"]
    assert "auth_code" not in body
    evidence = body["evidence"]
    assert evidence["platform_app_id"] == "2021000000000001"
    assert (evidence["scopes"], evidence["scopes_from"]) == (["auth_zhima"], "mini_program")
    assert evidence["policy_version"] == "2026-11"
    assert evidence["received_from"]
    text = json.dumps(body, ensure_ascii=False)
    for personal in (zhang["platform_id"], ZHANG_WEI["name"], ZHANG_WEI["id_number"]):
        assert personal not in text
    assert "access_token" not in text


def test_consents_are_listed_newest_first_and_one_is_shown_with_its_events(client, zhang, mock_idp):
    first = _grant(client, zhang, mock_idp, "deposit_waiver").get_json()
    second = _grant(client, zhang, mock_idp, "credit_check").get_json()

    listed = client.get("/v1/credit/consents", headers=bearer(zhang["token"]))

    assert listed.status_code == 200
    assert [c["id"] for c in listed.get_json()["data"]] == [second["id"], first["id"]]
    assert all("events" not in c for c in listed.get_json()["data"])
    shown = _get(client, zhang, first["id"])
    assert shown.status_code == 200
    assert shown.get_json()["status"] == "active"
    [event] = shown.get_json()["events"]
    assert event["type"] == "granted"
    assert event["actor"] == zhang["id"]
    assert event["detail"] == {"purpose": "deposit_waiver"}
    assert event["at"]


def test_a_code_without_auth_zhima_is_refused_and_records_nothing(app, client, zhang, mock_idp):
    response = _grant(client, zhang, mock_idp, scopes=("auth_user",))

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "zhima_scope_missing"
    assert "auth_zhima" in response.get_json()["detail"]
    assert _consent_rows(app) == 0
    listed = client.get("/v1/credit/consents", headers=bearer(zhang["token"])).get_json()
    assert listed["data"] == []


def test_an_unknown_purpose_is_a_422_with_the_field_named(app, client, zhang, mock_idp):
    response = _grant(client, zhang, mock_idp, "marketing")

    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "purpose_unknown"
    assert "deposit_waiver" in body["errors"]["purpose"][0]
    assert "credit_check" in body["errors"]["purpose"][0]
    assert _consent_rows(app) == 0


def test_a_missing_auth_code_or_purpose_is_a_422_validation_problem(client, zhang):
    response = client.post("/v1/credit/consents", json={}, headers=bearer(zhang["token"]))

    assert response.status_code == 422
    assert set(response.get_json()["errors"]) >= {"auth_code", "scopes", "purpose"}


def test_a_code_of_another_platform_user_is_refused(app, client, zhang, wang, mock_idp):
    stolen = {**zhang, "platform_id": wang["platform_id"]}

    response = _grant(client, stolen, mock_idp)

    assert response.status_code == 403
    assert response.get_json()["code"] == "auth_code_other_user"
    assert _consent_rows(app) == 0


def test_a_second_consent_for_the_same_purpose_replaces_the_first(client, zhang, mock_idp):
    first = _grant(client, zhang, mock_idp).get_json()
    other_purpose = _grant(client, zhang, mock_idp, "deposit_waiver").get_json()

    second = _grant(client, zhang, mock_idp)

    assert second.status_code == 201
    replaced = _get(client, zhang, first["id"]).get_json()
    assert replaced["status"] == "replaced"
    assert [e["type"] for e in replaced["events"]] == ["granted", "replaced"]
    assert replaced["events"][1]["detail"] == {"by": second.get_json()["id"]}
    assert _get(client, zhang, other_purpose["id"]).get_json()["status"] == "active"
    statuses = {
        c["id"]: c["status"]
        for c in client.get("/v1/credit/consents", headers=bearer(zhang["token"])).get_json()[
            "data"
        ]
    }
    assert statuses == {
        first["id"]: "replaced",
        other_purpose["id"]: "active",
        second.get_json()["id"]: "active",
    }


def test_the_same_idempotency_key_replays_the_consent_and_refuses_another_body(
    app, client, zhang, mock_idp
):
    headers = {**bearer(zhang["token"]), "Idempotency-Key": "consent-1"}
    code = auth_code(mock_idp.url, zhang["platform_id"], ZHIMA)
    body = {"auth_code": code, "scopes": list(ZHIMA), "purpose": "credit_check"}

    first = client.post("/v1/credit/consents", json=body, headers=headers)
    again = client.post("/v1/credit/consents", json=body, headers=headers)
    other = _grant(client, zhang, mock_idp, key="consent-1")

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"
    assert _consent_rows(app) == 1


def test_a_withdrawn_consent_stops_later_checks_and_deposits_under_it(client, zhang, mock_idp):
    verify(client, zhang["token"], mock_idp.url)
    for_checks = _grant(client, zhang, mock_idp, "credit_check").get_json()
    for_deposits = _grant(client, zhang, mock_idp, "deposit_waiver").get_json()
    assert check(client, zhang["token"]).status_code == 201

    withdrawn = _withdraw(client, zhang, for_checks["id"])
    _withdraw(client, zhang, for_deposits["id"])

    assert withdrawn.status_code == 200
    body = withdrawn.get_json()
    assert body["status"] == "withdrawn"
    assert body["withdrawn_at"]
    assert [e["type"] for e in body["events"]] == ["granted", "used_for_check", "withdrawn"]
    refused_check = check(client, zhang["token"])
    assert refused_check.status_code == 403
    assert refused_check.get_json()["code"] == "consent_withdrawn"
    refused_deposit = start_deposit(client, zhang["token"])
    assert refused_deposit.status_code == 403
    assert refused_deposit.get_json()["code"] == "consent_withdrawn"
    # What was done under it stays on record.
    checks = client.get("/v1/credit/checks", headers=bearer(zhang["token"])).get_json()
    assert len(checks["data"]) == 1


def test_withdrawing_twice_is_harmless(client, zhang, mock_idp):
    consent = _grant(client, zhang, mock_idp).get_json()
    first = _withdraw(client, zhang, consent["id"])

    second = _withdraw(client, zhang, consent["id"])

    assert second.status_code == 200
    assert second.get_json()["status"] == "withdrawn"
    assert second.get_json()["withdrawn_at"] == first.get_json()["withdrawn_at"]
    assert [e["type"] for e in second.get_json()["events"]] == ["granted", "withdrawn"]


def test_a_new_consent_after_withdrawal_allows_checks_again(client, zhang, mock_idp):
    verify(client, zhang["token"], mock_idp.url)
    consent = _grant(client, zhang, mock_idp).get_json()
    _withdraw(client, zhang, consent["id"])

    _grant(client, zhang, mock_idp)

    assert check(client, zhang["token"]).status_code == 201
    assert _get(client, zhang, consent["id"]).get_json()["status"] == "withdrawn"


def test_another_users_consent_is_not_found_for_reading_or_withdrawing(
    client, zhang, wang, mock_idp
):
    consent = _grant(client, zhang, mock_idp).get_json()

    for response in (_get(client, wang, consent["id"]), _withdraw(client, wang, consent["id"]),
                     _get(client, wang, "cns_doesnotexist")):  # fmt: skip
        assert response.status_code == 404
        assert response.get_json()["code"] == "consent_not_found"
    assert _get(client, zhang, consent["id"]).get_json()["status"] == "active"


def test_a_consent_past_its_expiry_shows_expired_and_refuses_checks(app, client, zhang, mock_idp):
    verify(client, zhang["token"], mock_idp.url)
    consent = _grant(client, zhang, mock_idp).get_json()
    with app.app_context():
        db.session.execute(
            update(CreditConsent)
            .where(CreditConsent.id == consent["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()

    refused = check(client, zhang["token"])

    assert refused.status_code == 403
    assert refused.get_json()["code"] == "consent_expired"
    assert _get(client, zhang, consent["id"]).get_json()["status"] == "expired"
    listed = client.get("/v1/credit/consents", headers=bearer(zhang["token"])).get_json()["data"]
    assert [c["status"] for c in listed] == ["expired"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/credit/consents"), ("GET", "/v1/credit/consents"),
     ("GET", "/v1/credit/consents/cns_x"), ("DELETE", "/v1/credit/consents/cns_x")],
)  # fmt: skip
@pytest.mark.parametrize(
    ("authorization", "code"), [(None, "unauthorized"), ("Bearer not-a-token", "malformed_token")]
)
def test_consents_need_a_valid_user_token(client, method, path, authorization, code):
    headers = {"Authorization": authorization} if authorization else {}
    body = {"auth_code": "x", "purpose": "credit_check"} if method == "POST" else None

    response = client.open(path, method=method, json=body, headers=headers)

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
