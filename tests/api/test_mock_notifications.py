"""The mock's asynchronous notifications: posted signed to a live notify_url, retried, recorded."""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import datetime
from urllib.parse import parse_qsl

import httpx
import pytest

from service.gateway import signing
from service.mock_idp import create_mock_app
from service.mock_idp.runtime import COURIER_EXTENSION, STORE_EXTENSION
from tests.live_server import LiveServer
from tests.mock_idp_helpers import (
    DEMO_USER_ID,
    TEST_APP_ID,
    start_mock,
)

CREATE = "alipay.trade.create"
REFUND = "alipay.trade.refund"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
COMMON_FIELDS = (
    "notify_time", "notify_type", "notify_id", "app_id", "auth_app_id", "charset", "version",
    "sign_type", "sign",
)  # fmt: skip


@pytest.fixture
def mock(standalone_mock, app_key, receiver):
    receiver.reset()
    return standalone_mock.reset_with_test_app(app_key)


@pytest.fixture
def client(mock, app_key):
    with mock.test_app_client(app_key) as app_client:
        yield app_client


def create(client, notify_url, out_trade_no="gift_0001", amount="99.00") -> str:
    biz = {
        "out_trade_no": out_trade_no,
        "total_amount": amount,
        "subject": "生日礼物：咖啡券 & 蛋糕",
        "buyer_id": DEMO_USER_ID,
        "product_code": "JSAPI_PAY",
    }
    reply = client.call(CREATE, biz, notify_url=notify_url)
    assert reply.inner["code"] == "10000", reply.body
    return reply.inner["trade_no"]


def paid(mock, client, receiver) -> str:
    trade_no = create(client, receiver.url)
    assert mock.pay(trade_no).status_code == 200
    receiver.wait_for(trade_no, 1)
    return trade_no


def refund(client, trade_no, amount, out_request_no):
    biz = {"trade_no": trade_no, "refund_amount": amount, "out_request_no": out_request_no}
    reply = client.call(REFUND, biz)
    assert reply.inner["code"] == "10000", reply.body
    return reply.inner


def signed_by_platform(form: dict[str, str], mock) -> bool:
    return signing.verify_notification(form, mock.platform_public_key)


def delivered(trade_no: str):
    return lambda found: bool(found) and all(n["state"] == "delivered" for n in found)


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# What arrives


