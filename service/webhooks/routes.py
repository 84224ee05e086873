"""The event log and webhook endpoints, for merchant clients (`events:read`, `webhooks:write`)."""

from __future__ import annotations

from flask_smorest import Blueprint

from schemas.common import PageQuerySchema
from schemas.webhooks import (
    DeliveryPageSchema,
    DeliverySchema,
    EndpointCreateSchema,
    EndpointPageSchema,
    EndpointSchema,
    EndpointUpdateSchema,
    EndpointWithSecretSchema,
    EventPageSchema,
    EventQuerySchema,
)
from service.auth.decorators import client_required
from service.openapi import problems
from service.webhooks import deliveries, endpoints, event_log

events_blp = Blueprint(
    "events", __name__, url_prefix="/v1/events",
    description="The event log: every change merchants' systems care about, newest first.",
)  # fmt: skip
blp = Blueprint(
    "webhooks", __name__, url_prefix="/v1/webhook-endpoints",
    description="Webhook endpoints: events posted to your URLs, signed (Standard Webhooks).",
)  # fmt: skip


@events_blp.route("", methods=["GET"])
@client_required("events:read")
@events_blp.arguments(EventQuerySchema, location="query")
@events_blp.response(200, EventPageSchema)
@problems(events_blp, 401, 403, 422)
def list_events(query):
    """The event log, newest first, one page at a time.

    Filter by `type` (a type such as `gift.sent`, or a prefix such as `gift.*`) and by
    `object_id`; page with `limit` and the previous page's `next_cursor`.
    """
    return event_log.list_events(**query)


@blp.route("", methods=["POST"])
@client_required("webhooks:write")
@blp.arguments(EndpointCreateSchema)
@blp.response(201, EndpointWithSecretSchema)
@problems(blp, 401, 403, 413, 415, 422)
def create_endpoint(body):
    """Register a URL to receive events; the answer shows its signing secret, once.

    `enabled_events` lists types, prefixes (`gift.*`) or `*`. Deliveries are signed with the
    secret (`whsec_…`) as Standard Webhooks specifies; keep it, it is never shown again.
    """
    return endpoints.create_endpoint(body)


@blp.route("", methods=["GET"])
@client_required("webhooks:write")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, EndpointPageSchema)
@problems(blp, 401, 403, 422)
def list_endpoints(query):
    """Every webhook endpoint, newest first.

    Disabled endpoints too, with when and since when they were failing.
    """
    return endpoints.list_endpoints(**query)


@blp.route("/<endpoint_id>", methods=["GET"])
@client_required("webhooks:write")
@blp.response(200, EndpointSchema)
@problems(blp, 401, 403, 404)
def get_endpoint(endpoint_id):
    """One webhook endpoint.

    Its URL, subscriptions and state; never its secret.
    """
    return endpoints.endpoint_or_404(endpoint_id)


@blp.route("/<endpoint_id>", methods=["PATCH"])
@client_required("webhooks:write")
@blp.arguments(EndpointUpdateSchema)
@blp.response(200, EndpointSchema)
@problems(blp, 401, 403, 404, 413, 415, 422)
def update_endpoint(body, endpoint_id):
    """Change an endpoint's URL, subscriptions, description, or enable it again.

    Enabling an endpoint that was disabled for failing starts its failures over; its waiting
    deliveries go out.
    """
    return endpoints.update_endpoint(endpoint_id, body)


@blp.route("/<endpoint_id>", methods=["DELETE"])
@client_required("webhooks:write")
@blp.response(204)
@problems(blp, 401, 403, 404)
def delete_endpoint(endpoint_id):
    """Remove an endpoint, with its deliveries.

    Nothing more is sent to it.
    """
    endpoints.delete_endpoint(endpoint_id)


@blp.route("/<endpoint_id>/rotate-secret", methods=["POST"])
@client_required("webhooks:write")
@blp.response(200, EndpointWithSecretSchema)
@problems(blp, 401, 403, 404)
def rotate_secret(endpoint_id):
    """Issue a new signing secret; the old one keeps signing alongside for a while.

    For `MINIFIN_WEBHOOK_SECRET_OVERLAP_HOURS` every delivery carries both signatures, so the
    receiver can switch secrets at its own pace. The new secret is shown this once.
    """
    return endpoints.rotate_secret(endpoint_id)


@blp.route("/<endpoint_id>/deliveries", methods=["GET"])
@client_required("webhooks:write")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, DeliveryPageSchema)
@problems(blp, 401, 403, 404, 422)
def list_deliveries(query, endpoint_id):
    """The endpoint's deliveries, newest first, each with every attempt.

    An attempt shows when it was made, how long it took, the answer's status (or why none came)
    and the answer's first KiB.
    """
    return deliveries.list_deliveries(endpoint_id, **query)


@blp.route("/<endpoint_id>/deliveries/<delivery_id>/redeliver", methods=["POST"])
@client_required("webhooks:write")
@blp.response(202, DeliverySchema)
@problems(blp, 401, 403, 404)
def redeliver(endpoint_id, delivery_id):
    """Send a delivery again, now.

    One more attempt with the same `webhook-id`; it waits while the endpoint is failing or
    disabled.
    """
    return deliveries.redeliver(endpoint_id, delivery_id)
