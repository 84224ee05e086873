"""Voucher templates (merchants write, anyone logged in reads) and gifts (users buy and read)."""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from schemas.gifting import (
    ClaimedGiftSchema,
    ClaimPreviewSchema,
    GiftCreateSchema,
    GiftListQuerySchema,
    GiftPageSchema,
    GiftRescheduleSchema,
    GiftSchema,
    RedemptionSchema,
    VoucherListQuerySchema,
    VoucherPageSchema,
    VoucherTemplatePageSchema,
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
    """Create a voucher template (merchant client with `templates:write`).

    A template is what a merchant sells as a gift: an `item` voucher (redeemed once) or a
    `stored_value` one (spent down), its face value and price in fen, covers, the claim window
    and how long a claimed voucher stays valid.
    """
    return templates.create_template(body)


@blp.route("", methods=["GET"])
@principal_required
@blp.arguments(VoucherTemplateQuerySchema, location="query")
@blp.response(200, VoucherTemplatePageSchema)
@problems(blp, 401, 422)
def list_templates(query):
    """Templates on sale (users); every template, filterable by `active` (merchant clients).

    A user sees the active templates, the ones on sale. A merchant client sees every template,
    and may filter by `active`. Newest first, a page at a time.
    """
    return templates.list_templates(merchant=g.client is not None, **query)


@blp.route("/<template_id>", methods=["GET"])
@principal_required
@blp.response(200, VoucherTemplateSchema)
@problems(blp, 401, 404)
def get_template(template_id):
    """One template.

    A template that is off sale is found by merchant clients only; users get 404.
    """
    return templates.get_template(template_id, merchant=g.client is not None)


@blp.route("/<template_id>", methods=["PATCH"])
@client_required("templates:write")
@blp.arguments(VoucherTemplateUpdateSchema(partial=True))
@blp.response(200, VoucherTemplateSchema)
@problems(blp, 401, 403, 404, 413, 415, 422)
def update_template(body, template_id):
    """Change a template; `active: false` takes it off sale.

    Fields not sent are kept; a nested list (the covers) is replaced whole. Templates are never
    deleted: `active: false` stops their sale, and gifts already bought keep what they were
    bought with.
    """
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
    """Buy a gift; pay its `trade_no` with `my.tradePay` and it is sent at `send_at`.

    Opens a platform trade (`alipay.trade.create`) for the gift's price and answers its
    `trade_no`. The gift waits in `pending_payment` until the payment notification schedules it,
    and is closed if unpaid within `MINIFIN_GIFT_PAYMENT_MINUTES`. Needs an `Idempotency-Key`: a
    retry finds the same gift and the same trade.
    """
    return gifts.buy_gift(g.user.id, body, request.headers["Idempotency-Key"])


@gifts_blp.route("", methods=["GET"])
@user_required
@gifts_blp.arguments(GiftListQuerySchema, location="query")
@gifts_blp.response(200, GiftPageSchema)
@problems(gifts_blp, 401, 422)
def list_gifts(query):
    """The gifts you sent, or (`role=received`) the paid gifts sent to you.

    `role=sent` (the default) lists the gifts you bought; `role=received` lists the paid gifts
    addressed to you, with their claim link once sent. Newest first, a page at a time.
    """
    return gifts.gifts_of(g.user.id, **query)


@gifts_blp.route("/<gift_id>", methods=["GET"])
@user_required
@gifts_blp.response(200, GiftSchema)
@problems(gifts_blp, 401, 404)
def get_gift(gift_id):
    """One gift with its timeline, for its sender or recipient.

    The gift's status and its timeline of events (created, paid, sent, claimed, refunded…).
    Anyone else gets 404.
    """
    return gifts.gift_for(g.user.id, gift_id)


@gifts_blp.route("/<gift_id>", methods=["PATCH"])
@user_required
@gifts_blp.arguments(GiftRescheduleSchema)
@gifts_blp.response(200, GiftSchema)
@problems(gifts_blp, 401, 404, 409, 413, 415, 422)
def reschedule_gift(body, gift_id):
    """Change when a scheduled gift is sent (until a minute before it goes).

    `send_at` needs an offset and must leave the claim window inside the platform's refund
    period. A gift already sent, or due within a minute, is a 409.
    """
    return gifts.reschedule_gift(g.user.id, gift_id, body["send_at"])


@gifts_blp.route("/<gift_id>/cancel", methods=["POST"])
@user_required
@gifts_blp.response(200, GiftSchema)
@problems(gifts_blp, 401, 404, 409)
def cancel_gift(gift_id):
    """Cancel a scheduled gift before it is sent; the payment is refunded.

    Only a scheduled gift not yet sent can be canceled. Its vouchers are never issued, and an
    outbox job refunds the payment (once, keyed by the gift) and tells the sender.
    """
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
    """Who sent what, with which message and cover (no codes).

    What the link shows before the gift is claimed: the sender's nickname, the template, message
    and cover. Never the voucher codes.
    """
    return claims.preview_claim(claim_token)


@claims_blp.route("/<secret:claim_token>", methods=["POST"])
@user_required
@claims_blp.response(200, ClaimedGiftSchema)
@problems(claims_blp, 401, 403, 404, 409, 410)
def claim(claim_token):
    """Claim the gift: its vouchers move to your wallet (a phone gift: if the number is yours).

    A gift for a user is claimed only by that user, a phone gift by the person whose verified
    mobile it is, and a link gift by whoever claims it first (exactly one wins). After the claim
    window it is gone (410).
    """
    return claims.claim_gift(claim_token, g.user.id)


@vouchers_blp.route("", methods=["GET"])
@user_required
@vouchers_blp.arguments(VoucherListQuerySchema, location="query")
@vouchers_blp.response(200, VoucherPageSchema)
@problems(vouchers_blp, 401, 422)
def list_vouchers(query):
    """Your vouchers, codes masked.

    Every voucher you claimed, newest first, with its balance, status and expiry; codes are
    masked. Read one voucher to see its full code.
    """
    return claims.wallet(g.user.id, **query)


@vouchers_blp.route("/<secret:voucher_id>", methods=["GET"])  # a code may be typed here
@user_required
@vouchers_blp.response(200, VoucherWithCodeSchema)
@problems(vouchers_blp, 401, 404)
def get_voucher(voucher_id):
    """One of your vouchers with its full code.

    The full code, for its owner only; anyone else gets 404. A code typed here in place of an id
    is never written to access logs.
    """
    return claims.voucher_with_code(g.user.id, voucher_id)


@vouchers_blp.route("/<secret:code>/redemptions", methods=["POST"])
@client_required("vouchers:redeem")
@idempotent(required=True)
@vouchers_blp.arguments(RedemptionSchema)
@vouchers_blp.response(201, RedemptionSchema)
@problems(vouchers_blp, 400, 401, 403, 404, 409, 410, 413, 415, 422)
def redeem_voucher(body, code):
    """Redeem a voucher by its code at a store (merchant client with `vouchers:redeem`).

    An item voucher is redeemed whole (no `amount_fen`); a stored-value voucher is spent down by
    `amount_fen` and never below zero, even when tills race. Needs an `Idempotency-Key`, unique
    per client: a retry with the same key answers the first redemption, however late.
    """
    return redemptions.redeem(
        code, body.get("amount_fen"), body["store_id"], g.client.id,
        request.headers["Idempotency-Key"],
    )  # fmt: skip