def test_paying_posts_a_signed_trade_success_notification_to_the_notify_url(mock, client, receiver):
    trade_no = create(client, receiver.url)

    assert mock.pay(trade_no).status_code == 200

    [post] = receiver.wait_for(trade_no, 1)
    form = post["form"]
    assert post["content_type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert dict(parse_qsl(post["raw"], keep_blank_values=True)) == form
    assert signed_by_platform(form, mock)
    assert all(value != "" for value in form.values())
    assert set(COMMON_FIELDS) <= set(form)
    assert form["notify_type"] == "trade_status_sync"
    assert (form["app_id"], form["auth_app_id"]) == (TEST_APP_ID, TEST_APP_ID)
    assert (form["charset"], form["version"], form["sign_type"]) == ("utf-8", "1.0", "RSA2")
    assert form["trade_no"] == trade_no and form["out_trade_no"] == "gift_0001"
    assert form["trade_status"] == "TRADE_SUCCESS"
    assert form["buyer_id"] == DEMO_USER_ID and form["buyer_open_id"]
    assert form["buyer_logon_id"] == "138****5671"
    assert re.fullmatch(r"2088\d{12}", form["seller_id"])
    assert form["subject"] == "生日礼物：咖啡券 & 蛋糕"
    for amount in ("total_amount", "receipt_amount", "buyer_pay_amount", "invoice_amount"):
        assert form[amount] == "99.00"
    for moment in ("notify_time", "gmt_create", "gmt_payment"):
        assert datetime.strptime(form[moment], TIME_FORMAT)
    assert json.loads(form["fund_bill_list"]) == [
        {"amount": "99.00", "fundChannel": "ALIPAYACCOUNT"}
    ]
    assert not {"out_biz_no", "refund_fee", "gmt_refund", "gmt_close"} & set(form)


def test_the_signature_covers_every_field_but_sign_and_sign_type(mock, client, receiver):
    trade_no = paid(mock, client, receiver)
    form = receiver.posts(trade_no)[0]["form"]

    content = "&".join(
        f"{key}={form[key]}" for key in sorted(form) if key not in ("sign", "sign_type")
    )

    assert signing.verify(content, form["sign"], mock.platform_public_key)
    tampered = {**form, "total_amount": "0.01"}
    assert not signed_by_platform(tampered, mock)


def test_a_trade_without_a_notify_url_sends_no_notification(mock, client):
    trade_no = create(client, notify_url=None)

    mock.pay(trade_no)

    assert mock.notifications(trade_no=trade_no) == []
    assert mock.trade(trade_no)["notifications"] == []


def test_closing_an_unpaid_trade_notifies_trade_closed(mock, client, receiver):
    trade_no = create(client, receiver.url)

    client.call("alipay.trade.close", {"trade_no": trade_no})

    [post] = receiver.wait_for(trade_no, 1)
    form = post["form"]
    assert signed_by_platform(form, mock)
    assert form["trade_status"] == "TRADE_CLOSED"
    assert datetime.strptime(form["gmt_close"], TIME_FORMAT)
    assert not {"gmt_payment", "buyer_pay_amount", "receipt_amount", "fund_bill_list"} & set(form)


def test_a_partial_refund_notifies_trade_success_with_cumulative_refund_fields(
    mock, client, receiver
):
    trade_no = paid(mock, client, receiver)

    refund(client, trade_no, "10.00", "refund_1")
    refund(client, trade_no, "20.50", "refund_2")

    forms = [post["form"] for post in receiver.wait_for(trade_no, 3)]
    assert all(signed_by_platform(form, mock) for form in forms)
    first, second = forms[1], forms[2]
    assert (first["trade_status"], second["trade_status"]) == ("TRADE_SUCCESS", "TRADE_SUCCESS")
    assert (first["out_biz_no"], first["refund_fee"]) == ("refund_1", "10.00")
    assert (second["out_biz_no"], second["refund_fee"]) == ("refund_2", "30.50")
    assert datetime.strptime(second["gmt_refund"], TIME_FORMAT)
    assert second["gmt_payment"] == forms[0]["gmt_payment"]
    assert "gmt_close" not in second


def test_a_full_refund_notifies_trade_closed_with_the_refund_fields(mock, client, receiver):
    trade_no = paid(mock, client, receiver)

    refund(client, trade_no, "99.00", "refund_all")

    form = receiver.wait_for(trade_no, 2)[1]["form"]
    assert signed_by_platform(form, mock)
    assert form["trade_status"] == "TRADE_CLOSED"
    assert (form["out_biz_no"], form["refund_fee"]) == ("refund_all", "99.00")
    assert form["gmt_refund"] and form["gmt_close"]


def test_a_repeated_refund_request_sends_no_second_notification(mock, client, receiver):
    trade_no = paid(mock, client, receiver)
    refund(client, trade_no, "10.00", "refund_1")
    receiver.wait_for(trade_no, 2)

    assert refund(client, trade_no, "10.00", "refund_1")["fund_change"] == "N"

    assert len(mock.notifications(trade_no=trade_no)) == 2


def test_finishing_a_trade_notifies_trade_finished(mock, client, receiver):
    trade_no = paid(mock, client, receiver)

    mock.control.post(f"/_mock/trades/{trade_no}/finish")

    form = receiver.wait_for(trade_no, 2)[1]["form"]
    assert form["trade_status"] == "TRADE_FINISHED" and signed_by_platform(form, mock)


def test_every_notification_has_its_own_notify_id(mock, client, receiver):
    trade_no = paid(mock, client, receiver)
    refund(client, trade_no, "1.00", "refund_1")
    refund(client, trade_no, "98.00", "refund_2")

    forms = [post["form"] for post in receiver.wait_for(trade_no, 3)]

    assert len({form["notify_id"] for form in forms}) == 3


# Delivery, retries and the record


def test_the_request_that_pays_does_not_wait_for_the_merchant(mock, client, receiver):
    trade_no = create(client, receiver.url)
    receiver.gate.clear()  # the merchant takes its time answering
    try:
        started = time.monotonic()
        assert mock.pay(trade_no).status_code == 200
        assert time.monotonic() - started < 2
        receiver.wait_for(trade_no, 1)
        assert mock.notifications(trade_no=trade_no)[0]["state"] == "pending"
    finally:
        receiver.gate.set()
    mock.wait_for_notifications(delivered(trade_no), trade_no=trade_no)


def test_a_delivered_notification_records_its_attempt(mock, client, receiver):
    trade_no = paid(mock, client, receiver)

    [notification] = mock.wait_for_notifications(delivered(trade_no), trade_no=trade_no)

    assert notification["notify_type"] == "trade_status_sync"
    assert notification["notify_url"] == receiver.url
    assert notification["fields"] == receiver.posts(trade_no)[0]["form"]
    assert notification["id"] == notification["fields"]["notify_id"]
    assert notification["delivered_at"] and notification["next_attempt_at"] is None
    [attempt] = notification["attempts"]
    assert (attempt["http_status"], attempt["answer"], attempt["delivered"]) == (
        200,
        "success",
        True,
    )
    assert attempt["manual"] is False and datetime.fromisoformat(attempt["at"])
    assert mock.trade(trade_no)["notifications"] == [notification]


def test_a_merchant_answering_fail_is_retried_until_it_answers_success(mock, client, receiver):
    receiver.answer((200, "fail"))
    trade_no = create(client, receiver.url)

    mock.pay(trade_no)

    first, second = receiver.wait_for(trade_no, 2)
    assert first["form"] == second["form"]  # same notify_id, same signature
    [notification] = mock.wait_for_notifications(delivered(trade_no), trade_no=trade_no)
    assert [(a["http_status"], a["answer"], a["delivered"]) for a in notification["attempts"]] == [
        (200, "fail", False),
        (200, "success", True),
    ]


def test_only_http_200_with_exactly_success_counts_as_delivered(mock, client, receiver):
    mock.settings(notification_time_scale=0.0001)
    receiver.answer((500, "success"), (200, "SUCCESS"), (200, "success\n"), (302, ""))
    trade_no = create(client, receiver.url)

    mock.pay(trade_no)

    [notification] = mock.wait_for_notifications(delivered(trade_no), trade_no=trade_no)
    outcomes = [(a["http_status"], a["delivered"]) for a in notification["attempts"]]
    assert outcomes == [(500, False), (200, False), (200, False), (302, False), (200, True)]


def test_a_merchant_that_never_answers_success_gets_eight_attempts_then_failed(
    mock, client, receiver
):
    mock.settings(notification_time_scale=0)
    receiver.answer(*[(200, "fail")] * 20)
    trade_no = create(client, receiver.url)

    mock.pay(trade_no)

    [notification] = mock.wait_for_notifications(
        lambda found: found and found[0]["state"] == "failed", trade_no=trade_no
    )
    assert len(notification["attempts"]) == 8
    assert notification["next_attempt_at"] is None
    time.sleep(0.3)
    assert len(receiver.posts(trade_no)) == 8


def test_an_unreachable_notify_url_is_retried_with_the_error_recorded(mock, client):
    mock.settings(notification_time_scale=0)
    trade_no = create(client, f"http://127.0.0.1:{unused_port()}/notify")

    mock.pay(trade_no)

    [notification] = mock.wait_for_notifications(
        lambda found: found and found[0]["state"] == "failed", trade_no=trade_no
    )
    assert len(notification["attempts"]) == 8
    assert all(a["http_status"] is None and a["error"] for a in notification["attempts"])


def test_a_long_answer_is_recorded_truncated(mock, client, receiver):
    receiver.answer((500, "x" * 5000))
    trade_no = create(client, receiver.url)

    mock.pay(trade_no)

    [notification] = mock.wait_for_notifications(delivered(trade_no), trade_no=trade_no)
    assert len(notification["attempts"][0]["answer"]) == 200


def test_the_default_time_scale_spaces_retries_by_the_compressed_schedule(mock, client, receiver):
    assert mock.settings()["notification_time_scale"] == pytest.approx(1 / 1440)
    receiver.answer((200, "fail"), (200, "fail"))
    trade_no = create(client, receiver.url)

    mock.pay(trade_no)

    moments = [post["at"] for post in receiver.wait_for(trade_no, 3)]
    assert moments[1] - moments[0] >= 240 / 1440 - 0.02  # 4 minutes, compressed
    assert moments[2] - moments[1] >= 600 / 1440 - 0.02  # 10 minutes, compressed
    assert moments[2] - moments[0] < 5


def test_changing_the_time_scale_reschedules_a_pending_retry(mock, client, receiver):
    mock.settings(notification_time_scale=1)  # the platform's real delays: 4 minutes first
    receiver.answer((200, "fail"))
    trade_no = create(client, receiver.url)
    mock.pay(trade_no)
    [notification] = mock.wait_for_notifications(
        lambda found: found and len(found[0]["attempts"]) == 1, trade_no=trade_no
    )
    due = datetime.fromisoformat(notification["next_attempt_at"])
    tried = datetime.fromisoformat(notification["attempts"][0]["at"])
    assert (due - tried).total_seconds() == pytest.approx(240, abs=1)

    mock.settings(notification_time_scale=0.001)

    mock.wait_for_notifications(delivered(trade_no), trade_no=trade_no, timeout=5)
    assert len(receiver.posts(trade_no)) == 2


def test_redelivering_makes_one_immediate_recorded_attempt(mock, client, receiver):
    trade_no = paid(mock, client, receiver)
    [notification] = mock.wait_for_notifications(delivered(trade_no), trade_no=trade_no)

    response = mock.control.post(f"/_mock/notifications/{notification['id']}/redeliver")

    assert response.status_code == 200
    again = response.json()
    assert again["state"] == "delivered"
    assert [a["manual"] for a in again["attempts"]] == [False, True]
    posts = receiver.posts(trade_no)
    assert len(posts) == 2 and posts[1]["form"] == posts[0]["form"]


def test_redelivering_a_failed_notification_can_still_deliver_it(mock, client, receiver):
    mock.settings(notification_time_scale=0)
    receiver.answer(*[(503, "busy")] * 8)
    trade_no = create(client, receiver.url)
    mock.pay(trade_no)
    [failed] = mock.wait_for_notifications(
        lambda found: found and found[0]["state"] == "failed", trade_no=trade_no
    )

    again = mock.control.post(f"/_mock/notifications/{failed['id']}/redeliver").json()

    assert again["state"] == "delivered"
    assert len(again["attempts"]) == 9 and again["attempts"][-1]["manual"] is True
    assert mock.control.get(f"/_mock/notifications/{failed['id']}").json() == again


def test_redelivering_an_unknown_notification_is_a_json_404(mock):
    response = mock.control.post("/_mock/notifications/nope/redeliver")

    assert response.status_code == 404
    assert response.json()["error"] == "notification_not_found"


def test_notifications_are_listed_oldest_first_and_filtered(mock, client, receiver):
    mock.settings(notification_time_scale=0)
    receiver.answer(*[(200, "fail")] * 8)
    failing = create(client, receiver.url, out_trade_no="gift_failing")
    mock.pay(failing)
    mock.wait_for_notifications(lambda found: found and found[0]["state"] == "failed")
    fine = paid(mock, client, receiver)
    mock.wait_for_notifications(delivered(fine), trade_no=fine)

    everything = mock.notifications()

    assert [n["trade_no"] for n in everything] == [failing, fine]
    assert [n["trade_no"] for n in mock.notifications(state="failed")] == [failing]
    assert [n["trade_no"] for n in mock.notifications(state="delivered")] == [fine]
    assert mock.control.get("/_mock/notifications", params={"state": "odd"}).status_code == 400


def test_the_time_scale_must_be_a_non_negative_number(mock):
    response = mock.control.post("/_mock/settings", json={"notification_time_scale": -1})

    assert response.status_code == 400


# The delivery thread's life


def test_a_restarted_mock_resumes_pending_deliveries(tmp_path, app_key, receiver):
    receiver.reset()
    live, first = start_mock(tmp_path)
    first.register_app(TEST_APP_ID, signing.public_key_pem(app_key))
    first.settings(notification_time_scale=1.5 / 240)  # the first retry 1.5 s after the first try
    receiver.answer((503, "busy"))
    app_client = first.app_client(TEST_APP_ID, app_key)
    trade_no = create(app_client, receiver.url)
    app_client.close()
    first.pay(trade_no)
    receiver.wait_for(trade_no, 1)
    first.wait_for_notifications(lambda found: found and found[0]["attempts"])
    first.close()
    live.stop()
    live.app.extensions[STORE_EXTENSION].close()

    restarted = create_mock_app(tmp_path)  # nothing calls it: it resumes on its own
    try:
        receiver.wait_for(trade_no, 2)
        with LiveServer(restarted) as server:
            found = httpx.get(f"{server.url}/_mock/notifications").json()["notifications"]
            deadline = time.monotonic() + 5
            while found[0]["state"] != "delivered" and time.monotonic() < deadline:
                time.sleep(0.05)
                found = httpx.get(f"{server.url}/_mock/notifications").json()["notifications"]
        assert found[0]["state"] == "delivered"
        assert [a["http_status"] for a in found[0]["attempts"]] == [503, 200]
    finally:
        restarted.extensions[STORE_EXTENSION].close()


def test_the_delivery_thread_starts_with_the_first_notification_and_stops_with_the_store(
    tmp_path, app_key, receiver
):
    live, mock = start_mock(tmp_path)
    courier = live.app.extensions[COURIER_EXTENSION]
    mock.register_app(TEST_APP_ID, signing.public_key_pem(app_key))
    app_client = mock.app_client(TEST_APP_ID, app_key)
    assert not courier.running

    trade_no = create(app_client, receiver.url)
    app_client.close()
    mock.pay(trade_no)
    receiver.wait_for(trade_no, 1)
    assert courier.running

    mock.close()
    live.stop()
    live.app.extensions[STORE_EXTENSION].close()
    assert not courier.running
