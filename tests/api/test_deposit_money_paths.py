"""Deposit money paths against the live mock: ambiguous answers, pending lines, what the platform
did on its own, and holds that cannot be used. Each is a path that once lost or kept money.

Run on SQLite by default and on PostgreSQL with MINIFIN_TEST_DATABASE_URL.
"""

from __future__ import annotations

import threading
import time

from service.components import gateway
from service.credit.models import DepositOperation
from service.extensions import db
from service.gateway import fund_auth
from tests.api.test_credit_deposits import LIU_YANG, ZHAO_LEI, _held, _relay
from tests.credit_helpers import settle_headers, start_deposit
from tests.gifting_helpers import run_outbox_now

PAY, UNFREEZE = "alipay.trade.pay", "alipay.fund.auth.order.unfreeze"


def _deposit(client, person, deposit_id):
    return client.get(f"/v1/credit/deposits/{deposit_id}", headers=person["headers"]).get_json()


def _fault(mock_control, **fault) -> None:
    mock_control.post("/_mock/faults", json=fault).raise_for_status()


def test_a_charge_whose_answer_was_lost_and_resent_as_trade_has_success_is_recorded_succeeded(
    client, mock, mock_control, deposit_renter, deposit_settler
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}/charges"
    headers, body = settle_headers(deposit_settler), {"amount_fen": 3000, "reason": "damage"}
    _fault(mock_control, method=PAY, kind="error", code="40004", sub_code="ACQ.SYSTEM_ERROR",
           after=True, times=1)  # fmt: skip

    lost = client.post(url, json=body, headers=headers)  # the platform charged; answer lost
    resent = client.post(url, json=body, headers=headers)  # answered ACQ.TRADE_HAS_SUCCESS
    again = client.post(url, json=body, headers=settle_headers(deposit_settler))  # a second charge

    assert lost.status_code == 503, lost.get_json()
    assert resent.status_code == 201, resent.get_json()
    assert again.status_code == 201, again.get_json()
    order = mock.fund_auth(deposit["auth_no"])
    final = _deposit(client, person, deposit["id"])
    assert final["charged_fen"] == order["paid_fen"] == 6000  # the ledger is what was taken
    charges = [op for op in final["operations"] if op["kind"] == "charge"]
    assert [(op["status"], bool(op["trade_no"])) for op in charges] == [("succeeded", True)] * 2


def test_a_charge_answered_system_error_stays_pending_until_reconciled_by_query(
    app, client, mock, mock_control, deposit_renter, deposit_settler
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}/charges"
    _fault(mock_control, method=PAY, kind="error", code="40004", sub_code="ACQ.SYSTEM_ERROR",
           after=True, times=1)  # fmt: skip

    lost = client.post(url, json={"amount_fen": 2000, "reason": "late"},
                       headers=settle_headers(deposit_settler))  # fmt: skip
    pending = _deposit(client, person, deposit["id"])
    run_outbox_now(app)  # the worker asks the platform before anything is freed

    assert lost.status_code == 503
    assert pending["operations"][-1]["status"] == "pending" and pending["remaining_fen"] == 7900
    final = _deposit(client, person, deposit["id"])
    charge = final["operations"][-1]
    assert charge["status"] == "succeeded" and charge["trade_no"] and charge["operation_id"]
    assert final["charged_fen"] == mock.fund_auth(deposit["auth_no"])["paid_fen"] == 2000


