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
    _record(template, "template.updated")
    db.session.commit()
    log.info("voucher template %s updated: %s", template.id, ", ".join(sorted(changes)))
    return template


def _record(template: VoucherTemplate, event_type: str) -> None:
    """The template as merchants see it, once written (its id and times); the caller commits."""
    db.session.flush()
    record(event_type, "template", template.id, VoucherTemplateSchema().dump(template))


def list_templates(*, merchant: bool, active: bool | None = None) -> list[VoucherTemplate]:
    """Users see what is on sale; merchants see everything, optionally filtered."""
    query = select(VoucherTemplate).order_by(VoucherTemplate.created_at, VoucherTemplate.id)
    if not merchant:
        query = query.where(VoucherTemplate.active.is_(True))
    elif active is not None:
        query = query.where(VoucherTemplate.active.is_(active))
    return list(db.session.scalars(query))


def get_template(template_id: str, *, merchant: bool) -> VoucherTemplate:
    """One template; an inactive one is invisible to users."""
    template = db.session.get(VoucherTemplate, template_id)
    if template is None or (not template.active and not merchant):
        raise NotFound("No such voucher template.", code="template_not_found")
    return template
