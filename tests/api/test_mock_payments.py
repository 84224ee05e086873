"""The mock's payments over real HTTP: trades created, queried, paid, closed, refunded; messages."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from service.gateway import signing
from tests.mock_idp_helpers import DEMO_USER_ID, OTHER_APP_ID, TEST_APP_ID

CREATE = "alipay.trade.create"
QUERY = "alipay.trade.query"
CLOSE = "alipay.trade.close"
REFUND = "alipay.trade.refund"
MESSAGE = "alipay.open.app.mini.templatemessage.send"
POOR_USER_ID = "2088102186334870"  # 杨帆, 45.00 yuan in data/demo_users.json
DEMO_BALANCE_FEN = 1_285_000  # 张伟's balance


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key, name="礼物小程序")


@pytest.fixture
def client(mock, app_key):
    with mock.test_app_client(app_key) as app_client:
        yield app_client


def order(out_trade_no: str = "gift_0001", **changes) -> dict:
    """A trade.create biz_content; a change to None leaves that parameter out."""
    biz = {
        "out_trade_no": out_trade_no,
        "total_amount": "99.00",
        "subject": "生日礼物：咖啡券",
        "buyer_id": DEMO_USER_ID,
        "product_code": "JSAPI_PAY",
        **changes,
    }
    return {key: value for key, value in biz.items() if value is not None}


def create(client, **changes) -> dict:
    reply = client.call(CREATE, order(**changes))
    assert reply.inner["code"] == "10000", reply.body
    return reply.inner


def paid_trade(mock, client, **changes) -> dict:
    created = create(client, **changes)
    assert mock.pay(created["trade_no"]).status_code == 200
    return created


def assert_signed_success(reply, client):
    assert reply.status == 200
    assert (reply.inner["code"], reply.inner["msg"]) == ("10000", "Success"), reply.body
    assert "sub_code" not in reply.inner
    assert client.verifies(reply), reply.body


def assert_signed_error(reply, client, method, code, sub_code):
    assert reply.status == 200
    assert reply.key == signing.response_key(method), reply.body
    assert (reply.inner["code"], reply.inner["sub_code"]) == (code, sub_code), reply.body
    assert reply.inner["msg"] and reply.inner["sub_msg"]
    assert client.verifies(reply), reply.body


def balance(mock, user_id=DEMO_USER_ID) -> int:
    return mock.user(user_id)["balance_fen"]


# Creating trades


def test_creating_a_trade_answers_a_signed_trade_no_that_starts_with_the_beijing_date(client):
    reply = client.call(CREATE, order())

    assert_signed_success(reply, client)
    assert reply.key == "alipay_trade_create_response"
    assert reply.inner["out_trade_no"] == "gift_0001"
    trade_no = reply.inner["trade_no"]
    assert len(trade_no) == 28 and trade_no.isdigit()
    beijing_today = datetime.now(UTC) + timedelta(hours=8)
    assert trade_no[:8] in {
        (beijing_today + timedelta(minutes=delta)).strftime("%Y%m%d") for delta in (-1, 0)
    }


def test_the_same_out_trade_no_with_the_same_order_returns_the_same_trade(client):
    first = create(client)

    again = client.call(CREATE, order(), via="post")

    assert_signed_success(again, client)
    assert again.inner["trade_no"] == first["trade_no"]


@pytest.mark.parametrize("change", [{"total_amount": "98.00"}, {"subject": "另一份礼物"}])
def test_the_same_out_trade_no_with_other_content_is_context_inconsistent(client, change):
    create(client)

    reply = client.call(CREATE, order(**change))

    assert_signed_error(reply, client, CREATE, "40004", "ACQ.CONTEXT_INCONSISTENT")


def test_the_same_out_trade_no_for_another_buyer_is_a_buyer_mismatch(client):
    create(client)

    reply = client.call(CREATE, order(buyer_id=POOR_USER_ID))

    assert_signed_error(reply, client, CREATE, "40004", "ACQ.TRADE_BUYER_NOT_MATCH")


def test_creating_a_paid_trade_again_answers_trade_has_success(mock, client):
    paid_trade(mock, client)

    reply = client.call(CREATE, order())

    assert_signed_error(reply, client, CREATE, "40004", "ACQ.TRADE_HAS_SUCCESS")


def test_creating_a_closed_trade_again_answers_trade_has_close(client):
    create(client)
    client.call(CLOSE, {"out_trade_no": "gift_0001"})

    reply = client.call(CREATE, order())

    assert_signed_error(reply, client, CREATE, "40004", "ACQ.TRADE_HAS_CLOSE")


def test_out_trade_no_is_unique_per_app_not_across_apps(mock, client):
    other_key = signing.generate_private_key()
    mock.register_app(OTHER_APP_ID, signing.public_key_pem(other_key))
    other = mock.app_client(OTHER_APP_ID, other_key)

    mine, theirs = create(client), other.call(CREATE, order()).inner
    other.close()

    assert theirs["code"] == "10000"
    assert theirs["trade_no"] != mine["trade_no"]


def test_concurrent_creates_with_one_out_trade_no_make_one_trade(client):
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda _: client.call(CREATE, order()), range(6)))

    assert {reply.inner["code"] for reply in replies} == {"10000"}
    assert len({reply.inner["trade_no"] for reply in replies}) == 1


def test_a_buyer_open_id_names_the_user_as_the_app_knows_them(mock, client):
    token = client.call(
        "alipay.system.oauth.token",
        grant_type="authorization_code",
        code=mock.auth_code(TEST_APP_ID),
    ).inner
    created = create(client, buyer_id=None, buyer_open_id=token["open_id"])

    queried = client.call(QUERY, {"trade_no": created["trade_no"]}).inner

    assert queried["buyer_user_id"] == DEMO_USER_ID
    assert queried["buyer_open_id"] == token["open_id"]
    assert mock.trade(created["trade_no"])["buyer_user_id"] == DEMO_USER_ID


def test_an_open_id_only_app_sees_the_buyer_only_by_open_id(mock, client, app_key):
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key), id_mode="open_id")
    created = create(client)

    queried = client.call(QUERY, {"trade_no": created["trade_no"]}).inner

    assert "buyer_user_id" not in queried
    assert queried["buyer_open_id"] and DEMO_USER_ID not in json.dumps(queried)


@pytest.mark.parametrize(
    "change",
    [
        {"out_trade_no": None},
        {"out_trade_no": "gift-with-dash"},
        {"out_trade_no": "x" * 65},
        {"total_amount": None},
        {"total_amount": "9.999"},
        {"total_amount": "nine"},
        {"total_amount": "-1.00"},
        {"total_amount": True},
        {"subject": None},
        {"subject": "礼" * 257},
        {"buyer_id": None},
        {"buyer_id": "2088000000000000"},
        {"buyer_id": None, "buyer_open_id": "0not-an-open-id"},
        {"product_code": "FAST_INSTANT_TRADE_PAY"},
    ],
)
def test_an_invalid_order_answers_acq_invalid_parameter(client, change):
    reply = client.call(CREATE, order(**change))

    assert_signed_error(reply, client, CREATE, "40004", "ACQ.INVALID_PARAMETER")
    assert reply.inner["sub_msg"].startswith("参数无效")


def test_a_notify_url_that_is_not_http_is_refused(client):
    reply = client.call(CREATE, order(), notify_url="ftp://merchant.example/notify")

    assert_signed_error(reply, client, CREATE, "40004", "ACQ.INVALID_PARAMETER")


@pytest.mark.parametrize("amount", ["0", "0.00", "100000000.01"])
def test_an_amount_outside_the_allowed_range_answers_total_fee_exceed(client, amount):
    reply = client.call(CREATE, order(total_amount=amount))

    assert_signed_error(reply, client, CREATE, "40004", "ACQ.TOTAL_FEE_EXCEED")


@pytest.mark.parametrize(
    ("sent", "answered"),
    [("10", "10.00"), ("9.9", "9.90"), (9.9, "9.90"), (12, "12.00"), ("0.01", "0.01")],
)
def test_amounts_are_accepted_as_strings_or_numbers_and_answered_with_two_decimals(
    client, sent, answered
):
    created = create(client, total_amount=sent)

    queried = client.call(QUERY, {"trade_no": created["trade_no"]}).inner

    assert queried["total_amount"] == answered


def test_the_largest_allowed_amount_is_accepted(client):
    create(client, total_amount="100000000.00")


def test_product_code_may_be_left_out(client):
    assert client.call(CREATE, order(product_code=None)).inner["code"] == "10000"


# Querying


def test_a_new_trade_waits_for_the_buyer_with_nothing_paid(client):
    created = create(client)

    by_trade_no = client.call(QUERY, {"trade_no": created["trade_no"]})
    by_out_trade_no = client.call(QUERY, {"out_trade_no": "gift_0001"}, via="post")

    assert_signed_success(by_trade_no, client)
    assert by_trade_no.inner == by_out_trade_no.inner
    trade = by_trade_no.inner
    assert trade["trade_status"] == "WAIT_BUYER_PAY"
    assert trade["total_amount"] == "99.00"
    assert trade["buyer_pay_amount"] == trade["receipt_amount"] == "0.00"
    assert trade["buyer_logon_id"] == "138****5671"
    assert trade["buyer_user_id"] == DEMO_USER_ID
    assert "send_pay_date" not in trade


@pytest.mark.parametrize(
    "biz", [{"trade_no": "2026010122000000000000000000"}, {"out_trade_no": "nobody_ordered_this"}]
)
def test_an_unknown_trade_answers_trade_not_exist(client, biz):
    reply = client.call(QUERY, biz)

    assert_signed_error(reply, client, QUERY, "40004", "ACQ.TRADE_NOT_EXIST")


def test_numbers_that_disagree_answer_trade_not_exist(client):
    created = create(client)

    reply = client.call(QUERY, {"trade_no": created["trade_no"], "out_trade_no": "gift_other"})

    assert_signed_error(reply, client, QUERY, "40004", "ACQ.TRADE_NOT_EXIST")


def test_another_apps_trade_does_not_exist_for_this_app(mock, client):
    created = create(client)
    other_key = signing.generate_private_key()
    mock.register_app(OTHER_APP_ID, signing.public_key_pem(other_key))
    other = mock.app_client(OTHER_APP_ID, other_key)

    reply = other.call(QUERY, {"trade_no": created["trade_no"]})
    other.close()

    assert (reply.inner["code"], reply.inner["sub_code"]) == ("40004", "ACQ.TRADE_NOT_EXIST")


def test_a_query_without_a_trade_number_is_an_invalid_parameter(client):
    reply = client.call(QUERY, {})

    assert_signed_error(reply, client, QUERY, "40004", "ACQ.INVALID_PARAMETER")


# Paying


def test_paying_debits_the_buyers_balance_and_the_trade_shows_as_paid(mock, client):
    created = create(client)

    response = mock.pay(created["trade_no"])

    assert response.status_code == 200
    assert response.json()["trade_status"] == "TRADE_SUCCESS"
    assert response.json()["paid_at"]
    assert balance(mock) == DEMO_BALANCE_FEN - 9900
    reply = client.call(QUERY, {"trade_no": created["trade_no"]})
    assert_signed_success(reply, client)
    trade = reply.inner
    assert trade["trade_status"] == "TRADE_SUCCESS"
    assert trade["buyer_pay_amount"] == trade["receipt_amount"] == "99.00"
    assert datetime.strptime(trade["send_pay_date"], "%Y-%m-%d %H:%M:%S")
    assert trade["fund_bill_list"] == [{"fund_channel": "ALIPAYACCOUNT", "amount": "99.00"}]


def test_paying_with_too_small_a_balance_is_refused_and_the_trade_keeps_waiting(mock, client):
    created = create(client, buyer_id=POOR_USER_ID)

    response = mock.pay(created["trade_no"])

    assert response.status_code == 400
    assert response.json()["error"] == "insufficient_balance"
    assert "45.00" in response.json()["detail"]
    assert balance(mock, POOR_USER_ID) == 4500
    assert client.call(QUERY, {"out_trade_no": "gift_0001"}).inner["trade_status"] == (
        "WAIT_BUYER_PAY"
    )


def test_a_paid_or_closed_trade_cannot_be_paid_again(mock, client):
    paid = paid_trade(mock, client)
    closed = create(client, out_trade_no="gift_closed")
    client.call(CLOSE, {"trade_no": closed["trade_no"]})

    for trade_no in (paid["trade_no"], closed["trade_no"]):
        response = mock.pay(trade_no)
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "trade_not_payable"
    assert balance(mock) == DEMO_BALANCE_FEN - 9900


def test_paying_an_unknown_trade_is_a_json_404(mock):
    response = mock.pay("2026010122000000000000000000")

    assert response.status_code == 404
    assert response.json()["error"] == "trade_not_found"


def test_concurrent_payments_of_one_trade_debit_once(mock, client):
    created = create(client)

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(lambda _: mock.pay(created["trade_no"]).status_code, range(5)))

    assert sorted(statuses) == [200, 409, 409, 409, 409]
    assert balance(mock) == DEMO_BALANCE_FEN - 9900


# Closing


def test_closing_an_unpaid_trade_closes_it_for_good(mock, client):
    created = create(client)

    reply = client.call(CLOSE, {"out_trade_no": "gift_0001"})

    assert_signed_success(reply, client)
    assert (reply.inner["trade_no"], reply.inner["out_trade_no"]) == (
        created["trade_no"],
        "gift_0001",
    )
    assert client.call(QUERY, {"out_trade_no": "gift_0001"}).inner["trade_status"] == (
        "TRADE_CLOSED"
    )
    assert client.call(CLOSE, {"out_trade_no": "gift_0001"}).inner["code"] == "10000"
    assert mock.pay(created["trade_no"]).status_code == 409


def test_closing_a_paid_trade_answers_trade_status_error(mock, client):
    paid_trade(mock, client)

    reply = client.call(CLOSE, {"out_trade_no": "gift_0001"})

    assert_signed_error(reply, client, CLOSE, "40004", "ACQ.TRADE_STATUS_ERROR")


def test_closing_an_unknown_trade_answers_trade_not_exist(client):
    reply = client.call(CLOSE, {"out_trade_no": "never_created"})

    assert_signed_error(reply, client, CLOSE, "40004", "ACQ.TRADE_NOT_EXIST")


# Refunding


def refund(client, amount, out_request_no=None, **by):
    biz = {"out_trade_no": "gift_0001", "refund_amount": amount, **by}
    if out_request_no:
        biz["out_request_no"] = out_request_no
    return client.call(REFUND, biz)


def test_a_full_refund_returns_the_money_and_closes_the_trade(mock, client):
    created = paid_trade(mock, client)

    reply = refund(client, "99.00", "refund_1", refund_reason="礼物未领取")

    assert_signed_success(reply, client)
    answer = reply.inner
    assert answer["trade_no"] == created["trade_no"]
    assert answer["out_trade_no"] == "gift_0001"
    assert answer["buyer_logon_id"] == "138****5671"
    assert (answer["fund_change"], answer["refund_fee"]) == ("Y", "99.00")
    assert datetime.strptime(answer["gmt_refund_pay"], "%Y-%m-%d %H:%M:%S")
    assert balance(mock) == DEMO_BALANCE_FEN
    trade = mock.trade(created["trade_no"])
    assert trade["trade_status"] == "TRADE_CLOSED"
    assert trade["refunds"][0]["out_request_no"] == "refund_1"
    assert trade["refunds"][0]["refund_reason"] == "礼物未领取"
    query = client.call(QUERY, {"trade_no": created["trade_no"]}).inner
    assert query["trade_status"] == "TRADE_CLOSED"


def test_a_full_refund_without_out_request_no_is_keyed_by_the_trade(mock, client):
    paid_trade(mock, client)

    first, again = refund(client, "99.00"), refund(client, "99.00")

    assert (first.inner["fund_change"], again.inner["fund_change"]) == ("Y", "N")
    assert balance(mock) == DEMO_BALANCE_FEN


def test_partial_refunds_add_up_and_the_last_one_closes_the_trade(mock, client):
    created = paid_trade(mock, client)

    first = refund(client, "10.00", "refund_1").inner
    second = refund(client, "39.50", "refund_2", trade_no=created["trade_no"]).inner

    assert (first["refund_fee"], second["refund_fee"]) == ("10.00", "49.50")
    assert balance(mock) == DEMO_BALANCE_FEN - 9900 + 4950
    assert client.call(QUERY, {"out_trade_no": "gift_0001"}).inner["trade_status"] == (
        "TRADE_SUCCESS"
    )
    last = refund(client, "49.50", "refund_3").inner
    assert last["refund_fee"] == "99.00"
    assert mock.trade(created["trade_no"])["trade_status"] == "TRADE_CLOSED"
    assert balance(mock) == DEMO_BALANCE_FEN


def test_a_repeated_refund_request_answers_again_without_moving_money(mock, client):
    paid_trade(mock, client)
    first = refund(client, "10.00", "refund_1")

    again = refund(client, "10.00", "refund_1")

    assert_signed_success(again, client)
    assert (first.inner["fund_change"], again.inner["fund_change"]) == ("Y", "N")
    assert again.inner["refund_fee"] == "10.00"
    assert again.inner["gmt_refund_pay"] == first.inner["gmt_refund_pay"]
    assert balance(mock) == DEMO_BALANCE_FEN - 9900 + 1000


def test_a_repeated_refund_request_with_another_amount_is_discordant(mock, client):
    paid_trade(mock, client)
    refund(client, "10.00", "refund_1")

    reply = refund(client, "20.00", "refund_1")

    assert_signed_error(reply, client, REFUND, "40004", "ACQ.DISCORDANT_REPEAT_REQUEST")
    assert balance(mock) == DEMO_BALANCE_FEN - 9900 + 1000


def test_concurrent_refunds_with_one_key_move_money_once(mock, client):
    paid_trade(mock, client)

    with ThreadPoolExecutor(max_workers=5) as pool:
        replies = list(pool.map(lambda _: refund(client, "10.00", "refund_1"), range(5)))

    assert sorted(reply.inner["fund_change"] for reply in replies) == ["N", "N", "N", "N", "Y"]
    assert balance(mock) == DEMO_BALANCE_FEN - 9900 + 1000


def test_refunding_more_than_is_left_answers_refund_amt_not_equal_total(mock, client):
    paid_trade(mock, client)
    refund(client, "90.00", "refund_1")

    reply = refund(client, "9.01", "refund_2")

    assert_signed_error(reply, client, REFUND, "40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
    assert "9.00" in reply.inner["sub_msg"]


def test_a_partial_refund_needs_an_out_request_no(mock, client):
    paid_trade(mock, client)

    reply = refund(client, "10.00")

    assert_signed_error(reply, client, REFUND, "40004", "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")


def test_refunding_an_unpaid_trade_answers_trade_status_error(client):
    create(client)

    reply = refund(client, "10.00", "refund_1")

    assert_signed_error(reply, client, REFUND, "40004", "ACQ.TRADE_STATUS_ERROR")


def test_refunding_a_fully_refunded_trade_with_a_new_key_answers_trade_status_error(mock, client):
    paid_trade(mock, client)
    refund(client, "99.00", "refund_1")

    reply = refund(client, "1.00", "refund_2")

    assert_signed_error(reply, client, REFUND, "40004", "ACQ.TRADE_STATUS_ERROR")


def test_refunding_a_finished_trade_answers_trade_has_finished(mock, client):
    created = paid_trade(mock, client)
    finished = mock.control.post(f"/_mock/trades/{created['trade_no']}/finish")
    assert finished.json()["trade_status"] == "TRADE_FINISHED"

    reply = refund(client, "10.00", "refund_1")

    assert_signed_error(reply, client, REFUND, "40004", "ACQ.TRADE_HAS_FINISHED")
    assert client.call(QUERY, {"out_trade_no": "gift_0001"}).inner["trade_status"] == (
        "TRADE_FINISHED"
    )


def test_only_a_paid_trade_can_be_finished(mock, client):
    created = create(client)

    response = mock.control.post(f"/_mock/trades/{created['trade_no']}/finish")

    assert response.status_code == 409
    assert response.json()["error"] == "trade_not_finishable"


def test_refunding_an_unknown_trade_answers_trade_not_exist(client):
    reply = refund(client, "1.00", "refund_1", out_trade_no="never_created")

    assert_signed_error(reply, client, REFUND, "40004", "ACQ.TRADE_NOT_EXIST")


@pytest.mark.parametrize("amount", ["0", "0.00", "1.001", "abc", None])
def test_an_invalid_refund_amount_answers_invalid_parameter(mock, client, amount):
    paid_trade(mock, client)
    biz = {"out_trade_no": "gift_0001", "out_request_no": "refund_1"}
    if amount is not None:
        biz["refund_amount"] = amount

    reply = client.call(REFUND, biz)

    assert_signed_error(reply, client, REFUND, "40004", "ACQ.INVALID_PARAMETER")


def test_an_unknown_trade_is_a_json_404_in_the_control_api(mock):
    response = mock.control.get("/_mock/trades/2026010122000000000000000000")

    assert response.status_code == 404
    assert response.json()["error"] == "trade_not_found"


# Template messages


def message(**changes) -> dict:
    biz = {
        "to_user_id": DEMO_USER_ID,
        "user_template_id": "MDI4YzIxMDE2M2I5YTQzYjUxNWE4MjA4NmU1MTIyYmM=",
        "page": "pages/gift/detail?id=gft_123",
        "data": json.dumps(
            {"keyword1": {"value": "阿伟送你一份礼物"}, "keyword2": {"value": "2026-12-01"}},
            ensure_ascii=False,
        ),
        "form_id": "2017010100000000580012345678",
        **changes,
    }
    return {key: value for key, value in biz.items() if value is not None}


def inbox(mock, user_id=DEMO_USER_ID):
    response = mock.control.get(f"/_mock/inbox/{user_id}")
    assert response.status_code == 200, response.text
    return response.json()["messages"]


def test_a_template_message_lands_in_the_users_inbox(mock, client):
    client.call(MESSAGE, message(page="pages/index"))

    reply = client.call(MESSAGE, message())

    assert_signed_success(reply, client)
    assert set(reply.inner) == {"code", "msg"}
    received = inbox(mock)
    assert len(received) == 2
    newest = received[-1]
    assert newest["app_id"] == TEST_APP_ID
    assert newest["user_template_id"] == "MDI4YzIxMDE2M2I5YTQzYjUxNWE4MjA4NmU1MTIyYmM="
    assert newest["page"] == "pages/gift/detail?id=gft_123"
    assert newest["data"]["keyword1"] == {"value": "阿伟送你一份礼物"}
    assert datetime.fromisoformat(newest["received_at"])
    assert received[0]["page"] == "pages/index"


def test_a_template_message_takes_data_as_an_object_and_an_open_id(mock, client):
    token = client.call(
        "alipay.system.oauth.token",
        grant_type="authorization_code",
        code=mock.auth_code(TEST_APP_ID),
    ).inner
    data = {"keyword1": {"value": "礼物已送达"}}

    reply = client.call(MESSAGE, message(to_user_id=None, to_open_id=token["open_id"], data=data))

    assert_signed_success(reply, client)
    assert inbox(mock)[-1]["data"] == data


def test_a_template_message_to_an_unknown_user_is_refused(mock, client):
    reply = client.call(MESSAGE, message(to_user_id="2088000000000000"))

    assert_signed_error(reply, client, MESSAGE, "40004", "USER_NOT_EXIST")
    assert inbox(mock) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"to_user_id": None}, "40001"),
        ({"user_template_id": None}, "40001"),
        ({"page": None}, "40001"),
        ({"form_id": None}, "40001"),
        ({"data": None}, "40001"),
        ({"data": "not json"}, "40002"),
        ({"data": "[1, 2]"}, "40002"),
        ({"data": {"keyword1": "no value object"}}, "40002"),
        ({"data": {}}, "40002"),
        ({"page": "p" * 129}, "40002"),
    ],
)
def test_a_template_message_with_missing_or_malformed_fields_is_refused(mock, client, change, code):
    reply = client.call(MESSAGE, message(**change))

    sub_code = "isv.missing-parameter" if code == "40001" else "isv.invalid-parameter"
    assert_signed_error(reply, client, MESSAGE, code, sub_code)
    assert inbox(mock) == []


def test_every_template_message_sent_is_delivered_even_the_same_one_again(mock, client):
    first = client.call(MESSAGE, message())
    again = client.call(MESSAGE, message())

    assert [r.inner["code"] for r in (first, again)] == ["10000"] * 2
    assert [m["page"] for m in inbox(mock)] == ["pages/gift/detail?id=gft_123"] * 2


def test_an_out_biz_no_on_a_template_message_is_accepted_and_ignored_as_the_platform_does(
    mock, client
):
    replies = [client.call(MESSAGE, message(out_biz_no="msg_gft_123")) for _ in range(2)]

    assert [r.inner["code"] for r in replies] == ["10000"] * 2
    received = inbox(mock)
    assert len(received) == 2  # no idempotency key on this method: a repeat lands again
    assert [m["ignored_parameters"] for m in received] == [["out_biz_no"]] * 2


def test_the_inbox_of_an_unknown_user_is_a_json_404(mock):
    response = mock.control.get("/_mock/inbox/2088000000000000")

    assert response.status_code == 404
    assert response.json()["error"] == "user_not_found"


def test_reset_empties_trades_and_inboxes_and_restores_balances(mock, client):
    created = paid_trade(mock, client)
    client.call(MESSAGE, message())

    mock.reset()

    assert mock.control.get(f"/_mock/trades/{created['trade_no']}").status_code == 404
    assert inbox(mock) == []
    assert balance(mock) == DEMO_BALANCE_FEN