def test_a_charge_of_all_that_remains_while_a_release_is_in_flight_never_sends_complete(
    app, client, mock, mock_control, deposit_renter, deposit_settler
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}"
    pause = mock_control.post("/_mock/faults", json={"method": UNFREEZE, "kind": "pause",
                              "seconds": 20, "times": 1}).json()  # fmt: skip
    answers = {}

    def release() -> None:
        answers["release"] = client.post(f"{url}/release", json={"amount_fen": 1000},
                                         headers=settle_headers(deposit_settler))  # fmt: skip

    releasing = threading.Thread(target=release)
    releasing.start()
    _wait_for_pending_line(app, deposit["id"])  # recorded, sent, held at the platform's door
    charged = client.post(f"{url}/charges", json={"amount_fen": 8900, "reason": "lost"},
                          headers=settle_headers(deposit_settler))  # fmt: skip
    release_was_waiting = "release" not in answers  # the platform had not acted on it yet
    mock_control.post(f"/_mock/faults/{pause['id']}/resume").raise_for_status()
    releasing.join(timeout=30)

    assert release_was_waiting
    assert charged.status_code == 201, charged.get_json()
    assert answers["release"].status_code == 200, answers["release"].get_json()
    final = _deposit(client, person, deposit["id"])
    order = mock.fund_auth(deposit["auth_no"])
    assert (final["status"], final["released_fen"], final["charged_fen"]) == ("settled", 1000, 8900)
    assert (order["unfrozen_fen"], order["paid_fen"], order["rest_fen"]) == (1000, 8900, 0)


