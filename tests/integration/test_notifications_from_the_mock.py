"""A payment made at the mock reaches Minifin as a signed notification over real HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from service.extensions import db
from service.gateway import signing
from service.notifications.models import GatewayNotification
from tests.conftest import APP_ID
from tests.live_server import LiveServer


@pytest.fixture
def served_minifin(app):
    with LiveServer(app) as server:
        yield server


def _gateway_call(mock_url: str, app_key, method: str, biz: dict, **extra) -> dict:
    params = signing.sign_request(
        {
            "app_id": APP_ID,
            "method": method,
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "biz_content": signing.compact_json(biz),
            **extra,
        },
        app_key,
    )
    body = httpx.post(f"{mock_url}/gateway.do", data=params).json()
    return body[signing.response_key(method)]


def test_a_paid_trade_notifies_minifin_which_records_it_once(
    app, served_minifin, mock_idp, demo_users, app_env
):
    instance = Path(app_env["MINIFIN_INSTANCE_DIR"])
    app_key = signing.load_private_key((instance / "app-private-key.pem").read_text())
    notify_url = f"{served_minifin.url}/v1/notifications/alipay"
    trade = _gateway_call(
        mock_idp.url, app_key, "alipay.trade.create",
        {"out_trade_no": "gft_notify_e2e", "total_amount": "9.90", "subject": "A coffee",
         "buyer_id": demo_users[0]["user_id"], "product_code": "JSAPI_PAY"},
        notify_url=notify_url,
    )  # fmt: skip
    assert trade["code"] == "10000", trade
    httpx.post(f"{mock_idp.url}/_mock/trades/{trade['trade_no']}/pay").raise_for_status()

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        sent = httpx.get(
            f"{mock_idp.url}/_mock/notifications", params={"trade_no": trade["trade_no"]}
        ).json()["notifications"]
        if sent and sent[0]["state"] == "delivered":
            break
        time.sleep(0.1)

    assert sent[0]["state"] == "delivered"
    assert sent[0]["attempts"][-1]["answer"] == "success"
    with app.app_context():
        (record,) = db.session.scalars(db.select(GatewayNotification)).all()
    assert record.notify_type == "trade_status_sync"
    assert record.fields["out_trade_no"] == "gft_notify_e2e"
    assert record.fields["trade_status"] == "TRADE_SUCCESS"
    # The platform retries what it thinks failed; a redelivery is acknowledged, not re-applied.
    again = httpx.post(f"{mock_idp.url}/_mock/notifications/{sent[0]['id']}/redeliver").json()
    assert again["attempts"][-1]["answer"] == "success"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(GatewayNotification)) == 1
