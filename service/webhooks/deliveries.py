"""An endpoint's deliveries for its merchant: listed with their attempts, sent again on demand.

A redelivery is one more attempt, due now: a failed delivery becomes pending again (its
attempts keep counting, so it fails again at once if that attempt fails too), a succeeded one is
sent once more (with the same `webhook-id`, which receivers de-duplicate by). It waits, like any
delivery, while its endpoint's circuit is open or the endpoint is disabled.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from service.dbtypes import utcnow
from service.errors import NotFound
from service.extensions import db
from service.pagination import Ordering, Page, paginate
from service.webhooks.endpoints import endpoint_or_404
from service.webhooks.models import PENDING, WebhookDelivery

log = logging.getLogger(__name__)


def list_deliveries(endpoint_id: str, limit: int, cursor: str | None) -> Page:
    """One page of the endpoint's deliveries, newest first, each with its attempts."""
    endpoint_or_404(endpoint_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .options(selectinload(WebhookDelivery.attempt_rows))
    )
    return paginate(
        query, Ordering(WebhookDelivery.created_at, WebhookDelivery.id),
        list_name="webhook_deliveries", limit=limit, cursor=cursor,
        filters={"endpoint_id": endpoint_id},
    )  # fmt: skip


def redeliver(endpoint_id: str | None, delivery_id: str) -> WebhookDelivery:
    """Make the delivery due now, whatever its state; commits. `endpoint_id` None: any
    endpoint's (the operator's command)."""
    query = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    delivery = db.session.scalars(
        query.options(selectinload(WebhookDelivery.attempt_rows))
    ).one_or_none()
    if delivery is None:
        raise NotFound("No such delivery of this endpoint.", code="webhook_delivery_not_found")
    delivery.status, delivery.next_attempt_at, delivery.finished_at = PENDING, utcnow(), None
    db.session.commit()
    log.info("webhook delivery %s queued again", delivery.id)
    return delivery
