"""Voucher template use cases: what a merchant sells as a gift."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from schemas.gifting import VoucherTemplateSchema
from service.errors import NotFound, Unprocessable
from service.events.log import record
from service.extensions import db
from service.gifting.models import VoucherTemplate
from service.pagination import DEFAULT_LIMIT, Ordering, Page, paginate

log = logging.getLogger(__name__)


def _check_template_rules(values: dict[str, Any]) -> None:
    """Rules across fields that the schema cannot see alone."""
    errors: dict[str, list[str]] = {}
    if values["price_fen"] > values["face_value_fen"]:
        errors["price_fen"] = ["The price cannot exceed the face value."]
    names = [cover["name"] for cover in values["covers"]]
    if len(names) != len(set(names)):
        errors["covers"] = ["Cover names must be unique."]
    if errors:
        raise Unprocessable("The template breaks a rule; see errors.", errors=errors)


def create_template(values: dict[str, Any]) -> VoucherTemplate:
    """Add a template a merchant sells as a gift."""
    _check_template_rules(values)
    template = VoucherTemplate(**values)
    db.session.add(template)
    _record(template, "template.created")
    db.session.commit()
    log.info("voucher template %s created (%s)", template.id, template.kind)
    return template


def update_template(template_id: str, changes: dict[str, Any]) -> VoucherTemplate:
    """Change a template; deactivating stops new gifts, never touches issued vouchers."""
    template = db.session.get(VoucherTemplate, template_id)
    if template is None:
        raise NotFound("No such voucher template.", code="template_not_found")
    merged = {
        "price_fen": changes.get("price_fen", template.price_fen),
        "face_value_fen": changes.get("face_value_fen", template.face_value_fen),
        "covers": changes.get("covers", template.covers),
    }
    _check_template_rules(merged)
    for name, value in changes.items():
        setattr(template, name, value)
    if changes:  # an empty PATCH changes nothing, so says nothing
        _record(template, "template.updated")
    db.session.commit()
    log.info("voucher template %s updated: %s", template.id, ", ".join(sorted(changes)))
    return template


def _record(template: VoucherTemplate, event_type: str) -> None:
    """The template as merchants see it, once written (its id and times); the caller commits."""
    db.session.flush()
    record(event_type, "template", template.id, VoucherTemplateSchema().dump(template))


TEMPLATE_ORDER = Ordering(VoucherTemplate.created_at, VoucherTemplate.id)


def list_templates(
    *, merchant: bool, active: bool | None = None, limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page:
    """Users see what is on sale; merchants see everything, optionally filtered. Newest first."""
    if not merchant:
        active = True  # a user's list is the one on sale, whatever was asked
    query = select(VoucherTemplate)
    if active is not None:
        query = query.where(VoucherTemplate.active.is_(active))
    return paginate(
        query, TEMPLATE_ORDER, list_name="voucher_templates", limit=limit, cursor=cursor,
        filters={"merchant": merchant, "active": active},
    )  # fmt: skip


def get_template(template_id: str, *, merchant: bool) -> VoucherTemplate:
    """One template; an inactive one is invisible to users."""
    template = db.session.get(VoucherTemplate, template_id)
    if template is None or (not template.active and not merchant):
        raise NotFound("No such voucher template.", code="template_not_found")
    return template
