"""Deposit waivers through the API, with the live mock as the platform.

The mock's notifications are queued for Minifin's public URL, which no server answers in these
tests; each test relays the mock's signed notification to the test client itself, which also
lets it choose when (and in what order) Minifin hears of a freeze or an unfreeze.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import parse_qsl

import pytest

from service.gateway import signing
from tests.conftest import bearer
from tests.credit_helpers import (
    consent,
    settle_headers,
    start_deposit,
)
from tests.gifting_helpers import client_token, run_outbox_now

ZHANG_WEI, LIU_YANG, ZHAO_LEI = 0, 3, 6  # waiver limits 2 000, 5 000 and 0 yuan
UNFREEZE = "alipay.fund.auth.order.unfreeze"


@pytest.fixture
def renter(login, client, mock, demo_users):
    """A logged-in user with a deposit_waiver consent; index picks the demo user."""

    def _renter(index: int = ZHANG_WEI) -> dict:
        tokens = login(index)
        headers = bearer(tokens["access_token"])
        platform_id = demo_users[index]["user_id"]
        consent(client, tokens["access_token"], mock.url, platform_id, "deposit_waiver")
        return {"headers": headers, "token": tokens["access_token"], "platform_id": platform_id}

    return _renter


@pytest.fixture
def merchant(app, client) -> str:
    return client_token(app, client, "deposits:settle")


def _relay(client, notification: dict):
    """Post the mock's signed notification to Minifin, as the platform would."""
    return client.post("/v1/notifications/alipay", data=notification["fields"])


def _fail_next(mock_control, method: str, how: str) -> None:
    """The platform's next answer to `method` is lost: `unavailable` (20000 for the first try
    and both retries; nothing done) or `untrusted` (done, but the answer does not verify)."""
    fault = {
        "unavailable": {"kind": "error", "code": "20000", "times": 3},
        "untrusted": {"kind": "bad_signature", "times": 1},
    }[how]
    mock_control.post("/_mock/faults", json={"method": method, **fault}).raise_for_status()


def _held(client, mock, person: dict, amount_fen: int) -> dict:
    """A deposit the user confirmed, held once Minifin heard the freeze notification."""
    deposit = start_deposit(client, person["token"], amount_fen).get_json()
    frozen = mock.frozen(deposit["order_str"], user_id=person["platform_id"])
    (freeze,) = mock.notifications(auth_no=frozen["auth_no"])
    assert _relay(client, freeze).get_data(as_text=True) == "success"
    return client.get(f"/v1/credit/deposits/{deposit['id']}", headers=person["headers"]).get_json()


def test_a_deposit_answers_an_order_string_signed_for_my_trade_pay(app, client, renter):
    person = renter()

    response = start_deposit(client, person["token"], 9900)

    assert response.status_code == 201, response.get_json()
    deposit = response.get_json()
    assert deposit["id"].startswith("dep_") and deposit["status"] == "awaiting_user"
    assert (deposit["amount_fen"], deposit["currency"], deposit["operations"]) == (9900, "CNY", [])
    params = dict(parse_qsl(deposit["order_str"]))
    assert params["method"] == "alipay.fund.auth.order.app.freeze"
    assert params["notify_url"].endswith("/v1/notifications/alipay")
    biz = json.loads(params["biz_content"])
    assert biz["out_order_no"] == deposit["id"] and biz["amount"] == "99.00"
    assert biz["product_code"] == "PRE_AUTH_ONLINE" and biz["order_title"] == "充电宝押金"
    assert json.loads(biz["extra_param"])["category"] == "RENT_POWERBANK"
    app_key = signing.load_private_key(
        (app.extensions["minifin"].settings.instance_dir / "app-private-key.pem").read_text()
    )
    assert signing.verify_request(params, app_key.public_key())


@pytest.mark.parametrize(
    ("who", "amount_fen", "credit_fen", "fund_fen"),
    [(ZHANG_WEI, 9900, 9900, 0), (LIU_YANG, 600000, 500000, 100000), (ZHAO_LEI, 9900, 0, 9900)],
    ids=["full waiver", "partial waiver", "no waiver"],
)
def test_the_freeze_notification_holds_the_deposit_with_what_credit_waived(
    client, mock, renter, who, amount_fen, credit_fen, fund_fen
):
    person = renter(who)

    deposit = _held(client, mock, person, amount_fen)

    assert deposit["status"] == "held" and deposit["order_str"] is None
    assert (deposit["credit_amount_fen"], deposit["fund_amount_fen"]) == (credit_fen, fund_fen)
    assert deposit["remaining_fen"] == amount_fen and deposit["auth_no"]
    (freeze,) = deposit["operations"]
    assert (freeze["kind"], freeze["status"], freeze["amount_fen"]) == ("freeze", "succeeded",
                                                                        amount_fen)  # fmt: skip
    assert (freeze["credit_fen"], freeze["fund_fen"]) == (credit_fen, fund_fen)


