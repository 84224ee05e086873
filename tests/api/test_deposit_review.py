"""Amounts the platform reports that do not add up park the deposit for review, visibly: its
status, `/metrics` and `minifin deposits review`; they are never acknowledged silently."""

from __future__ import annotations

from click.testing import CliRunner

from service.cli import main
from tests.api.test_credit_deposits import _held, _relay
from tests.api.test_deposit_money_paths import _deposit
from tests.credit_helpers import forged_notification, settle_headers, start_deposit
from tests.gifting_helpers import run_outbox_now


def test_a_freeze_of_another_amount_parks_the_deposit_for_review(
    app_env, monkeypatch, client, mock, deposit_renter
):
    person = deposit_renter()
    deposit = start_deposit(client, person["token"], 9900).get_json()
    frozen = mock.frozen(deposit["order_str"], user_id=person["platform_id"])
    (freeze,) = mock.notifications(auth_no=frozen["auth_no"])

    forged = forged_notification(mock, freeze, amount="0.99", credit_amount="0.99",
                                 fund_amount="0.00")  # fmt: skip
    answer = client.post("/v1/notifications/alipay", data=forged)

    assert answer.get_data(as_text=True) == "success"  # heard, and parked: never retried forever
    after = _deposit(client, person, deposit["id"])
    assert (after["status"], after.get("problem")) == ("needs_review", "amount_mismatch")
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'minifin_deposits_needing_review{problem="amount_mismatch"} 1.0' in metrics
    for key, value in app_env.items():
        monkeypatch.setenv(key, value)
    listed = CliRunner().invoke(main, ["deposits", "review"])
    assert deposit["id"] in listed.output and "amount_mismatch" in listed.output


def test_an_unfreeze_whose_split_does_not_add_up_parks_the_deposit_for_review(
    client, mock, mock_control, deposit_renter, deposit_settler
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    mock_control.post("/_mock/faults", json={"method": "alipay.fund.auth.order.unfreeze",
                      "kind": "bad_signature", "times": 1}).raise_for_status()  # fmt: skip
    client.post(f"/v1/credit/deposits/{deposit['id']}/release", json={"amount_fen": 3000},
                headers=settle_headers(deposit_settler))  # fmt: skip
    unfreeze = mock.notifications(auth_no=deposit["auth_no"])[-1]

    forged = forged_notification(mock, unfreeze, credit_amount="30.00", fund_amount="10.00")
    answer = _relay(client, {"fields": forged})

    assert answer.get_data(as_text=True) == "success"
    after = _deposit(client, person, deposit["id"])
    assert (after["status"], after.get("problem")) == ("needs_review", "amount_mismatch")
    release = after["operations"][-1]
    assert release["status"] == "pending"  # nothing counted from an answer that does not add up


def test_a_release_notice_for_a_settled_deposit_beyond_its_ledger_parks_it(
    client, mock, deposit_renter, deposit_settler
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    client.post(f"/v1/credit/deposits/{deposit['id']}/release", json={},
                headers=settle_headers(deposit_settler))  # fmt: skip
    unfreeze = mock.notifications(auth_no=deposit["auth_no"])[-1]

    forged = forged_notification(mock, unfreeze, out_request_no="unknown01",
                                 total_unfreeze_amount="100.00")  # fmt: skip
    answer = _relay(client, {"fields": forged})

    assert answer.get_data(as_text=True) == "success"
    after = _deposit(client, person, deposit["id"])
    assert (after["status"], after.get("problem")) == ("settled", "unexpected_release")
    assert after["released_fen"] == 9900


def test_a_charge_whose_platform_record_splits_it_wrongly_parks_the_deposit(
    app, client, mock, mock_control, deposit_renter, deposit_settler
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    client.post(f"/v1/credit/deposits/{deposit['id']}/charges",
                json={"amount_fen": 2000, "reason": "rent"},
                headers=settle_headers(deposit_settler))  # fmt: skip
    split = {"credit_amount": "20.00", "fund_amount": "20.00"}  # 40.00 for a 20.00 charge
    fault = {"method": "alipay.fund.auth.operation.detail.query", "kind": "fields", "times": 1}
    mock_control.post("/_mock/faults", json={**fault, "fields": split}).raise_for_status()

    run_outbox_now(app)  # the worker reads the charge's split from the platform's record

    after = _deposit(client, person, deposit["id"])
    assert (after["status"], after.get("problem")) == ("needs_review", "split_mismatch")


def test_a_release_answered_with_another_amount_parks_the_deposit(
    client, mock, mock_control, deposit_renter, deposit_settler
):
    person = deposit_renter()
    deposit = _held(client, mock, person, 9900)
    mock_control.post("/_mock/faults", json={
        "method": "alipay.fund.auth.order.unfreeze", "kind": "fields", "times": 1,
        "fields": {"amount": "20.00", "credit_amount": "20.00"}}).raise_for_status()  # fmt: skip

    client.post(f"/v1/credit/deposits/{deposit['id']}/release", json={"amount_fen": 3000},
                headers=settle_headers(deposit_settler))  # fmt: skip

    after = _deposit(client, person, deposit["id"])
    assert (after["status"], after.get("problem")) == ("needs_review", "amount_mismatch")


def test_merchants_hear_of_a_review_once_for_each_problem(app, client, deposit_renter):
    """`deposit.needs_review` when the deposit goes into review or its problem changes; a problem
    told again says nothing new."""
    from service.credit.models import AMOUNT_MISMATCH, SPLIT_MISMATCH
    from service.credit.review import park
    from service.extensions import db
    from tests.event_flows import object_ids

    person = deposit_renter()
    deposit = start_deposit(client, person["token"], 9900).get_json()
    with app.app_context():
        for problem in (AMOUNT_MISMATCH, AMOUNT_MISMATCH, SPLIT_MISMATCH, SPLIT_MISMATCH):
            park(deposit["id"], problem, "told by a test")
            db.session.commit()

    assert object_ids(app, "deposit.needs_review") == [deposit["id"]] * 2
