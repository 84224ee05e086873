"""`minifin webhooks list|test|redeliver` and the webhook gauges on `/metrics`, on both engines."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from service.cli import main
from service.events.log import record
from service.extensions import db
from service.webhooks.fanout import fan_out
from service.webhooks.models import WebhookDelivery
from tests.conftest import bearer
from tests.gifting_helpers import client_token
from tests.webhook_helpers import Receiver


@pytest.fixture
def env(app_env, any_database_url, monkeypatch):
    for key, value in {**app_env, "MINIFIN_DATABASE_URL": any_database_url}.items():
        monkeypatch.setenv(key, value)
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    return {**app_env, "MINIFIN_DATABASE_URL": any_database_url}


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.stop()


def test_the_commands_list_test_and_redeliver(env, receiver):
    from service import create_app

    app = create_app(env)
    try:
        client = app.test_client()
        hooks = bearer(client_token(app, client, "webhooks:write"))
        endpoint = client.post(
            "/v1/webhook-endpoints",
            headers=hooks,
            json={"url": receiver.url, "enabled_events": ["*"]},
        ).get_json()
        receiver.secrets = [endpoint["secret"]]
        with app.app_context():
            record("gift.sent", "gift", "gft_1", {"id": "gft_1"})
            db.session.commit()
            assert fan_out("test", 10) == 1
            delivery_id = db.session.scalar(select(WebhookDelivery.id))
        metrics = client.get("/metrics").get_data(as_text=True)
        assert 'minifin_webhook_deliveries{status="pending"} 1.0' in metrics
        assert "minifin_webhook_endpoints_disabled 0.0" in metrics
        listed = CliRunner().invoke(main, ["webhooks", "list"])
        assert listed.exit_code == 0 and f"{endpoint['id']}  enabled  pending 1" in listed.output
        tested = CliRunner().invoke(main, ["webhooks", "test", endpoint["id"]])
        assert tested.exit_code == 0 and "HTTP 200" in tested.output, tested.output
        [sent] = receiver.requests
        assert sent.verified_with == [endpoint["secret"]] and sent.id.startswith("msg_test_")
        assert sent.payload["type"] == "webhook_endpoint.test"
        again = CliRunner().invoke(main, ["webhooks", "redeliver", delivery_id])
        assert again.exit_code == 0 and "1 delivery(ies) queued again" in again.output
        receiver.stop()
        failed = CliRunner().invoke(main, ["webhooks", "test", endpoint["id"]])
        assert failed.exit_code == 1 and "ConnectError" in failed.output
    finally:
        app.extensions["minifin"].gateway.close()
        with app.app_context():
            db.engine.dispose()


def test_the_worker_summary_tells_pending_and_failing_deliveries(env):
    from service import create_app
    from service.webhooks.endpoints import create_endpoint
    from service.webhooks.metrics import summary_line

    app = create_app(env)
    try:
        with app.app_context():
            assert summary_line(60) == ""
            create_endpoint({"url": "https://hooks.merchant.example/x", "enabled_events": ["*"]})
            record("gift.sent", "gift", "gft_1", {"id": "gft_1"})
            db.session.commit()
            fan_out("test", 10)
            assert summary_line(60) == "webhooks 1 pending (0 retrying), 0 endpoint(s) failing"
    finally:
        app.extensions["minifin"].gateway.close()
        with app.app_context():
            db.engine.dispose()
