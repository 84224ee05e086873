"""Gifting's side effects as outbox jobs, each keyed so a retry after a crash does it once."""

from __future__ import annotations

from typing import Any

from service.components import gateway
from service.gateway import payments
from service.gateway.errors import GatewayRejected
from service.scheduler.outbox import ClaimedJob, PermanentFailure, job_handler

TEMPLATE_MESSAGE = "gateway.template_message"
# Refusals that no retry can change: the user is gone or the request is malformed.
_FINAL_MESSAGE_REFUSALS = {"USER_NOT_EXIST", "isv.invalid-parameter", "isv.missing-parameter"}


def gift_message(
    gift_id: str,
    to_user_id: str,
    template_id: str,
    *,
    page: str,
    data: dict[str, str],
    form_id: str,
    event: str,
) -> tuple[dict[str, Any], str]:
    """A template message about a gift, as an outbox payload and its dedupe key.

    `out_biz_no` is `<gift id>-<event>`: the platform keeps one message per key, so however
    often the job is retried the user is told once of each event.
    """
    payload = {"to_user_id": to_user_id, "template_id": template_id, "page": page, "data": data,
               "form_id": form_id, "out_biz_no": f"{gift_id}-{event}"}  # fmt: skip
    return payload, f"message:{gift_id}:{event}"


@job_handler(TEMPLATE_MESSAGE)
def send_template_message(job: ClaimedJob) -> None:
    """Send one template message; its `out_biz_no` makes a repeat land only once."""
    try:
        payments.send_template_message(gateway(), **job.payload)
    except GatewayRejected as exc:
        if exc.sub_code in _FINAL_MESSAGE_REFUSALS:
            raise PermanentFailure(f"the platform refused the message: {exc.sub_code}") from exc
        raise
