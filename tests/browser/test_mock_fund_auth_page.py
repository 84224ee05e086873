"""The freeze cashier in headless Chromium: a signed orderStr opened, confirmed or cancelled."""

from __future__ import annotations

from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask, jsonify, request

from tests.live_server import LiveServer
from tests.mock_idp_helpers import DEMO_USER_ID, TEST_APP_ID, freeze_biz, freeze_order_str

DEMO_BALANCE_FEN = 1_285_000  # 张伟: waiver_limit_fen 200000


@pytest.fixture(scope="module")
def shop():
    """The merchant's page the cashier returns to."""
    app = Flask("shop")

    @app.get("/deposit")
    def deposit():
        return jsonify(received=request.args.to_dict())

    with LiveServer(app) as live:
        yield live


@pytest.fixture
def mock(standalone_mock, app_key, shop, key_mode):
    mock = standalone_mock.reset_with_test_app(
        app_key, name="充电宝小程序", redirect_uris=[shop.url + "/"], key_mode=key_mode
    )
    mock.auth_code(TEST_APP_ID, DEMO_USER_ID, scopes=("auth_zhima",))
    return mock


def freeze_url(mock, app_key, **top) -> str:
    order_str = freeze_order_str(app_key, freeze_biz(), notify_url="http://127.0.0.1:9/n", **top)
    return f"{mock.url}/gateway.do?{order_str}"


def balance(mock) -> int:
    return mock.user(DEMO_USER_ID)["balance_fen"]


def test_confirming_the_freeze_cashier_holds_the_deposit_and_notifies(page, mock, app_key):
    page.goto(freeze_url(mock, app_key))
    assert "信用免押" in page.title()
    assert page.get_by_test_id("merchant").inner_text() == "充电宝小程序"
    assert page.get_by_test_id("title").inner_text() == "充电宝押金"
    assert page.get_by_test_id("amount").inner_text() == "¥3000.00"
    assert page.get_by_test_id("credit-amount").inner_text() == "¥2000.00"
    assert page.get_by_test_id("fund-amount").inner_text() == "¥1000.00"
    assert page.get_by_test_id("payer").inner_text() == "*伟 · 138****5671"

    page.get_by_role("button", name="确认授权 Confirm").click()

    assert page.get_by_test_id("result-code").inner_text() == "9000"
    auth_no = page.get_by_test_id("auth-no").inner_text()
    order = mock.fund_auth(auth_no)
    assert (order["status"], order["credit_amount_fen"], order["fund_amount_fen"]) == (
        "AUTHORIZED",
        200_000,
        100_000,
    )
    assert [n["notify_type"] for n in order["notifications"]] == ["fund_auth_freeze"]
    assert balance(mock) == DEMO_BALANCE_FEN - 100_000


def test_cancelling_freezes_nothing_and_returns_6001_to_the_app(page, mock, app_key, shop):
    page.goto(freeze_url(mock, app_key, return_url=shop.url + "/deposit?ref=42"))

    page.get_by_role("button", name="取消 Cancel").click()
    page.wait_for_url(f"{shop.url}/deposit?**")

    returned = {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}
    assert returned == {
        "ref": "42",
        "out_order_no": "dep_0001",
        "out_request_no": "dep_0001_freeze",
        "resultCode": "6001",
    }
    assert mock.control.get("/_mock/fund-auth").json()["orders"] == []
    assert balance(mock) == DEMO_BALANCE_FEN


def test_confirming_with_a_return_url_goes_back_with_9000_and_the_auth_no(
    page, mock, app_key, shop
):
    page.goto(freeze_url(mock, app_key, return_url=shop.url + "/deposit"))

    page.get_by_role("button", name="确认授权 Confirm").click()
    page.wait_for_url(f"{shop.url}/deposit?**")

    returned = {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}
    assert returned["resultCode"] == "9000"
    assert mock.fund_auth(returned["auth_no"])["out_order_no"] == "dep_0001"


def test_a_tampered_freeze_url_shows_an_error_page_and_freezes_nothing(page, mock, app_key):
    params = dict(parse_qsl(urlsplit(freeze_url(mock, app_key)).query))
    params["biz_content"] = params["biz_content"].replace("3000.00", "0.01")

    page.goto(f"{mock.url}/gateway.do?{urlencode(params)}")

    assert page.get_by_role("heading").first.inner_text() == "请求无效"
    assert "isv.invalid-signature" in page.get_by_test_id("error-message").inner_text()
    assert page.get_by_role("button").count() == 0
    assert mock.control.get("/_mock/fund-auth").json()["orders"] == []


def test_a_balance_too_low_shows_the_shortfall_on_the_cashier(page, mock, app_key):
    mock.control.put(f"/_mock/users/{DEMO_USER_ID}/credit", json={"waiver_limit_fen": 0})
    order_str = freeze_order_str(app_key, freeze_biz(amount="20000.00"))
    page.goto(f"{mock.url}/gateway.do?{order_str}")
    assert page.get_by_test_id("fund-amount").inner_text() == "¥20000.00"

    page.get_by_role("button", name="确认授权 Confirm").click()

    assert "余额不足" in page.get_by_test_id("error-message").inner_text()
    assert mock.control.get("/_mock/fund-auth").json()["orders"] == []