def _wait_for_pending_line(app, deposit_id: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with app.app_context():
            found = db.session.scalar(
                db.select(DepositOperation.id).where(
                    DepositOperation.deposit_id == deposit_id,
                    DepositOperation.status == "pending",
                )
            )
            db.session.rollback()
        if found is not None:
            return
        time.sleep(0.05)
    raise AssertionError("the release never became pending")


def _release_directly(app, auth_no: str, amount_fen: int, request_no: str) -> None:
    """The deposit_settler's back office releases on the platform itself, past Minifin."""
    with app.app_context():
        fund_auth.unfreeze(gateway(), auth_no=auth_no, out_request_no=request_no,
                           amount_fen=amount_fen, remark="back office")  # fmt: skip


def test_a_release_notice_minifin_did_not_ask_for_is_recorded_against_its_deposit(
    app, client, mock, deposit_renter
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    _release_directly(app, deposit["auth_no"], 3000, "backoffice0001")
    notice = mock.notifications(auth_no=deposit["auth_no"])[-1]

    first, again = _relay(client, notice), _relay(client, notice)

    assert first.get_data(as_text=True) == again.get_data(as_text=True) == "success"
    after = _deposit(client, person, deposit["id"])
    assert (after["released_fen"], after["remaining_fen"]) == (3000, 6900)
    (line,) = [op for op in after["operations"] if op["kind"] == "release"]
    assert (line["request_no"], line["requested_by"]) == ("backoffice0001", "platform")


def test_release_notices_minifin_did_not_ask_for_count_each_once_in_any_order(
    app, client, mock, deposit_renter
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    _release_directly(app, deposit["auth_no"], 1000, "backofficeA")
    _release_directly(app, deposit["auth_no"], 2000, "backofficeB")
    first, second = mock.notifications(auth_no=deposit["auth_no"])[-2:]

    answers = [_relay(client, notice).get_data(as_text=True) for notice in (second, first, second)]

    assert answers == ["success"] * 3
    after = _deposit(client, person, deposit["id"])
    lines = [(op["request_no"], op["amount_fen"]) for op in after["operations"][1:]]
    assert lines == [("backofficeB", 2000), ("backofficeA", 1000)]
    assert (after["released_fen"], after["remaining_fen"]) == (3000, 6900)


def test_a_pending_release_meeting_an_order_the_platform_ended_is_reconciled_not_left_held(
    app, client, mock, mock_control, deposit_renter, deposit_settler
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}"
    _fault(mock_control, method=UNFREEZE, kind="error", code="20000", times=3)
    lost = client.post(f"{url}/release", json={"amount_fen": 1000},
                       headers=settle_headers(deposit_settler))  # fmt: skip
    _release_directly(app, deposit["auth_no"], 9900, "backoffice0002")  # the order is closed
    notice = mock.notifications(auth_no=deposit["auth_no"])[-1]

    early = _relay(client, notice)
    run_outbox_now(app)  # query: no such operation; resent: ORDER_ALREADY_CLOSED; totals
    later = _relay(client, notice)

    assert lost.status_code == 503
    assert early.status_code == 503 and early.get_json()["code"] == "notification_too_early"
    assert later.get_data(as_text=True) == "success"
    final = _deposit(client, person, deposit["id"])
    assert (final["status"], final["released_fen"], final["remaining_fen"]) == ("settled", 9900, 0)
    statuses = [(op["kind"], op["status"], op["amount_fen"]) for op in final["operations"]]
    assert statuses == [("freeze", "succeeded", 9900), ("release", "failed", 1000),
                        ("release", "succeeded", 9900)]  # fmt: skip
    assert final["operations"][1]["failure"] == "ORDER_ALREADY_CLOSED"


def test_a_hold_someone_else_confirmed_is_released_at_once_with_the_reason(
    app, client, mock, deposit_renter, demo_users
):
    person = deposit_renter()
    deposit = start_deposit(client, person["token"], 9900).get_json()
    stranger = demo_users[ZHAO_LEI]["user_id"]
    frozen = mock.frozen(deposit["order_str"], user_id=stranger)
    (freeze,) = mock.notifications(auth_no=frozen["auth_no"])

    relayed = _relay(client, freeze)
    run_outbox_now(app)

    assert relayed.get_data(as_text=True) == "success"
    final = _deposit(client, person, deposit["id"])
    assert (final["status"], final.get("problem"), final["released_fen"]) == (
        "settled", "foreign_payer", 9900)  # fmt: skip
    assert final["operations"][-1]["requested_by"] == "minifin"
    order = mock.fund_auth(frozen["auth_no"])
    assert (order["rest_fen"], order["unfrozen_fen"]) == (0, 9900)


def test_a_freeze_arriving_after_the_deposit_expired_is_released_at_once(
    app, client, mock, deposit_renter
):
    person = deposit_renter(LIU_YANG)
    deposit = start_deposit(client, person["token"], 600000).get_json()
    from service.credit.models import Deposit

    with app.app_context():
        db.session.execute(
            db.update(Deposit).where(Deposit.id == deposit["id"]).values(expires_at=db.func.now())
        )
        db.session.commit()
    run_outbox_now(app)
    frozen = mock.frozen(deposit["order_str"], user_id=person["platform_id"])
    (freeze,) = mock.notifications(auth_no=frozen["auth_no"])

    _relay(client, freeze)
    run_outbox_now(app)

    final = _deposit(client, person, deposit["id"])
    assert (final["status"], final.get("problem"), final["released_fen"]) == (
        "settled", "late_freeze", 600000)  # fmt: skip
    assert mock.fund_auth(frozen["auth_no"])["rest_fen"] == 0


def test_a_success_notice_for_a_release_recorded_failed_completes_it_after_all(
    client, mock, mock_control, deposit_renter, deposit_settler
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    _fault(mock_control, method=UNFREEZE, kind="error", code="40004",
           sub_code="REQUEST_AMOUNT_EXCEED", after=True, times=1)  # the platform did release
    refused = client.post(f"/v1/credit/deposits/{deposit['id']}/release",
                          json={"amount_fen": 3000}, headers=settle_headers(deposit_settler))
    unfreeze = mock.notifications(auth_no=deposit["auth_no"])[-1]

    relayed = _relay(client, unfreeze)

    assert refused.status_code == 409
    assert relayed.get_data(as_text=True) == "success"
    final = _deposit(client, person, deposit["id"])
    assert (final["released_fen"], final["remaining_fen"]) == (3000, 6900)
    assert final["operations"][-1]["status"] == "succeeded"
    assert mock.fund_auth(deposit["auth_no"])["unfrozen_fen"] == 3000
