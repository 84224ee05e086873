"""Every capability's job handlers and due-work sources in one place, so every worker runs all."""

from service.gifting.gifts import SETTLE_UNPAID
from service.gifting.jobs import TEMPLATE_MESSAGE
from service.gifting.sending import send_due_gifts
from service.scheduler.outbox import run_due_jobs

__all__ = ["SETTLE_UNPAID", "TEMPLATE_MESSAGE", "run_due_jobs", "send_due_gifts"]
