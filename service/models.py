"""Every capability's models in one place, so the metadata (and so migrations) know every table."""

from service.auth.models import LoginSession, MerchantClient, RefreshToken, User
from service.gifting.models import (
    Gift,
    GiftEvent,
    Voucher,
    VoucherLedgerEntry,
    VoucherTemplate,
)
from service.idempotency import IdempotencyRecord
from service.identity.models import Identity, IdentityEvent, IdentityVerification
from service.notifications.models import GatewayNotification
from service.scheduler.models import OutboxJob

__all__ = [
    "GatewayNotification",
    "Gift",
    "GiftEvent",
    "IdempotencyRecord",
    "Identity",
    "IdentityEvent",
    "IdentityVerification",
    "LoginSession",
    "MerchantClient",
    "OutboxJob",
    "RefreshToken",
    "User",
    "Voucher",
    "VoucherLedgerEntry",
    "VoucherTemplate",
]
