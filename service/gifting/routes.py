"""Voucher templates (merchants write, anyone logged in reads) and gifts (users buy and read)."""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from schemas.gifting import (
    ClaimedGiftSchema,
    ClaimPreviewSchema,
    GiftCreateSchema,
    GiftListQuerySchema,
    GiftRescheduleSchema,
    GiftSchema,
    RedemptionSchema,
    VoucherSchema,
    VoucherTemplateQuerySchema,
    VoucherTemplateSchema,
    VoucherTemplateUpdateSchema,
    VoucherWithCodeSchema,
)
from service.auth.decorators import client_required, principal_required, user_required
from service.gifting import claims, gifts, redemptions, refunds, templates
from service.idempotency import idempotent
from service.openapi import problems

blp = Blueprint(
    "voucher_templates", __name__, url_prefix="/v1/voucher-templates",
    description="What a merchant sells as a gift.",
)  # fmt: skip


@blp.route("", methods=["POST"])
@client_required("templates:write")
@idempotent(required=False)
@blp.arguments(VoucherTemplateSchema)
@blp.response(201, VoucherTemplateSchema)
@problems(blp, 401, 403, 413, 415, 422)
def create_template(body):
    """Create a voucher template (merchant client with `templates:write`)."""
    return templates.create_template(body)


@blp.route("", methods=["GET"])
@principal_required
@blp.arguments(VoucherTemplateQuerySchema, location="query")
@blp.response(200, VoucherTemplateSchema(many=True))
@problems(blp, 401, 422)
def list_templates(query):
    """Templates on sale (users); every template, filterable by `active` (merchant clients)."""
    return templates.list_templates(merchant=g.client is not None, active=query.get("active"))


@blp.route("/<template_id>", methods=["GET"])
@principal_required
@blp.response(200, VoucherTemplateSchema)
@problems(blp, 401, 404)
def get_template(template_id):
    """One template."""
    return templates.get_template(template_id, merchant=g.client is not None)


@blp.route("/<template_id>", methods=["PATCH"])
@client_required("templates:write")
@blp.arguments(VoucherTemplateUpdateSchema(partial=True))
@blp.response(200, VoucherTemplateSchema)
@problems(blp, 401, 403, 404, 413, 415, 422)
def update_template(body, template_id):
    """Change a template; `active: false` takes it off sale."""
    return templates.update_template(template_id, body)


gifts_blp = Blueprint(
    "gifts", __name__, url_prefix="/v1/gifts", description="Gifts users buy for each other."
)


@gifts_blp.route("", methods=["POST"])
@user_required
@idempotent(required=True)
@gifts_blp.arguments(GiftCreateSchema)
@gifts_blp.response(201, GiftSchema)
@problems(gifts_blp, 400, 401, 409, 413, 415, 422, 502, 503)
def buy_gift(body):
    """Buy a gift; pay its `trade_no` with `my.tradePay` and it is sent at `send_at`."""
    return gifts.buy_gift(g.user.id, body, request.headers["Idempotency-Key"])


@gifts_blp.route("", methods=["GET"])
@user_required
@gifts_blp.arguments(GiftListQuerySchema, location="query")
@gifts_blp.response(200, GiftSchema(many=True))
@problems(gifts_blp, 401, 422)
def list_gifts(query):
    """The gifts you sent, or (`role=received`) the paid gifts sent to you."""
    return gifts.gifts_of(g.user.id, query["role"])


@gifts_blp.route("/<gift_id>", methods=["GET"])
@user_required
@gifts_blp.response(200, GiftSchema)
@problems(gifts_blp, 401, 404)
def get_gift(gift_id):
    """One gift with its timeline, for its sender or recipient."""
    return gifts.gift_for(g.user.id, gift_id)


@gifts_blp.route("/<gift_id>", methods=["PATCH"])
@user_required
@gifts_blp.arguments(GiftRescheduleSchema)
@gifts_blp.response(200, GiftSchema)
@problems(gifts_blp, 401, 404, 409, 413, 415, 422)
def reschedule_gift(body, gift_id):
    """Change when a scheduled gift is sent (until a minute before it goes)."""
    return gifts.reschedule_gift(g.user.id, gift_id, body["send_at"])


@gifts_blp.route("/<gift_id>/cancel", methods=["POST"])
@user_required
@gifts_blp.response(200, GiftSchema)
@problems(gifts_blp, 401, 404, 409)
def cancel_gift(gift_id):
    """Cancel a scheduled gift before it is sent; the payment is refunded."""
    return refunds.cancel_gift(g.user.id, gift_id)


claims_blp = Blueprint(
    "claims", __name__, url_prefix="/v1/claims", description="Claiming a gift by its link."
)
vouchers_blp = Blueprint(
    "vouchers", __name__, url_prefix="/v1/vouchers", description="The wallet of vouchers."
)


@claims_blp.route("/<secret:claim_token>", methods=["GET"])
@user_required
@claims_blp.response(200, ClaimPreviewSchema)
@problems(claims_blp, 401, 404)
def preview_claim(claim_token):
    """Who sent what, with which message and cover (no codes)."""
    return claims.preview_claim(claim_token)


@claims_blp.route("/<secret:claim_token>", methods=["POST"])
@user_required
@claims_blp.response(200, ClaimedGiftSchema)
@problems(claims_blp, 401, 403, 404, 409, 410)
def claim(claim_token):
    """Claim the gift: its vouchers move to your wallet (a phone gift: if the number is yours)."""
    return claims.claim_gift(claim_token, g.user.id)


@vouchers_blp.route("", methods=["GET"])
@user_required
@vouchers_blp.response(200, VoucherSchema(many=True))
@problems(vouchers_blp, 401)
def list_vouchers():
    """Your vouchers, codes masked."""
    return claims.wallet(g.user.id)


@vouchers_blp.route("/<secret:voucher_id>", methods=["GET"])  # a code may be typed here
@user_required
@vouchers_blp.response(200, VoucherWithCodeSchema)
@problems(vouchers_blp, 401, 404)
def get_voucher(voucher_id):
    """One of your vouchers with its full code."""
    return claims.voucher_with_code(g.user.id, voucher_id)


@vouchers_blp.route("/<secret:code>/redemptions", methods=["POST"])
@client_required("vouchers:redeem")
@idempotent(required=True)
@vouchers_blp.arguments(RedemptionSchema)
@vouchers_blp.response(201, RedemptionSchema)
@problems(vouchers_blp, 400, 401, 403, 404, 409, 410, 413, 415, 422)
def redeem_voucher(body, code):
    """Redeem a voucher by its code at a store (merchant client with `vouchers:redeem`)."""
    return redemptions.redeem(
        code, body.get("amount_fen"), body["store_id"], g.client.id,
        request.headers["Idempotency-Key"],
    )  # fmt: skip