def test_a_replayed_or_redelivered_freeze_notification_changes_nothing(client, mock, renter):
    person = renter()
    deposit = _held(client, mock, person, 9900)
    (freeze,) = mock.notifications(auth_no=deposit["auth_no"])
    platform_key = mock.live.app.extensions["mock_idp_platform_key"]
    fields = {k: v for k, v in freeze["fields"].items() if k not in ("sign", "sign_type")}
    resent = signing.sign_notification({**fields, "notify_id": secrets.token_hex(16)}, platform_key)

    answers = [_relay(client, freeze).get_data(as_text=True), client.post(
        "/v1/notifications/alipay", data=resent).get_data(as_text=True)]  # fmt: skip

    assert answers == ["success", "success"]
    after = client.get(f"/v1/credit/deposits/{deposit['id']}", headers=person["headers"])
    assert [op["kind"] for op in after.get_json()["operations"]] == ["freeze"]


def test_a_freeze_notification_with_a_bad_signature_is_rejected_and_changes_nothing(
    client, mock, renter
):
    person = renter()
    deposit = start_deposit(client, person["token"], 9900).get_json()
    frozen = mock.frozen(deposit["order_str"], user_id=person["platform_id"])
    (freeze,) = mock.notifications(auth_no=frozen["auth_no"])

    forged = client.post(
        "/v1/notifications/alipay", data={**freeze["fields"], "credit_amount": "0.01"}
    )

    assert forged.status_code == 400
    assert forged.get_json()["code"] == "invalid_notification_signature"
    after = client.get(f"/v1/credit/deposits/{deposit['id']}", headers=person["headers"])
    assert after.get_json()["status"] == "awaiting_user"


def test_a_lost_freeze_notification_is_recovered_by_reconciliation(app, client, mock, renter):
    person = renter(LIU_YANG)
    deposit = start_deposit(client, person["token"], 600000).get_json()
    mock.frozen(deposit["order_str"], user_id=person["platform_id"], notify=False)

    run_outbox_now(app)

    after = client.get(f"/v1/credit/deposits/{deposit['id']}", headers=person["headers"]).get_json()
    assert after["status"] == "held"
    assert (after["credit_amount_fen"], after["fund_amount_fen"]) == (500000, 100000)


def test_a_deposit_never_confirmed_expires(app, client, renter):
    person = renter()
    deposit = start_deposit(client, person["token"], 9900).get_json()
    from service.credit.models import Deposit
    from service.extensions import db

    with app.app_context():
        db.session.execute(
            db.update(Deposit).where(Deposit.id == deposit["id"]).values(expires_at=db.func.now())
        )
        db.session.commit()

    run_outbox_now(app)

    after = client.get(f"/v1/credit/deposits/{deposit['id']}", headers=person["headers"]).get_json()
    assert after["status"] == "expired" and after["order_str"] is None


def test_part_released_then_the_rest_charged_settles_the_deposit(client, mock, renter,
                                                                 merchant):  # fmt: skip
    person = renter(LIU_YANG)
    deposit = _held(client, mock, person, 600000)
    url = f"/v1/credit/deposits/{deposit['id']}"

    released = client.post(f"{url}/release", json={"amount_fen": 150000},
                           headers=settle_headers(merchant))  # fmt: skip
    charged = client.post(f"{url}/charges", json={"amount_fen": 450000, "reason": "lost"},
                          headers=settle_headers(merchant))  # fmt: skip

    assert released.status_code == 200, released.get_json()
    assert released.get_json()["released_fen"] == 150000
    assert released.get_json()["remaining_fen"] == 450000
    assert charged.status_code == 201, charged.get_json()
    final = charged.get_json()
    assert final["status"] == "settled" and final["settled_at"]
    assert (final["released_fen"], final["charged_fen"], final["remaining_fen"]) == (
        150000,
        450000,
        0,
    )
    _freeze, release, charge = final["operations"]
    assert (release["kind"], release["status"], release["amount_fen"]) == (
        "release",
        "succeeded",
        150000,
    )
    assert release["credit_fen"] + release["fund_fen"] == 150000 and release["operation_id"]
    assert (charge["kind"], charge["amount_fen"], charge["reason"]) == ("charge", 450000, "lost")
    assert charge["trade_no"] and charge["status"] == "succeeded"
    order = mock.fund_auth(deposit["auth_no"])
    assert (order["rest_fen"], order["paid_fen"], order["unfrozen_fen"]) == (0, 450000, 150000)


