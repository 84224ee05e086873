"""The gateway client's signing of page URLs, order strings and its notification check."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from service.gateway import signing
from service.gateway.client import GatewayClient, gateway_timestamp


@pytest.fixture(scope="module")
def keys():
    return signing.generate_private_key(), signing.generate_private_key()


@pytest.fixture
def gateway(keys):
    app_key, platform_key = keys
    client = GatewayClient(
        "https://gateway.example/gateway.do",
        "2021000000000001",
        signing.private_key_pem(app_key),
        signing.public_key_base64(platform_key),
    )
    yield client
    client.close()


def test_page_urls_carry_a_verifiable_signature(gateway, keys):
    url = gateway.page_url(
        "alipay.user.certify.open.certify", {"certify_id": "abc"}, return_url="https://m/x"
    )

    params = dict(parse_qsl(urlsplit(url).query))
    assert params["biz_content"] == '{"certify_id":"abc"}'
    assert params["return_url"] == "https://m/x"
    assert signing.verify_request(params, keys[0].public_key())


def test_order_strings_are_url_encoded_signed_parameters(gateway, keys):
    order = gateway.order_string("alipay.fund.auth.order.app.freeze", {"order_title": "充电宝"})

    params = dict(parse_qsl(order))
    assert params["method"] == "alipay.fund.auth.order.app.freeze"
    assert "充电宝" in params["biz_content"]
    assert signing.verify_request(params, keys[0].public_key())


def test_notifications_signed_by_the_platform_verify_and_others_do_not(gateway, keys):
    app_key, platform_key = keys
    fields = {"notify_id": "n1", "notify_type": "trade_status_sync", "out_trade_no": "o1"}

    assert gateway.verify_notification(signing.sign_notification(fields, platform_key))
    assert not gateway.verify_notification(signing.sign_notification(fields, app_key))
    forged = {**signing.sign_notification(fields, platform_key), "out_trade_no": "o2"}
    assert not gateway.verify_notification(forged)


def test_timestamps_are_beijing_time_in_the_gateway_format():
    from datetime import UTC, datetime

    assert gateway_timestamp(datetime(2026, 11, 24, 16, 37, 30, tzinfo=UTC)) == (
        "2026-11-25 00:37:30"
    )
