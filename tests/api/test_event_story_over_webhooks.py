"""The merchant's view end to end: register an endpoint, run a whole gift, identity, credit and
deposit story against the live mock, and receive every change as a signed webhook that
reconciles, one for one, with `GET /v1/events`.

The receiver is a real HTTP server on loopback that verifies every delivery with the
`standardwebhooks` package and de-duplicates by `webhook-id`; the fan-out and delivery sources
run in a worker thread, as `minifin worker` runs them.
"""

from __future__ import annotations

import json

from service.events.types import EVENT_TYPES
from tests.conftest import bearer
from tests.event_flows import (
    NOT_COVERED_HERE,
    credit_flows,
    deposit_flows,
    erase,
    gift_flows,
    identity_flows,
)
from tests.gifting_helpers import client_token
from tests.webhook_helpers import Receiver, RunningWorker


def _all_events(client, headers) -> list[dict]:
    """`GET /v1/events` paged through to the end, newest first."""
    rows, cursor = [], None
    while True:
        query = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/events", query_string=query, headers=headers)
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        rows += body["data"]
        if not body["has_more"]:
            return rows
        cursor = body["next_cursor"]


def test_a_whole_story_arrives_as_signed_events_that_reconcile_with_the_event_log(
    app, client, mock, template, people, login, demo_users
):
    merchant = bearer(client_token(app, client, "webhooks:write", "events:read"))
    receiver = Receiver()
    try:
        created = client.post(
            "/v1/webhook-endpoints", json={"url": receiver.url, "enabled_events": ["*"]},
            headers=merchant,
        )  # fmt: skip
        assert created.status_code == 201, created.get_json()
        secret = created.get_json()["secret"]
        receiver.secrets.append(secret)

        token = identity_flows(app, client, mock, login, set())["token"]
        gift_flows(app, client, mock, template, people, set())
        credit_flows(app, client, mock, login, demo_users, token)
        deposit_flows(app, client, mock, demo_users, token)
        erase(client, token)

        logged = _all_events(client, merchant)
        assert {row["type"] for row in logged} == set(EVENT_TYPES) - set(NOT_COVERED_HERE)
        with RunningWorker(app):
            receiver.wait_for(lambda r: len(r.unique) >= len(logged), timeout=60)

        assert receiver.unverified == 0
        assert set(receiver.unique) == {row["id"] for row in logged}
        for row in logged:
            delivered = receiver.unique[row["id"]]
            assert delivered.verified_with == [secret]
            assert delivered.payload is not None
            assert delivered.payload["type"] == row["type"]
            assert delivered.payload["data"] == row  # the event as the log shows it
            assert json.loads(delivered.body)["data"]["object"]["id"] == row["object"]["id"]
    finally:
        receiver.stop()
