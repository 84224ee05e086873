"""Schemas of the event log and of webhooks: events, endpoints, deliveries and their attempts.

An event is shown once, here, the same way in `GET /v1/events` and as a webhook's `data`. Which
event types exist is the service's catalogue (service/events/types.py): the schemas check a
pattern's form, the use cases that it names a catalogued type.
"""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import BaseSchema, PageQuerySchema, WholeNumber, page_schema
from schemas.text import PlainText

TYPE_PATTERN = r"^(\*|[a-z][a-z_]*(\.[a-z_]+)*(\.\*)?)$"  # `*`, `gift.*`, `gift.sent`


def _type_pattern(**kwargs):
    return fields.String(
        validate=[validate.Length(1, 64), PlainText(pattern=TYPE_PATTERN)], **kwargs
    )


class EventObjectSchema(BaseSchema):
    type = fields.String(dump_only=True, metadata={"example": "gift"})
    id = fields.String(dump_only=True, metadata={"example": "gft_4k9q…"})


class EventSchema(BaseSchema):
    """One change: its type, when, the object it is about and that object's snapshot."""

    id = fields.String(dump_only=True, metadata={"example": "evt_8c2m…"})
    type = fields.String(dump_only=True, metadata={"example": "gift.sent"})
    created_at = fields.AwareDateTime(dump_only=True)
    object = fields.Method("_object", dump_only=True, metadata={"type": "object"})
    data = fields.Dict(dump_only=True, metadata={"description": "The object as the API shows it."})

    def _object(self, event) -> dict:
        return {"type": event.object_type, "id": event.object_id}


class EventQuerySchema(PageQuerySchema):
    type = _type_pattern(
        load_default=None,
        metadata={"description": "A type (`gift.sent`) or a prefix (`gift.*`)."},
    )
    object_id = fields.String(
        load_default=None,
        validate=[validate.Length(1, 64), PlainText(pattern=r"^[a-z]{2,5}_[0-9a-z]{1,40}$")],
        metadata={"description": "Only the events about this object."},
    )


EventPageSchema = page_schema(EventSchema, "EventPage")


def _endpoint_url(**kwargs):
    return fields.Url(
        schemes={"https", "http"},
        require_tld=False,
        validate=[validate.Length(max=2048), PlainText()],
        metadata={"description": "Where deliveries are posted; `https` in production."},
        **kwargs,
    )


def _enabled_events(**kwargs):
    return fields.List(
        _type_pattern(), validate=validate.Length(1, 100),
        metadata={"description": "Event types, prefixes such as `gift.*`, or `*` for all."},
        **kwargs,
    )  # fmt: skip


def _description(**kwargs):
    return fields.String(validate=[validate.Length(max=200), PlainText()], **kwargs)


class EndpointCreateSchema(BaseSchema):
    url = _endpoint_url(required=True)
    enabled_events = _enabled_events(required=True)
    description = _description(load_default="")
    enabled = fields.Boolean(load_default=True)


class EndpointUpdateSchema(BaseSchema):
    """Only the fields given change."""

    url = _endpoint_url()
    enabled_events = _enabled_events()
    description = _description()
    enabled = fields.Boolean()


class EndpointSchema(BaseSchema):
    """An endpoint, never its secret (shown once, at creation and at each rotation)."""

    id = fields.String(dump_only=True, metadata={"example": "we_3f9a…"})
    url = fields.String(dump_only=True)
    description = fields.String(dump_only=True)
    enabled_events = fields.List(fields.String(), dump_only=True)
    enabled = fields.Boolean(dump_only=True)
    failing_since = fields.AwareDateTime(dump_only=True, allow_none=True)
    disabled_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    previous_secret_expires_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class EndpointWithSecretSchema(EndpointSchema):
    secret = fields.String(
        dump_only=True,
        metadata={"description": "The signing secret (`whsec_…`); shown only this once."},
    )


EndpointPageSchema = page_schema(EndpointSchema, "WebhookEndpointPage")


class AttemptSchema(BaseSchema):
    attempt = WholeNumber(dump_only=True)
    at = fields.AwareDateTime(dump_only=True)
    duration_ms = WholeNumber(dump_only=True)
    status_code = WholeNumber(dump_only=True, allow_none=True)
    error = fields.String(dump_only=True, allow_none=True)
    response_body = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "The answer's first KiB."}
    )


class DeliverySchema(BaseSchema):
    id = fields.String(dump_only=True, metadata={"example": "whd_7n2k…"})
    endpoint_id = fields.String(dump_only=True)
    event_id = fields.String(dump_only=True)
    status = fields.String(dump_only=True, metadata={"enum": ["pending", "succeeded", "failed"]})
    attempts = WholeNumber(dump_only=True)
    next_attempt_at = fields.AwareDateTime(dump_only=True)
    last_status = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    finished_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    attempt_list = fields.List(
        fields.Nested(AttemptSchema), dump_only=True, data_key="attempt_history",
        attribute="attempt_rows",
    )  # fmt: skip


DeliveryPageSchema = page_schema(DeliverySchema, "WebhookDeliveryPage")
