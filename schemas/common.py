"""Schemas shared by every capability: the problem document and the base all schemas extend."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Row

from schemas.text import PlainText


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


CURSOR_PATTERN = r"[A-Za-z0-9_-]+\.[0-9a-f]{22}"  # base64url payload, then its HMAC (pagination.py)


class PageQuerySchema(BaseSchema):
    """The two query parameters of every list: how many rows, and where the last page ended."""

    limit = fields.Integer(  # a query string: "20" is 20, "20.5" is refused
        load_default=20,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "How many rows a page holds (1–100)."},
    )
    cursor = fields.String(
        load_default=None,
        validate=[
            validate.Length(min=1, max=512),
            PlainText(pattern=CURSOR_PATTERN, error="Not a cursor of this list, or changed."),
        ],
        metadata={"description": "The `next_cursor` of the previous page; absent for the first."},
    )


PAGE_DESCRIPTION = (
    "One page of a list, newest first. `data` holds up to `limit` rows; when `has_more` is true, "
    "pass `next_cursor` as `cursor` (with the same filters) for the next page, which starts after "
    "the last row of this one: rows created meanwhile are not in it, and none is skipped or "
    "repeated. `next_cursor` is null on the last page."
)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A page of `item`s: `{"data": [...], "has_more": bool, "next_cursor": str or null}`.

    Every page schema carries the same description (`PAGE_DESCRIPTION`), so the document says how
    lists page once, in the same words wherever a client reads it.
    """

    class Meta:
        description = PAGE_DESCRIPTION
        ordered = True

    return type(
        name,
        (Schema,),
        {
            "Meta": Meta,
            "__doc__": f"A page of {item.__name__.removesuffix('Schema')} rows.",
            "data": fields.List(
                fields.Nested(item), dump_only=True, metadata={"description": "This page's rows."}
            ),
            "has_more": fields.Boolean(
                dump_only=True, metadata={"description": "Whether another page follows."}
            ),
            "next_cursor": fields.String(
                dump_only=True,
                allow_none=True,
                metadata={"description": "The next page's `cursor`; null on the last page."},
            ),
        },
    )
