"""Gateway faults while a gift is delivered or refunded, and the retry rule of template messages.

A refund is keyed (`out_request_no`): retried after any failure, it refunds once. A template
message has no key on the platform, so it is at-least-once, and its retry rule keeps duplicates
rare and bounded: a clear refusal (`20000`, a connection never made) is retried with growing,
jittered delays; after an answer lost in a timeout it is sent again at most once
(`MINIFIN_MESSAGE_RETRY_AFTER_TIMEOUT`, on by default) or not at all (off). The mock delivers
every send, so its inbox counts the duplicates.
"""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from service import create_app
from service.extensions import db
from service.gifting.models import Gift, Voucher
from service.gifting.refunds import REFUND_GIFT, expire_unclaimed_gifts
from service.gifting.sending import GIFT_TEMPLATE_ID, send_due_gifts
from service.scheduler import outbox
from service.scheduler.models import OutboxJob
from tests.gifting_helpers import due_gift, messages_about, run_outbox_now, sent_gift

MESSAGE = "alipay.open.app.mini.templatemessage.send"
REFUND = "alipay.trade.refund"
MESSAGE_JOB = "gateway.template_message"


def _job(app, kind: str) -> OutboxJob:
    with app.app_context():
        job = db.session.scalars(select(OutboxJob).where(OutboxJob.kind == kind)).one()
        db.session.expunge(job)
        return job


def _run_due(app) -> int:
    with app.app_context():
        return outbox.run_due_jobs("test-worker", 100)


def _received(mock_idp, demo_users, gift) -> list[dict]:
    return messages_about(mock_idp, demo_users[1]["user_id"], gift, GIFT_TEMPLATE_ID)


@pytest.fixture
def message_calls(mock_control):
    """How many template-message calls the mock has received since the test began."""
    since = datetime.now(UTC)

    def count() -> int:
        calls = mock_control.get("/_mock/calls", params={"method": MESSAGE}).json()["calls"]
        return sum(datetime.fromisoformat(call["at"]) >= since for call in calls)

    return count


def _send(app) -> None:
    with app.app_context():
        assert send_due_gifts("test-worker", 100) == 1


def _wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.fixture
def paid_gift(app, client, template, people, mock_idp):
    """A paid gift whose time has come, not yet sent."""
    return due_gift(app, client, template, people, mock_idp)


def _app_with(app_env, **settings: str):
    """Another Minifin app on the session's database, with some settings changed."""
    return create_app({**app_env, **{f"MINIFIN_{k.upper()}": v for k, v in settings.items()}})


@pytest.fixture
def impatient_app(app, app_env):
    """Gives up on the gateway after one second (the session app waits three)."""
    other = _app_with(app_env, gateway_timeout="1")
    yield other
    other.extensions["minifin"].gateway.close()


def test_a_message_refused_with_20000_is_retried_later_with_backoff_and_delivered_once(
    app, paid_gift, mock_idp, mock_control, demo_users, message_calls
):
    mock_control.post("/_mock/faults", json={"method": MESSAGE, "kind": "error", "times": 2})
    _send(app)
    started = datetime.now(UTC)

    _run_due(app)  # attempt 1 is refused: one call, no retry inside the attempt
    first = _job(app, MESSAGE_JOB)
    assert (first.status, first.attempts, first.ambiguous_attempts) == ("pending", 1, 0)
    assert "20000" in first.last_error or "unavailable" in first.last_error.lower()
    assert first.run_at > started  # not due again at once: it backs off
    assert _run_due(app) == 0  # and nothing runs before its time
    run_outbox_now(app)  # attempt 2 is refused
    second = _job(app, MESSAGE_JOB)
    assert second.attempts == 2 and second.run_at - datetime.now(UTC) > timedelta(seconds=0.5)
    run_outbox_now(app)  # attempt 3 is delivered

    assert _job(app, MESSAGE_JOB).status == "done"
    assert message_calls() == 3
    assert len(_received(mock_idp, demo_users, paid_gift)) == 1  # refused sends deliver nothing
    run_outbox_now(app)
    assert len(_received(mock_idp, demo_users, paid_gift)) == 1


def test_a_message_is_sent_without_an_out_biz_no_the_platform_would_ignore(
    app, paid_gift, mock_idp, demo_users
):
    _send(app)
    _run_due(app)

    (message,) = _received(mock_idp, demo_users, paid_gift)
    assert message["ignored_parameters"] == []


