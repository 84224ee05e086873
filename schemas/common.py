"""Schemas shared by every capability: the problem document and the base all schemas extend."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields


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
