"""Object-level rules a schema publishes in the document (`Meta.openapi`), beside its fields.

A rule such as "exactly one of user_id, phone or link" lives in the schema's validator; the
JSON Schema keywords that say the same (`minProperties`/`maxProperties`) go in its `Meta.openapi`,
so clients and generated requests see the rule instead of learning it from a 422.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin


class SchemaRulesPlugin(BasePlugin):
    """An apispec plugin: merge a marshmallow schema's `Meta.openapi` into its component."""

    def schema_helper(self, name, definition, **kwargs) -> dict[str, Any] | None:
        schema = kwargs.get("schema")
        rules = getattr(getattr(schema, "Meta", None), "openapi", None)
        return {**definition, **rules} if rules else None
