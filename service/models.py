"""Every capability's models in one place, so the metadata (and so migrations) know every table.

It also holds the one list of sealed columns, which `minifin keys rotate --fields` re-encrypts.
"""

from service.auth.models import LoginSession, MerchantClient, RefreshToken, User
from service.credit.models import (
    ConsentEvent,
    CreditCheck,
    CreditConsent,
    Deposit,
    DepositOperation,
)
from service.events.models import Event
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
from service.security.rotation import SealedColumns
from service.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

SEALED_COLUMNS = (
    SealedColumns(Identity, owner="user_id", columns=("name_sealed", "id_number_sealed")),
    SealedColumns(
        IdentityVerification, owner="user_id", columns=("name_sealed", "id_number_sealed")
    ),
    SealedColumns(Voucher, owner="id", columns=("code_sealed",)),
    SealedColumns(Gift, owner="id", columns=("claim_token_sealed",)),
    SealedColumns(CreditConsent, owner="id", columns=("platform_token_sealed",)),
    SealedColumns(
        WebhookEndpoint, owner="id", columns=("secret_sealed", "previous_secret_sealed")
    ),
)

__all__ = [
    "SEALED_COLUMNS",
    "ConsentEvent",
    "CreditCheck",
    "CreditConsent",
    "Deposit",
    "DepositOperation",
    "Event",
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
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
