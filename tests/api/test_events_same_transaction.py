"""An event commits with its change or not at all, and a change told twice is recorded once.

A use case that fails after recording its event and before committing (a crash at the worst
moment) leaves neither the change nor the event; run again, it leaves both, once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.events.models import Event
from service.extensions import db
from service.gifting import claims, sending
from service.gifting.models import SCHEDULED, SENT, Gift, Voucher
from tests.event_flows import _deliver, _paid_notification, object_ids
from tests.gifting_helpers import buy, claim_token_of, order, run_outbox_now, seed_paid_gifts


class Crash(RuntimeError):
    """The process dies here."""


def _crashing_after(original):
    def wrapper(*args, **kwargs):
        original(*args, **kwargs)
        raise Crash("after the events were added, before the commit")

    return wrapper


def _event_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Event)) or 0


def test_a_sending_batch_that_dies_before_its_commit_leaves_no_gift_sent_and_no_event(
    app, monkeypatch
):
    with app.app_context():
        ids = seed_paid_gifts("2088000000000311", 5, 2, lambda n, now: now - timedelta(seconds=1))
        monkeypatch.setattr(sending, "record_issued", _crashing_after(sending.record_issued))
        with pytest.raises(Crash):
            sending.send_due_gifts("test-worker", 100)
        db.session.rollback()  # what the app context's teardown does for a dead request

        statuses = set(db.session.scalars(db.select(Gift.status).where(Gift.id.in_(ids))))
        vouchers = db.session.scalar(db.select(db.func.count()).select_from(Voucher))
        assert (statuses, vouchers, _event_count()) == ({SCHEDULED}, 0, 0)

        monkeypatch.undo()
        assert sending.send_due_gifts("test-worker", 100) == 5
        sent = set(db.session.scalars(db.select(Gift.status).where(Gift.id.in_(ids))))
        assert sent == {SENT} and _event_count() == 5 + 10


def test_a_claim_that_dies_before_its_commit_leaves_the_gift_unclaimed_and_no_event(
    app, client, template, people, mock, monkeypatch
):
    from tests.gifting_helpers import sent_gift

    gift = sent_gift(app, client, template, people, mock.live)
    token = claim_token_of(app, gift["id"])
    monkeypatch.setattr(claims, "record_gift", _crashing_after(claims.record_gift))
    with app.app_context():
        friend = people["friend_id"]
        with pytest.raises(Crash):
            claims.claim_gift(token, friend)
        db.session.rollback()
        assert db.session.get(Gift, gift["id"]).status == SENT
    assert object_ids(app, "gift.claimed") == []

    monkeypatch.undo()
    assert client.post(f"/v1/claims/{token}", headers=people["friend"]).status_code == 200
    assert object_ids(app, "gift.claimed") == [gift["id"]]


def test_a_payment_told_by_two_notifications_and_the_settle_job_is_recorded_once(
    app, client, template, people, mock
):
    gift = buy(client, people, order(template, people)).get_json()
    mock.pay(gift["trade_no"]).raise_for_status()
    _deliver(client, _paid_notification(mock, gift["trade_no"]))
    again = mock.control.post(f"/_mock/trades/{gift['trade_no']}/notify", json={}).json()
    _deliver(client, again["fields"])  # the same payment under a new notify_id
    run_outbox_now(app)  # and the settle job's query, which finds it paid

    assert object_ids(app, "gift.paid") == [gift["id"]]
    assert object_ids(app, "gift.scheduled") == [gift["id"]]
