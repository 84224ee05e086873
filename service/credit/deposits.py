"""Credit deposit waivers: start a hold, learn that it is held, release it, charge against it.

A deposit starts as a signed orderStr for `my.tradePay`; the platform decides how much of it the
user's credit waives and how much it really freezes, and says so in a `fund_auth_freeze`
notification (or, if that is lost, in the answer to the worker's reconciliation query; see
`fund_events.py`). Releases and charges then take from what is held. Each is recorded `pending`
with a fresh gateway request number before its call and completed after it; a retry (the same
Idempotency-Key, or the worker) resends the same request number, which the platform answers
once (see `operations.py`). Their amounts are reserved first by one conditional UPDATE, so
released + charged can never exceed the hold, whatever runs concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from service.components import gateway, settings
from service.credit import consents
from service.credit.models import (
    AWAITING_USER,
    CHARGE,
    HELD,
    PENDING,
    RELEASE,
    Deposit,
    DepositOperation,
)
from service.credit.operations import perform
from service.credit.platform_totals import has_pending
from service.dbtypes import utcnow
from service.errors import Conflict, Unprocessable
from service.extensions import db
from service.gateway import fund_auth
from service.identity.audit import Actor
from service.ids import new_id
from service.ownership import owned_or_404
from service.pagination import DEFAULT_LIMIT, Ordering, Page, paginate
from service.scheduler.outbox import enqueue
from service.sql import rows_changed

log = logging.getLogger(__name__)
DEPOSIT_PURPOSE = "deposit_waiver"
RECONCILE_DEPOSIT = "credit.reconcile_deposit"


def start_deposit(actor: Actor, values: Mapping[str, Any], idempotency_key: str) -> Deposit:
    """Record a deposit under the user's `deposit_waiver` consent and sign its orderStr."""
    earlier = db.session.scalars(
        select(Deposit).where(
            Deposit.user_id == actor.id, Deposit.idempotency_key == idempotency_key
        )
    ).first()
    if earlier is not None:
        return earlier
    consent = consents.consent_for_use(actor.id, DEPOSIT_PURPOSE)
    config, now = settings(), utcnow()
    deposit_id = new_id("dep")
    deposit = Deposit(
        id=deposit_id,
        user_id=actor.id,
        consent_id=consent.id,
        idempotency_key=idempotency_key,
        order_ref=values["order_ref"],
        title=values["title"],
        category=values["category"],
        amount_fen=values["amount_fen"],
        status=AWAITING_USER,
        out_order_no=deposit_id,
        out_request_no=f"{deposit_id}_freeze",
        created_at=now,
        expires_at=now + timedelta(minutes=config.deposit_pay_timeout_minutes),
    )
    deposit.order_str = fund_auth.freeze_order_string(
        gateway(),
        out_order_no=deposit.out_order_no,
        out_request_no=deposit.out_request_no,
        title=deposit.title,
        amount_fen=deposit.amount_fen,
        category=deposit.category,
        service_id=config.credit_service_id,
        pay_timeout_minutes=config.deposit_pay_timeout_minutes,
        notify_url=f"{config.public_url}/v1/notifications/alipay",
    )
    db.session.add(deposit)
    consents.record_event(consent, "used_for_deposit", actor, deposit_id=deposit_id)
    # If no notification says the user confirmed, the worker asks the platform.
    enqueue(
        RECONCILE_DEPOSIT,
        {"deposit_id": deposit_id},
        run_at=now + timedelta(seconds=config.deposit_reconcile_seconds),
        dedupe_key=f"reconcile:{deposit_id}",
    )
    db.session.commit()
    log.info("deposit %s started", deposit_id)
    return deposit


def deposit_for(user_id: str | None, deposit_id: str) -> Deposit:
    """A deposit with its ledger: the user's own (user_id), or any (a settling merchant)."""
    return owned_or_404(
        Deposit,
        deposit_id,
        owner=Deposit.user_id,
        owner_id=user_id,
        detail="No such deposit.",
        code="deposit_not_found",
    )


DEPOSIT_ORDER = Ordering(Deposit.created_at, Deposit.id)


