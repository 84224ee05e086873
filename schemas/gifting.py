"""Schemas of gifting: voucher templates, gift orders, claims, vouchers and redemptions."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.common import BaseSchema, PageQuerySchema, WholeNumber, page_schema
from schemas.text import IanaTimeZone, PlainText, WholeNested, text

ONE_MILLION_YUAN_FEN = 100_000_000


class CoverSchema(BaseSchema):
    """A picture the sender chooses for the gift card."""

    name = fields.String(required=True, validate=text(min_length=1, max_length=40, shown=True))
    image_url = fields.Url(
        required=True, schemes={"https", "http"}, validate=[validate.Length(max=500), PlainText()]
    )


class VoucherTemplateSchema(BaseSchema):
    """A voucher a merchant sells as a gift; amounts are integer fen."""

    id = fields.String(dump_only=True, metadata={"example": "vtp_8f3k…"})
    name = fields.String(required=True, validate=text(min_length=1, max_length=60, shown=True))
    description = fields.String(
        allow_none=True, validate=text(max_length=500, shown=True, multiline=True)
    )
    kind = fields.String(
        required=True,
        validate=[validate.OneOf(["item", "stored_value"]), PlainText()],
        metadata={"description": "`item` is redeemed once; `stored_value` is spent down."},
    )
    face_value_fen = WholeNumber(
        required=True, validate=validate.Range(min=1, max=ONE_MILLION_YUAN_FEN)
    )
    price_fen = WholeNumber(
        required=True, validate=validate.Range(min=1, max=ONE_MILLION_YUAN_FEN)
    )
    currency = fields.String(dump_only=True, metadata={"example": "CNY"})
    validity_days = WholeNumber(
        load_default=365,
        validate=validate.Range(min=1, max=3650),
        metadata={"description": "How long a voucher stays usable after it is claimed."},
    )
    claim_window_hours = WholeNumber(
        load_default=24,
        validate=validate.Range(min=1, max=720),
        metadata={"description": "Unclaimed this long after sending, a gift is refunded."},
    )
    covers = fields.List(
        WholeNested(CoverSchema), required=True, validate=validate.Length(min=1, max=10)
    )
    max_quantity_per_order = WholeNumber(
        load_default=10, validate=validate.Range(min=1, max=100)
    )
    active = fields.Boolean(load_default=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class VoucherTemplateUpdateSchema(VoucherTemplateSchema):
    """The fields a merchant may change; the kind is fixed once vouchers may exist."""

    class Meta(VoucherTemplateSchema.Meta):
        exclude = ("kind",)


class VoucherTemplateQuerySchema(PageQuerySchema):
    active = fields.Boolean(
        metadata={"description": "Merchant clients only: filter by active flag."}
    )


class RecipientSchema(BaseSchema):
    """Exactly one of: a Minifin user, a mobile number, or a claim link for anyone."""

    class Meta(BaseSchema.Meta):
        openapi: ClassVar = {"minProperties": 1, "maxProperties": 1}  # what `_exactly_one` checks

    user_id = fields.String(validate=text(min_length=1, max_length=32))
    phone = fields.String(
        load_only=True,
        validate=PlainText(
            pattern=r"^1[3-9][0-9]{9}$", error="Not a mainland China mobile number."
        ),
    )
    link = fields.Boolean(validate=validate.Equal(True, error="Use link: true, or leave it out."))
    kind = fields.String(dump_only=True, metadata={"example": "user"})
    phone_masked = fields.String(dump_only=True, metadata={"example": "138****5671"})

    @validates_schema
    def _exactly_one(self, data, **kwargs) -> None:
        given = [name for name in ("user_id", "phone", "link") if name in data]
        if len(given) != 1:
            raise ValidationError("Give exactly one of user_id, phone or link.", "_schema")


class GiftCreateSchema(BaseSchema):
    """What a user sends to buy a gift."""

    template_id = fields.String(required=True, validate=text(min_length=1, max_length=32))
    quantity = WholeNumber(required=True, validate=validate.Range(min=1, max=100))
    recipient = WholeNested(RecipientSchema, required=True)
    message = fields.String(
        load_default="", validate=text(max_length=200, shown=True, multiline=True)
    )
    cover = fields.String(required=True, validate=text(min_length=1, max_length=40, shown=True))
    send_at = fields.AwareDateTime(
        load_default=None,
        metadata={"description": "ISO 8601 with an offset; omit to send once paid."},
    )
    timezone = fields.String(
        load_default=None,
        validate=[PlainText(), IanaTimeZone()],
        metadata={"format": "iana-time-zone", "example": "Asia/Shanghai",
                  "description": "A zone name from the IANA database."},
    )  # fmt: skip


class GiftRescheduleSchema(BaseSchema):
    send_at = fields.AwareDateTime(required=True)


class GiftEventSchema(BaseSchema):
    at = fields.AwareDateTime(dump_only=True)
    type = fields.String(dump_only=True)
    detail = fields.Dict(dump_only=True)


class GiftSchema(BaseSchema):
    """A gift order as its sender (or recipient) sees it."""

    id = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    template_id = fields.String(dump_only=True)
    template_name = fields.String(dump_only=True, attribute="template.name")
    quantity = fields.Integer(dump_only=True)
    amount_fen = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    recipient = fields.Method("_recipient", dump_only=True)
    message = fields.String(dump_only=True)
    cover = fields.String(dump_only=True)
    send_at = fields.AwareDateTime(dump_only=True)
    timezone = fields.String(dump_only=True, allow_none=True)
    trade_no = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "Pass to `my.tradePay`."}
    )
    created_at = fields.AwareDateTime(dump_only=True)
    paid_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    sent_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    claim_expires_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    refunded_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    claim_token = fields.String(
        dump_only=True,
        metadata={
            "description": "While the gift waits to be claimed, to its sender (link and phone "
            "gifts, to pass on) and its named recipient: open `pages/gift/claim?token=` with it."
        },
    )
    claim_url = fields.String(
        dump_only=True,
        metadata={"description": "The same link as a web page, for sharing outside the app."},
    )
    events = fields.List(fields.Nested(GiftEventSchema), dump_only=True)

    def _recipient(self, gift) -> dict:
        shown = {"kind": gift.recipient_kind}
        if gift.recipient_user_id:
            shown["user_id"] = gift.recipient_user_id
        if gift.recipient_phone_masked:
            shown["phone_masked"] = gift.recipient_phone_masked
        return shown


class GiftListQuerySchema(PageQuerySchema):
    role = fields.String(
        load_default="sent", validate=[validate.OneOf(["sent", "received"]), PlainText()]
    )


class ClaimPreviewSchema(BaseSchema):
    """The claim page before claiming: who, what and the words; never a code."""

    gift_id = fields.String(dump_only=True, attribute="id")
    status = fields.String(dump_only=True)
    sender_nickname = fields.String(dump_only=True, attribute="sender.nickname", allow_none=True)
    template_name = fields.String(dump_only=True, attribute="template.name")
    quantity = fields.Integer(dump_only=True)
    message = fields.String(dump_only=True)
    cover = fields.String(dump_only=True)
    sent_at = fields.AwareDateTime(dump_only=True)


class VoucherSchema(BaseSchema):
    """A voucher in a wallet; the code is masked except on the owner's own voucher page."""

    id = fields.String(dump_only=True)
    template_id = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    face_value_fen = fields.Integer(dump_only=True)
    balance_fen = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    code_masked = fields.Function(lambda v: "*" * 13 + v.code_last4, dump_only=True)
    issued_at = fields.AwareDateTime(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class ClaimedGiftSchema(ClaimPreviewSchema):
    """A gift just claimed, with the vouchers now in the claimant's wallet (codes masked)."""

    vouchers = fields.List(fields.Nested(VoucherSchema), dump_only=True)


class VoucherWithCodeSchema(VoucherSchema):
    code = fields.String(dump_only=True, metadata={"description": "Show it at the till."})


class RedemptionSchema(BaseSchema):
    """A till redeems a voucher: the amount for stored value, nothing for an item."""

    amount_fen = WholeNumber(
        load_only=True, validate=validate.Range(min=1, max=ONE_MILLION_YUAN_FEN)
    )
    store_id = fields.String(required=True, validate=text(min_length=1, max_length=64))
    voucher_id = fields.String(dump_only=True)
    redeemed_fen = fields.Integer(dump_only=True, attribute="amount_fen")
    balance_after_fen = fields.Integer(dump_only=True)
    at = fields.AwareDateTime(dump_only=True)


class MerchantGiftSchema(BaseSchema):
    """A gift as a merchant client's systems see it (in events): ids, amounts, times, status.

    Never the sender's message, the recipient's number (not even masked), the claim token or
    link: what a till or a ledger needs, and nothing a person wrote or could claim with.
    `service/gifting/snapshots.py` has the database build the same dict for the events (a test
    keeps the two equal).
    """

    id = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    sender_id = fields.String(dump_only=True)
    template_id = fields.String(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    unit_price_fen = fields.Integer(dump_only=True)
    amount_fen = fields.Integer(dump_only=True)
    currency = fields.String(dump_only=True)
    recipient = fields.Method("_recipient", dump_only=True)
    trade_no = fields.String(dump_only=True, allow_none=True)
    send_at = fields.AwareDateTime(dump_only=True)
    timezone = fields.String(dump_only=True, allow_none=True)
    created_at = fields.AwareDateTime(dump_only=True)
    paid_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    closed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    sent_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    claim_expires_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    claimed_by = fields.String(dump_only=True, allow_none=True)
    claimed_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    refunded_at = fields.AwareDateTime(dump_only=True, allow_none=True)

    def _recipient(self, gift) -> dict:
        return {"kind": gift.recipient_kind, "user_id": gift.recipient_user_id}


class MerchantVoucherSchema(BaseSchema):
    """A voucher as a merchant client's systems see it (in events): never its code, even masked."""

    id = fields.String(dump_only=True)
    gift_id = fields.String(dump_only=True)
    template_id = fields.String(dump_only=True)
    owner_id = fields.String(dump_only=True, allow_none=True)
    kind = fields.String(dump_only=True)
    face_value_fen = fields.Integer(dump_only=True)
    balance_fen = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    issued_at = fields.AwareDateTime(dump_only=True)
    expires_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class MerchantRedemptionSchema(MerchantVoucherSchema):
    """`voucher.redeemed`: the voucher after the redemption, with what it took and what is left."""

    amount_fen = fields.Integer(dump_only=True)
    balance_after_fen = fields.Integer(dump_only=True)


class VoucherListQuerySchema(PageQuerySchema):
    """The wallet's page query: no filter beyond the page."""


VoucherTemplatePageSchema = page_schema(VoucherTemplateSchema, "VoucherTemplatePage")
GiftPageSchema = page_schema(GiftSchema, "GiftPage")
VoucherPageSchema = page_schema(VoucherSchema, "VoucherPage")
