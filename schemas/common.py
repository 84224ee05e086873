"""Schemas shared by every capability: the problem document and the base all schemas extend."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields
from sqlalchemy import Row


class WholeNumber(fields.Integer):
    """An integer as JSON (and the document's `type: integer`) means it: `12` or `12.0`, never
    `12.5`, `"12"` or `true`. Counts and integer fen; a whole float is exact, so nothing is lost."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


class BaseSchema(Schema):
    """Unknown fields are rejected, so a misspelt field is an error rather than silently ignored."""

    class Meta:
        unknown = RAISE
        ordered = True

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        """A Row (what a Core select answers, `g.user`) is read by attribute, directly.

        marshmallow tries `obj[attr]` first on anything with `__getitem__`; a Row is indexed by
        position, so that raised and was caught once per field on every answer dumped from one.
        """
        if isinstance(obj, Row) and "." not in attr:
            return getattr(obj, attr, default)
        return super().get_attribute(obj, attr, default)


class ProblemSchema(BaseSchema):
    """RFC 9457 problem details, with a stable `code` and per-field `errors` for 422."""

    type = fields.String(
        dump_only=True, metadata={"example": "https://minifin.dev/problems/validation_failed"}
    )
    title = fields.String(dump_only=True, metadata={"example": "The request body is not valid"})
    status = fields.Integer(dump_only=True, metadata={"example": 422})
    detail = fields.String(
        dump_only=True, metadata={"example": "The request has invalid or unknown fields."}
    )
    code = fields.String(dump_only=True, metadata={"example": "validation_failed"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(),
        dump_only=True,
        metadata={"example": {"auth_code": ["Missing data for required field."]}},
    )


class HealthSchema(BaseSchema):
    status = fields.String(dump_only=True)
    checks = fields.Dict(keys=fields.String(), values=fields.String(), dump_only=True)
