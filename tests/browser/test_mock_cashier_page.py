"""The cashier page in headless Chromium: see the order, pay or cancel, go back to the app."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flask import Flask, jsonify, request

from tests.live_server import LiveServer
from tests.mock_idp_helpers import DEMO_USER_ID

POOR_USER_ID = "2088102186334870"  # 杨帆, 45.00 yuan
DEMO_BALANCE_FEN = 1_285_000


@pytest.fixture(scope="module")
def shop():
    """The merchant's page the cashier returns to."""
    app = Flask("shop")

    @app.get("/paid")
    def paid():
        return jsonify(received=request.args.to_dict())

    with LiveServer(app) as live:
        yield live


@pytest.fixture
def mock(standalone_mock, app_key, shop, key_mode):
    return standalone_mock.reset_with_test_app(
        app_key, name="礼物小程序", redirect_uris=[shop.url + "/"], key_mode=key_mode
    )


@pytest.fixture
def client(mock, app_key):
    with mock.test_app_client(app_key) as app_client:
        yield app_client


def create(client, buyer_id=DEMO_USER_ID, **top) -> str:
    biz = {
        "out_trade_no": "gift_0001",
        "total_amount": "99.00",
        "subject": "生日礼物：咖啡券",
        "buyer_id": buyer_id,
        "product_code": "JSAPI_PAY",
    }
    reply = client.call("alipay.trade.create", biz, **top)
    assert reply.inner["code"] == "10000", reply.body
    return reply.inner["trade_no"]


def cashier_url(mock, trade_no, return_url=None) -> str:
    query = {"trade_no": trade_no} | ({"return_url": return_url} if return_url else {})
    return f"{mock.url}/cashier?{httpx.QueryParams(query)}"


def returned_query(page) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


def balance(mock, user_id=DEMO_USER_ID) -> int:
    return mock.user(user_id)["balance_fen"]


def test_paying_on_the_cashier_pays_the_trade_and_returns_to_the_app(page, mock, client, shop):
    trade_no = create(client)
    page.goto(cashier_url(mock, trade_no, shop.url + "/paid?order=42"))
    assert page.get_by_test_id("merchant").inner_text() == "礼物小程序"
    assert page.get_by_test_id("subject").inner_text() == "生日礼物：咖啡券"
    assert page.get_by_test_id("amount").inner_text() == "¥99.00"
    assert page.get_by_test_id("buyer").inner_text() == "*伟 · 138****5671"
    assert page.get_by_test_id("balance").inner_text() == "¥12850.00"

    page.get_by_role("button", name="确认付款 Pay").click()
    page.wait_for_url(f"{shop.url}/paid?**")

    assert returned_query(page) == {
        "order": "42",
        "trade_no": trade_no,
        "out_trade_no": "gift_0001",
        "resultCode": "9000",
    }
    assert mock.trade(trade_no)["trade_status"] == "TRADE_SUCCESS"
    assert balance(mock) == DEMO_BALANCE_FEN - 9900


def test_cancelling_leaves_the_trade_unpaid(page, mock, client, shop):
    trade_no = create(client)
    page.goto(cashier_url(mock, trade_no, shop.url + "/paid"))

    page.get_by_role("button", name="取消 Cancel").click()
    page.wait_for_url(f"{shop.url}/paid?**")

    assert returned_query(page)["resultCode"] == "6001"
    assert mock.trade(trade_no)["trade_status"] == "WAIT_BUYER_PAY"
    assert balance(mock) == DEMO_BALANCE_FEN


