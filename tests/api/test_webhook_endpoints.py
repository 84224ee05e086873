"""The event log's API and the webhook endpoints' API: scopes, filters, pages, the rules an
endpoint must keep, its secret shown once and sealed at rest."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from service.events.log import NewEvent, record_many
from service.extensions import db
from tests.conftest import bearer
from tests.gifting_helpers import client_token


@pytest.fixture
def events_reader(app, client):
    return bearer(client_token(app, client, "events:read"))


@pytest.fixture
def hooks(app, client):
    return bearer(client_token(app, client, "webhooks:write"))


def _record(app, *events: tuple[str, str]) -> list[str]:
    with app.app_context():
        ids = record_many(NewEvent(t, t.split(".")[0], oid, {"id": oid}) for t, oid in events)
        db.session.commit()
    return ids


def test_events_are_listed_newest_first_filtered_and_paged(app, client, events_reader):
    ids = _record(app, ("gift.paid", "gft_a"), ("voucher.issued", "vch_b"),
                  ("gift.sent", "gft_a"), ("webhook_endpoint.disabled", "we_c"))  # fmt: skip
    every = client.get("/v1/events", headers=events_reader).get_json()
    assert [e["id"] for e in every["data"]] == ids[::-1] and every["has_more"] is False
    assert every["data"][0]["object"] == {"type": "webhook_endpoint", "id": "we_c"}
    gifts = client.get("/v1/events?type=gift.*", headers=events_reader).get_json()["data"]
    assert [e["type"] for e in gifts] == ["gift.sent", "gift.paid"]
    exact = client.get("/v1/events?type=gift.paid", headers=events_reader).get_json()["data"]
    assert [e["id"] for e in exact] == [ids[0]]
    about = client.get("/v1/events?object_id=gft_a", headers=events_reader).get_json()["data"]
    assert [e["id"] for e in about] == [ids[2], ids[0]]
    first = client.get("/v1/events?limit=3", headers=events_reader).get_json()
    rest = client.get(f"/v1/events?limit=3&cursor={first['next_cursor']}", headers=events_reader)
    assert [e["id"] for e in first["data"] + rest.get_json()["data"]] == ids[::-1]
    borrowed = client.get(
        f"/v1/events?type=gift.*&cursor={first['next_cursor']}", headers=events_reader
    )
    assert borrowed.status_code == 422 and borrowed.get_json()["code"] == "invalid_cursor"


def test_an_unknown_event_type_filter_is_refused(client, events_reader):
    answer = client.get("/v1/events?type=gift.exploded", headers=events_reader)
    assert answer.status_code == 422 and answer.get_json()["code"] == "unknown_event_type"
    assert client.get("/v1/events?type=giftz.*", headers=events_reader).status_code == 422


def test_the_event_log_needs_its_scope(client, hooks):
    assert client.get("/v1/events").status_code == 401
    assert client.get("/v1/events", headers=hooks).status_code == 403


def test_an_endpoint_is_registered_changed_listed_and_removed(app, client, hooks):
    created = client.post("/v1/webhook-endpoints", headers=hooks, json={
        "url": "https://hooks.merchant.example/minifin", "enabled_events": ["gift.*", "gift.*"],
        "description": "order system",
    })  # fmt: skip
    assert created.status_code == 201, created.get_json()
    endpoint = created.get_json()
    assert endpoint["secret"].startswith("whsec_") and endpoint["enabled_events"] == ["gift.*"]
    with app.app_context():
        stored = db.session.execute(text(
            "SELECT secret_sealed FROM webhook_endpoints WHERE id = :id"), {"id": endpoint["id"]}
        ).scalar_one()  # fmt: skip
    assert endpoint["secret"] not in stored and stored.startswith("v1.")
    path = f"/v1/webhook-endpoints/{endpoint['id']}"
    shown = client.get(path, headers=hooks).get_json()
    assert "secret" not in shown and shown["url"] == "https://hooks.merchant.example/minifin"
    changed = client.patch(path, headers=hooks, json={"enabled_events": ["*"], "enabled": False})
    assert changed.status_code == 200 and changed.get_json()["enabled_events"] == ["*"]
    listed = client.get("/v1/webhook-endpoints", headers=hooks).get_json()
    assert [e["id"] for e in listed["data"]] == [endpoint["id"]]
    rotated = client.post(f"{path}/rotate-secret", headers=hooks).get_json()
    assert rotated["secret"] != endpoint["secret"] and rotated["previous_secret_expires_at"]
    assert client.delete(path, headers=hooks).status_code == 204
    assert client.get(path, headers=hooks).get_json()["code"] == "webhook_endpoint_not_found"


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "ftp://hooks.example/x", "enabled_events": ["*"]}, "url"),
    ({"url": "https://user:pw@hooks.example/x", "enabled_events": ["*"]}, "url"),
    ({"url": "http://169.254.169.254/latest", "enabled_events": ["*"]}, "url"),
    ({"url": "http://224.0.0.1/x", "enabled_events": ["*"]}, "url"),
    ({"url": "https://hooks.example/x", "enabled_events": ["gift.exploded"]}, "enabled_events"),
    ({"url": "https://hooks.example/x", "enabled_events": []}, "enabled_events"),
    ({"url": "https://hooks.example/x", "enabled_events": ["gift.*"], "secret": "x"}, "secret"),
])  # fmt: skip
def test_an_endpoint_breaking_a_rule_is_refused(client, hooks, body, field):
    answer = client.post("/v1/webhook-endpoints", headers=hooks, json=body)
    assert answer.status_code == 422 and field in answer.get_json()["errors"]


def test_endpoints_need_the_webhooks_scope(client, events_reader):
    assert client.get("/v1/webhook-endpoints").status_code == 401
    assert client.get("/v1/webhook-endpoints", headers=events_reader).status_code == 403


def test_a_missing_endpoint_or_delivery_is_a_404(client, hooks):
    assert (
        client.get("/v1/webhook-endpoints/we_nothing/deliveries", headers=hooks).status_code == 404
    )
    endpoint = client.post("/v1/webhook-endpoints", headers=hooks, json={
        "url": "https://hooks.example/x", "enabled_events": ["*"]}).get_json()  # fmt: skip
    answer = client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/whd_nothing/redeliver", headers=hooks
    )
    assert answer.status_code == 404 and answer.get_json()["code"] == "webhook_delivery_not_found"