def test_a_charge_line_learns_its_credit_and_fund_split_from_the_platform(
    app, client, mock, renter, merchant
):
    person = renter(LIU_YANG)  # 5 000 of the 6 000 yuan waived by credit
    deposit = _held(client, mock, person, 600000)
    url = f"/v1/credit/deposits/{deposit['id']}"
    client.post(f"{url}/charges", json={"amount_fen": 150000, "reason": "repair"},
                headers=settle_headers(merchant))  # fmt: skip

    run_outbox_now(app)

    charge = client.get(url, headers=person["headers"]).get_json()["operations"][-1]
    order = mock.fund_auth(deposit["auth_no"])
    (paid,) = [op for op in order["operations"] if op["operation_type"] == "PAY"]
    assert charge["operation_id"] == paid["operation_id"]
    assert (charge["credit_fen"], charge["fund_fen"]) == (
        paid["credit_amount_fen"], paid["fund_amount_fen"])  # fmt: skip
    assert charge["credit_fen"] + charge["fund_fen"] == 150000


def test_a_settling_charge_releases_the_rest_with_it(client, mock, renter, merchant):
    person = renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}"

    charged = client.post(f"{url}/charges", json={"amount_fen": 2000, "reason": "2 h rent",
                          "settle": True}, headers=settle_headers(merchant))  # fmt: skip

    assert charged.status_code == 201, charged.get_json()
    final = charged.get_json()
    assert (final["status"], final["charged_fen"], final["released_fen"]) == ("settled", 2000, 7900)
    kinds = [(op["kind"], op["amount_fen"]) for op in final["operations"]]
    assert kinds == [("freeze", 9900), ("charge", 2000), ("release", 7900)]
    for notification in mock.notifications(auth_no=deposit["auth_no"])[1:]:
        assert _relay(client, notification).get_data(as_text=True) == "success"
    rest = client.get(url, headers=person["headers"]).get_json()["operations"][-1]
    assert rest["operation_id"] and rest["credit_fen"] + rest["fund_fen"] == 7900


def test_amounts_beyond_what_remains_held_are_refused(client, mock, renter, merchant):
    person = renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}"

    too_much = client.post(f"{url}/release", json={"amount_fen": 9901},
                           headers=settle_headers(merchant))  # fmt: skip
    client.post(f"{url}/release", json={"amount_fen": 5000}, headers=settle_headers(merchant))
    over_the_rest = client.post(f"{url}/charges", json={"amount_fen": 5000, "reason": "late"},
                                headers=settle_headers(merchant))  # fmt: skip

    for refused, remaining in ((too_much, 9900), (over_the_rest, 4900)):
        assert refused.status_code == 409
        assert refused.get_json()["code"] == "amount_exceeds_remaining"
        assert refused.get_json()["errors"] == {"amount_fen": [f"At most {remaining}."]}
    after = client.get(url, headers=person["headers"]).get_json()
    assert (after["released_fen"], after["charged_fen"]) == (5000, 0)


