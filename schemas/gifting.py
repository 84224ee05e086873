"""Schemas of gifting: voucher templates (gift orders, vouchers and claims join them later)."""

from __future__ import annotations

from marshmallow import fields, validate

from schemas.common import BaseSchema

ONE_MILLION_YUAN_FEN = 100_000_000


class CoverSchema(BaseSchema):
    """A picture the sender chooses for the gift card."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=40))
    image_url = fields.Url(
        required=True, schemes={"https", "http"}, validate=validate.Length(max=500)
    )


class VoucherTemplateSchema(BaseSchema):
    """A voucher a merchant sells as a gift; amounts are integer fen."""

    id = fields.String(dump_only=True, metadata={"example": "vtp_8f3k…"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    description = fields.String(allow_none=True, validate=validate.Length(max=500))
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["item", "stored_value"]),
        metadata={"description": "`item` is redeemed once; `stored_value` is spent down."},
    )
    face_value_fen = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=ONE_MILLION_YUAN_FEN)
    )
    price_fen = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=ONE_MILLION_YUAN_FEN)
    )
    currency = fields.String(dump_only=True, metadata={"example": "CNY"})
    validity_days = fields.Integer(
        load_default=365,
        strict=True,
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "How long a voucher stays usable after it is claimed."},
    )
    claim_window_hours = fields.Integer(
        load_default=24,
        strict=True,
        validate=validate.Range(min=1, max=720),
        metadata={"description": "Unclaimed this long after sending, a gift is refunded."},
    )
    covers = fields.List(
        fields.Nested(CoverSchema), required=True, validate=validate.Length(min=1, max=10)
    )
    max_quantity_per_order = fields.Integer(
        load_default=10, strict=True, validate=validate.Range(min=1, max=100)
    )
    active = fields.Boolean(load_default=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class VoucherTemplateUpdateSchema(VoucherTemplateSchema):
    """The fields a merchant may change; the kind is fixed once vouchers may exist."""

    class Meta(VoucherTemplateSchema.Meta):
        exclude = ("kind",)


class VoucherTemplateQuerySchema(BaseSchema):
    active = fields.Boolean(
        metadata={"description": "Merchant clients only: filter by active flag."}
    )
