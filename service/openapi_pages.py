"""Pagination, documented once: `limit` and `cursor` as shared parameters every list refers to.

Each list's query schema extends `PageQuerySchema` (schemas/common.py), so flask-smorest writes
the two parameters inline into every list operation. This plugin, run after the marshmallow
plugin has expanded them, keeps the first copy as `components/parameters/limit` and `cursor` and
puts a `$ref` in each list's place, so the document says how lists page in one place and a
client generator sees one parameter type. A copy that differs from the shared one is an error
(two lists would then page differently), found when the document is built. The page schemas'
shared description is `PAGE_DESCRIPTION`, given by `page_schema` itself.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin

SHARED = ("limit", "cursor")  # PageQuerySchema's fields, in the query of every list


class PageParametersPlugin(BasePlugin):
    """An apispec plugin: the page parameters of every list, as references to one component."""

    def init_spec(self, spec: APISpec) -> None:
        super().init_spec(spec)
        self.spec = spec
        self.shared: dict[str, dict[str, Any]] = {}

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for operation in (operations or {}).values():
            parameters = operation.get("parameters") if isinstance(operation, dict) else None
            if parameters:
                operation["parameters"] = [self._shared(p, path) for p in parameters]

    def _shared(self, parameter: Any, path: str | None) -> Any:
        """The reference (a component's name, which apispec turns into a `$ref`) for a page
        parameter; any other parameter unchanged."""
        if not isinstance(parameter, dict) or parameter.get("in") != "query":
            return parameter
        name = parameter.get("name")
        if name not in SHARED:
            return parameter
        component = {key: value for key, value in parameter.items() if key not in ("in", "name")}
        known = self.shared.setdefault(name, component)
        if known is component:
            self.spec.components.parameter(name, "query", component=component)
        elif known != component:
            raise ValueError(f"{path}: the `{name}` parameter differs from every other list's")
        return name
