"""`python-alipay-sdk`, unchanged, on a deposit hold: its orderStr confirmed, unfrozen, queried."""

from __future__ import annotations

import pytest

from service.gateway import signing
from tests.mock_idp_helpers import DEMO_USER_ID, FREEZE_METHOD, TEST_APP_ID, freeze_biz

alipay = pytest.importorskip("alipay", reason="python-alipay-sdk is not installed")
AliPay = alipay.AliPay
DEMO_BALANCE_FEN = 1_285_000


@pytest.fixture
def mock(standalone_mock, app_key):
    mock = standalone_mock.reset_with_test_app(app_key, key_format="base64")
    mock.auth_code(TEST_APP_ID, DEMO_USER_ID, scopes=("auth_zhima",))
    return mock


@pytest.fixture
def sdk(mock, app_key):
    client = AliPay(
        appid=TEST_APP_ID,
        app_notify_url=None,
        app_private_key_string=signing.private_key_pem(app_key),
        alipay_public_key_string=mock.platform_public_key_pem,
        sign_type="RSA2",
    )
    client._gateway = mock.url + "/gateway.do"
    return client


def test_the_sdks_signed_order_str_is_confirmed_like_minifins(mock, sdk):
    order_str = sdk.client_api(FREEZE_METHOD, freeze_biz(), notify_url="http://127.0.0.1:9/n")

    frozen = mock.frozen(order_str)

    assert (frozen["credit_amount_fen"], frozen["fund_amount_fen"]) == (200_000, 100_000)
    assert mock.fund_auth(frozen["auth_no"])["order_title"] == "充电宝押金"


def test_the_sdk_unfreezes_and_queries_the_operation_with_verified_answers(mock, sdk):
    auth_no = mock.frozen(sdk.client_api(FREEZE_METHOD, freeze_biz()))["auth_no"]

    released = sdk.server_api(
        "alipay.fund.auth.order.unfreeze",
        {"auth_no": auth_no, "out_request_no": "unf_sdk_1", "amount": "1200.00", "remark": "归还"},
    )
    found = sdk.server_api(
        "alipay.fund.auth.operation.detail.query",
        {"auth_no": auth_no, "out_request_no": "unf_sdk_1"},
    )

    assert released["code"] == "10000", released
    assert (released["fund_amount"], released["credit_amount"]) == ("1000.00", "200.00")
    assert found["operation_id"] == released["operation_id"]
    assert (found["operation_type"], found["rest_amount"]) == ("UNFREEZE", "1800.00")
    assert mock.user(DEMO_USER_ID)["balance_fen"] == DEMO_BALANCE_FEN
    calls = mock.control.get("/_mock/calls").json()["calls"]
    assert [call["http_method"] for call in calls if call["method"] != FREEZE_METHOD] == [
        "GET",
        "GET",
    ]
