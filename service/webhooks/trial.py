"""A test delivery on demand (`minifin webhooks test`): signed like any other, sent at once.

It is not an event and is not recorded as a delivery: its `webhook-id` is `msg_test_…` and its
type `webhook_endpoint.test`, so a receiver can tell it from real events; its outcome is the
command's answer. It goes through the same address checks as every delivery.
"""

from __future__ import annotations

from service.components import settings
from service.dbtypes import utcnow
from service.extensions import db
from service.ids import new_id
from service.webhooks import sender
from service.webhooks.endpoints import endpoint_or_404, signing_secrets

TEST_TYPE = "webhook_endpoint.test"


def send_test(endpoint_id: str) -> sender.Outcome:
    """Post one signed test message to the endpoint and return what it answered."""
    endpoint = endpoint_or_404(endpoint_id)
    now = utcnow()
    secrets = signing_secrets(endpoint.id, endpoint.secret_sealed, endpoint.previous_secret_sealed,
                              endpoint.previous_secret_expires_at, now)  # fmt: skip
    url = endpoint.url
    db.session.rollback()  # no transaction open while the request is out
    body = sender.body_of(TEST_TYPE, now, {"endpoint_id": endpoint_id, "test": True})
    config = settings()
    with sender.new_client(allow_private=config.webhook_allow_private_networks,
                           resolver=sender.configured_resolver(),
                           timeout=config.webhook_timeout_seconds) as client:  # fmt: skip
        headers = sender.signed_headers(new_id("msg_test"), secrets, body, now)
        return sender.post(client, url, headers, body, config.webhook_timeout_seconds)