def test_a_release_retried_with_its_key_releases_once(client, mock, renter, merchant):
    person = renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}/release"
    headers = settle_headers(merchant)

    first = client.post(url, json={"amount_fen": 3000}, headers=headers)
    again = client.post(url, json={"amount_fen": 3000}, headers=headers)
    other_body = client.post(url, json={"amount_fen": 4000}, headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert other_body.status_code == 422
    assert other_body.get_json()["code"] == "idempotency_key_reused"
    order = mock.fund_auth(deposit["auth_no"])
    unfreezes = [op for op in order["operations"] if op["operation_type"] == "UNFREEZE"]
    assert [op["amount_fen"] for op in unfreezes] == [3000]


def test_a_release_whose_answer_was_lost_is_resent_with_the_same_request_number(
    client, mock, mock_control, renter, merchant
):
    person = renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}/release"
    headers = settle_headers(merchant)
    _fail_next(mock_control, UNFREEZE, "unavailable")

    lost = client.post(url, json={"amount_fen": 3000}, headers=headers)
    pending = client.get(f"/v1/credit/deposits/{deposit['id']}", headers=person["headers"])
    retried = client.post(url, json={"amount_fen": 3000}, headers=headers)

    assert lost.status_code == 503 and lost.headers["Retry-After"]
    release = pending.get_json()["operations"][-1]
    assert (release["kind"], release["status"]) == ("release", "pending")
    assert retried.status_code == 200, retried.get_json()
    (done,) = [op for op in retried.get_json()["operations"] if op["kind"] == "release"]
    assert done["request_no"] == release["request_no"] and done["status"] == "succeeded"
    assert retried.get_json()["released_fen"] == 3000


def test_an_unfreeze_notification_before_a_trusted_answer_is_counted_once(
    client, mock, mock_control, renter, merchant
):
    person = renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}/release"
    headers = settle_headers(merchant)
    _fail_next(mock_control, UNFREEZE, "untrusted")

    untrusted = client.post(url, json={"amount_fen": 3000}, headers=headers)
    unfreeze = mock.notifications(auth_no=deposit["auth_no"])[-1]
    relayed = _relay(client, unfreeze)
    retried = client.post(url, json={"amount_fen": 3000}, headers=headers)

    assert untrusted.status_code == 502
    assert relayed.get_data(as_text=True) == "success"
    assert retried.status_code == 200, retried.get_json()
    after = retried.get_json()
    assert (after["released_fen"], after["remaining_fen"]) == (3000, 6900)
    (release,) = [op for op in after["operations"] if op["kind"] == "release"]
    assert release["status"] == "succeeded" and release["operation_id"]


def test_the_answer_and_the_notification_of_one_release_are_counted_once_in_either_order(
    app, client, mock, mock_control, renter, merchant
):
    from service.credit.models import DepositOperation
    from service.credit.settlement import complete_operation
    from service.extensions import db

    person = renter()
    deposit = _held(client, mock, person, 9900)
    _fail_next(mock_control, UNFREEZE, "untrusted")
    client.post(
        f"/v1/credit/deposits/{deposit['id']}/release",
        json={"amount_fen": 3000},
        headers=settle_headers(merchant),
    )  # the platform released, but its answer could not be trusted: the line is pending

    with app.app_context():
        (line,) = db.session.scalars(
            db.select(DepositOperation).where(DepositOperation.kind == "release")
        )
        counted = [complete_operation(line.id, credit_fen=3000, fund_fen=0) for _ in range(2)]
        db.session.commit()

    assert counted == [True, False]
    after = client.get(f"/v1/credit/deposits/{deposit['id']}", headers=person["headers"])
    assert (after.get_json()["released_fen"], after.get_json()["remaining_fen"]) == (3000, 6900)


def test_the_rest_a_settling_charge_released_told_before_the_charge_is_recorded_comes_again(
    client, mock, mock_control, renter, merchant
):
    person = renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}/charges"
    headers = settle_headers(merchant)
    body = {"amount_fen": 2000, "reason": "2 h rent", "settle": True}
    _fail_next(mock_control, "alipay.trade.pay", "untrusted")
    untrusted = client.post(url, json=body, headers=headers)  # the platform charged and released
    rest = mock.notifications(auth_no=deposit["auth_no"])[-1]

    early = _relay(client, rest)
    retried = client.post(url, json=body, headers=headers)
    again = _relay(client, rest)

    assert untrusted.status_code == 502
    assert early.status_code == 503 and early.get_json()["code"] == "notification_too_early"
    assert retried.status_code == 201, retried.get_json()
    assert again.get_data(as_text=True) == "success"
    final = client.get(f"/v1/credit/deposits/{deposit['id']}", headers=person["headers"])
    kinds = [(op["kind"], op["amount_fen"]) for op in final.get_json()["operations"]]
    assert kinds == [("freeze", 9900), ("charge", 2000), ("release", 7900)]
    released_rest = final.get_json()["operations"][-1]
    assert released_rest["operation_id"] and released_rest["fund_fen"] is not None


