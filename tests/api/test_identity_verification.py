"""Real-name authentication over real HTTP to the live mock: pass, fail, expire, cancel, limits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from service.dbtypes import utcnow
from service.extensions import db
from service.identity.models import Identity, IdentityEvent, IdentityVerification
from service.scheduler import outbox
from service.scheduler.models import OutboxJob
from tests.conftest import bearer
from tests.credit_helpers import last_call_id
from tests.identity_helpers import WANG_FANG, ZHANG_WEI, finish_scan, start, verify


@pytest.fixture
def zhang(login):
    return login(0)["access_token"]


@pytest.fixture
def wang(login):
    return login(1)["access_token"]


def _get(client, token, verification):
    return client.get(f"/v1/identity/verifications/{verification['id']}", headers=bearer(token))


def test_a_verification_starts_pending_with_a_signed_face_scan_url_and_masked_values(
    client, zhang, mock_idp
):
    response = start(client, zhang)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"].startswith("idv_")
    assert body["status"] == "pending"
    assert body["certify_url"].startswith(f"{mock_idp.url}/gateway.do?")
    assert "sign=" in body["certify_url"]
    assert (body["name"], body["id_number"]) == ("*伟", "110***********1119")
    assert body["expires_at"] > body["created_at"]
    assert "张伟" not in response.get_data(as_text=True)
    assert ZHANG_WEI["id_number"] not in response.get_data(as_text=True)


def test_a_passed_scan_makes_the_user_verified_with_masked_identity_and_age(
    client, zhang, mock_idp
):
    verification = start(client, zhang).get_json()
    assert client.get("/v1/identity", headers=bearer(zhang)).get_json() == {
        "verified": False, "name": None, "id_number": None, "verified_at": None,
        "birth_date": None, "is_adult": None,
    }  # fmt: skip

    finish_scan(mock_idp.url, verification, passed=True)
    refreshed = _get(client, zhang, verification).get_json()

    assert refreshed["status"] == "passed"
    assert refreshed["certify_url"] is None
    assert refreshed["finished_at"]
    identity = client.get("/v1/identity", headers=bearer(zhang)).get_json()
    assert identity["verified"] is True
    assert identity["name"] == "*伟"
    assert identity["id_number"] == "110***********1119"
    assert identity["birth_date"] == "1988-03-14"
    assert identity["is_adult"] is True
    assert identity["verified_at"]


def test_a_failed_scan_is_failed_with_a_reason_code_and_leaves_the_user_unverified(
    client, zhang, mock_idp
):
    verification = start(client, zhang).get_json()
    reason = "活体检测未通过（LIVENESS_FAILED）"
    finish_scan(mock_idp.url, verification, passed=False, reason=reason)

    refreshed = _get(client, zhang, verification).get_json()

    assert (refreshed["status"], refreshed["fail_reason"]) == ("failed", "liveness_failed")
    assert client.get("/v1/identity", headers=bearer(zhang)).get_json()["verified"] is False


def test_a_person_whose_face_does_not_match_by_default_fails(client, login, mock_idp):
    token = login(4)["access_token"]  # the demo user whose scans fail with FACE_NOT_MATCH
    person = {"name": "胡斌", "id_number": "530102197511114012"}
    verification = start(client, token, person).get_json()
    finish_scan(mock_idp.url, verification, passed=False)

    refreshed = _get(client, token, verification).get_json()

    assert (refreshed["status"], refreshed["fail_reason"]) == ("failed", "face_not_match")


def test_an_unfinished_verification_stays_pending_and_then_expires_on_read(app, client, zhang):
    verification = start(client, zhang).get_json()
    assert _get(client, zhang, verification).get_json()["status"] == "pending"

    with app.app_context():
        db.session.execute(
            update(IdentityVerification)
            .where(IdentityVerification.id == verification["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    refreshed = _get(client, zhang, verification).get_json()

    assert (refreshed["status"], refreshed["fail_reason"]) == ("expired", "not_finished_in_time")
    assert refreshed["certify_url"] is None
    with app.app_context():
        row = db.session.get(IdentityVerification, verification["id"])
        assert (row.name_sealed, row.id_number_sealed, row.id_number_hash) == (None, None, None)


def test_the_worker_expires_an_abandoned_verification_at_the_end_of_its_window(app, client, zhang):
    verification = start(client, zhang).get_json()
    with app.app_context():
        job = db.session.scalars(
            select(OutboxJob).where(OutboxJob.kind == "identity.settle_verification")
        ).one()
        assert job.run_at == db.session.get(IdentityVerification, verification["id"]).expires_at
        past = utcnow() - timedelta(seconds=1)
        db.session.execute(
            update(IdentityVerification)
            .where(IdentityVerification.id == verification["id"])
            .values(expires_at=past)
        )
        db.session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(run_at=past))
        db.session.commit()
        assert outbox.run_due_jobs("test-worker", 10) == 1
        row = db.session.get(IdentityVerification, verification["id"])
        assert row.status == "expired"
        assert row.name_sealed is None
        events = db.session.scalars(
            select(
                IdentityEvent.type,
            ).where(IdentityEvent.verification_id == row.id)
        ).all()
    assert events == ["verification.started", "verification.expired"]


def test_the_worker_records_a_pass_that_nobody_came_back_to_read(app, client, zhang, mock_idp):
    verification = start(client, zhang).get_json()
    finish_scan(mock_idp.url, verification, passed=True)
    with app.app_context():
        db.session.execute(update(OutboxJob).values(run_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        outbox.run_due_jobs("test-worker", 10)
    assert client.get("/v1/identity", headers=bearer(zhang)).get_json()["verified"] is True


def test_a_pending_verification_can_be_canceled_once(app, client, zhang):
    verification = start(client, zhang).get_json()

    canceled = client.post(
        f"/v1/identity/verifications/{verification['id']}/cancel", headers=bearer(zhang)
    )
    again = client.post(
        f"/v1/identity/verifications/{verification['id']}/cancel", headers=bearer(zhang)
    )

    assert canceled.status_code == 200
    assert canceled.get_json()["status"] == "canceled"
    assert again.status_code == 409
    assert again.get_json()["code"] == "verification_not_pending"
    with app.app_context():
        assert db.session.get(IdentityVerification, verification["id"]).name_sealed is None


def test_another_users_verification_is_not_found(client, zhang, wang):
    verification = start(client, zhang).get_json()

    seen = _get(client, wang, verification)
    canceled = client.post(
        f"/v1/identity/verifications/{verification['id']}/cancel", headers=bearer(wang)
    )

    assert seen.status_code == 404
    assert seen.get_json()["code"] == "verification_not_found"
    assert canceled.status_code == 404
    assert _get(client, zhang, verification).get_json()["status"] == "pending"


def test_erasure_removes_the_identity_and_its_ciphertext_and_keeps_a_pii_free_trail(
    app, client, zhang, mock_idp
):
    verification = verify(client, zhang, mock_idp.url)
    pending = start(client, zhang).get_json()

    erased = client.delete("/v1/identity", headers=bearer(zhang))

    assert erased.status_code == 200
    assert erased.get_json()["verified"] is False
    assert client.get("/v1/identity", headers=bearer(zhang)).get_json()["verified"] is False
    assert _get(client, zhang, pending).get_json()["status"] == "canceled"
    finished = _get(client, zhang, verification).get_json()
    assert (finished["status"], finished["name"], finished["id_number"]) == ("passed", None, None)
    with app.app_context():
        assert db.session.scalars(select(Identity)).all() == []
        for row in db.session.scalars(select(IdentityVerification)):
            assert (row.name_sealed, row.id_number_sealed, row.id_number_hash) == (None,) * 3
    events = client.get("/v1/identity/events", headers=bearer(zhang)).get_json()["data"]
    assert events[0]["type"] == "identity.erased"  # newest first
    assert {"verification.started", "verification.passed"} <= {e["type"] for e in events}
    assert all(e["origin"] for e in events if e["actor"] != "system")
    text = str(events)
    assert "张伟" not in text and ZHANG_WEI["id_number"] not in text
    # Nor the number's last four, masked or not; the times are left out of that search, as their
    # microseconds can spell any four digits ("20:34:49.111937" failed it once).
    untimed = str([{key: value for key, value in event.items() if key != "at"} for event in events])
    assert "1119" not in untimed


def test_after_erasure_the_same_person_can_verify_again(client, zhang, mock_idp):
    first = start(client, zhang).get_json()
    finish_scan(mock_idp.url, first, passed=True)
    _get(client, zhang, first)
    client.delete("/v1/identity", headers=bearer(zhang))

    again = start(client, zhang).get_json()
    finish_scan(mock_idp.url, again, passed=True)

    assert _get(client, zhang, again).get_json()["status"] == "passed"


def test_a_sixth_attempt_within_24_hours_is_refused_with_retry_after(client, zhang):
    for _ in range(5):
        assert start(client, zhang).status_code == 201

    refused = start(client, zhang)

    assert refused.status_code == 429
    assert refused.get_json()["code"] == "verification_attempts_exceeded"
    assert 86000 < int(refused.headers["Retry-After"]) <= 86400


def test_a_retry_with_the_same_key_is_not_another_attempt(client, zhang):
    first = start(client, zhang, key="attempt-1")
    replayed = start(client, zhang, key="attempt-1")
    other_body = start(client, zhang, WANG_FANG, key="attempt-1")

    assert replayed.status_code == 201
    assert replayed.get_json()["id"] == first.get_json()["id"]
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422
    assert other_body.get_json()["code"] == "idempotency_key_reused"
    for _ in range(4):
        assert start(client, zhang).status_code == 201


def test_an_identity_bound_to_one_account_is_refused_to_another(client, zhang, wang, mock_idp):
    verify(client, zhang, mock_idp.url)

    refused = start(client, wang, ZHANG_WEI)

    assert refused.status_code == 409
    assert refused.get_json()["code"] == "identity_already_bound"
    assert ZHANG_WEI["id_number"] not in refused.get_data(as_text=True)


def test_two_accounts_racing_for_one_identity_bind_it_once(client, zhang, wang, mock_idp):
    mine = start(client, zhang).get_json()
    theirs = start(client, wang, ZHANG_WEI).get_json()  # neither is verified yet
    finish_scan(mock_idp.url, mine, passed=True)
    finish_scan(mock_idp.url, theirs, passed=True)

    assert _get(client, zhang, mine).get_json()["status"] == "passed"
    lost = _get(client, wang, theirs).get_json()

    assert (lost["status"], lost["fail_reason"]) == ("failed", "identity_already_bound")
    assert client.get("/v1/identity", headers=bearer(wang)).get_json()["verified"] is False


def test_a_verified_user_cannot_switch_to_another_identity_without_erasing(client, zhang, mock_idp):
    verify(client, zhang, mock_idp.url)

    refused = start(client, zhang, WANG_FANG)

    assert refused.status_code == 409
    assert refused.get_json()["code"] == "identity_mismatch"


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"id_number": "110101198803141118"}, "id_number_check_character", "id_number"),
        ({"id_number": "110101880314111"}, "id_number_legacy", "id_number"),
        ({"id_number": "110101198813141119"}, "id_number_birth_date", "id_number"),
        ({"name": "Zhang Wei"}, "name_characters", "name"),
        ({"name": "张"}, "name_length", "name"),
        ({"consent": False}, "consent_required", "consent"),
        ({"consent": "true"}, "consent_required", "consent"),
        ({"consent": 1}, "consent_required", "consent"),
    ],
)
def test_bad_identities_are_refused_before_any_gateway_call(
    app, client, zhang, mock_control, changes, code, field
):
    before = last_call_id(str(mock_control.base_url))  # by id: the mock keeps recent calls

    refused = start(client, zhang, **changes)

    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    body = refused.get_json()
    assert body["code"] == code
    assert list(body["errors"]) == [field]
    assert last_call_id(str(mock_control.base_url)) == before
    with app.app_context():
        assert db.session.scalars(select(IdentityVerification)).all() == []


def test_a_verification_needs_an_idempotency_key(client, zhang):
    response = client.post(
        "/v1/identity/verifications",
        json={**ZHANG_WEI, "return_url": "https://shop.example/", "consent": True},
        headers=bearer(zhang),
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "idempotency_key_required"


def test_a_merchant_with_identity_read_sees_the_masked_identity_and_the_read_is_audited(
    app, client, login, mock_idp
):
    from tests.gifting_helpers import client_token

    session = login(0)
    verify(client, session["access_token"], mock_idp.url)
    reader = bearer(client_token(app, client, "identity:read"))
    other = bearer(client_token(app, client, "vouchers:redeem"))
    user_id = session["user"]["id"]

    seen = client.get(f"/v1/users/{user_id}/identity", headers=reader)
    forbidden = client.get(f"/v1/users/{user_id}/identity", headers=other)
    unknown = client.get("/v1/users/usr_unknown/identity", headers=reader)

    assert seen.status_code == 200
    assert seen.get_json()["name"] == "*伟" and seen.get_json()["verified"] is True
    assert forbidden.status_code == 403
    assert unknown.status_code == 404
    with app.app_context():
        reads = db.session.scalars(
            select(IdentityEvent).where(IdentityEvent.type == "identity.read")
        ).all()
    assert len(reads) == 1 and reads[0].actor.startswith("cli_")
