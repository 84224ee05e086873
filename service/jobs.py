"""Every capability's job handlers in one place, so every worker knows every kind of job."""

from service.gifting.gifts import SETTLE_UNPAID
from service.gifting.jobs import TEMPLATE_MESSAGE

__all__ = ["SETTLE_UNPAID", "TEMPLATE_MESSAGE"]
