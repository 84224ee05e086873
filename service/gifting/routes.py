"""Voucher templates: merchants write them, anyone logged in reads what is on sale."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from schemas.gifting import (
    VoucherTemplateQuerySchema,
    VoucherTemplateSchema,
    VoucherTemplateUpdateSchema,
)
from service.auth.decorators import client_required, principal_required
from service.gifting import services
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
    return services.create_template(body)


@blp.route("", methods=["GET"])
@principal_required
@blp.arguments(VoucherTemplateQuerySchema, location="query")
@blp.response(200, VoucherTemplateSchema(many=True))
@problems(blp, 401, 422)
def list_templates(query):
    """Templates on sale (users); every template, filterable by `active` (merchant clients)."""
    return services.list_templates(merchant=g.client is not None, active=query.get("active"))


@blp.route("/<template_id>", methods=["GET"])
@principal_required
@blp.response(200, VoucherTemplateSchema)
@problems(blp, 401, 404)
def get_template(template_id):
    """One template."""
    return services.get_template(template_id, merchant=g.client is not None)


@blp.route("/<template_id>", methods=["PATCH"])
@client_required("templates:write")
@blp.arguments(VoucherTemplateUpdateSchema(partial=True))
@blp.response(200, VoucherTemplateSchema)
@problems(blp, 401, 403, 404, 413, 415, 422)
def update_template(body, template_id):
    """Change a template; `active: false` takes it off sale."""
    return services.update_template(template_id, body)
