"""Rows of every list, written straight to the database with chosen times, for the pagination
tests: many rows quickly, with ties in the sort column so the tie-breaker is exercised."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from service.credit.explanations import ADMITTED
from service.credit.models import CreditCheck, CreditConsent, Deposit
from service.extensions import db
from service.gifting.models import SCHEDULED, Gift, Voucher, VoucherTemplate
from service.identity.models import IdentityEvent

BASE = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
FAR = BASE + timedelta(days=365)


def at(tick: int) -> datetime:
    """A time `tick` seconds after BASE: rows given the same tick tie on their sort column."""
    return BASE + timedelta(seconds=tick)


def template(when: datetime, *, active: bool = True) -> VoucherTemplate:
    row = VoucherTemplate(
        name=f"T {secrets.token_hex(3)}", kind="item", face_value_fen=3200, price_fen=2900,
        validity_days=365, claim_window_hours=24, max_quantity_per_order=10, active=active,
        covers=[{"name": "birthday", "image_url": "https://cdn.example.com/b.png"}],
        created_at=when,
    )  # fmt: skip
    db.session.add(row)
    return row


def gift(when: datetime, sender: str, recipient: str | None = None) -> Gift:
    row = Gift(
        sender_id=sender, template=_a_template(), quantity=1, unit_price_fen=2900,
        amount_fen=2900, recipient_kind="user", recipient_user_id=recipient, cover="birthday",
        send_at=FAR, status=SCHEDULED, created_at=when,
    )  # fmt: skip
    db.session.add(row)
    return row


def voucher(when: datetime, owner: str) -> Voucher:
    carrier = gift(BASE, owner)
    db.session.flush()
    row = Voucher(
        gift_id=carrier.id, template_id=carrier.template_id, owner_id=owner, kind="item",
        face_value_fen=3200, balance_fen=3200, code_index=secrets.token_hex(16),
        code_sealed="sealed", code_last4="1234", issued_at=when,
    )  # fmt: skip
    db.session.add(row)
    return row


def consent(when: datetime, user: str) -> CreditConsent:
    row = CreditConsent(
        user_id=user, purpose="credit_check", scope="auth_zhima", policy_version="v1",
        granted_at=when, expires_at=FAR, evidence={},
    )  # fmt: skip
    db.session.add(row)
    return row


def check(when: datetime, user: str) -> CreditCheck:
    row = CreditCheck(
        user_id=user, consent_id="cns_x", purpose="credit_check", requested_by=user,
        idempotency_key=secrets.token_hex(8), threshold=600, outcome=ADMITTED, admitted=True,
        created_at=when,
    )  # fmt: skip
    db.session.add(row)
    return row


def deposit(when: datetime, user: str) -> Deposit:
    row = Deposit(
        user_id=user, consent_id="cns_x", idempotency_key=secrets.token_hex(8), order_ref="o",
        title="Power bank", category="RENT_DIGITAL", amount_fen=9900,
        out_order_no=secrets.token_hex(8), out_request_no="r", order_str="s",
        created_at=when, expires_at=FAR,
    )  # fmt: skip
    db.session.add(row)
    return row


def identity_event(when: datetime, user: str) -> IdentityEvent:
    row = IdentityEvent(user_id=user, type="identity.read", actor=user, at=when, detail={})
    db.session.add(row)
    return row


def _a_template() -> VoucherTemplate:
    found = db.session.scalars(select(VoucherTemplate).limit(1)).first()
    return found or template(BASE - timedelta(days=1), active=False)


def newest_first(model, ids: list, sort) -> list:
    """What a list must show of the rows `ids`, in its order: by the sort column, then the id,
    descending (as the database compares them: its collation decides between two string ids).
    Each row by its id, or by its time for identity events (their answer shows no id)."""
    shown = sort if model is IdentityEvent else model.id
    query = select(shown).where(model.id.in_(ids)).order_by(sort.desc(), model.id.desc())
    return list(db.session.scalars(query))


def key(row: dict):
    """How `newest_first` names a row of an answer."""
    return row["id"] if "id" in row else datetime.fromisoformat(row["at"])
