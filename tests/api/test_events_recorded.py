"""Every change a merchant's systems care about leaves one event, about the right object, with
no personal data in it (tests/event_flows.py runs the flows)."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from service.events.types import EVENT_TYPES
from tests.event_flows import (
    NOT_COVERED_HERE,
    credit_flows,
    deposit_flows,
    erase,
    events,
    gift_flows,
    identity_flows,
    object_ids,
)
from tests.identity_helpers import WANG_FANG, start


@pytest.fixture(autouse=True)
def _no_faults_left(mock):
    yield
    mock.control.delete("/_mock/faults")


def _types_of(app, object_id: str) -> list[str]:
    return [event.type for event in events(app) if event.object_id == object_id]


def test_each_gift_flow_records_its_events_once_about_its_gift(
    app, client, mock, template, people
):
    ids = gift_flows(app, client, mock, template, people, set())

    assert _types_of(app, ids["template"]) == ["template.created", "template.updated"]
    assert _types_of(app, ids["claimed"]) == [
        "gift.paid", "gift.scheduled", "gift.rescheduled", "gift.sent", "gift.claimed",
    ]  # fmt: skip  (the payment was told twice, and recorded once)
    assert _types_of(app, ids["expired"]) == [
        "gift.paid", "gift.scheduled", "gift.sent", "gift.expired", "gift.refunded",
    ]  # fmt: skip
    assert _types_of(app, ids["canceled"]) == [
        "gift.paid", "gift.scheduled", "gift.canceled", "gift.refunded",
    ]  # fmt: skip
    assert _types_of(app, ids["unpaid"]) == ["gift.payment_closed"]
    assert _types_of(app, ids["reviewed"]) == ["gift.needs_review"]
    (parked,) = events(app, "gift.needs_review")
    assert parked.data["status"] == "needs_review" and parked.data["paid_at"] is None
    issued = Counter(event.data["gift_id"] for event in events(app, "voucher.issued"))
    assert issued == {ids["claimed"]: 2, ids["expired"]: 2}
    voided = {event.data["gift_id"] for event in events(app, "voucher.voided")}
    assert voided == {ids["expired"]}
    (redeemed,) = events(app, "voucher.redeemed")
    assert redeemed.object_id == ids["redeemed_voucher"]
    assert (redeemed.data["amount_fen"], redeemed.data["balance_after_fen"]) == (3200, 0)
    assert redeemed.data["status"] == "spent"
    (sent,) = [e for e in events(app, "gift.sent") if e.object_id == ids["claimed"]]
    assert sent.data["status"] == "sent" and sent.data["claim_expires_at"] is not None
    assert sent.data["recipient"] == {"kind": "user", "user_id": people["friend_id"]}
    (refunded,) = [e for e in events(app, "gift.refunded") if e.object_id == ids["canceled"]]
    assert refunded.data["status"] == "refunded" and refunded.data["refunded_at"]


def test_identity_flows_record_each_outcome_and_the_erasure(app, client, mock, login):
    ids = identity_flows(app, client, mock, login, set())
    erase(client, ids["token"])
    erase(client, ids["token"])  # nothing more to erase: nothing more to say
    other = login(1)["access_token"]
    pending = start(client, other, WANG_FANG).get_json()
    erase(client, other)  # cancels the attempt still pending

    assert object_ids(app, "identity.verification.failed") == [ids["failed"]]
    assert object_ids(app, "identity.verification.expired") == [ids["expired"]]
    assert object_ids(app, "identity.verification.canceled") == [ids["canceled"], pending["id"]]
    assert object_ids(app, "identity.verification.passed") == [ids["passed"]]
    assert object_ids(app, "identity.erased") == [ids["user"], login(1)["user"]["id"]]
    (by_erasure,) = [e for e in events(app) if e.object_id == pending["id"]]
    assert by_erasure.data["status"] == "canceled" and by_erasure.data["finished_at"]
    (failed,) = events(app, "identity.verification.failed")
    assert failed.data["fail_reason"] == "face_not_match" and failed.data["finished_at"]
    assert failed.object_type == "identity_verification"


def test_credit_and_deposit_flows_record_their_events(app, client, mock, login, demo_users):
    token = identity_flows(app, client, mock, login, set())["token"]

    credit = credit_flows(app, client, mock, login, demo_users, token)
    deposits = deposit_flows(app, client, mock, demo_users, token)

    assert object_ids(app, "credit.check.decided") == [credit["check"]]
    assert object_ids(app, "credit.consent.expired") == [credit["expired_consent"]]
    granted = object_ids(app, "credit.consent.granted")
    assert granted == [credit["replaced_consent"], credit["expired_consent"], deposits["consent"]]
    assert object_ids(app, "credit.consent.replaced") == [credit["replaced_consent"]]
    (replaced,) = events(app, "credit.consent.replaced")
    assert replaced.data["status"] == "replaced"
    assert object_ids(app, "credit.consent.withdrawn") == [deposits["consent"]]
    assert _types_of(app, deposits["held"]) == [
        "deposit.held", "deposit.released", "deposit.charged", "deposit.released",
        "deposit.settled",
    ]  # fmt: skip  (the freeze told twice; the settling charge released the rest with it)
    assert _types_of(app, deposits["closed"]) == ["deposit.closed"]
    assert _types_of(app, deposits["reviewed"]) == ["deposit.needs_review"]
    (parked,) = events(app, "deposit.needs_review")
    assert parked.data["status"] == "needs_review"
    charged = events(app, "deposit.charged")[0].data
    assert charged["operation"]["kind"] == "charge" and charged["operation"]["amount_fen"] == 3000
    settled = events(app, "deposit.settled")[0].data
    assert (settled["status"], settled["released_fen"], settled["charged_fen"]) == (
        "settled", 6900, 3000)  # fmt: skip
    assert "order_str" not in settled and "operations" not in settled
    (decided,) = events(app, "credit.check.decided")
    assert decided.data["outcome"] in ("admitted", "not_admitted", "not_evaluable")


def _forms_of(value: str) -> set[str]:
    """A secret as it would appear in JSON text: as given and escaped."""
    return {value, json.dumps(value)[1:-1]}


def test_every_event_type_is_recorded_and_none_carries_personal_data(
    app, client, mock, template, people, login, demo_users
):
    secrets_used: set[str] = set()
    gift_flows(app, client, mock, template, people, secrets_used)
    token = identity_flows(app, client, mock, login, secrets_used)["token"]
    credit_flows(app, client, mock, login, demo_users, token)
    deposit_flows(app, client, mock, demo_users, token)
    erase(client, token)

    recorded = events(app)
    assert {event.type for event in recorded} == set(EVENT_TYPES) - set(NOT_COVERED_HERE)
    assert len(secrets_used) >= 12  # name, number, phone, codes, tokens, and their masks
    texts = [json.dumps(event.data, ensure_ascii=False) for event in recorded]
    texts += [json.dumps(event.data) for event in recorded]
    leaks = sorted(
        (secret, text[:80]) for text in texts for secret in secrets_used
        if any(form in text for form in _forms_of(secret))
    )  # fmt: skip
    assert leaks == []
    # No masked form either, whatever it masks: 138****5671, 110***********1119, *伟.
    assert [text for text in texts if re.search(r"\*{2,}|\"\*", text)] == []
    assert all(re.fullmatch(r"evt_[A-Za-z0-9_-]+", event.id) for event in recorded)


def test_a_payment_after_the_gift_was_closed_records_its_refund_once(
    app, client, template, people, mock
):
    from service.extensions import db
    from service.scheduler.models import OutboxJob
    from tests.event_flows import _deliver, _paid_notification
    from tests.gifting_helpers import buy, order, run_outbox_now

    gift = buy(client, people, order(template, people)).get_json()
    mock.pay(gift["trade_no"]).raise_for_status()
    mock.add_fault(method="alipay.trade.query", kind="error", code="40004",
                   sub_code="ACQ.TRADE_NOT_EXIST", times=1)  # fmt: skip
    run_outbox_now(app)  # closed: the platform's view lagged behind the payment
    _deliver(client, _paid_notification(mock, gift["trade_no"]))
    run_outbox_now(app)  # the paid-late refund
    with app.app_context():  # the worker died after the refund, before recording the job done
        payload = {"gift_id": gift["id"], "trade_no": gift["trade_no"],
                   "amount_fen": gift["amount_fen"]}  # as it was before the job finished
        db.session.execute(db.update(OutboxJob).where(OutboxJob.kind == "gifting.refund_paid_late")
                           .values(status="pending", finished_at=None, payload=payload))
        db.session.commit()  # fmt: skip
    run_outbox_now(app)
    with app.app_context():
        job = db.session.scalars(
            db.select(OutboxJob).where(OutboxJob.kind == "gifting.refund_paid_late")).one()
        assert (job.status, job.attempts) == ("done", 2), (job.status, job.last_error)

    assert _types_of(app, gift["id"]) == ["gift.payment_closed", "gift.refunded"]
    (refunded,) = events(app, "gift.refunded")
    assert refunded.data["status"] == "closed"  # the gift itself was never paid for
