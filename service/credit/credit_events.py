"""The credit capability's merchant events: consents, decided checks and deposits.

Each is recorded by the transaction that makes its change, only when that change's conditional
update moved the row (a fact told twice, by answer and notification or by a redelivery, is
recorded once). The snapshot is the object as this transaction has left it, in its merchant
schema (schemas/credit.py): no platform token, no score, no signed order string. The caller
commits.
"""

from __future__ import annotations

from typing import Any

from schemas.credit import (
    DepositOperationSchema,
    MerchantCheckSchema,
    MerchantConsentSchema,
    MerchantDepositSchema,
)
from service.credit.models import CreditCheck, CreditConsent, Deposit, DepositOperation
from service.events.log import record
from service.extensions import db


def _current(model: type, object_id: Any) -> Any:
    """The row as this transaction sees it now (its changes flushed, the session's copy reread:
    the changes are conditional UPDATEs the loaded object has not seen)."""
    db.session.flush()
    row = db.session.get(model, object_id)
    if row is None:
        raise LookupError(f"{model.__name__} {object_id} is gone")
    db.session.refresh(row)
    return row


def record_consent(event_type: str, consent_id: str) -> None:
    """`credit.consent.granted`, `.withdrawn` or `.expired`; the caller commits."""
    consent = _current(CreditConsent, consent_id)
    record(event_type, "credit_consent", consent.id, MerchantConsentSchema().dump(consent))


def record_check(check_id: str) -> None:
    """`credit.check.decided`; the caller commits."""
    check = _current(CreditCheck, check_id)
    record("credit.check.decided", "credit_check", check.id, MerchantCheckSchema().dump(check))


def record_deposit(event_type: str, deposit_id: str, operation_id: int | None = None) -> None:
    """A deposit event, with the ledger line that caused it for a release or charge."""
    deposit = _current(Deposit, deposit_id)
    data = MerchantDepositSchema().dump(deposit)
    if operation_id is not None:
        data["operation"] = DepositOperationSchema().dump(_current(DepositOperation, operation_id))
    record(event_type, "deposit", deposit.id, data)
