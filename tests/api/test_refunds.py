"""Unclaimed gifts expire and are refunded; scheduled gifts can be canceled and refunded; once,
and each time the sender is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from service.extensions import db
from service.gifting.models import Gift, Voucher
from service.gifting.refunds import REFUND_TEMPLATE_ID, expire_unclaimed_gifts
from service.scheduler import outbox
from service.scheduler.models import OutboxJob
from tests.gifting_helpers import (
    buy,
    claim_token_of,
    messages_about,
    order,
    run_outbox_now,
    sent_gift,
)


def _expire_now(app) -> int:
    with app.app_context():
        db.session.execute(
            db.update(Gift).values(claim_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
        expired = expire_unclaimed_gifts("test-worker", 100)
        outbox.run_due_jobs("test-worker", 100)
    return expired


def test_a_sent_gift_gets_24_hours_to_be_claimed(app, client, template, people, mock_idp):
    gift = sent_gift(app, client, template, people, mock_idp)
    shown = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()

    window = datetime.fromisoformat(shown["claim_expires_at"]) - datetime.fromisoformat(
        shown["sent_at"]
    )
    assert window == timedelta(hours=24)


def test_an_unclaimed_gift_expires_its_vouchers_and_refunds_the_sender_once(
    app, client, template, people, mock_idp
):
    gift = sent_gift(app, client, template, people, mock_idp)

    assert _expire_now(app) == 1
    assert _expire_now(app) == 0

    shown = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()
    assert shown["status"] == "refunded"
    assert [e["type"] for e in shown["events"]][-2:] == ["expired_unclaimed", "refunded"]
    assert shown["events"][-1]["detail"] == {"refunded_fen": gift["amount_fen"]}
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}").json()
    assert trade["refunded_fen"] == gift["amount_fen"]
    assert len(trade["refunds"]) == 1
    assert trade["refunds"][0]["out_request_no"] == gift["id"]
    with app.app_context():
        statuses = set(db.session.scalars(db.select(Voucher.status)))
    assert statuses == {"void"}
    late = client.post(f"/v1/claims/{claim_token_of(app, gift['id'])}", headers=people["friend"])
    assert late.status_code == 404


def _refund_notices(mock_idp, platform_user_id: str, gift: dict) -> list[dict]:
    return messages_about(mock_idp, platform_user_id, gift, REFUND_TEMPLATE_ID)


def test_the_sender_of_an_expired_gift_is_told_of_the_refund_once(
    app, client, template, people, mock_idp, demo_users
):
    gift = sent_gift(app, client, template, people, mock_idp)

    _expire_now(app)
    run_outbox_now(app)

    (notice,) = _refund_notices(mock_idp, demo_users[0]["user_id"], gift)
    assert notice["user_template_id"] == "TPL_GIFT_REFUNDED"
    assert notice["page"] == f"pages/gift/detail?id={gift['id']}"
    assert notice["data"] == {
        "keyword1": {"value": "Flat white"},
        "keyword2": {"value": "¥58.00"},
        "keyword3": {"value": "not claimed in time"},
    }
    assert notice["form_id"] == gift["trade_no"]
    assert _refund_notices(mock_idp, demo_users[1]["user_id"], gift) == []
    with app.app_context():
        queued = db.session.scalars(
            db.select(OutboxJob.status).where(
                OutboxJob.dedupe_key == f"message:{gift['id']}:refunded"
            )
        ).all()
    assert queued == ["done"]


def test_a_refund_retried_after_a_gateway_failure_refunds_once(
    app, client, template, people, mock_idp, mock_control
):
    gift = sent_gift(app, client, template, people, mock_idp)
    mock_control.post(
        "/_mock/faults", json={"method": "alipay.trade.refund", "kind": "error", "times": 3}
    )

    _expire_now(app)  # the refund job fails (gateway unavailable) and backs off
    mock_control.delete("/_mock/faults")
    run_outbox_now(app)
    run_outbox_now(app)

    assert (
        client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()["status"]
        == "refunded"
    )
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}").json()
    assert trade["refunded_fen"] == gift["amount_fen"]


def test_a_scheduled_gift_can_be_canceled_and_is_refunded_and_its_sender_told(
    app, client, template, people, mock_idp, demo_users
):
    gift = buy(client, people, order(template, people)).get_json()
    httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()
    run_outbox_now(app)  # reconciled: scheduled

    canceled = client.post(f"/v1/gifts/{gift['id']}/cancel", headers=people["sender"])
    run_outbox_now(app)

    assert canceled.status_code == 200 and canceled.get_json()["status"] == "canceled"
    shown = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()
    assert shown["status"] == "refunded"
    run_outbox_now(app)  # the notice, queued with the refund's outcome
    (notice,) = _refund_notices(mock_idp, demo_users[0]["user_id"], gift)
    assert notice["data"]["keyword3"] == {"value": "canceled by the sender"}
    again = client.post(f"/v1/gifts/{gift['id']}/cancel", headers=people["sender"])
    assert again.status_code == 409 and again.get_json()["code"] == "gift_not_cancelable"


def test_only_the_sender_cancels_and_only_before_sending(app, client, template, people, mock_idp):
    gift = sent_gift(app, client, template, people, mock_idp)

    assert (
        client.post(f"/v1/gifts/{gift['id']}/cancel", headers=people["stranger"]).status_code == 404
    )
    sent = client.post(f"/v1/gifts/{gift['id']}/cancel", headers=people["sender"])
    assert sent.status_code == 409


def test_a_scheduled_gift_can_be_rescheduled_until_a_minute_before(
    app, client, template, people, mock_idp
):
    gift = buy(client, people, order(template, people)).get_json()
    httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()
    run_outbox_now(app)
    later = (datetime.now(UTC) + timedelta(days=10)).isoformat()

    moved = client.patch(f"/v1/gifts/{gift['id']}", json={"send_at": later},
                         headers=people["sender"])  # fmt: skip
    past = client.patch(f"/v1/gifts/{gift['id']}", json={"send_at": "2020-01-01T00:00:00Z"},
                        headers=people["sender"])  # fmt: skip
    stranger = client.patch(f"/v1/gifts/{gift['id']}", json={"send_at": later},
                            headers=people["stranger"])  # fmt: skip
    with app.app_context():
        db.session.execute(
            db.update(Gift).values(send_at=datetime.now(UTC) + timedelta(seconds=30))
        )
        db.session.commit()
    too_late = client.patch(f"/v1/gifts/{gift['id']}", json={"send_at": later},
                            headers=people["sender"])  # fmt: skip

    assert moved.status_code == 200
    assert datetime.fromisoformat(moved.get_json()["send_at"]) == datetime.fromisoformat(later)
    assert moved.get_json()["events"][-1]["type"] == "rescheduled"
    assert past.status_code == 422 and "send_at" in past.get_json()["errors"]
    assert stranger.status_code == 404
    assert too_late.status_code == 409
    assert too_late.get_json()["code"] == "gift_not_reschedulable"
