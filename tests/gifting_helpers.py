"""Helpers shared by the gifting tests: a demo template, merchant tokens, orders, due jobs."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import insert

from service.auth.clients import create_client
from service.auth.models import User
from service.components import field_cipher
from service.dbtypes import utcnow
from service.extensions import db
from service.gifting.models import SCHEDULED, Gift, VoucherTemplate
from service.gifting.sending import send_due_gifts
from service.ids import new_id
from service.scheduler import outbox
from service.scheduler.models import OutboxJob
from tests.conftest import APP_ID

COFFEE = {
    "name": "Flat white",
    "kind": "item",
    "face_value_fen": 3200,
    "price_fen": 2900,
    "covers": [
        {"name": "birthday", "image_url": "https://cdn.example.com/covers/birthday.png"},
        {"name": "thanks", "image_url": "https://cdn.example.com/covers/thanks.png"},
    ],
}


def client_token(app, client, *scopes: str) -> str:
    """A merchant client with these scopes, and its access token."""
    with app.app_context():
        merchant, secret = create_client("back office", list(scopes))
    return client.post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials", "client_id": merchant.id,
              "client_secret": secret},
    ).get_json()["access_token"]  # fmt: skip


def order(template: dict, people: dict, **changes) -> dict:
    """A valid gift order from the sender to the friend, due in three days."""
    return {
        "template_id": template["id"],
        "quantity": 2,
        "recipient": {"user_id": people["friend_id"]},
        "message": "生日快乐! Happy birthday",
        "cover": "birthday",
        "send_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        **changes,
    }


def buy(client, people: dict, body: dict, key: str | None = None):
    headers = {**people["sender"], "Idempotency-Key": key or secrets.token_hex(8)}
    return client.post("/v1/gifts", json=body, headers=headers)


def forged_payment(mock, of_trade: str, fields: dict) -> dict[str, str]:
    """The trade's payment notification again, with these fields replaced, signed by the
    platform's key (the mock's control API makes it)."""
    response = mock.control.post(f"/_mock/trades/{of_trade}/notify", json={"fields": fields})
    assert response.status_code == 200, response.text
    return response.json()["fields"]


def run_outbox_now(app) -> None:
    """Make every job due and run them (e.g. the settle job at the end of the payment window)."""
    with app.app_context():
        db.session.execute(db.update(OutboxJob).values(run_at=datetime.now(UTC)))
        db.session.commit()
        outbox.run_due_jobs("test-worker", 100)


def due_gift(app, client, template, people, mock_idp, **changes) -> dict:
    """Buy and pay a gift (found paid by reconciliation), then make it due now; returns it."""
    gift = buy(client, people, order(template, people, **changes)).get_json()
    httpx.post(f"{mock_idp.url}/_mock/trades/{gift['trade_no']}/pay").raise_for_status()
    run_outbox_now(app)
    with app.app_context():
        db.session.execute(
            db.update(Gift)
            .where(Gift.id == gift["id"])
            .values(send_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
    return gift


def sent_gift(app, client, template, people, mock_idp, **changes) -> dict:
    """Buy, pay, make due and send a gift; returns it."""
    gift = due_gift(app, client, template, people, mock_idp, **changes)
    with app.app_context():
        send_due_gifts("test-worker", 100)
        outbox.run_due_jobs("test-worker", 100)
    return gift


def claim_token_of(app, gift_id: str) -> str:
    with app.app_context():
        gift = db.session.get(Gift, gift_id)
        return field_cipher().open(gift.claim_token_sealed, owner=gift.id)


def messages_about(mock_idp, platform_user_id: str, gift: dict, template_id: str) -> list[dict]:
    """Every delivery of one kind of message about a gift in a user's inbox at the mock.

    Template messages carry no key of their own (the platform deduplicates nothing), so a gift's
    messages are found by their `form_id`, the gift's trade, and their template.
    """
    inbox = httpx.get(f"{mock_idp.url}/_mock/inbox/{platform_user_id}").json()["messages"]
    return [m for m in inbox if m["form_id"] == (gift["trade_no"] or gift["id"])
            and m["user_template_id"] == template_id]  # fmt: skip


def seed_paid_gifts(
    friend_platform_id: str,
    count: int,
    quantity: int,
    send_at: Callable[[int, datetime], datetime],
    sender_platform_id: str = "2088000000000099",
) -> list[str]:
    """A template, a sender, the friend, and `count` paid gifts to the friend, written straight
    to the database (for worker tests with many gifts); gift n is due at `send_at(n, now)`."""
    template = VoucherTemplate(
        name="Flat white", kind="item", face_value_fen=3200, price_fen=2900, validity_days=30,
        claim_window_hours=72, covers=[{"name": "thanks", "image_url": "https://x.test/t.png"}],
        max_quantity_per_order=5,
    )  # fmt: skip
    sender = User(app_id=APP_ID, platform_user_id=sender_platform_id)
    friend = User(app_id=APP_ID, platform_user_id=friend_platform_id)
    db.session.add_all([template, sender, friend])
    db.session.flush()
    now = utcnow()
    ids = [new_id("gft") for _ in range(count)]
    db.session.execute(insert(Gift), [{
        "id": gift_id, "sender_id": sender.id, "template_id": template.id, "quantity": quantity,
        "unit_price_fen": 2900, "amount_fen": 2900 * quantity, "recipient_kind": "user",
        "recipient_user_id": friend.id, "message": "thanks", "cover": "thanks", "status": SCHEDULED,
        "send_at": send_at(n, now), "paid_at": now, "created_at": now,
    } for n, gift_id in enumerate(ids)])  # fmt: skip
    db.session.commit()
    return ids
