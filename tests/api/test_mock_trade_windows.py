"""The mock's payment windows (`time_expire`, `timeout_express`) and its forged-but-signed
trade notifications, over real HTTP."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from service.gateway import signing
from service.mock_idp.protocol import BEIJING
from tests.mock_idp_helpers import DEMO_USER_ID, NotificationReceiver

CREATE, QUERY = "alipay.trade.create", "alipay.trade.query"


@pytest.fixture
def mock(standalone_mock, app_key):
    return standalone_mock.reset_with_test_app(app_key)


@pytest.fixture
def client(mock, app_key):
    with mock.test_app_client(app_key) as app_client:
        yield app_client


@pytest.fixture(scope="module")
def merchant():
    receiver = NotificationReceiver()
    yield receiver
    receiver.stop()


def _create(client, out_trade_no="gift_window", **extra) -> dict:
    biz = {"out_trade_no": out_trade_no, "total_amount": "29.00", "subject": "咖啡券",
           "buyer_id": DEMO_USER_ID, **extra}  # fmt: skip
    reply = client.call(CREATE, biz)
    assert reply.inner["code"] == "10000", reply.body
    return reply.inner


def _beijing(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def test_a_trade_past_its_time_expire_is_closed_and_can_no_longer_be_paid(mock, client):
    soon = datetime.now(BEIJING) + timedelta(seconds=2)
    created = _create(client, time_expire=_beijing(soon))
    assert mock.trade(created["trade_no"])["expires_at"]

    time.sleep(max(0.0, soon.timestamp() - time.time()) + 1.05)
    paid = mock.pay(created["trade_no"])

    assert paid.status_code == 409
    trade = mock.trade(created["trade_no"])
    assert trade["trade_status"] == "TRADE_CLOSED" and trade["paid_at"] is None
    assert mock.user(DEMO_USER_ID)["balance_fen"] == 1_285_000


def test_a_query_after_the_window_finds_the_trade_closed(mock, client):
    created = _create(client, time_expire=_beijing(datetime.now(BEIJING) + timedelta(seconds=1)))
    time.sleep(2.05)

    reply = client.call(QUERY, {"trade_no": created["trade_no"]})

    assert reply.inner["trade_status"] == "TRADE_CLOSED"


def test_timeout_express_opens_a_window_relative_to_now(mock, client):
    created = _create(client, timeout_express="90m")

    expires = datetime.fromisoformat(mock.trade(created["trade_no"])["expires_at"])
    assert abs((expires - datetime.now(BEIJING)).total_seconds() - 5400) < 60
    assert mock.pay(created["trade_no"]).status_code == 200


@pytest.mark.parametrize(
    "window",
    [{"time_expire": "2026/12/01 10:00"}, {"timeout_express": "15x"},
     {"timeout_express": "16d"}],
)  # fmt: skip
def test_a_malformed_or_too_long_window_is_an_invalid_parameter(client, window):
    reply = client.call(CREATE, {"out_trade_no": "gift_bad_window", "total_amount": "1.00",
                                 "subject": "x", "buyer_id": DEMO_USER_ID, **window})  # fmt: skip
    assert reply.inner["sub_code"] == "ACQ.INVALID_PARAMETER", reply.body


def test_a_trade_notification_can_be_sent_again_with_fields_replaced_and_genuinely_signed(
    mock, client, merchant
):
    reply = client.call(CREATE, {"out_trade_no": "gift_forged", "total_amount": "29.00",
                                 "subject": "咖啡券", "buyer_id": DEMO_USER_ID},
                        notify_url=merchant.url)  # fmt: skip
    trade_no = reply.inner["trade_no"]
    assert mock.pay(trade_no).status_code == 200

    forged = mock.control.post(
        f"/_mock/trades/{trade_no}/notify",
        json={"fields": {"total_amount": "0.01", "trans_currency": "USD", "gmt_payment": None}},
    )

    assert forged.status_code == 200, forged.text
    fields = forged.json()["fields"]
    assert fields["total_amount"] == "0.01" and fields["trans_currency"] == "USD"
    assert "gmt_payment" not in fields and fields["trade_status"] == "TRADE_SUCCESS"
    assert signing.verify_notification(fields, mock.platform_public_key)
    posts = merchant.wait_for(trade_no, 2)
    assert {post["form"]["total_amount"] for post in posts} == {"29.00", "0.01"}


def test_forging_needs_string_fields_and_a_trade_with_a_notify_url(mock, client):
    trade_no = _create(client, out_trade_no="gift_silent")["trade_no"]

    bad = mock.control.post(f"/_mock/trades/{trade_no}/notify", json={"fields": {"x": 1}})
    silent = mock.control.post(f"/_mock/trades/{trade_no}/notify", json={})

    assert bad.status_code == 400 and silent.status_code == 409
