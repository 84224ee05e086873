"""Credit admittance checks over real HTTP to the live mock: yes, no and "cannot be evaluated",
each explained; what a check needs (consent, a verified identity); its Idempotency-Key across a
gateway fault; who may run and list checks; and the raw score, refused unless configured."""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from service.components import settings
from service.credit.models import CreditCheck, CreditConsent
from service.dbtypes import utcnow
from service.extensions import db
from service.identity.idcard import check_character
from service.mock_idp.runtime import STORE_EXTENSION
from tests.conftest import auth_code, bearer
from tests.credit_helpers import BRIEF, CreditProfiles, calls_of, check, grant, last_call_id
from tests.gifting_helpers import client_token
from tests.identity_helpers import verify

SCORE_OF_USER_0 = 742  # service/mock_idp/data/demo_users.json


@pytest.fixture
def credit_of(mock_idp):
    profiles = CreditProfiles(mock_idp.url)
    yield profiles.change
    profiles.restore()


def _person(login, demo_users, index):
    body = login(index)
    return {"token": body["access_token"], "id": body["user"]["id"],
            "platform_id": demo_users[index]["user_id"]}  # fmt: skip


@pytest.fixture
def zhang(login, demo_users):
    """Demo user 0, logged in; not yet verified and without consent."""
    return _person(login, demo_users, 0)


@pytest.fixture
def ready(client, zhang, mock_idp):
    """Demo user 0, verified and consenting to credit checks."""
    verify(client, zhang["token"], mock_idp.url)
    consent = grant(client, zhang["token"], mock_idp.url, zhang["platform_id"])
    assert consent.status_code == 201, consent.get_json()
    return {**zhang, "consent_id": consent.get_json()["id"]}


@pytest.fixture
def merchant(app, client):
    return bearer(client_token(app, client, "credit:check"))


def _for_user(client, headers, user_id, key=None, **body):
    headers = {**headers, "Idempotency-Key": key or secrets.token_hex(8)}
    body = {"purpose": "credit_check", **body}
    return client.post(f"/v1/users/{user_id}/credit/checks", json=body, headers=headers)


def _own_checks(client, person):
    response = client.get("/v1/credit/checks", headers=bearer(person["token"]))
    assert response.status_code == 200
    return response.get_json()["data"]


def test_a_score_at_or_above_the_threshold_is_admitted_and_explained(client, ready, mock_idp):
    response = check(client, ready["token"], threshold=SCORE_OF_USER_0)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"].startswith("chk_")
    assert body["user_id"] == ready["id"]
    assert body["requested_by"] == ready["id"]
    assert body["purpose"] == "credit_check"
    assert body["threshold"] == SCORE_OF_USER_0
    assert (body["outcome"], body["admitted"]) == ("admitted", True)
    assert body["decided_at"] >= body["created_at"]
    assert f"at least {SCORE_OF_USER_0}. It is." in body["explanation"]
    assert "did not receive or store your score" in body["explanation"]
    assert "score" not in body


def test_a_score_below_the_threshold_is_not_admitted_and_says_what_to_do(client, ready, mock_idp):
    response = check(client, ready["token"], threshold=SCORE_OF_USER_0 + 1)

    assert response.status_code == 201
    body = response.get_json()
    assert (body["outcome"], body["admitted"]) == ("not_admitted", False)
    assert f"at least {SCORE_OF_USER_0 + 1}. It is not" in body["explanation"]
    assert "deposit" in body["explanation"]
    assert "withdraw your consent" in body["explanation"]


def test_a_user_the_platform_cannot_evaluate_gets_no_decision_and_is_told_why(
    client, ready, mock_idp, credit_of
):
    credit_of(ready["platform_id"], evaluable=False)

    response = check(client, ready["token"])

    assert response.status_code == 201
    body = response.get_json()
    assert (body["outcome"], body["admitted"]) == ("not_evaluable", None)
    assert body["decided_at"]
    assert "could not evaluate your credit" in body["explanation"]
    assert "no decision was made" in body["explanation"]


