"""Webhook deliveries over real HTTP, on both engines: signed, retried, disabled, rotated, sent
again, refused at delivery time, and never held up by another endpoint."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from service.dbtypes import utcnow
from service.events.log import NewEvent, record_many
from service.events.models import Event
from service.extensions import db
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.conftest import bearer, migrated_app
from tests.gifting_helpers import client_token
from tests.webhook_helpers import Answer, Receiver, RunningWorker, wait_until

FAST = {"MINIFIN_WEBHOOK_RETRY_SCALE": "0.0001", "MINIFIN_WEBHOOK_TIMEOUT_SECONDS": "2"}


@pytest.fixture
def make_app(app_env, any_database_url):
    """A migrated app of the test's own on each engine, with webhook settings given."""
    stack = []

    def _make(**settings):
        manager = migrated_app(app_env, any_database_url, **{**FAST, **settings})
        stack.append(manager)
        return manager.__enter__()

    yield _make
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


@pytest.fixture
def receivers():
    made = []

    def _receiver(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield _receiver
    for receiver in made:
        receiver.stop()


def register(app, url, events=("*",)) -> dict:
    client = app.test_client()
    headers = bearer(client_token(app, client, "webhooks:write"))
    answer = client.post(
        "/v1/webhook-endpoints", json={"url": url, "enabled_events": list(events)},
        headers=headers,
    )  # fmt: skip
    assert answer.status_code == 201, answer.get_json()
    return {**answer.get_json(), "headers": headers, "client": client}


def record(app, *types: str) -> list[str]:
    with app.app_context():
        ids = record_many(
            NewEvent(t, "gift", f"gft_{n}", {"id": f"gft_{n}", "status": "sent"})
            for n, t in enumerate(types)
        )
        db.session.commit()
    return ids


def attempts_of(app, event_id: str) -> list[WebhookAttempt]:
    with app.app_context():
        return list(db.session.scalars(
            select(WebhookAttempt).join(WebhookDelivery)
            .where(WebhookDelivery.event_id == event_id).order_by(WebhookAttempt.attempt)
        ))  # fmt: skip


def delivery_of(app, event_id: str) -> WebhookDelivery | None:
    with app.app_context():
        return db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
        ).one_or_none()


def status_of(app, event_id: str) -> str | None:
    delivery = delivery_of(app, event_id)
    return delivery.status if delivery else None


@contextmanager
def working(app):
    with RunningWorker(app):
        yield


def test_events_arrive_signed_once_each_to_the_endpoints_that_asked(make_app, receivers):
    app = make_app()
    gifts, identity = receivers(), receivers()
    gifts_endpoint = register(app, gifts.url, ["gift.*"])
    identity_endpoint = register(app, identity.url, ["identity.verification.passed"])
    gifts.secrets, identity.secrets = [gifts_endpoint["secret"]], [identity_endpoint["secret"]]
    ids = record(app, "gift.paid", "gift.sent", "identity.verification.passed", "gift.claimed")
    with working(app):
        gifts.wait_for(lambda r: len(r.unique) == 3)
        identity.wait_for(lambda r: len(r.unique) == 1)
    assert gifts.unverified == identity.unverified == 0
    assert set(gifts.unique) == {ids[0], ids[1], ids[3]} and set(identity.unique) == {ids[2]}
    listed = (
        gifts_endpoint["client"]
        .get(
            "/v1/events", headers=bearer(client_token(app, gifts_endpoint["client"], "events:read"))
        )
        .get_json()["data"]
    )
    sent = gifts.unique[ids[1]].payload
    assert sent["type"] == "gift.sent" and sent["data"] == next(e for e in listed
                                                                if e["id"] == ids[1])  # fmt: skip
    assert gifts.unique[ids[1]].headers["webhook-signature"].startswith("v1,")


def test_a_delivery_is_retried_after_500s_with_the_same_id(make_app, receivers):
    app = make_app()
    flaky = receivers(answer=lambda n: Answer(500, b"busy") if n <= 2 else Answer(200))
    flaky.secrets = [register(app, flaky.url)["secret"]]
    [event_id] = record(app, "gift.sent")
    with working(app):
        flaky.wait_for(lambda r: len(r.requests) == 3)
        wait_until(lambda: status_of(app, event_id) == "succeeded", what="succeeded")
    assert {r.id for r in flaky.requests} == {event_id} and flaky.unverified == 0
    attempts = attempts_of(app, event_id)
    assert [a.status_code for a in attempts] == [500, 500, 200]
    assert attempts[0].response_body == "busy" and delivery_of(app, event_id).attempts == 3


