"""Every event type Minifin records, with what it means: the one catalogue.

`record()` refuses a type not listed here, the webhook endpoints' `enabled_events` are checked
against it (a type, a prefix such as `gift.*`, or `*`), and the OpenAPI document lists it.
"""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "gift.paid": "A gift's payment was confirmed by the platform.",
    "gift.scheduled": "A paid gift is waiting for its send time.",
    "gift.rescheduled": "A gift's sender moved its send time.",
    "gift.sent": "A gift was sent: its vouchers were issued and the recipient told.",
    "gift.claimed": "A gift's recipient claimed it.",
    "gift.expired": "A sent gift was not claimed in its claim window.",
    "gift.canceled": "A gift was cancelled before it was sent.",
    "gift.refunded": "A gift's price was refunded to its sender.",
    "gift.payment_closed": "A gift's unpaid trade was closed.",
    "gift.needs_review": "A payment arrived that does not match its gift (another amount or "
    "currency): the gift is held for an operator.",
    "voucher.issued": "A voucher was issued for a sent gift.",
    "voucher.redeemed": "A voucher was redeemed at a store (amount and balance after).",
    "voucher.voided": "A voucher can no longer be used (its gift was refunded or it expired).",
    "template.created": "A voucher template was created.",
    "template.updated": "A voucher template was changed.",
    "identity.verification.passed": "A user's real-name verification passed.",
    "identity.verification.failed": "A user's real-name verification failed.",
    "identity.verification.expired": "A user's real-name verification expired unfinished.",
    "identity.verification.canceled": "A user's real-name verification was given up unfinished "
    "(by the user, or by the erasure of their identity).",
    "identity.erased": "A user's identity was erased at their request.",
    "credit.consent.granted": "A user consented to credit look-ups.",
    "credit.consent.withdrawn": "A user withdrew a credit consent.",
    "credit.consent.expired": "A credit consent reached its end.",
    "credit.consent.replaced": "A credit consent was superseded by the user's newer one for the "
    "same purpose.",
    "credit.check.decided": "A credit admittance check was decided.",
    "deposit.held": "A deposit was frozen on the user's account (or waived by credit).",
    "deposit.released": "A deposit hold was released, in part or in whole.",
    "deposit.charged": "A deposit hold was charged, in part or in whole.",
    "deposit.settled": "A deposit's hold has been fully released or charged.",
    "deposit.closed": "A deposit was closed without a hold (refused, cancelled or expired).",
    "deposit.needs_review": "The platform reported a deposit's money in a way that does not add "
    "up: the deposit is held for an operator.",
    "webhook_endpoint.disabled": "A webhook endpoint was disabled after failing for days.",
}


def matches(pattern: str, event_type: str) -> bool:
    """`*` matches every type, `gift.*` every type under `gift.`, anything else itself."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def valid_pattern(pattern: str) -> bool:
    """Whether a type pattern names at least one catalogued type."""
    return any(matches(pattern, event_type) for event_type in EVENT_TYPES)