def test_a_late_freeze_notification_after_reconciliation_and_a_release_changes_nothing(
    app, client, mock, renter, merchant
):
    person = renter()
    deposit = start_deposit(client, person["token"], 9900).get_json()
    frozen = mock.frozen(deposit["order_str"], user_id=person["platform_id"])
    run_outbox_now(app)  # reconciliation finds it held before the notification arrives
    url = f"/v1/credit/deposits/{deposit['id']}"
    client.post(f"{url}/release", json={"amount_fen": 9900}, headers=settle_headers(merchant))
    freeze = mock.notifications(auth_no=frozen["auth_no"])[0]

    assert _relay(client, freeze).get_data(as_text=True) == "success"

    after = client.get(url, headers=person["headers"]).get_json()
    assert after["status"] == "settled" and after["released_fen"] == 9900
    assert [op["kind"] for op in after["operations"]] == ["freeze", "release"]


def test_a_settling_charge_waits_for_a_pending_release_to_finish(
    client, mock, mock_control, renter, merchant
):
    person = renter()
    deposit = _held(client, mock, person, 9900)
    url = f"/v1/credit/deposits/{deposit['id']}"
    _fail_next(mock_control, UNFREEZE, "unavailable")
    lost = client.post(
        f"{url}/release", json={"amount_fen": 1000}, headers=settle_headers(merchant)
    )

    settling = client.post(f"{url}/charges", json={"amount_fen": 2000, "reason": "rent",
                           "settle": True}, headers=settle_headers(merchant))  # fmt: skip

    assert lost.status_code == 503
    assert settling.status_code == 409
    assert settling.get_json()["code"] == "deposit_operations_pending"
    assert settling.headers["Retry-After"]
    after = client.get(url, headers=person["headers"]).get_json()
    assert (after["charged_fen"], after["remaining_fen"]) == (0, 8900)


def test_only_a_held_deposit_can_be_released_or_charged(client, renter, merchant):
    person = renter()
    deposit = start_deposit(client, person["token"], 9900).get_json()

    response = client.post(f"/v1/credit/deposits/{deposit['id']}/release", json={},
                           headers=settle_headers(merchant))  # fmt: skip

    assert response.status_code == 409 and response.get_json()["code"] == "deposit_not_held"


def test_a_deposit_is_seen_by_its_user_and_settling_clients_only(app, client, login, renter):
    person = renter()
    deposit = start_deposit(client, person["token"], 9900).get_json()
    url = f"/v1/credit/deposits/{deposit['id']}"
    stranger = bearer(login(1)["access_token"])
    redeemer = bearer(client_token(app, client, "vouchers:redeem"))
    settler = bearer(client_token(app, client, "deposits:settle"))

    assert client.get(url, headers=stranger).status_code == 404
    assert client.get(url, headers=redeemer).get_json()["code"] == "insufficient_scope"
    assert client.get(url, headers=settler).get_json()["id"] == deposit["id"]
    listed = client.get("/v1/credit/deposits", headers=person["headers"]).get_json()["data"]
    assert [d["id"] for d in listed] == [deposit["id"]]
    release = client.post(f"{url}/release", json={}, headers={**person["headers"],
                          "Idempotency-Key": "k"})  # fmt: skip
    assert release.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount_fen": 0}, "amount_fen"),
        ({"amount_fen": "99.00"}, "amount_fen"),
        ({"amount_fen": 9900, "category": "租"}, "category"),
        ({"amount_fen": 9900, "title": ""}, "title"),
        ({"amount_fen": 9900, "surprise": 1}, "surprise"),
    ],
)
def test_a_bad_deposit_request_is_a_422_with_field_errors_and_no_row(client, renter, body, field):
    person = renter()

    response = start_deposit(client, person["token"], **body)

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert client.get("/v1/credit/deposits", headers=person["headers"]).get_json()["data"] == []


def test_a_deposit_needs_a_deposit_waiver_consent(client, login, mock, demo_users):
    token = login(0)["access_token"]
    consent(client, token, mock.url, demo_users[0]["user_id"], "credit_check")

    response = start_deposit(client, token, 9900)

    assert response.status_code == 403 and response.get_json()["code"] == "consent_required"


def test_a_deposit_needs_an_idempotency_key(client, renter):
    person = renter()
    body = {"order_ref": "r", "title": "t", "amount_fen": 1, "category": "RENT"}

    response = client.post("/v1/credit/deposits", json=body, headers=person["headers"])

    assert response.status_code == 400
    assert response.get_json()["code"] == "idempotency_key_required"
