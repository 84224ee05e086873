"""A genuinely signed notification that is not ours, delivered by the mock over real HTTP, is
answered `success` once (so the platform stops retrying), recorded as refused, and changes
nothing: a trade of another merchant app that reuses our gift's id as its out_trade_no."""

from __future__ import annotations

import time

import pytest

from service.extensions import db
from service.gateway import signing
from service.gifting.models import Gift
from service.notifications.models import GatewayNotification
from tests.gifting_helpers import buy, order
from tests.live_server import LiveServer

OTHER_MERCHANT_APP = "2021000000000778"


@pytest.fixture
def served_minifin(app):
    with LiveServer(app) as server:
        yield server


def test_another_apps_trade_for_our_gift_is_acknowledged_once_refused_and_changes_nothing(
    app, client, served_minifin, mock, people, template, demo_users
):
    gift = buy(client, people, order(template, people)).get_json()
    other_key = signing.generate_private_key()
    mock.register_app(OTHER_MERCHANT_APP, signing.public_key_pem(other_key))
    other = mock.app_client(OTHER_MERCHANT_APP, other_key)
    created = other.call(
        "alipay.trade.create",
        {"out_trade_no": gift["id"], "total_amount": "58.00", "subject": "咖啡券",
         "buyer_id": demo_users[0]["user_id"]},
        notify_url=f"{served_minifin.url}/v1/notifications/alipay",
    )  # fmt: skip
    other.close()
    mock.pay(created.inner["trade_no"]).raise_for_status()

    sent = mock.wait_for_notifications(
        lambda ns: bool(ns) and ns[0]["state"] == "delivered", trade_no=created.inner["trade_no"]
    )
    time.sleep(0.3)  # room for a retry that must not come

    (notification,) = mock.notifications(trade_no=created.inner["trade_no"])
    assert [a["answer"] for a in notification["attempts"]] == ["success"]
    assert sent[0]["fields"]["app_id"] == OTHER_MERCHANT_APP
    with app.app_context():
        record = db.session.scalars(db.select(GatewayNotification)).one()
        assert (record.outcome, record.refusal) == ("refused", "app_mismatch")
        assert db.session.get(Gift, gift["id"]).status == "pending_payment"
