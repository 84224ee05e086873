"""The mock's fund authorisation over real HTTP: freezes confirmed, unfrozen, paid from, queried."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest

from service.gateway import signing
from tests.mock_idp_helpers import (
    DEMO_USER_ID,
    FREEZE_METHOD,
    OTHER_APP_ID,
    TEST_APP_ID,
    freeze_biz,
    freeze_order_str,
)

UNFREEZE = "alipay.fund.auth.order.unfreeze"
DETAIL = "alipay.fund.auth.operation.detail.query"
PAY = "alipay.trade.pay"
DEMO_BALANCE_FEN = 1_285_000  # 张伟: waiver_limit_fen 200000
NO_WAIVER_USER_ID = "2088102194356817"  # 赵磊: waiver 0, balance 1500.00
POOR_USER_ID = "2088102186334870"  # 杨帆: waiver 500.00, balance 45.00
UNEVALUABLE_USER_ID = "2088102330729916"  # 诸葛明轩: cannot be evaluated, balance 50.00
NOTIFICATION_FIELDS = (
    "notify_time", "notify_type", "notify_id", "app_id", "auth_app_id", "charset", "version",
    "sign_type", "sign", "auth_no", "out_order_no", "operation_id", "out_request_no",
    "operation_type", "status", "amount", "total_freeze_amount", "total_unfreeze_amount",
    "total_pay_amount", "rest_amount", "payer_user_id", "gmt_create", "gmt_trans",
    "trans_currency", "credit_amount", "fund_amount", "rest_credit_amount", "rest_fund_amount",
)  # fmt: skip


@pytest.fixture
def mock(standalone_mock, app_key, receiver):
    receiver.reset()
    mock = standalone_mock.reset_with_test_app(app_key, name="押金小程序")
    mock.auth_code(TEST_APP_ID, DEMO_USER_ID, scopes=("auth_zhima",))
    return mock


@pytest.fixture
def client(mock, app_key):
    with mock.test_app_client(app_key) as app_client:
        yield app_client


@pytest.fixture
def order_str(app_key, receiver):
    """Build a signed orderStr of the test app that notifies the local receiver."""

    def build(out_order_no="dep_0001", amount="3000.00", **changes) -> str:
        return freeze_order_str(
            app_key, freeze_biz(out_order_no, amount, **changes), notify_url=receiver.url
        )

    return build


def balance(mock, user_id=DEMO_USER_ID) -> int:
    return mock.user(user_id)["balance_fen"]


def assert_signed_success(reply, client):
    assert (reply.inner["code"], reply.inner["msg"]) == ("10000", "Success"), reply.body
    assert "sub_code" not in reply.inner
    assert client.verifies(reply), reply.body


def assert_signed_error(reply, client, method, code, sub_code):
    assert reply.key == signing.response_key(method), reply.body
    assert (reply.inner["code"], reply.inner["sub_code"]) == (code, sub_code), reply.body
    assert reply.inner["sub_msg"]
    assert client.verifies(reply), reply.body


def unfreeze(client, auth_no, amount, out_request_no="unf_0001", **changes):
    biz = {
        "auth_no": auth_no,
        "out_request_no": out_request_no,
        "amount": amount,
        "remark": "归还充电宝",
    }
    return client.call(UNFREEZE, {**biz, **changes}, via="post")


def pay(client, auth_no, amount, out_trade_no="rent_0001", mode="NOT_COMPLETE", **changes):
    biz = {
        "out_trade_no": out_trade_no,
        "total_amount": amount,
        "subject": "充电宝租金",
        "product_code": "PRE_AUTH_ONLINE",
        "auth_no": auth_no,
        "auth_confirm_mode": mode,
        "buyer_id": DEMO_USER_ID,
        **changes,
    }
    return client.call(PAY, {key: value for key, value in biz.items() if value is not None})


def detail(client, **biz):
    return client.call(DETAIL, biz)


# Confirming a freeze


def test_a_freeze_within_the_waiver_limit_is_all_waived_and_takes_no_money(mock, order_str):
    frozen = mock.frozen(order_str(amount="1500.00"))

    assert frozen["status"] == "SUCCESS"
    assert (frozen["amount_fen"], frozen["credit_amount_fen"], frozen["fund_amount_fen"]) == (
        150_000,
        150_000,
        0,
    )
    assert len(frozen["auth_no"]) == 28 and frozen["auth_no"].isdigit()
    assert frozen["operation_id"].isdigit()
    assert frozen["payer_user_id"] == DEMO_USER_ID
    assert balance(mock) == DEMO_BALANCE_FEN
    order = mock.fund_auth(frozen["auth_no"])
    assert order["status"] == "AUTHORIZED"
    assert order["pre_auth_type"] == "CREDIT_AUTH"
    assert order["rest_amount"] == "1500.00"
    assert [op["operation_type"] for op in order["operations"]] == ["FREEZE"]


def test_a_freeze_above_the_waiver_limit_freezes_the_rest_from_the_balance(mock, order_str):
    frozen = mock.frozen(order_str(amount="3000.00"))

    assert (frozen["credit_amount_fen"], frozen["fund_amount_fen"]) == (200_000, 100_000)
    assert balance(mock) == DEMO_BALANCE_FEN - 100_000
    order = mock.fund_auth(frozen["auth_no"])
    assert (order["rest_credit_amount"], order["rest_fund_amount"]) == ("2000.00", "1000.00")


@pytest.mark.parametrize("user_id", [NO_WAIVER_USER_ID, UNEVALUABLE_USER_ID])
def test_a_person_without_waiver_or_evaluation_freezes_everything_from_the_balance(
    mock, order_str, user_id
):
    before = balance(mock, user_id)

    frozen = mock.frozen(order_str(amount="30.00"), user_id=user_id)

    assert (frozen["credit_amount_fen"], frozen["fund_amount_fen"]) == (0, 3_000)
    assert balance(mock, user_id) == before - 3_000
    assert mock.fund_auth(frozen["auth_no"])["pre_auth_type"] is None


def test_a_balance_too_low_for_the_frozen_part_is_refused_and_nothing_is_frozen(mock, order_str):
    response = mock.confirm_freeze(order_str(amount="600.00"), user_id=POOR_USER_ID)

    assert response.status_code == 400
    assert response.json()["error"] == "insufficient_balance"
    assert "100.00" in response.json()["detail"]
    assert balance(mock, POOR_USER_ID) == 4_500
    assert mock.control.get("/_mock/fund-auth").json()["orders"] == []


def test_the_payer_defaults_to_the_latest_person_who_granted_auth_zhima(mock, order_str):
    mock.auth_code(TEST_APP_ID, NO_WAIVER_USER_ID, scopes=("auth_user", "auth_zhima"))

    frozen = mock.frozen(order_str(amount="10.00"))

    assert frozen["payer_user_id"] == NO_WAIVER_USER_ID


def test_without_user_id_or_any_auth_zhima_grant_nobody_can_confirm(mock, app_key, order_str):
    mock.reset_with_test_app(app_key)  # forgets the fixture's auth_zhima grant

    response = mock.confirm_freeze(order_str())

    assert response.status_code == 409
    assert response.json()["error"] == "no_payer"


def test_confirming_the_same_order_again_returns_the_same_hold_and_freezes_once(mock, order_str):
    first = mock.frozen(order_str())
    again = mock.frozen(order_str())  # signed again later: same content

    assert again["auth_no"] == first["auth_no"]
    assert again["operation_id"] == first["operation_id"]
    assert again["notify_id"] == first["notify_id"]
    assert (first["repeated"], again["repeated"]) == (False, True)
    assert balance(mock) == DEMO_BALANCE_FEN - 100_000
    assert len(mock.notifications(auth_no=first["auth_no"])) == 1


@pytest.mark.parametrize(
    "change", [{"amount": "2999.00"}, {"order_title": "另一份押金"}, {"user_id": POOR_USER_ID}]
)
def test_the_same_freeze_with_other_content_is_refused(mock, order_str, change):
    mock.frozen(order_str())
    user = {"user_id": change.pop("user_id")} if "user_id" in change else {}

    response = mock.confirm_freeze(order_str(**change), **user)

    assert response.status_code == 409
    assert response.json()["error"] == "discordant_repeat_request"


def test_another_freeze_request_under_a_frozen_order_is_refused(mock, order_str):
    mock.frozen(order_str())

    response = mock.confirm_freeze(order_str(out_request_no="dep_0001_again"))

    assert response.status_code == 409
    assert response.json()["error"] == "order_already_frozen"


def test_a_tampered_order_str_is_refused_like_a_bad_signature_on_gateway_do(mock, order_str):
    params = dict(parse_qsl(order_str()))
    params["biz_content"] = params["biz_content"].replace("3000.00", "0.01")

    response = mock.confirm_freeze(urlencode(params))

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_order_str"
    assert "isv.invalid-signature" in response.json()["detail"]
    assert mock.control.get("/_mock/fund-auth").json()["orders"] == []


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("", "empty"),
        ("app_id=2021000000000009&method=x", "isv.missing-signature"),
    ],
)
def test_an_unreadable_or_unsigned_order_str_is_refused(mock, order, expected):
    response = mock.confirm_freeze(order)

    assert response.status_code == 400
    assert expected in response.json()["detail"]


def test_an_order_str_of_another_method_is_refused(mock, app_key):
    params = signing.sign_request(
        {
            "app_id": TEST_APP_ID,
            "method": "alipay.trade.create",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": "2026-01-01 00:00:00",
            "version": "1.0",
            "biz_content": "{}",
        },
        app_key,
    )

    response = mock.confirm_freeze(urlencode(params))

    assert response.status_code == 400
    assert FREEZE_METHOD in response.json()["detail"]


def test_minifins_own_order_string_builder_is_accepted(mock, app_key, receiver):
    from service.gateway.client import GatewayClient
    from service.gateway.fund_auth import freeze_order_string

    gateway = GatewayClient(
        mock.url + "/gateway.do",
        TEST_APP_ID,
        signing.private_key_pem(app_key),
        mock.platform_public_key_pem,
    )
    try:
        order = freeze_order_string(
            gateway, out_order_no="dep_minifin", out_request_no="dep_minifin_1",
            title="押金：充电宝", amount_fen=250_000, category="RENT_PHONE",
            service_id="2020042800000000000001", pay_timeout_minutes=15, notify_url=receiver.url,
        )  # fmt: skip
    finally:
        gateway.close()

    frozen = mock.frozen(order)

    assert (frozen["credit_amount_fen"], frozen["fund_amount_fen"]) == (200_000, 50_000)
    assert mock.fund_auth(frozen["auth_no"])["extra_param"] == (
        '{"category":"RENT_PHONE","serviceId":"2020042800000000000001"}'
    )


@pytest.mark.parametrize("via", ["get", "post"])
def test_a_server_calling_the_freeze_directly_gets_a_signed_refusal(client, via):
    reply = client.call(FREEZE_METHOD, freeze_biz(), via=via)

    assert_signed_error(reply, client, FREEZE_METHOD, "40002", "isv.invalid-method")
    assert "my.tradePay" in reply.inner["sub_msg"]


def test_cancelling_freezes_nothing(mock, order_str):
    response = mock.control.post("/_mock/fund-auth/cancel", json={"order_str": order_str()})

    assert response.status_code == 200
    assert response.json()["result_code"] == "6001"
    assert balance(mock) == DEMO_BALANCE_FEN
    assert mock.control.get("/_mock/fund-auth").json()["orders"] == []


def test_an_unknown_auth_no_is_404_on_the_control_api(mock):
    response = mock.control.get("/_mock/fund-auth/2026010110000000000000000000")

    assert response.status_code == 404
    assert response.json()["error"] == "auth_order_not_found"


def test_reset_forgets_every_hold(mock, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]

    mock.reset()

    assert mock.control.get(f"/_mock/fund-auth/{auth_no}").status_code == 404


# Notifications


def test_the_freeze_notification_is_signed_complete_and_delivered(mock, order_str, receiver):
    frozen = mock.frozen(order_str())

    found = mock.wait_for_notifications(
        lambda found: found and found[0]["state"] == "delivered", auth_no=frozen["auth_no"]
    )

    (notification,) = found
    assert notification["notify_type"] == "fund_auth_freeze"
    assert notification["id"] == frozen["notify_id"]
    assert notification["auth_no"] == frozen["auth_no"]
    posted = [post["form"] for post in receiver.received if post["form"].get("auth_no")]
    assert posted == [notification["fields"]]
    form = posted[0]
    assert set(NOTIFICATION_FIELDS) <= set(form)
    assert all(value != "" for value in form.values())
    assert signing.verify_notification(form, mock.platform_public_key)
    assert form["operation_type"] == "FREEZE" and form["status"] == "SUCCESS"
    assert (form["amount"], form["credit_amount"], form["fund_amount"]) == (
        "3000.00",
        "2000.00",
        "1000.00",
    )
    assert (form["total_freeze_amount"], form["rest_amount"]) == ("3000.00", "3000.00")
    assert (form["total_unfreeze_amount"], form["total_pay_amount"]) == ("0.00", "0.00")
    assert form["pre_auth_type"] == "CREDIT_AUTH"
    assert form["trans_currency"] == "CNY"
    assert form["payer_user_id"] == DEMO_USER_ID
    assert form["out_request_no"] == "dep_0001_freeze"


def test_a_freeze_without_credit_waiver_has_no_pre_auth_type(mock, order_str):
    frozen = mock.frozen(order_str(amount="30.00"), user_id=NO_WAIVER_USER_ID)

    (notification,) = mock.notifications(auth_no=frozen["auth_no"])

    assert "pre_auth_type" not in notification["fields"]
    assert notification["fields"]["credit_amount"] == "0.00"


def test_a_lost_notification_leaves_the_hold_to_be_found_by_the_detail_query(
    mock, client, order_str
):
    frozen = mock.frozen(order_str(), notify=False)

    reply = detail(client, out_order_no="dep_0001", out_request_no="dep_0001_freeze")

    assert frozen["notify_id"] is None
    assert mock.notifications(auth_no=frozen["auth_no"]) == []
    assert_signed_success(reply, client)
    assert reply.inner["auth_no"] == frozen["auth_no"]


# Unfreezing


def test_a_partial_unfreeze_gives_back_real_money_first(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]

    reply = unfreeze(client, auth_no, "1200.00")

    assert_signed_success(reply, client)
    inner = reply.inner
    assert (inner["auth_no"], inner["out_order_no"], inner["status"]) == (
        auth_no,
        "dep_0001",
        "SUCCESS",
    )
    assert (inner["amount"], inner["fund_amount"], inner["credit_amount"]) == (
        "1200.00",
        "1000.00",
        "200.00",
    )
    assert inner["operation_id"].isdigit() and inner["gmt_trans"]
    assert balance(mock) == DEMO_BALANCE_FEN
    order = mock.fund_auth(auth_no)
    assert (order["status"], order["rest_amount"], order["total_unfreeze_amount"]) == (
        "AUTHORIZED",
        "1800.00",
        "1200.00",
    )


def test_the_unfreeze_notification_reports_the_release_and_the_rest(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]
    operation_id = unfreeze(client, auth_no, "500.00").inner["operation_id"]

    found = mock.notifications(auth_no=auth_no)

    assert [n["notify_type"] for n in found] == ["fund_auth_freeze", "fund_auth_unfreeze"]
    fields = found[1]["fields"]
    assert (fields["operation_id"], fields["operation_type"]) == (operation_id, "UNFREEZE")
    assert (fields["amount"], fields["fund_amount"], fields["credit_amount"]) == (
        "500.00",
        "500.00",
        "0.00",
    )
    assert (fields["rest_amount"], fields["rest_fund_amount"]) == ("2500.00", "500.00")
    assert signing.verify_notification(fields, mock.platform_public_key)


def test_unfreezing_everything_closes_the_order(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]

    reply = unfreeze(client, auth_no, "3000.00")
    after = unfreeze(client, auth_no, "0.01", out_request_no="unf_0002")

    assert reply.inner["credit_amount"] == "2000.00"
    assert mock.fund_auth(auth_no)["status"] == "CLOSED"
    assert balance(mock) == DEMO_BALANCE_FEN
    assert_signed_error(after, client, UNFREEZE, "40004", "ORDER_ALREADY_CLOSED")


def test_unfreezing_more_than_remains_is_refused(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]

    reply = unfreeze(client, auth_no, "3000.01")

    assert_signed_error(reply, client, UNFREEZE, "40004", "REQUEST_AMOUNT_EXCEED")
    assert mock.fund_auth(auth_no)["rest_amount"] == "3000.00"


def test_a_repeated_unfreeze_answers_the_first_release_and_moves_money_once(
    mock, client, order_str
):
    auth_no = mock.frozen(order_str())["auth_no"]
    first = unfreeze(client, auth_no, "300.00")

    again = unfreeze(client, auth_no, "300.00")

    assert_signed_success(again, client)
    assert again.inner["operation_id"] == first.inner["operation_id"]
    assert balance(mock) == DEMO_BALANCE_FEN - 100_000 + 30_000
    assert mock.fund_auth(auth_no)["rest_amount"] == "2700.00"
    assert len(mock.notifications(auth_no=auth_no)) == 2


def test_the_same_unfreeze_request_with_another_amount_is_refused(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]
    unfreeze(client, auth_no, "300.00")

    reply = unfreeze(client, auth_no, "400.00")

    assert_signed_error(reply, client, UNFREEZE, "40004", "DISCORDANT_REPEAT_REQUEST")


def test_unfreezing_an_unknown_auth_no_is_refused(mock, client):
    reply = unfreeze(client, "2026010110000000000000000000", "1.00")

    assert_signed_error(reply, client, UNFREEZE, "40004", "AUTH_ORDER_NOT_EXIST")


def test_another_apps_hold_cannot_be_unfrozen(mock, order_str, app_key):
    auth_no = mock.frozen(order_str())["auth_no"]
    mock.register_app(OTHER_APP_ID, signing.public_key_pem(app_key))
    other = mock.app_client(OTHER_APP_ID, app_key)
    try:
        reply = unfreeze(other, auth_no, "1.00")
    finally:
        other.close()

    assert reply.inner["sub_code"] == "AUTH_ORDER_NOT_EXIST"


@pytest.mark.parametrize(
    ("change", "code"),
    [({"amount": "0"}, "40002"), ({"amount": "1.001"}, "40002"), ({"amount": None}, "40001")],
)
def test_an_unfreeze_with_a_bad_amount_is_refused(mock, client, order_str, change, code):
    auth_no = mock.frozen(order_str())["auth_no"]
    biz = {"auth_no": auth_no, "out_request_no": "unf_x", "remark": "r", **change}

    reply = client.call(UNFREEZE, {k: v for k, v in biz.items() if v is not None})

    assert reply.inner["code"] == code, reply.body


def test_an_injected_fault_on_unfreeze_moves_nothing_and_a_retry_succeeds(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]
    mock.add_fault(method=UNFREEZE, kind="error", code="20000", times=1)

    failed = unfreeze(client, auth_no, "500.00")
    retried = unfreeze(client, auth_no, "500.00")

    assert_signed_error(failed, client, UNFREEZE, "20000", "isp.unknow-error")
    assert_signed_success(retried, client)
    assert mock.fund_auth(auth_no)["rest_amount"] == "2500.00"
    calls = mock.control.get("/_mock/calls", params={"method": UNFREEZE}).json()["calls"]
    assert [call["code"] for call in calls] == ["20000", "10000"]


# Paying from a hold


def test_a_pay_takes_held_money_first_then_credit_from_the_balance(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]

    reply = pay(client, auth_no, "1500.00")

    assert_signed_success(reply, client)
    inner = reply.inner
    assert inner["out_trade_no"] == "rent_0001"
    assert len(inner["trade_no"]) == 28
    assert (inner["total_amount"], inner["receipt_amount"]) == ("1500.00", "1500.00")
    assert inner["buyer_user_id"] == DEMO_USER_ID
    assert inner["auth_trade_pay_mode"] == "CREDIT_PREAUTH_PAY"
    assert inner["gmt_payment"]
    assert inner["fund_bill_list"] == [{"fund_channel": "ALIPAYACCOUNT", "amount": "1500.00"}]
    assert balance(mock) == DEMO_BALANCE_FEN - 100_000 - 50_000
    order = mock.fund_auth(auth_no)
    assert (order["status"], order["rest_amount"], order["total_pay_amount"]) == (
        "AUTHORIZED",
        "1500.00",
        "1500.00",
    )
    assert (order["rest_fund_amount"], order["rest_credit_amount"]) == ("0.00", "1500.00")
    query = client.call("alipay.trade.query", {"trade_no": inner["trade_no"]})
    assert query.inner["trade_status"] == "TRADE_SUCCESS"


def test_a_pay_covered_by_held_money_is_not_a_credit_pay(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]

    reply = pay(client, auth_no, "800.00")

    assert "auth_trade_pay_mode" not in reply.inner
    assert balance(mock) == DEMO_BALANCE_FEN - 100_000


def test_a_credit_pay_may_leave_the_balance_below_zero(mock, client, order_str):
    auth_no = mock.frozen(order_str(amount="500.00"), user_id=POOR_USER_ID)["auth_no"]

    reply = pay(client, auth_no, "500.00", buyer_id=POOR_USER_ID)

    assert_signed_success(reply, client)
    assert balance(mock, POOR_USER_ID) == 4_500 - 50_000
    assert mock.fund_auth(auth_no)["status"] == "FINISH"


def test_a_complete_pay_unfreezes_the_rest_and_finishes_the_order(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]

    reply = pay(client, auth_no, "500.00", mode="COMPLETE")

    assert_signed_success(reply, client)
    assert balance(mock) == DEMO_BALANCE_FEN - 50_000
    order = mock.fund_auth(auth_no)
    assert order["status"] == "FINISH"
    assert (order["total_pay_amount"], order["total_unfreeze_amount"], order["rest_amount"]) == (
        "500.00",
        "2500.00",
        "0.00",
    )
    assert [op["operation_type"] for op in order["operations"]] == ["FREEZE", "PAY", "UNFREEZE"]
    released = order["operations"][2]
    assert (released["fund_amount_fen"], released["credit_amount_fen"]) == (50_000, 200_000)
    unfrozen = [
        n for n in mock.notifications(auth_no=auth_no) if n["notify_type"].endswith("unfreeze")
    ]
    assert unfrozen[0]["fields"]["amount"] == "2500.00"
    assert unfrozen[0]["fields"]["rest_amount"] == "0.00"
    assert_signed_error(
        unfreeze(client, auth_no, "1.00"), client, UNFREEZE, "40004", "ORDER_ALREADY_FINISH"
    )


def test_a_repeated_pay_is_answered_trade_has_success_as_on_the_platform_and_charges_once(
    mock, client, order_str
):
    auth_no = mock.frozen(order_str())["auth_no"]
    pay(client, auth_no, "1500.00")

    again = pay(client, auth_no, "1500.00")

    assert_signed_error(again, client, PAY, "40004", "ACQ.TRADE_HAS_SUCCESS")
    assert balance(mock) == DEMO_BALANCE_FEN - 150_000
    assert mock.fund_auth(auth_no)["total_pay_amount"] == "1500.00"


@pytest.mark.parametrize("change", [{"amount": "1400.00"}, {"mode": "COMPLETE"}])
def test_the_same_out_trade_no_with_other_content_is_context_inconsistent(
    mock, client, order_str, change
):
    auth_no = mock.frozen(order_str())["auth_no"]
    pay(client, auth_no, "1500.00")

    reply = pay(
        client, auth_no, change.get("amount", "1500.00"), mode=change.get("mode", "NOT_COMPLETE")
    )

    assert_signed_error(reply, client, PAY, "40004", "ACQ.CONTEXT_INCONSISTENT")


def test_paying_more_than_remains_is_refused(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]

    reply = pay(client, auth_no, "3000.01")

    assert_signed_error(reply, client, PAY, "40004", "ACQ.TOTAL_FEE_EXCEED")
    assert balance(mock) == DEMO_BALANCE_FEN - 100_000


def test_a_pay_without_auth_no_is_refused_since_the_mock_only_pays_from_holds(client):
    reply = pay(client, None, "1.00")

    assert_signed_error(reply, client, PAY, "40004", "ACQ.INVALID_PARAMETER")
    assert "auth_no" in reply.inner["sub_msg"]


def test_a_pay_for_someone_else_than_the_payer_is_refused(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]

    reply = pay(client, auth_no, "1.00", buyer_id=POOR_USER_ID)

    assert_signed_error(reply, client, PAY, "40004", "ACQ.TRADE_BUYER_NOT_MATCH")


@pytest.mark.parametrize("product_code", ["PREAUTH_PAY", "PRE_AUTH"])
def test_legacy_product_codes_are_accepted_for_a_pay(mock, client, order_str, product_code):
    auth_no = mock.frozen(order_str())["auth_no"]

    reply = pay(client, auth_no, "1.00", product_code=product_code)

    assert_signed_success(reply, client)


def test_a_pay_from_a_hold_can_be_refunded_to_the_balance(mock, client, order_str):
    auth_no = mock.frozen(order_str())["auth_no"]
    trade_no = pay(client, auth_no, "1500.00").inner["trade_no"]

    reply = client.call(
        "alipay.trade.refund",
        {"trade_no": trade_no, "refund_amount": "100.00", "out_request_no": "r1"},
    )

    assert_signed_success(reply, client)
    assert balance(mock) == DEMO_BALANCE_FEN - 150_000 + 10_000


# The operation detail query


def test_each_operation_is_found_with_its_split_and_the_orders_totals(mock, client, order_str):
    frozen = mock.frozen(order_str())
    auth_no = frozen["auth_no"]
    released = unfreeze(client, auth_no, "200.00").inner
    paid = pay(client, auth_no, "1000.00").inner

    freeze_op = detail(client, out_order_no="dep_0001", out_request_no="dep_0001_freeze")
    unfreeze_op = detail(client, auth_no=auth_no, operation_id=released["operation_id"])
    pay_op = detail(client, auth_no=auth_no, out_request_no="rent_0001")

    for reply in (freeze_op, unfreeze_op, pay_op):
        assert_signed_success(reply, client)
        assert reply.inner["auth_no"] == auth_no and reply.inner["status"] == "SUCCESS"
        assert (reply.inner["total_freeze_amount"], reply.inner["rest_amount"]) == (
            "3000.00",
            "1800.00",
        )
        assert (reply.inner["total_unfreeze_amount"], reply.inner["total_pay_amount"]) == (
            "200.00",
            "1000.00",
        )
        assert reply.inner["pre_auth_type"] == "CREDIT_AUTH"
        assert reply.inner["payer_user_id"] == DEMO_USER_ID
    assert freeze_op.inner["operation_type"] == "FREEZE"
    assert freeze_op.inner["operation_id"] == frozen["operation_id"]
    assert (freeze_op.inner["credit_amount"], freeze_op.inner["fund_amount"]) == (
        "2000.00",
        "1000.00",
    )
    assert (unfreeze_op.inner["operation_type"], unfreeze_op.inner["fund_amount"]) == (
        "UNFREEZE",
        "200.00",
    )
    assert (pay_op.inner["operation_type"], pay_op.inner["amount"]) == ("PAY", "1000.00")
    assert (pay_op.inner["fund_amount"], pay_op.inner["credit_amount"]) == ("800.00", "200.00")
    assert paid["auth_trade_pay_mode"] == "CREDIT_PREAUTH_PAY"
    assert (
        pay_op.inner["rest_credit_amount"],
        pay_op.inner["rest_fund_amount"],
    ) == ("1800.00", "0.00")


def test_a_freeze_never_confirmed_is_auth_order_not_exist(client):
    reply = detail(client, out_order_no="dep_never", out_request_no="dep_never_freeze")

    assert_signed_error(reply, client, DETAIL, "40004", "AUTH_ORDER_NOT_EXIST")


def test_an_unknown_operation_of_a_known_order_is_auth_operation_not_exist(mock, client, order_str):
    mock.frozen(order_str())

    reply = detail(client, out_order_no="dep_0001", out_request_no="no_such_request")

    assert_signed_error(reply, client, DETAIL, "40004", "AUTH_OPERATION_NOT_EXIST")


def test_a_detail_query_needs_an_order_and_an_operation_number(client):
    assert detail(client, out_request_no="x").inner["code"] == "40001"
    assert detail(client, out_order_no="x").inner["code"] == "40001"
