"""`python-alipay-sdk`, unchanged, paying through the mock: trades, refunds, notifications."""

from __future__ import annotations

import json

import pytest

from service.gateway import signing
from tests.mock_idp_helpers import DEMO_USER_ID, TEST_APP_ID

alipay = pytest.importorskip("alipay", reason="python-alipay-sdk is not installed")
AliPay = alipay.AliPay


@pytest.fixture
def mock(standalone_mock, app_key, receiver):
    receiver.reset()
    return standalone_mock.reset_with_test_app(app_key, key_format="base64")


def sdk_client(mock, app_key, receiver, sign_type: str = "RSA2") -> AliPay:
    client = AliPay(
        appid=TEST_APP_ID,
        app_notify_url=receiver.url,
        app_private_key_string=signing.private_key_pem(app_key),
        alipay_public_key_string=mock.platform_public_key_pem,
        sign_type=sign_type,
    )
    client._gateway = mock.url + "/gateway.do"
    return client


@pytest.fixture
def sdk(mock, app_key, receiver):
    return sdk_client(mock, app_key, receiver)


def create(sdk, out_trade_no="gift_0001", total_amount="99.00") -> dict:
    result = sdk.api_alipay_trade_create(
        subject="生日礼物：咖啡券",
        out_trade_no=out_trade_no,
        total_amount=total_amount,
        buyer_id=DEMO_USER_ID,
        product_code="JSAPI_PAY",
    )
    assert result["code"] == "10000", result
    return result


def test_the_sdk_creates_a_trade_and_verifies_the_signed_answer(mock, sdk):
    result = create(sdk)

    assert "sub_code" not in result
    assert result["out_trade_no"] == "gift_0001"
    assert len(result["trade_no"]) == 28
    calls = mock.control.get("/_mock/calls", params={"method": "alipay.trade.create"}).json()
    assert [call["http_method"] for call in calls["calls"]] == ["GET"]
    assert mock.trade(result["trade_no"])["notify_url"] == sdk._app_notify_url


def test_the_sdk_sends_amounts_as_numbers_and_they_are_accepted(sdk):
    result = create(sdk, total_amount=0.1)

    assert sdk.api_alipay_trade_query(trade_no=result["trade_no"])["total_amount"] == "0.10"


def test_the_sdk_queries_a_trade_before_and_after_payment(mock, sdk):
    trade_no = create(sdk)["trade_no"]

    before = sdk.api_alipay_trade_query(out_trade_no="gift_0001")
    mock.pay(trade_no)
    after = sdk.api_alipay_trade_query(trade_no=trade_no)

    assert before["trade_status"] == "WAIT_BUYER_PAY"
    assert before["buyer_pay_amount"] == "0.00"
    assert after["trade_status"] == "TRADE_SUCCESS"
    assert after["buyer_pay_amount"] == after["total_amount"] == "99.00"
    assert after["buyer_user_id"] == DEMO_USER_ID
    assert after["send_pay_date"]


def test_the_sdk_refunds_in_parts_and_a_retried_refund_moves_no_money(mock, sdk):
    trade_no = create(sdk)["trade_no"]
    mock.pay(trade_no)

    first = sdk.api_alipay_trade_refund("10.00", out_trade_no="gift_0001", out_request_no="r1")
    retried = sdk.api_alipay_trade_refund("10.00", out_trade_no="gift_0001", out_request_no="r1")
    rest = sdk.api_alipay_trade_refund("89.00", trade_no=trade_no, out_request_no="r2")

    assert (first["fund_change"], first["refund_fee"]) == ("Y", "10.00")
    assert (retried["fund_change"], retried["refund_fee"]) == ("N", "10.00")
    assert (rest["fund_change"], rest["refund_fee"]) == ("Y", "99.00")
    assert sdk.api_alipay_trade_query(trade_no=trade_no)["trade_status"] == "TRADE_CLOSED"


def test_the_sdk_closes_an_unpaid_trade(sdk):
    trade_no = create(sdk)["trade_no"]

    result = sdk.api_alipay_trade_close(trade_no=trade_no)

    assert result["code"] == "10000"
    assert (result["trade_no"], result["out_trade_no"]) == (trade_no, "gift_0001")
    assert sdk.api_alipay_trade_query(trade_no=trade_no)["trade_status"] == "TRADE_CLOSED"


def test_the_sdk_verifies_a_business_failure_and_hands_it_back(mock, sdk):
    result = sdk.api_alipay_trade_query(out_trade_no="never_created")

    assert (result["code"], result["sub_code"]) == ("40004", "ACQ.TRADE_NOT_EXIST")


def test_the_sdk_with_legacy_rsa_signatures_pays_too(mock, app_key, receiver):
    legacy = sdk_client(mock, app_key, receiver, sign_type="RSA")

    trade_no = create(legacy)["trade_no"]

    assert legacy.api_alipay_trade_query(trade_no=trade_no)["trade_status"] == "WAIT_BUYER_PAY"


def test_the_sdk_verifies_the_notifications_the_mock_sends(mock, sdk, receiver):
    trade_no = create(sdk)["trade_no"]
    mock.pay(trade_no)
    sdk.api_alipay_trade_refund("10.00", trade_no=trade_no, out_request_no="r1")

    forms = [post["form"] for post in receiver.wait_for(trade_no, 2)]

    for form in forms:
        data = dict(form)
        signature = data.pop("sign")  # what a merchant's notify handler does with this SDK
        assert sdk.verify(data, signature), form
    assert json.loads(forms[0]["fund_bill_list"])[0]["amount"] == "99.00"
    assert forms[1]["refund_fee"] == "10.00"
    tampered = {key: value for key, value in forms[0].items() if key != "sign"}
    tampered["total_amount"] = "0.01"
    assert not sdk.verify(tampered, forms[0]["sign"])