def test_a_delivery_is_retried_after_a_timeout(make_app, receivers):
    app = make_app(MINIFIN_WEBHOOK_TIMEOUT_SECONDS="0.5")
    slow_once = receivers(answer=lambda n: Answer(200, delay=1.5) if n == 1 else Answer(200))
    register(app, slow_once.url)
    [event_id] = record(app, "gift.sent")
    with working(app):
        wait_until(lambda: status_of(app, event_id) == "succeeded", what="succeeded")
    attempts = attempts_of(app, event_id)
    assert attempts[0].status_code is None and "timed out" in attempts[0].error
    assert attempts[-1].status_code == 200 and len(slow_once.unique) == 1


def test_an_endpoint_failing_for_the_whole_schedule_is_disabled_with_an_event(make_app, receivers):
    app = make_app(MINIFIN_WEBHOOK_RETRY_SCALE="0.00001")  # the ~3 days in ~3 seconds
    dead = receivers(answer=lambda n: Answer(500))
    watcher = receivers()
    dead_endpoint = register(app, dead.url, ["gift.*"])
    watcher.secrets = [register(app, watcher.url, ["webhook_endpoint.*"])["secret"]]
    record(app, "gift.sent")
    with working(app):
        watcher.wait_for(lambda r: len(r.unique) == 1, timeout=30)
    [disabled] = list(watcher.unique.values())
    assert disabled.payload["type"] == "webhook_endpoint.disabled"
    assert disabled.payload["data"]["object"] == {"type": "webhook_endpoint",
                                                  "id": dead_endpoint["id"]}  # fmt: skip
    assert disabled.payload["data"]["data"]["enabled"] is False
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, dead_endpoint["id"])
        assert endpoint.enabled is False and endpoint.disabled_at is not None
    assert len(dead.requests) >= 2  # retried before it was given up on


def test_a_rotated_secret_signs_beside_the_old_one_for_the_overlap_only(make_app, receivers):
    app = make_app(MINIFIN_WEBHOOK_SECRET_OVERLAP_HOURS="0.0005")  # 1.8 s
    receiver = receivers()
    endpoint = register(app, receiver.url)
    old = endpoint["secret"]
    receiver.secrets = [old]
    with working(app):
        [before] = record(app, "gift.paid")
        receiver.wait_for(lambda r: before in r.unique)
        rotated = (
            endpoint["client"]
            .post(
                f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", headers=endpoint["headers"]
            )
            .get_json()
        )
        new = rotated["secret"]
        receiver.secrets = [old, new]
        [during] = record(app, "gift.sent")
        receiver.wait_for(lambda r: during in r.unique)
        expires = rotated["previous_secret_expires_at"]
        wait_until(lambda: utcnow().isoformat() > expires, timeout=10, what="overlap over")
        [after] = record(app, "gift.claimed")
        receiver.wait_for(lambda r: after in r.unique)
    assert new != old and receiver.unique[before].verified_with == [old]
    assert receiver.unique[during].verified_with == [old, new]  # either receiver verifies
    assert receiver.unique[after].verified_with == [new]  # only the new one, after


def test_a_delivery_is_sent_again_on_demand(make_app, receivers):
    app = make_app()
    receiver = receivers()
    endpoint = register(app, receiver.url)
    receiver.secrets = [endpoint["secret"]]
    [event_id] = record(app, "gift.sent")
    with working(app):
        receiver.wait_for(lambda r: len(r.requests) == 1)
        wait_until(lambda: status_of(app, event_id) == "succeeded", what="delivered")
        page = (
            endpoint["client"]
            .get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries", headers=endpoint["headers"])
            .get_json()
        )
        [delivery] = page["data"]
        assert delivery["attempt_history"][0]["status_code"] == 200
        answer = endpoint["client"].post(
            f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery['id']}/redeliver",
            headers=endpoint["headers"],
        )
        assert answer.status_code == 202
        receiver.wait_for(lambda r: len(r.requests) == 2)
    assert [r.id for r in receiver.requests] == [event_id, event_id]
    assert len(receiver.unique) == 1 and receiver.unverified == 0