def test_the_threshold_defaults_to_the_configured_admittance_score(app, client, ready, mock_idp):
    with app.app_context():
        configured = settings().credit_admittance_score

    body = check(client, ready["token"]).get_json()

    assert body["threshold"] == configured == 600
    assert body["outcome"] == "admitted"
    assert f"at least {configured}" in body["explanation"]


@pytest.mark.parametrize("threshold", [349, 951, 0, -600, "700", 700.5, True])
def test_a_threshold_outside_350_to_950_or_not_an_integer_is_a_422(
    client, ready, mock_idp, threshold
):
    before = last_call_id(mock_idp.url)

    response = check(client, ready["token"], threshold=threshold)

    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_failed"
    assert "threshold" in body["errors"]
    assert calls_of(mock_idp.url, after=before) == []
    assert _own_checks(client, ready) == []


def test_a_check_without_a_purpose_is_a_422(client, ready):
    headers = {**bearer(ready["token"]), "Idempotency-Key": "no-purpose"}

    response = client.post("/v1/credit/checks", json={"threshold": 700}, headers=headers)

    assert response.status_code == 422
    assert "purpose" in response.get_json()["errors"]


def test_a_check_needs_an_idempotency_key(client, ready):
    response = client.post(
        "/v1/credit/checks", json={"purpose": "credit_check"}, headers=bearer(ready["token"])
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "idempotency_key_required"


def test_a_check_without_consent_for_its_purpose_is_refused(client, ready, mock_idp):
    before = last_call_id(mock_idp.url)

    response = check(client, ready["token"], "deposit_waiver")

    assert response.status_code == 403
    assert response.get_json()["code"] == "consent_required"
    assert "deposit_waiver" in response.get_json()["detail"]
    assert calls_of(mock_idp.url, after=before) == []
    assert _own_checks(client, ready) == []


def test_a_check_without_a_verified_identity_is_refused_before_asking_the_platform(
    client, zhang, mock_idp
):
    assert grant(client, zhang["token"], mock_idp.url, zhang["platform_id"]).status_code == 201
    before = last_call_id(mock_idp.url)

    response = check(client, zhang["token"])

    assert response.status_code == 403
    assert response.get_json()["code"] == "identity_not_verified"
    assert calls_of(mock_idp.url, after=before) == []
    assert _own_checks(client, zhang) == []


def test_the_idempotency_key_replays_the_same_check_with_one_platform_call(client, ready, mock_idp):
    before = last_call_id(mock_idp.url)

    first = check(client, ready["token"], key="check-1", threshold=700)
    again = check(client, ready["token"], key="check-1", threshold=700)

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert len(calls_of(mock_idp.url, after=before)) == 1
    assert len(_own_checks(client, ready)) == 1
    other = check(client, ready["token"], key="check-1", threshold=800)
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"


def test_a_gateway_fault_leaves_the_check_pending_and_a_retry_completes_it(
    app, client, ready, mock_idp, mock_control
):
    mock_control.post(
        "/_mock/faults", json={"method": BRIEF, "kind": "error", "code": "20000", "times": 5}
    ).raise_for_status()

    refused = check(client, ready["token"], key="check-after-fault", threshold=700)

    assert refused.status_code == 503
    assert refused.mimetype == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    [pending] = _own_checks(client, ready)
    assert (pending["outcome"], pending["admitted"], pending["decided_at"]) == (
        "pending",
        None,
        None,
    )
    assert "retry with the same Idempotency-Key" in pending["explanation"]

    mock_control.delete("/_mock/faults")  # the platform is back
    retried = check(client, ready["token"], key="check-after-fault", threshold=700)

    assert retried.status_code == 201
    assert retried.get_json()["id"] == pending["id"]
    assert retried.get_json()["outcome"] == "admitted"
    assert [c["outcome"] for c in _own_checks(client, ready)] == ["admitted"]
    # The platform answered the transaction the pending check was given, and Minifin kept
    # that answer's biz_no: the retry was the same platform transaction, not a new one.
    with app.app_context():
        stored = db.session.get(CreditCheck, pending["id"])
        biz_no = stored.biz_no
    store = mock_idp.app.extensions[STORE_EXTENSION]
    [answered] = store.query(
        "SELECT answer FROM zhima_checks WHERE transaction_id = ?",
        (pending["id"].replace("_", ""),),
    )
    assert biz_no and biz_no in answered["answer"]


def test_a_pending_check_is_dropped_when_its_consent_is_withdrawn_before_the_retry(
    client, ready, mock_control
):
    mock_control.post(
        "/_mock/faults", json={"method": BRIEF, "kind": "error", "code": "20000", "times": 5}
    ).raise_for_status()
    assert check(client, ready["token"], key="check-then-withdraw").status_code == 503
    mock_control.delete("/_mock/faults")
    client.delete(f"/v1/credit/consents/{ready['consent_id']}", headers=bearer(ready["token"]))

    retried = check(client, ready["token"], key="check-then-withdraw")

    assert retried.status_code == 403 and retried.get_json()["code"] == "consent_withdrawn"
    assert _own_checks(client, ready) == []
    consent = client.get(f"/v1/credit/consents/{ready['consent_id']}",
                         headers=bearer(ready["token"])).get_json()  # fmt: skip
    assert [e["type"] for e in consent["events"]] == ["granted", "withdrawn", "check_dropped"]


def test_checks_are_listed_for_the_user_and_for_a_merchant_client_with_credit_check(
    client, ready, mock_idp, merchant
):
    own = check(client, ready["token"], threshold=700).get_json()
    by_merchant = _for_user(client, merchant, ready["id"], threshold=900)

    assert by_merchant.status_code == 201, by_merchant.get_json()
    assert by_merchant.get_json()["outcome"] == "not_admitted"
    assert by_merchant.get_json()["requested_by"].startswith("cli_")
    for listed in (
        _own_checks(client, ready),
        client.get(f"/v1/users/{ready['id']}/credit/checks", headers=merchant).get_json()["data"],
    ):
        assert [c["id"] for c in listed] == [by_merchant.get_json()["id"], own["id"]]
        assert [c["requested_by"] for c in listed] == [
            by_merchant.get_json()["requested_by"],
            ready["id"],
        ]


def test_a_merchant_check_of_an_unknown_user_is_not_found(client, merchant):
    response = _for_user(client, merchant, "usr_doesnotexist")

    assert response.status_code == 404
    assert response.get_json()["code"] == "user_not_found"
    listed = client.get("/v1/users/usr_doesnotexist/credit/checks", headers=merchant)
    assert listed.status_code == 404
    assert listed.get_json()["code"] == "user_not_found"


def test_a_client_without_credit_check_may_not_check_list_or_read_scores(
    app, client, ready, mock_idp
):
    other = bearer(client_token(app, client, "templates:write"))
    before = last_call_id(mock_idp.url)
    score_headers = {**other, "Idempotency-Key": "score-1"}

    responses = [
        _for_user(client, other, ready["id"]),
        client.get(f"/v1/users/{ready['id']}/credit/checks", headers=other),
        client.post(f"/v1/users/{ready['id']}/credit/score", json={"purpose": "credit_check"},
                    headers=score_headers),
    ]  # fmt: skip

    for response in responses:
        assert response.status_code == 403
        assert response.get_json()["code"] == "insufficient_scope"
    assert calls_of(mock_idp.url, after=before) == []


def test_a_user_token_cannot_use_the_merchant_check_routes(client, ready):
    response = _for_user(client, bearer(ready["token"]), ready["id"])

    assert response.status_code == 401
    assert response.get_json()["code"] == "client_token_required"


def test_the_consent_records_each_check_done_under_it(client, ready, mock_idp, merchant):
    mine = check(client, ready["token"], threshold=700).get_json()
    theirs = _for_user(client, merchant, ready["id"], threshold=900).get_json()

    consent = client.get(
        f"/v1/credit/consents/{ready['consent_id']}", headers=bearer(ready["token"])
    ).get_json()

    used = [e for e in consent["events"] if e["type"] == "used_for_check"]
    assert [(e["actor"], e["detail"]) for e in used] == [
        (ready["id"], {"check_id": mine["id"], "threshold": 700, "outcome": "admitted"}),
        (theirs["requested_by"],
         {"check_id": theirs["id"], "threshold": 900, "outcome": "not_admitted"}),
    ]  # fmt: skip


def test_the_raw_score_is_refused_unless_configured(client, ready, mock_idp, merchant):
    before = last_call_id(mock_idp.url)
    headers = {**merchant, "Idempotency-Key": "score-1"}

    response = client.post(
        f"/v1/users/{ready['id']}/credit/score", json={"purpose": "credit_check"}, headers=headers
    )

    assert response.status_code == 403
    assert response.get_json()["code"] == "raw_score_not_enabled"
    assert calls_of(mock_idp.url, after=before) == []


def test_the_raw_score_needs_an_idempotency_key(client, ready, merchant):
    response = client.post(
        f"/v1/users/{ready['id']}/credit/score", json={"purpose": "credit_check"}, headers=merchant
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "idempotency_key_required"


def test_checks_are_kept_only_as_decisions(app, client, ready, mock_idp):
    check(client, ready["token"], threshold=700)

    with app.app_context():
        [row] = db.session.scalars(select(CreditCheck)).all()
        assert (row.outcome, row.admitted, row.threshold) == ("admitted", True, 700)
        assert row.biz_no
        db.session.rollback()
    kept = {column.name for column in CreditCheck.__table__.columns}
    assert not {name for name in kept if "score" in name}


def _person_without_zhima_grant(mock_idp) -> dict:
    """A new platform user (real name, valid ID number) who never granted this app auth_zhima."""
    birth = f"{1980 + secrets.randbelow(20)}0{1 + secrets.randbelow(9)}1{secrets.randbelow(10)}"
    first_17 = f"110105{birth}{secrets.randbelow(1000):03d}"
    person = {"name": "赵敏", "id_number": first_17 + check_character(first_17)}
    created = httpx.post(
        f"{mock_idp.url}/_mock/users",
        json={"user_name": person["name"], "cert_no": person["id_number"]},
    )
    assert created.status_code == 201, created.text
    return {**person, "platform_id": created.json()["user_id"]}


def test_a_check_the_platform_refuses_for_lack_of_its_own_grant_is_403_and_not_left_pending(
    app, client, mock_idp
):
    person = _person_without_zhima_grant(mock_idp)
    login = client.post(
        "/v1/sessions", json={"auth_code": auth_code(mock_idp.url, person["platform_id"])}
    ).get_json()
    token, user_id = login["access_token"], login["user"]["id"]
    verify(client, token, mock_idp.url, {"name": person["name"], "id_number": person["id_number"]})
    # Minifin holds a consent (say the user later revoked auth_zhima inside Alipay); the platform
    # has no grant of its own, so it refuses the check.
    with app.app_context():
        now = utcnow()
        consent = CreditConsent(
            user_id=user_id, purpose="credit_check", scope="auth_zhima", policy_version="2026-11",
            status="active", granted_at=now, expires_at=now + timedelta(days=1), evidence={},
        )  # fmt: skip
        db.session.add(consent)
        db.session.commit()
        consent_id = consent.id

    refused = check(client, token, key="refused-1")
    replayed = check(client, token, key="refused-1")

    assert refused.status_code == replayed.status_code == 403
    assert refused.get_json()["code"] == "platform_consent_missing"
    assert replayed.get_json() == refused.get_json()
    assert client.get("/v1/credit/checks", headers=bearer(token)).get_json()["data"] == []
    events = client.get(f"/v1/credit/consents/{consent_id}", headers=bearer(token)).get_json()
    [dropped] = events["events"]
    assert (dropped["type"], dropped["detail"]["code"]) == (
        "check_dropped",
        "platform_consent_missing",
    )