def test_too_small_a_balance_shows_an_error_and_the_trade_keeps_waiting(page, mock, client, shop):
    trade_no = create(client, buyer_id=POOR_USER_ID)
    page.goto(cashier_url(mock, trade_no, shop.url + "/paid"))

    page.get_by_role("button", name="确认付款 Pay").click()

    error = page.get_by_test_id("error-message")
    error.wait_for()
    assert "余额不足" in error.inner_text() and "45.00" in error.inner_text()
    assert page.url.startswith(mock.url)
    assert mock.trade(trade_no)["trade_status"] == "WAIT_BUYER_PAY"
    assert balance(mock, POOR_USER_ID) == 4500
    page.get_by_role("button", name="取消 Cancel").click()
    page.wait_for_url(f"{shop.url}/paid?**")
    assert returned_query(page)["resultCode"] == "6001"


def test_the_trades_own_return_url_is_used_when_the_page_gets_none(page, mock, client, shop):
    trade_no = create(client, return_url=shop.url + "/paid?from=create")
    page.goto(cashier_url(mock, trade_no))

    page.get_by_role("button", name="确认付款 Pay").click()
    page.wait_for_url(f"{shop.url}/paid?**")

    assert returned_query(page)["from"] == "create"


def test_without_a_return_url_the_cashier_shows_the_result(page, mock, client):
    trade_no = create(client)
    page.goto(cashier_url(mock, trade_no))

    page.get_by_role("button", name="确认付款 Pay").click()

    assert "支付成功" in page.get_by_test_id("result").inner_text()
    assert page.get_by_role("button", name="确认付款 Pay").count() == 0
    assert mock.trade(trade_no)["trade_status"] == "TRADE_SUCCESS"


def test_a_paid_trade_cannot_be_paid_again_on_the_cashier(page, mock, client):
    trade_no = create(client)
    mock.pay(trade_no)

    page.goto(cashier_url(mock, trade_no))

    assert "TRADE_SUCCESS" in page.get_by_test_id("result").inner_text()
    assert page.get_by_role("button", name="确认付款 Pay").count() == 0


def test_an_unknown_trade_shows_an_error_page(page, mock):
    response = page.goto(cashier_url(mock, "2026010122000000000000000000"))

    assert response.status == 404
    assert "交易不存在" in page.get_by_test_id("error-message").inner_text()


def test_a_return_url_the_app_did_not_register_is_refused(page, mock, client):
    trade_no = create(client)

    response = page.goto(cashier_url(mock, trade_no, "https://elsewhere.example/paid"))

    assert response.status == 400
    assert "return_url" in page.get_by_test_id("error-message").inner_text()


def test_the_cashier_loads_nothing_from_elsewhere(page, mock, client):
    trade_no = create(client)
    requested = []
    page.on("request", lambda req: requested.append(req.url))

    response = page.goto(cashier_url(mock, trade_no))

    assert all(url.startswith(mock.url) for url in requested), requested
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_a_submitted_cashier_form_cannot_be_replayed(page, mock, client, shop):
    trade_no = create(client)
    page.goto(cashier_url(mock, trade_no, shop.url + "/paid"))
    form = {
        field: page.locator(f"input[name={field}]").get_attribute("value")
        for field in ("trade_no", "return_url", "nonce")
    }
    page.get_by_role("button", name="取消 Cancel").click()
    page.wait_for_url(f"{shop.url}/paid?**")

    replay = httpx.post(f"{mock.url}/cashier", data={**form, "decision": "pay"})

    assert replay.status_code == 400
    assert "Location" not in replay.headers
    assert mock.trade(trade_no)["trade_status"] == "WAIT_BUYER_PAY"


def test_a_trade_paid_elsewhere_meanwhile_is_neither_paid_nor_cancelled_again(
    page, mock, client, shop
):
    trade_no = create(client)
    page.goto(cashier_url(mock, trade_no, shop.url + "/paid"))
    mock.pay(trade_no)  # the buyer paid in another tab

    page.get_by_role("button", name="取消 Cancel").click()

    assert "TRADE_SUCCESS" in page.get_by_test_id("result").inner_text()
    assert page.url.startswith(mock.url)
    assert balance(mock) == DEMO_BALANCE_FEN - 9900
