"""Idempotency-Key: a retried POST replays the first answer and never does the work twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.dbtypes import utcnow
from service.extensions import db
from service.gifting.models import VoucherTemplate
from service.idempotency import IdempotencyRecord
from tests.conftest import bearer
from tests.gifting_helpers import COFFEE, client_token


@pytest.fixture
def merchant(app, client):
    return bearer(client_token(app, client, "templates:write"))


def _post(client, merchant, key, body=COFFEE):
    return client.post(
        "/v1/voucher-templates", json=body, headers={**merchant, "Idempotency-Key": key}
    )


def _templates(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(VoucherTemplate))


def test_a_retry_with_the_same_key_replays_the_first_answer(app, client, merchant):
    first = _post(client, merchant, "k-1")
    again = _post(client, merchant, "k-1")

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _templates(app) == 1


def test_the_same_key_with_another_body_is_refused(app, client, merchant):
    _post(client, merchant, "k-2")

    reused = _post(client, merchant, "k-2", {**COFFEE, "price_fen": 1000})

    assert reused.status_code == 422
    assert reused.get_json()["code"] == "idempotency_key_reused"
    assert _templates(app) == 1


def test_a_request_still_running_with_the_key_gets_a_409(app, client, merchant):
    with app.app_context():
        first_attempt = _post(client, merchant, "k-3")  # to learn the principal
        record = db.session.scalars(db.select(IdempotencyRecord)).one()
        record.state, record.response_status = "started", None
        db.session.commit()

    response = _post(client, merchant, "k-3")

    assert first_attempt.status_code == 201
    assert response.status_code == 409
    assert response.get_json()["code"] == "idempotency_request_in_progress"
    assert response.headers["Retry-After"] == "1"


def test_a_first_attempt_that_stalled_is_taken_over(app, client, merchant):
    _post(client, merchant, "k-4")
    with app.app_context():
        record = db.session.scalars(db.select(IdempotencyRecord)).one()
        record.state = "started"
        record.started_at = utcnow() - timedelta(minutes=10)
        db.session.commit()

    response = _post(client, merchant, "k-4")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_keys_belong_to_their_caller(app, client, merchant):
    other = bearer(client_token(app, client, "templates:write"))

    assert _post(client, merchant, "shared").status_code == 201
    assert _post(client, other, "shared").status_code == 201
    assert _templates(app) == 2


def test_a_refused_request_is_replayed_as_refused(app, client, merchant):
    bad = {**COFFEE, "price_fen": 99_999}  # above the face value: a rule, not a shape error
    first = _post(client, merchant, "k-5", bad)
    again = _post(client, merchant, "k-5", bad)

    assert first.status_code == again.status_code == 422
    assert again.mimetype == "application/problem+json"
    assert again.get_json() == first.get_json()


def test_an_overlong_key_is_a_400(client, merchant):
    response = _post(client, merchant, "x" * 256)

    assert response.status_code == 400
    assert response.get_json()["code"] == "idempotency_key_invalid"


def test_the_header_is_documented(client):
    operation = client.get("/openapi.json").get_json()["paths"]["/v1/voucher-templates"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
