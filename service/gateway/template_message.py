"""Mini-program template messages (`alipay.open.app.mini.templatemessage.send`).

Unlike the money calls, a message carries no idempotency key the platform honours (reference
§6): it is sent once per call, and its retry rule lives with the job that sends it
(gifting/jobs.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from service.gateway.client import GatewayClient
from service.gateway.signing import compact_json

TEMPLATE_MESSAGE_SEND = "alipay.open.app.mini.templatemessage.send"


def send_template_message(
    gateway: GatewayClient,
    *,
    to_user_id: str,
    template_id: str,
    page: str,
    data: Mapping[str, str],
    form_id: str,
) -> None:
    """Notify a user in the super-app, with exactly one request.

    The platform has no idempotency key for messages: a repeat is a second message, so this is
    never retried here (not even after `20000`); the caller decides, knowing from
    `GatewayUnavailable.maybe_done` whether the message may have arrived. `form_id` is what the
    platform accepts as the user's permission to be messaged: a form submission id, or the
    `trade_no` of a payment.
    """
    gateway.call(
        TEMPLATE_MESSAGE_SEND,
        {
            "to_user_id": to_user_id,
            "user_template_id": template_id,
            "page": page,
            "data": compact_json({key: {"value": value} for key, value in data.items()}),
            "form_id": form_id,
        },
        safe_to_retry=False,
    )
