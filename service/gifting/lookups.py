"""A gift looked up for its sender: theirs, or a 404 that says nothing of anyone else's."""

from __future__ import annotations

from service.gifting.models import Gift
from service.ownership import owned_or_404


def senders_gift(gift_id: str, user_id: str) -> Gift:
    """The sender's own gift (to reschedule or cancel it); another's answers like a missing one."""
    return owned_or_404(
        Gift,
        gift_id,
        owner=Gift.sender_id,
        owner_id=user_id,
        detail="No such gift.",
        code="gift_not_found",
    )