def deposits_of(user_id: str, *, limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> Page:
    """A page of the user's deposits, newest first."""
    return paginate(
        select(Deposit).where(Deposit.user_id == user_id), DEPOSIT_ORDER,
        list_name="credit_deposits", limit=limit, cursor=cursor, filters={"user": user_id},
    )  # fmt: skip


def release(actor: Actor, deposit_id: str, amount_fen: int | None, idempotency_key: str) -> Deposit:
    """Give back part of the hold (all that remains by default)."""
    operation = _requested(
        actor, deposit_id, RELEASE, amount_fen, idempotency_key, reason=None, settle=False
    )
    return perform(operation)


def charge(
    actor: Actor, deposit_id: str, values: Mapping[str, Any], idempotency_key: str
) -> Deposit:
    """Take payment from the hold; one that takes all that remains, or `settle`, ends it."""
    operation = _requested(
        actor,
        deposit_id,
        CHARGE,
        values["amount_fen"],
        idempotency_key,
        reason=values["reason"],
        settle=values.get("settle", False),
    )
    return perform(operation)


def _requested(
    actor: Actor,
    deposit_id: str,
    kind: str,
    amount_fen: int | None,
    idempotency_key: str,
    *,
    reason: str | None,
    settle: bool,
) -> int:
    """The operation this request stands for: the earlier one of the same key, or a new one.

    A new one reserves its amount (and, when it settles the deposit, the rest) in the same
    transaction that records it, and commits it (steps 1 and 2 of the transaction rule: the
    intent is kept before the platform is asked).
    """
    deposit = deposit_for(None, deposit_id)
    earlier = _earlier_request(deposit.id, idempotency_key)
    if earlier is not None:
        _check_same_request(earlier, kind, amount_fen)
        return earlier.id
    _check_held(deposit)
    amount, reserved, settles = _amounts(deposit, kind, amount_fen, settle)
    if not _reserve(deposit.id, reserved):  # another operation reserved part of it since we read it
        db.session.rollback()
        raise _exceeds(deposit_for(None, deposit_id).remaining_fen)
    operation = DepositOperation(
        deposit_id=deposit.id,
        kind=kind,
        status=PENDING,
        amount_fen=amount,
        reserved_fen=reserved,
        request_no=new_id(kind[:3]).replace("_", ""),
        idempotency_key=idempotency_key,
        requested_by=actor.id,
        reason=reason,
        settles=settles,
        created_at=utcnow(),
    )
    db.session.add(operation)
    db.session.commit()
    return operation.id


def _earlier_request(deposit_id: str, idempotency_key: str) -> DepositOperation | None:
    """The operation an earlier request with this Idempotency-Key recorded, if any."""
    return db.session.scalars(
        select(DepositOperation).where(
            DepositOperation.deposit_id == deposit_id,
            DepositOperation.idempotency_key == idempotency_key,
        )
    ).first()


def _check_same_request(earlier: DepositOperation, kind: str, amount_fen: int | None) -> None:
    """A key stands for one operation: another kind or amount under it is refused, not run."""
    if earlier.kind != kind or (amount_fen is not None and amount_fen != earlier.amount_fen):
        raise Unprocessable(
            "This Idempotency-Key was used for another operation.",
            code="idempotency_key_reused",
        )


def _check_held(deposit: Deposit) -> None:
    """Only what the platform holds can be released or charged."""
    if deposit.status != HELD:
        raise Conflict(
            f"Only a held deposit can be released or charged; this one is {deposit.status}.",
            code="deposit_not_held",
        )


def _amounts(
    deposit: Deposit, kind: str, amount_fen: int | None, settle: bool
) -> tuple[int, int, bool]:
    """The operation's amount, what it reserves, and whether it settles the deposit.

    No amount means all that remains. One that settles reserves all that remains: a settling
    charge releases the rest with it.
    """
    remaining = deposit.amount_fen - deposit.reserved_fen
    amount = remaining if amount_fen is None else amount_fen
    if amount <= 0 or amount > remaining:
        raise _exceeds(remaining)
    settles = amount == remaining or settle
    if kind == CHARGE and settles and has_pending(deposit.id):
        # COMPLETE releases whatever the platform still holds at once, including what a pending
        # release or charge is about to take: never send it while one is pending. A charge of
        # exactly what remains needs no COMPLETE (it is sent NOT_COMPLETE, and the deposit
        # settles when the pending line does); one that would release a rest must wait.
        if amount < remaining:
            raise Conflict(
                "Another release or charge is still pending; settle once it has finished.",
                code="deposit_operations_pending",
                headers={"Retry-After": "5"},
            )
        settles = False
    return amount, (remaining if settles else amount), settles


def _reserve(deposit_id: str, reserved: int) -> bool:
    """Take `reserved` from what remains held, in one conditional UPDATE; False if it no longer
    fits. Released + charged can never exceed the hold, whatever runs concurrently."""
    taken = rows_changed(
        update(Deposit)
        .where(
            Deposit.id == deposit_id,
            Deposit.status == HELD,
            Deposit.reserved_fen + reserved <= Deposit.amount_fen,
        )
        .values(reserved_fen=Deposit.reserved_fen + reserved)
    )
    return bool(taken)


def _exceeds(remaining: int) -> Conflict:
    return Conflict(
        f"The amount exceeds what remains held ({remaining} fen).",
        code="amount_exceeds_remaining",
        errors={"amount_fen": [f"At most {remaining}."]},
    )
