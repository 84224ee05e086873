"""Every row of the answer table, answered by the live mock's faults and read by the client.

A fault answers *instead of* the method (nothing happens) or, with `after`, once the method has
acted (the answer is lost); the client's `money_call` must read each answer as the table says.
"""

from __future__ import annotations

import httpx
import pytest

from service.components import gateway
from service.gateway import outcomes
from service.gateway.outcomes import ANY, DONE, UNKNOWN

SAMPLE_SUB_CODES = {"10003": "ACQ.WAIT_USER_PAY", "20000": "isp.unknow-error"}
TRADE_AND_FUND_METHODS = (outcomes.TRADE_CREATE, outcomes.TRADE_PAY, outcomes.TRADE_REFUND,
                          outcomes.TRADE_CLOSE, outcomes.UNFREEZE, outcomes.DETAIL_QUERY,
                          outcomes.TRADE_QUERY, outcomes.REFUND_QUERY)  # fmt: skip


def _rows():
    for method, code, sub_code, rule in outcomes.table_rows():
        if code == outcomes.SUCCESS:
            continue
        methods = TRADE_AND_FUND_METHODS if method == ANY else (method,)
        for one in methods:
            if one in TRADE_AND_FUND_METHODS:
                shown = SAMPLE_SUB_CODES.get(code, "isv.mock") if sub_code == ANY else sub_code
                yield pytest.param(one, code, shown, rule, id=f"{one}-{code}-{shown}")


@pytest.fixture
def gw(app):
    with app.app_context():
        yield gateway()


@pytest.fixture
def fault(mock_control):
    def _fault(**body) -> None:
        mock_control.post("/_mock/faults", json=body).raise_for_status()

    yield _fault
    mock_control.delete("/_mock/faults")


@pytest.mark.parametrize(("method", "code", "sub_code", "rule"), list(_rows()))
def test_each_platform_answer_is_read_as_the_table_says(gw, fault, method, code, sub_code, rule):
    fault(method=method, kind="error", code=code, sub_code=sub_code, times=3)

    outcome = gw.money_call(method, {"out_trade_no": "never_sent"})

    assert (outcome.status, outcome.already_done) == (rule.outcome, rule.already_done)
    assert (outcome.code, outcome.sub_code) == ((code, sub_code) if code != "20000" else ("", ""))


def test_an_answer_that_does_not_verify_is_unknown_not_refused(gw, fault):
    fault(method=outcomes.TRADE_QUERY, kind="bad_signature", times=1)

    outcome = gw.money_call(outcomes.TRADE_QUERY, {"out_trade_no": "never_sent"})

    assert outcome.status == UNKNOWN


def test_a_fault_after_acting_does_the_work_and_loses_the_answer(gw, fault, demo_users, mock):
    from service.gateway import payments

    fault(method=outcomes.TRADE_CREATE, kind="error", code="40004",
          sub_code="ACQ.SYSTEM_ERROR", after=True, times=1)  # fmt: skip
    biz = {"out_trade_no": "gft_after_fault", "total_amount": "9.90", "subject": "A coffee",
           "product_code": "JSAPI_PAY", "buyer_id": demo_users[1]["user_id"]}  # fmt: skip

    lost = gw.money_call(outcomes.TRADE_CREATE, biz)
    state = payments.query_trade(gw, out_trade_no="gft_after_fault")

    assert (lost.status, lost.sub_code) == (UNKNOWN, "ACQ.SYSTEM_ERROR")
    assert state is not None and state.total_fen == 990  # the trade was made all the same


def test_after_must_be_a_boolean(mock_control):
    response = mock_control.post(
        "/_mock/faults", json={"method": "*", "kind": "error", "after": "yes"}
    )

    assert response.status_code == 400
    assert httpx.get(f"{mock_control.base_url}/_mock/faults").json()["faults"] == []


def test_a_success_is_done_with_its_answer(gw, demo_users):
    biz = {"out_trade_no": "gft_plain_success", "total_amount": "1.00", "subject": "Tea",
           "product_code": "JSAPI_PAY", "buyer_id": demo_users[1]["user_id"]}  # fmt: skip

    outcome = gw.money_call(outcomes.TRADE_CREATE, biz)

    assert outcome.status == DONE and outcome.answer["trade_no"]


def test_a_fields_fault_changes_the_signed_answer_of_a_call_that_acted(gw, fault, demo_users):
    from service.gateway import payments

    fault(method=outcomes.TRADE_CREATE, kind="fields", fields={"trade_no": "0" * 28}, times=1)
    biz = {"out_trade_no": "gft_fields_fault", "total_amount": "2.00", "subject": "Tea",
           "product_code": "JSAPI_PAY", "buyer_id": demo_users[1]["user_id"]}  # fmt: skip

    answered = gw.money_call(outcomes.TRADE_CREATE, biz)  # signed: the client trusts it
    state = payments.query_trade(gw, out_trade_no="gft_fields_fault")

    assert answered.done and answered.answer["trade_no"] == "0" * 28
    assert state is not None and state.trade_no != "0" * 28


def test_a_fields_fault_needs_string_fields(mock_control):
    for fields in ({}, {"amount": 1}, "amount"):
        response = mock_control.post(
            "/_mock/faults", json={"method": "*", "kind": "fields", "fields": fields}
        )
        assert response.status_code == 400, fields


def test_an_answer_slower_than_the_client_waits_is_unknown_though_the_call_acted(
    app_env, gw, fault, demo_users
):
    from pathlib import Path

    from service.gateway import payments
    from service.gateway.client import GatewayClient

    instance = Path(app_env["MINIFIN_INSTANCE_DIR"])
    impatient = GatewayClient(
        app_env["MINIFIN_GATEWAY_URL"], app_env["MINIFIN_APP_ID"],
        (instance / "app-private-key.pem").read_text(),
        (instance / "platform-public-key.pem").read_text(), timeout=0.5, retries=0,
    )  # fmt: skip
    fault(method=outcomes.TRADE_CREATE, kind="latency", seconds=1.5, after=True, times=1)
    biz = {"out_trade_no": "gft_slow_answer", "total_amount": "3.00", "subject": "Tea",
           "product_code": "JSAPI_PAY", "buyer_id": demo_users[1]["user_id"]}  # fmt: skip

    try:
        lost = impatient.money_call(outcomes.TRADE_CREATE, biz)
    finally:
        impatient.close()

    assert lost.unknown
    assert payments.query_trade(gw, out_trade_no="gft_slow_answer") is not None
