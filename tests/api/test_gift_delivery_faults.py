"""Gateway faults while a gift is delivered or refunded: the effect is retried with growing,
jittered delays, parked as dead after the last attempt, and after a requeue happens exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from service.extensions import db
from service.gifting.models import Gift, Voucher
from service.gifting.refunds import REFUND_GIFT, expire_unclaimed_gifts
from service.scheduler import outbox
from service.scheduler.models import OutboxJob
from tests.gifting_helpers import due_gift, run_outbox_now, sent_gift

MESSAGE = "alipay.open.app.mini.templatemessage.send"
REFUND = "alipay.trade.refund"


def _job(app, kind: str) -> OutboxJob:
    with app.app_context():
        job = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == kind)).one()
        db.session.expunge(job)
        return job


def _run_due(app) -> int:
    with app.app_context():
        return outbox.run_due_jobs("test-worker", 100)


def _messages(mock_idp, platform_user_id: str, out_biz_no: str) -> list[dict]:
    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{platform_user_id}").json()["messages"]
    return [m for m in inbox if m["out_biz_no"] == out_biz_no]


@pytest.fixture
def paid_gift(app, client, template, people, mock_idp):
    """A paid gift whose time has come, not yet sent."""
    return due_gift(app, client, template, people, mock_idp)


def test_a_failed_message_is_retried_later_with_backoff_and_delivered_once(
    app, paid_gift, mock_idp, mock_control, demo_users
):
    from service.gifting.sending import send_due_gifts

    # each job attempt makes 1 + MINIFIN_GATEWAY_RETRIES calls (3): two attempts fail
    mock_control.post("/_mock/faults", json={"method": MESSAGE, "kind": "error", "times": 6})
    with app.app_context():
        assert send_due_gifts("test-worker", 100) == 1
    started = datetime.now(UTC)

    _run_due(app)  # attempt 1 fails
    first = _job(app, "gateway.template_message")
    assert (first.status, first.attempts) == ("pending", 1)
    assert "20000" in first.last_error or "unavailable" in first.last_error.lower()
    assert first.run_at > started  # not due again at once: it backs off
    assert _run_due(app) == 0  # and nothing runs before its time
    run_outbox_now(app)  # attempt 2 fails
    second = _job(app, "gateway.template_message")
    assert second.attempts == 2 and second.run_at - datetime.now(UTC) > timedelta(seconds=0.5)
    run_outbox_now(app)  # attempt 3 is delivered

    assert _job(app, "gateway.template_message").status == "done"
    friend = demo_users[1]["user_id"]
    assert len(_messages(mock_idp, friend, f"{paid_gift['id']}-sent")) == 1
    run_outbox_now(app)
    assert len(_messages(mock_idp, friend, f"{paid_gift['id']}-sent")) == 1


def test_a_message_that_keeps_failing_goes_dead_and_a_requeue_delivers_it_once(
    app, paid_gift, mock_idp, mock_control, demo_users
):
    from service.gifting.sending import send_due_gifts

    mock_control.post("/_mock/faults", json={"method": MESSAGE, "kind": "error"})
    with app.app_context():
        send_due_gifts("test-worker", 100)
        limit = db.session.scalar(select(OutboxJob.max_attempts))
    for _ in range(limit + 2):
        run_outbox_now(app)

    dead = _job(app, "gateway.template_message")
    assert (dead.status, dead.attempts) == ("dead", limit)
    with app.app_context():
        assert [j.id for j in outbox.list_jobs("dead")] == [dead.id]
        gift = db.session.get(Gift, paid_gift["id"])
        assert gift.status == "sent"  # the gift and its vouchers are not lost with the message
        assert len(db.session.scalars(select(Voucher)).all()) == 2

    mock_control.delete("/_mock/faults")
    with app.app_context():
        assert outbox.requeue_dead() == 1
    _run_due(app)
    run_outbox_now(app)

    assert _job(app, "gateway.template_message").status == "done"
    assert len(_messages(mock_idp, demo_users[1]["user_id"], f"{paid_gift['id']}-sent")) == 1


def test_a_refund_that_keeps_failing_goes_dead_and_a_requeue_refunds_once(
    app, client, template, people, mock_idp, mock_control
):
    gift = sent_gift(app, client, template, people, mock_idp)
    mock_control.post("/_mock/faults", json={"method": REFUND, "kind": "error"})
    with app.app_context():
        db.session.execute(
            db.update(Gift).values(claim_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
        assert expire_unclaimed_gifts("test-worker", 100) == 1
        limit = db.session.scalar(select(OutboxJob.max_attempts))
    for _ in range(limit + 2):
        run_outbox_now(app)

    refund = _job(app, REFUND_GIFT)
    assert (refund.status, refund.attempts) == ("dead", limit)
    status = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()["status"]
    assert status == "expired_unclaimed"
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}").json()
    assert trade["refunded_fen"] == 0

    mock_control.delete("/_mock/faults")
    with app.app_context():
        outbox.requeue_dead()
    run_outbox_now(app)
    run_outbox_now(app)

    status = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()["status"]
    assert status == "refunded"
    trade = httpx.get(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}").json()
    assert trade["refunded_fen"] == gift["amount_fen"]
