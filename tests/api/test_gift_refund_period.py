"""Refunds must stay possible: a gift's claim window closes inside the trade's refund period
(MINIFIN_REFUND_PERIOD_DAYS, 90 by default, a day kept for retries), and a refund the platform
refuses after that period goes to an operator's queue, with the sender told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from service.extensions import db
from service.gifting.models import Gift, OperatorRefund
from service.scheduler import outbox
from tests.gifting_helpers import buy, order, run_outbox_now

CLAIM_WINDOW = timedelta(hours=24)  # the test template's default claim window


def _latest_send_at(now: datetime) -> datetime:
    return now + timedelta(days=90) - timedelta(days=1) - CLAIM_WINDOW


def test_a_gift_whose_claim_window_would_outlast_the_refund_period_is_refused(
    client, template, people
):
    too_late = _latest_send_at(datetime.now(UTC)) + timedelta(hours=1)

    response = buy(client, people, order(template, people, send_at=too_late.isoformat()))

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "refunded" in response.get_json()["errors"]["send_at"][0]


def test_a_gift_just_inside_the_refund_period_is_accepted(client, template, people):
    in_time = _latest_send_at(datetime.now(UTC)) - timedelta(hours=1)

    assert (
        buy(client, people, order(template, people, send_at=in_time.isoformat())).status_code == 201
    )


def test_rescheduling_cannot_move_a_gift_past_its_refund_period(
    app, client, template, people, mock
):
    gift = buy(client, people, order(template, people)).get_json()
    mock.pay(gift["trade_no"]).raise_for_status()
    run_outbox_now(app)
    with app.app_context():  # paid 60 days ago: 29 days of the refund period are left
        db.session.execute(db.update(Gift).values(paid_at=datetime.now(UTC) - timedelta(days=60)))
        db.session.commit()
    later = datetime.now(UTC) + timedelta(days=40)

    moved = client.patch(f"/v1/gifts/{gift['id']}", json={"send_at": later.isoformat()},
                         headers=people["sender"])  # fmt: skip

    assert moved.status_code == 422
    assert "send_at" in moved.get_json()["errors"]


def test_a_refund_refused_after_the_refund_period_goes_to_the_operator_queue_and_the_sender_is_told(
    app, client, template, people, mock, demo_users, app_env, monkeypatch
):
    gift = buy(client, people, order(template, people)).get_json()
    mock.pay(gift["trade_no"]).raise_for_status()
    run_outbox_now(app)
    mock.control.post(f"/_mock/trades/{gift['trade_no']}/finish").raise_for_status()

    canceled = client.post(f"/v1/gifts/{gift['id']}/cancel", headers=people["sender"])
    run_outbox_now(app)  # the refund, refused
    run_outbox_now(app)  # the sender's notice, queued with it

    assert canceled.status_code == 200
    with app.app_context():
        (queued,) = db.session.scalars(db.select(OperatorRefund)).all()
        assert (queued.gift_id, queued.amount_fen, queued.refusal) == (
            gift["id"], 5800, "ACQ.TRADE_HAS_FINISHED",
        )  # fmt: skip
        assert outbox.list_jobs("pending", 10) == [] and outbox.list_jobs("dead", 10) == []
    events = client.get(f"/v1/gifts/{gift['id']}", headers=people["sender"]).get_json()["events"]
    assert events[-1]["type"] == "refund_left_to_operator"
    inbox = mock.control.get(f"/_mock/inbox/{demo_users[0]['user_id']}").json()["messages"]
    told = [m for m in inbox if gift["id"] in m["page"]]
    assert len(told) == 1 and "refund you directly" in str(told[0]["data"])
    assert "minifin_refunds_awaiting_operator 1.0" in client.get("/metrics").get_data(as_text=True)
    for key, value in app_env.items():
        monkeypatch.setenv(key, value)
    from service.cli import main

    listed = CliRunner().invoke(main, ["refunds", "list"])
    assert listed.exit_code == 0, listed.output
    assert gift["id"] in listed.output and "¥58.00" in listed.output
    assert "1 refund(s) awaiting an operator" in listed.output


@pytest.mark.parametrize("days", ["1", "0", "x"])
def test_the_refund_period_must_be_a_number_of_days_of_at_least_two(days, app_env):
    from config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="MINIFIN_REFUND_PERIOD_DAYS"):
        load_settings({**app_env, "MINIFIN_REFUND_PERIOD_DAYS": days})