def test_a_message_queued_by_an_earlier_version_with_an_out_biz_no_is_sent_without_it(
    app, mock_idp, demo_users
):
    page = f"pages/gift/detail?id=gft_{time.time_ns()}"
    with app.app_context():
        outbox.enqueue(MESSAGE_JOB, {
            "to_user_id": demo_users[1]["user_id"], "template_id": "TPL_GIFT_REFUNDED",
            "page": page, "data": {"keyword1": "Flat white"}, "form_id": "2026112522001",
            "out_biz_no": "gft_legacy-refunded",
        })  # fmt: skip
        db.session.commit()

    _run_due(app)

    assert _job(app, MESSAGE_JOB).status == "done"
    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{demo_users[1]['user_id']}").json()
    (message,) = [m for m in inbox["messages"] if m["page"] == page]
    assert message["ignored_parameters"] == []


def test_a_message_whose_connection_is_refused_is_retried_like_a_refusal(
    app, app_env, paid_gift, mock_idp, demo_users
):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = _app_with(app_env, gateway_url=f"http://127.0.0.1:{port}/gateway.do")
    _send(app)
    try:
        for _ in range(3):
            run_outbox_now(unreachable)
    finally:
        unreachable.extensions["minifin"].gateway.close()

    job = _job(app, MESSAGE_JOB)
    assert (job.status, job.attempts, job.ambiguous_attempts) == ("pending", 3, 0)
    run_outbox_now(app)
    assert _job(app, MESSAGE_JOB).status == "done"
    assert len(_received(mock_idp, demo_users, paid_gift)) == 1


def test_a_message_whose_answer_was_lost_in_a_timeout_is_sent_again_once_and_may_land_twice(
    app, impatient_app, paid_gift, mock_idp, mock_control, demo_users, message_calls
):
    # The platform takes 1.5 s, accepts the message, and answers a client that left at 1 s.
    mock_control.post("/_mock/faults", json={"method": MESSAGE, "kind": "latency",
                                             "seconds": 1.5, "times": 1})  # fmt: skip
    _send(app)

    run_outbox_now(impatient_app)
    job = _job(app, MESSAGE_JOB)
    assert (job.status, job.ambiguous_attempts) == ("pending", 1)
    _wait_for(lambda: len(_received(mock_idp, demo_users, paid_gift)) == 1)  # it did land
    run_outbox_now(impatient_app)  # the one retry the rule allows after a timeout

    assert _job(app, MESSAGE_JOB).status == "done"
    assert len(_received(mock_idp, demo_users, paid_gift)) == 2  # the documented duplicate
    run_outbox_now(impatient_app)
    assert message_calls() == 2


def test_a_message_is_never_sent_a_third_time_after_two_timeouts(
    app, impatient_app, paid_gift, mock_idp, mock_control, demo_users, message_calls
):
    mock_control.post("/_mock/faults", json={"method": MESSAGE, "kind": "latency",
                                             "seconds": 1.5, "times": 2})  # fmt: skip
    _send(app)

    for _ in range(4):
        run_outbox_now(impatient_app)

    job = _job(app, MESSAGE_JOB)
    assert (job.status, job.ambiguous_attempts) == ("dead", 2)
    assert "may have been delivered" in job.last_error
    _wait_for(lambda: len(_received(mock_idp, demo_users, paid_gift)) == 2)  # both landed late
    time.sleep(0.5)
    assert message_calls() == 2  # the third attempt sent nothing
    assert len(_received(mock_idp, demo_users, paid_gift)) == 2  # at most one duplicate


def test_with_retry_after_timeout_off_a_message_whose_answer_was_lost_is_not_sent_again(
    app, app_env, paid_gift, mock_idp, mock_control, demo_users, message_calls
):
    cautious = _app_with(app_env, gateway_timeout="1", message_retry_after_timeout="false")
    mock_control.post("/_mock/faults", json={"method": MESSAGE, "kind": "latency",
                                             "seconds": 1.5, "times": 1})  # fmt: skip
    _send(app)
    try:
        for _ in range(3):
            run_outbox_now(cautious)
    finally:
        cautious.extensions["minifin"].gateway.close()

    job = _job(app, MESSAGE_JOB)
    assert (job.status, job.ambiguous_attempts) == ("dead", 1)
    _wait_for(lambda: len(_received(mock_idp, demo_users, paid_gift)) == 1)  # it did land
    time.sleep(0.5)
    assert message_calls() == 1
    assert len(_received(mock_idp, demo_users, paid_gift)) == 1  # once: no duplicate


def test_a_message_that_keeps_failing_goes_dead_and_a_requeue_delivers_it_once(
    app, paid_gift, mock_idp, mock_control, demo_users
):
    mock_control.post("/_mock/faults", json={"method": MESSAGE, "kind": "error"})
    _send(app)
    with app.app_context():
        limit = db.session.scalar(select(OutboxJob.max_attempts))
    for _ in range(limit + 2):
        run_outbox_now(app)

    dead = _job(app, MESSAGE_JOB)
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

    assert _job(app, MESSAGE_JOB).status == "done"
    assert len(_received(mock_idp, demo_users, paid_gift)) == 1


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
