"""The gateway misbehaving on the wire (OWASP API10), produced by the live mock over real HTTP.

A connection reset mid-answer, an answer trickling slower than the timeout, an answer of several
MB, a proxy's HTML error page, a 200 that is not JSON and a signed answer for another method:
each must become a 502/503 problem within the configured timeout, and leave nothing
half-written (a login leaves no session, a purchase stays retryable with the same key).
"""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from service.auth.models import LoginSession, User
from service.extensions import db
from tests.conftest import auth_code
from tests.gifting_helpers import buy, order

TOKEN = "alipay.system.oauth.token"
CREATE = "alipay.trade.create"
SLACK_SECONDS = 1.5  # one trickled byte, the problem's rendering and a loaded test machine
KINDS = {
    "reset": (503, "gateway_unavailable"),
    "trickle": (503, "gateway_unavailable"),
    "oversize": (502, "gateway_bad_response"),
    "html": (503, "gateway_unavailable"),
    "not_json": (502, "gateway_bad_response"),
    "wrong_method": (502, "gateway_bad_response"),
}


@pytest.fixture(autouse=True)
def _restore_the_limiter(app):
    """Logins here are many; the shared app keeps its own limiter afterwards."""
    yield
    from service.extensions import limiter

    limiter.init_app(app)


def _timeout(app) -> float:
    return float(app.extensions["minifin"].settings.gateway_timeout)


def _rows(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(db.select(db.func.count()).select_from(User)),
            db.session.scalar(db.select(db.func.count()).select_from(LoginSession)),
        )


def _problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code
    if status == 503:
        assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize(("kind", "status", "code"), [(k, *v) for k, v in KINDS.items()])
def test_a_login_answered_by_a_misbehaving_gateway_is_a_problem_in_time_and_leaves_no_session(
    app, client, mock_control, demo_users, kind, status, code
):
    code_for_login = auth_code(str(mock_control.base_url), demo_users[3]["user_id"])
    mock_control.post("/_mock/faults", json={"method": TOKEN, "kind": kind}).raise_for_status()
    before = _rows(app)

    started = time.monotonic()
    response = client.post("/v1/sessions", json={"auth_code": code_for_login})
    elapsed = time.monotonic() - started

    _problem(response, status, code)
    assert elapsed < _timeout(app) + SLACK_SECONDS
    assert _rows(app) == before


@pytest.mark.parametrize(("kind", "status", "code"), [(k, *v) for k, v in KINDS.items()])
def test_a_purchase_answered_by_a_misbehaving_gateway_is_a_problem_in_time_and_stays_retryable(
    app, client, template, people, mock_idp, mock_control, kind, status, code
):
    attempts = 1 + app.extensions["minifin"].settings.gateway_retries
    mock_control.post(
        "/_mock/faults", json={"method": CREATE, "kind": kind, "times": attempts}
    ).raise_for_status()
    body, key = order(template, people), f"misbehaving-{kind}"

    started = time.monotonic()
    first = buy(client, people, body, key=key)
    elapsed = time.monotonic() - started

    if first.status_code != 201:  # 201 when the purchase's own query found the trade it made
        _problem(first, status, code)
    assert elapsed < attempts * (_timeout(app) + SLACK_SECONDS) + 2 * attempts
    mock_control.delete("/_mock/faults").raise_for_status()
    again = buy(client, people, body, key=key)
    assert again.status_code == 201, again.get_json()
    if first.status_code == 201:
        assert again.get_json()["id"] == first.get_json()["id"]
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{again.get_json()['trade_no']}").json()
    assert trade["out_trade_no"] == again.get_json()["id"]


def test_an_answer_whose_bytes_come_just_inside_each_read_timeout_still_ends_at_the_deadline(
    app, client, mock_control, demo_users
):
    code_for_login = auth_code(str(mock_control.base_url), demo_users[3]["user_id"])
    pause = 0.8 * _timeout(app)  # each read alone is in time; the second ends past the deadline
    mock_control.post(
        "/_mock/faults", json={"method": TOKEN, "kind": "trickle", "seconds": pause}
    ).raise_for_status()

    started = time.monotonic()
    response = client.post("/v1/sessions", json={"auth_code": code_for_login})
    elapsed = time.monotonic() - started

    _problem(response, 503, "gateway_unavailable")
    assert elapsed < _timeout(app) + 0.5


def test_an_answer_for_another_method_is_logged_as_such(app, client, mock_control, demo_users,
                                                        caplog):  # fmt: skip
    code_for_login = auth_code(str(mock_control.base_url), demo_users[3]["user_id"])
    mock_control.post("/_mock/faults", json={"method": TOKEN, "kind": "wrong_method"})

    with caplog.at_level(logging.ERROR, logger="service.gateway.client"):
        response = client.post("/v1/sessions", json={"auth_code": code_for_login})

    _problem(response, 502, "gateway_bad_response")
    assert any(
        "another method" in record.getMessage() and "alipay_user_info_share_response"
        in record.getMessage() for record in caplog.records
    )  # fmt: skip


@pytest.mark.parametrize("kind", [*KINDS, "nonsense"])
def test_the_mock_lists_each_wire_fault_it_accepts(mock_control, kind):
    response = mock_control.post("/_mock/faults", json={"method": TOKEN, "kind": kind})

    assert response.status_code == (400 if kind == "nonsense" else 201), response.text


def _raw_call(app, mock_idp, method: str) -> httpx.Response:
    from service.components import gateway

    with app.app_context():
        params = gateway().signed_parameters(method, {"out_trade_no": "wire_fault_probe"})
    return httpx.post(f"{mock_idp.url}/gateway.do", data=params, timeout=10)


def _is_proxy_page(answer: httpx.Response) -> bool:
    return answer.status_code == 502 and answer.headers["Content-Type"] == "text/html"


def _is_not_json(answer: httpx.Response) -> bool:
    return answer.status_code == 200 and answer.text.lstrip().startswith("<html>")


def _is_large_and_unannounced(answer: httpx.Response) -> bool:
    return len(answer.content) > 8 * 1024 * 1024 and "Content-Length" not in answer.headers


def _is_signed_for_another_method(answer: httpx.Response) -> bool:
    envelope = answer.json()
    return next(iter(envelope)) == "alipay_system_oauth_token_response" and "sign" in envelope


@pytest.mark.parametrize(
    ("kind", "seen"),
    [("html", _is_proxy_page), ("not_json", _is_not_json),
     ("oversize", _is_large_and_unannounced), ("wrong_method", _is_signed_for_another_method)],
)  # fmt: skip
def test_each_wire_fault_sends_what_it_says(app, mock_idp, mock_control, kind, seen):
    query = "alipay.trade.query"
    mock_control.post("/_mock/faults", json={"method": query, "kind": kind}).raise_for_status()

    assert seen(_raw_call(app, mock_idp, query))


def test_a_reset_fault_breaks_the_connection_mid_answer(app, mock_idp, mock_control):
    query = "alipay.trade.query"
    mock_control.post("/_mock/faults", json={"method": query, "kind": "reset"}).raise_for_status()

    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        _raw_call(app, mock_idp, query)
