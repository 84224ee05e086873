"""Gifting's template messages as outbox jobs, and the rule by which they are retried.

Messages are at-least-once. The platform takes no idempotency key for
`alipay.open.app.mini.templatemessage.send` (reference §6), so a message sent again after its
first attempt did arrive is delivered twice. The rule keeps duplicates rare and bounded:

- a clear refusal (`20000`, a connection that was never made) delivered nothing: retried with
  the outbox's backoff, like any failure;
- an attempt whose outcome is unknown (a timeout after the request went out, a connection cut
  mid-answer, an answer that cannot be verified, a worker killed mid-send) may have delivered it:
  the message is sent again at most once after such attempts
  (`MINIFIN_MESSAGE_RETRY_AFTER_TIMEOUT=true`, the default: at most one duplicate, nearly never a
  lost message) or not at all (`false`: never a duplicate, sometimes a lost message); a message
  given up this way is parked `dead`, for `minifin jobs requeue`;
- a refusal no retry can change (no such user, a malformed message) is dead at once.

Payloads hold no bearer secret: the recipient's claim link is built when the message is sent,
from the gift's sealed claim token (`claim_of`), so the outbox never stores it in clear.
"""

from __future__ import annotations

from typing import Any

from service.components import gateway, settings
from service.gateway import template_message
from service.gateway.errors import GatewayBadResponse, GatewayRejected, GatewayUnavailable
from service.gifting.claims import claim_page_link
from service.scheduler.outbox import ClaimedJob, OutcomeUnknown, PermanentFailure

TEMPLATE_MESSAGE = "gateway.template_message"
# Payload keys that are not call parameters: the gift whose claim link the page gets, and the
# `out_biz_no` that jobs queued by earlier versions still carry (the platform would ignore it).
_NOT_SENT = frozenset({"claim_of", "out_biz_no"})
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
    claim_link: bool = False,
) -> tuple[dict[str, Any], str]:
    """A template message about a gift, as an outbox payload and its dedupe key.

    The key (`message:<gift id>:<event>`) makes queueing the same event twice one job; it is
    not sent to the platform, which would ignore it. With `claim_link`, `page` gets the gift's
    claim token when the message is sent.
    """
    payload = {"to_user_id": to_user_id, "template_id": template_id, "page": page, "data": data,
               "form_id": form_id}  # fmt: skip
    if claim_link:
        payload["claim_of"] = gift_id
    return payload, f"message:{gift_id}:{event}"


def retries_after_unknown_outcome() -> int:
    """How many times a message is sent again after attempts that may have delivered it."""
    return 1 if settings().message_retry_after_timeout else 0


def _message(payload: dict[str, Any]) -> dict[str, Any]:
    """The call's parameters; a claim page gets its token now, opened from the gift's seal."""
    message = {k: v for k, v in payload.items() if k not in _NOT_SENT}
    if "claim_of" in payload:
        link = claim_page_link(payload["claim_of"], message["page"])
        if link is None:
            raise PermanentFailure("the gift has no claim link to send")
        message["page"] = link
    return message


def send_template_message(job: ClaimedJob) -> None:
    """Send one template message, under the retry rule above."""
    if job.ambiguous_attempts > retries_after_unknown_outcome():
        raise PermanentFailure(
            f"not sent again: {job.ambiguous_attempts} earlier attempts may have been delivered"
        )
    try:
        template_message.send_template_message(gateway(), **_message(job.payload))
    except GatewayUnavailable as exc:
        if exc.maybe_done:
            raise OutcomeUnknown(f"the message may have been delivered: {exc}") from exc
        raise
    except GatewayBadResponse as exc:
        raise OutcomeUnknown(f"the message may have been delivered: {exc}") from exc
    except GatewayRejected as exc:
        if exc.sub_code in _FINAL_MESSAGE_REFUSALS:
            raise PermanentFailure(f"the platform refused the message: {exc.sub_code}") from exc
        raise
