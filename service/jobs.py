"""Every capability's job handlers and due-work sources in one place, so every worker runs all."""

from service.gifting.gifts import SETTLE_UNPAID
from service.gifting.jobs import TEMPLATE_MESSAGE
from service.gifting.refunds import REFUND_GIFT, expire_unclaimed_gifts
from service.gifting.sending import send_due_gifts
from service.identity.verifications import SETTLE_VERIFICATION
from service.scheduler.outbox import run_due_jobs

__all__ = [
    "REFUND_GIFT",
    "SETTLE_UNPAID",
    "SETTLE_VERIFICATION",
    "TEMPLATE_MESSAGE",
    "expire_unclaimed_gifts",
    "run_due_jobs",
    "send_due_gifts",
]
