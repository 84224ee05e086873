"""Gateway faults during face verification: 503 and pending for outages, 502 and no change for
answers that cannot be trusted; a retry resumes the same attempt."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.extensions import db
from service.identity.models import IdentityVerification
from tests.conftest import bearer
from tests.identity_helpers import finish_scan, start

INITIALIZE = "alipay.user.certify.open.initialize"
QUERY = "alipay.user.certify.open.query"


@pytest.fixture
def zhang(login):
    return login(0)["access_token"]


@pytest.fixture(autouse=True)
def _restore_the_limiter(app):
    """A test here builds an app of its own; the shared app gets its limiter back afterwards."""
    yield
    from service.extensions import limiter

    limiter.init_app(app)


def _rows(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        return [
            (row.status, row.certify_id) for row in db.session.scalars(select(IdentityVerification))
        ]


def test_an_outage_at_initialize_is_a_503_and_a_retry_resumes_the_same_attempt(
    app, client, zhang, mock_control
):
    mock_control.post("/_mock/faults", json={"method": INITIALIZE, "kind": "error"})

    refused = start(client, zhang, key="first-try")

    assert refused.status_code == 503
    assert refused.get_json()["code"] == "gateway_unavailable"
    assert int(refused.headers["Retry-After"]) >= 1
    assert _rows(app) == [("pending", None)]

    mock_control.delete("/_mock/faults")
    resumed = start(client, zhang, key="first-try")

    assert resumed.status_code == 201
    assert resumed.get_json()["certify_url"]
    [(status, certify_id)] = _rows(app)
    assert status == "pending" and certify_id


def test_a_slow_gateway_at_initialize_times_out_as_a_503_and_stays_pending(
    app, app_env, zhang, mock_control
):
    from service import create_app

    impatient = create_app(
        {**app_env, "MINIFIN_GATEWAY_TIMEOUT": "0.3", "MINIFIN_GATEWAY_RETRIES": "0"}
    )
    mock_control.post("/_mock/faults", json={"method": INITIALIZE, "kind": "latency", "seconds": 1})

    refused = start(impatient.test_client(), zhang)

    assert refused.status_code == 503
    assert refused.get_json()["code"] == "gateway_unavailable"
    assert "Retry-After" in refused.headers
    assert _rows(app) == [("pending", None)]


def test_a_pending_attempt_whose_initialize_failed_is_initialized_on_read(
    client, zhang, mock_control
):
    mock_control.post("/_mock/faults", json={"method": INITIALIZE, "kind": "error", "times": 3})
    assert start(client, zhang).status_code == 503
    with client.application.app_context():
        verification_id = db.session.scalar(select(IdentityVerification.id))

    read = client.get(f"/v1/identity/verifications/{verification_id}", headers=bearer(zhang))

    assert read.status_code == 200
    assert read.get_json()["status"] == "pending" and read.get_json()["certify_url"]


@pytest.mark.parametrize(
    "fault",
    [{"method": QUERY, "kind": "error"}, {"method": QUERY, "kind": "latency", "seconds": 1}],
    ids=["20000", "timeout"],
)
def test_an_outage_at_query_is_a_503_and_the_attempt_stays_pending(
    app, app_env, zhang, mock_idp, mock_control, fault
):
    from service import create_app

    client = create_app(
        {**app_env, "MINIFIN_GATEWAY_TIMEOUT": "0.3", "MINIFIN_GATEWAY_RETRIES": "0"}
    ).test_client()
    verification = start(client, zhang).get_json()
    finish_scan(mock_idp.url, verification, passed=True)
    mock_control.post("/_mock/faults", json=fault)

    read = client.get(f"/v1/identity/verifications/{verification['id']}", headers=bearer(zhang))

    assert read.status_code == 503
    assert read.get_json()["code"] == "gateway_unavailable"
    assert int(read.headers["Retry-After"]) >= 1
    assert [status for status, _ in _rows(app)] == ["pending"]
    assert client.get("/v1/identity", headers=bearer(zhang)).get_json()["verified"] is False


@pytest.mark.parametrize("kind", ["bad_signature", "unsigned"])
def test_an_untrustworthy_query_answer_is_a_502_and_changes_nothing(
    app, client, zhang, mock_idp, mock_control, kind
):
    verification = start(client, zhang).get_json()
    finish_scan(mock_idp.url, verification, passed=True)
    mock_control.post("/_mock/faults", json={"method": QUERY, "kind": kind})

    read = client.get(f"/v1/identity/verifications/{verification['id']}", headers=bearer(zhang))

    assert read.status_code == 502
    assert read.get_json()["code"] == "gateway_bad_response"
    assert [status for status, _ in _rows(app)] == ["pending"]
    assert client.get("/v1/identity", headers=bearer(zhang)).get_json()["verified"] is False

    mock_control.delete("/_mock/faults")
    after = client.get(f"/v1/identity/verifications/{verification['id']}", headers=bearer(zhang))
    assert after.get_json()["status"] == "passed"


def test_a_bad_signature_at_initialize_is_a_502_and_a_retry_makes_no_second_attempt(
    app, client, zhang, mock_control
):
    mock_control.post("/_mock/faults", json={"method": INITIALIZE, "kind": "bad_signature"})

    refused = start(client, zhang, key="signed-badly")
    mock_control.delete("/_mock/faults")
    retried = start(client, zhang, key="signed-badly")

    assert refused.status_code == 502
    assert refused.get_json()["code"] == "gateway_bad_response"
    assert retried.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdentityVerification)) == 1