def test_a_name_that_resolves_to_loopback_at_delivery_time_is_refused(make_app, receivers):
    app = make_app(MINIFIN_WEBHOOK_ALLOW_PRIVATE_NETWORKS="false")
    receiver = receivers()
    app.extensions["webhook_resolver"] = lambda host, port: ["127.0.0.1"]  # a rebinding DNS
    register(app, f"http://hooks.merchant.example:{receiver.port}/hooks")
    [event_id] = record(app, "gift.sent")
    with working(app):
        wait_until(lambda: attempts_of(app, event_id), what="an attempt")
    [attempt] = attempts_of(app, event_id)[:1]
    assert attempt.status_code is None and "loopback" in attempt.error
    assert receiver.requests == []  # nothing was sent


def test_one_dead_endpoint_does_not_delay_another(make_app, receivers):
    app = make_app(MINIFIN_WEBHOOK_TIMEOUT_SECONDS="3", MINIFIN_WEBHOOK_RETRY_SCALE="1")
    dead = receivers(answer=lambda n: Answer(200, delay=20))  # never answers in time
    healthy = receivers()
    dead_id = register(app, dead.url)["id"]
    healthy.secrets = [register(app, healthy.url)["secret"]]
    with working(app):
        started = time.monotonic()
        record(app, *["gift.sent"] * 30)
        healthy.wait_for(lambda r: len(r.unique) == 30, timeout=30)
        took = time.monotonic() - started
        wait_until(lambda: _attempts_to(app, dead_id) == 1, what="the dead endpoint's timeout")
        time.sleep(1)  # an absence: nothing more may be tried while its circuit is open
        assert _attempts_to(app, dead_id) == 1 and len(dead.requests) == 1
    assert took < 2.5, f"the healthy endpoint waited {took:.1f}s behind the dead one's timeout"


def _attempts_to(app, endpoint_id: str) -> int:
    with app.app_context():
        return len(db.session.scalars(
            select(WebhookAttempt.id).join(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
        ).all())  # fmt: skip


def test_events_are_fanned_out_only_to_endpoints_that_exist(make_app, receivers):
    app = make_app()
    [early] = record(app, "gift.sent")
    with working(app):
        wait_until(lambda: _fanned_out(app, early), what="fanned out")
        receiver = receivers()
        register(app, receiver.url)
        [late] = record(app, "gift.claimed")
        receiver.wait_for(lambda r: late in r.unique)
    assert list(receiver.unique) == [late]
    assert json.loads(receiver.unique[late].body)["type"] == "gift.claimed"


def _fanned_out(app, event_id: str) -> bool:
    with app.app_context():
        return not db.session.scalar(select(Event.fanout_pending).where(Event.id == event_id))


def test_a_stopped_worker_finishes_its_requests_and_hands_its_endpoint_back(make_app, receivers):
    app = make_app(MINIFIN_WEBHOOK_TIMEOUT_SECONDS="5")
    slow = receivers(answer=lambda n: Answer(200, delay=1.0))
    slow.secrets = [register(app, slow.url)["secret"]]
    ids = record(app, *["gift.sent"] * 20)
    with working(app):
        slow.wait_for(lambda r: len(r.requests) >= 1)
        pool = app.extensions["webhook_pool"]
    # The worker has returned: its threads ended once what they had out was answered and recorded.
    assert not any(thread.is_alive() for thread in pool._threads)
    assert "webhook_pool" not in app.extensions
    with app.app_context():
        [endpoint] = db.session.scalars(select(WebhookEndpoint)).all()
        assert endpoint.locked_by is None and endpoint.lease_expires_at is None
    answered = [event_id for event_id in ids if status_of(app, event_id) == "succeeded"]
    assert sorted(answered) == sorted(slow.unique) and 0 < len(answered) < len(ids)
    assert all(delivery_of(app, event_id).attempts == 0 for event_id in set(ids) - set(answered))
