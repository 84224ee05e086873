"""Fixtures of the API tests: a merchant's notification receiver, a template on sale and three
logged-in people."""

from __future__ import annotations

import pytest

from tests.conftest import bearer
from tests.credit_helpers import consent
from tests.gifting_helpers import COFFEE, client_token
from tests.mock_idp_helpers import NotificationReceiver


@pytest.fixture(scope="module")
def receiver():
    """A merchant's notify_url on a loopback port, recording what the mock posts to it."""
    merchant = NotificationReceiver()
    yield merchant
    merchant.stop()


@pytest.fixture
def template(app, client):
    merchant = bearer(client_token(app, client, "templates:write"))
    return client.post("/v1/voucher-templates", json=COFFEE, headers=merchant).get_json()


@pytest.fixture
def people(login):
    sender, friend, stranger = login(0), login(1), login(2)
    return {
        "sender": bearer(sender["access_token"]),
        "friend": bearer(friend["access_token"]),
        "friend_id": friend["user"]["id"],
        "stranger": bearer(stranger["access_token"]),
    }


@pytest.fixture
def deposit_renter(login, client, mock, demo_users):
    """A logged-in user with a deposit_waiver consent (demo user `index`, 0 by default)."""

    def _renter(index: int = 0) -> dict:
        tokens = login(index)
        platform_id = demo_users[index]["user_id"]
        consent(client, tokens["access_token"], mock.url, platform_id, "deposit_waiver")
        return {"headers": bearer(tokens["access_token"]), "token": tokens["access_token"],
                "platform_id": platform_id}  # fmt: skip

    return _renter


@pytest.fixture
def deposit_settler(app, client) -> str:
    """A merchant client token that may release and charge deposits."""
    return client_token(app, client, "deposits:settle")
