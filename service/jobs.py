"""Every capability's job handlers, due-work sources and notification handlers in one place, so
every worker runs all of them and the API routes every notification."""

from service.credit.fund_events import RECONCILE_DEPOSIT
from service.credit.operations import RECORD_CHARGE_SPLIT, RESUME_OPERATION
from service.gifting.gifts import SETTLE_UNPAID
from service.gifting.jobs import TEMPLATE_MESSAGE
from service.gifting.refunds import REFUND_GIFT, expire_unclaimed_gifts
from service.gifting.sending import send_due_gifts
from service.identity.verifications import SETTLE_VERIFICATION
from service.scheduler.outbox import run_due_jobs

__all__ = [
    "RECONCILE_DEPOSIT",
    "RECORD_CHARGE_SPLIT",
    "REFUND_GIFT",
    "RESUME_OPERATION",
    "SETTLE_UNPAID",
    "SETTLE_VERIFICATION",
    "TEMPLATE_MESSAGE",
    "expire_unclaimed_gifts",
    "run_due_jobs",
    "send_due_gifts",
]
