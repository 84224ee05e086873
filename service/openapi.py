"""OpenAPI wiring: problem responses documented as application/problem+json, security schemes,
an `operationId` for every operation, and the docs UI served from the installed package.

**operationIds** are given here, for every route of every blueprint the API registers, as
`<blueprint>.<view function>` (`gifts.buy_gift`): stable while the function keeps its name,
readable, and unique because Flask's endpoints are. A route's docstring gives the rest: its first
line is the operation's summary, the paragraphs after it the description.

**The docs UI** (`/docs`, Swagger UI) loads its script and styles from the copy of Swagger UI
that the `flask-swagger-ui` package installs with Minifin, served at `/docs/assets/`, so the
page works without the internet (a laptop offline, a locked-down network). A CDN is used only
when `MINIFIN_DOCS_ASSETS_URL` names one.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

from flask import Response, send_from_directory
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response

from schemas.common import ProblemSchema
from service.errors import PROBLEM_MIME
from service.openapi_links import LinksPlugin
from service.openapi_pages import PageParametersPlugin
from service.openapi_rules import SchemaRulesPlugin

SWAGGER_UI_ASSETS = "/assets"  # under OPENAPI_SWAGGER_UI_PATH: /docs/assets/swagger-ui.css
ASSET_MAX_AGE = 24 * 3600


def swagger_ui_dist() -> Path:
    """The directory of Swagger UI's built files that flask-swagger-ui installs."""
    return Path(str(files("flask_swagger_ui") / "dist"))


def _swagger_ui_asset(filename: str) -> Response:
    """One of Swagger UI's files (only those in the package's dist directory)."""
    return send_from_directory(swagger_ui_dist(), filename, max_age=ASSET_MAX_AGE)


def operation_id(blueprint: str, endpoint: str) -> str:
    """The operationId of a route: its blueprint and its view function, `gifts.buy_gift`."""
    return f"{blueprint}.{endpoint}"


class MinifinApi(Api):
    """flask-smorest's Api, with every error response described as a problem document, an
    operationId on every operation, and the docs UI's assets served locally by default."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *args, extra_plugins=None, **kwargs):
        """Add the links (service/openapi_links.py), schema rules (openapi_rules.py) and the
        shared page parameters (openapi_pages.py)."""
        plugins = [
            *(extra_plugins or ()), LinksPlugin(), SchemaRulesPlugin(), PageParametersPlugin(),
        ]  # fmt: skip
        return super()._init_spec(*args, extra_plugins=plugins, **kwargs)
    def register_blueprint(self, blp: Blueprint, **options) -> None:
        """Register the blueprint, every operation of it with its operationId."""
        name = options.get("name", blp.name)
        for endpoint, operations in blp._docs.items():
            for method, doc in operations.items():
                if method != "parameters":  # the route's own path parameters, not an operation
                    manual = doc.setdefault("manual_doc", {})
                    manual.setdefault("operationId", operation_id(name, endpoint))
        super().register_blueprint(blp, **options)

    def _register_swagger_ui_rule(self, blueprint) -> None:
        """Swagger UI at OPENAPI_SWAGGER_UI_PATH, its assets from the installed package unless
        OPENAPI_SWAGGER_UI_URL names where else to load them from."""
        super()._register_swagger_ui_rule(blueprint)
        ui_path = self.config.get("OPENAPI_SWAGGER_UI_PATH")
        if ui_path is None or self.config.get("OPENAPI_SWAGGER_UI_URL"):
            return
        assets = "/" + ui_path.strip("/") + SWAGGER_UI_ASSETS
        blueprint.add_url_rule(
            f"{assets}/<path:filename>", endpoint="swagger_ui_assets", view_func=_swagger_ui_asset
        )
        self._swagger_ui_url = f"{(blueprint.url_prefix or '').rstrip('/')}{assets}/"

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIME)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_MIME)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, default, lazy=True)


def problems(blp: Blueprint, *statuses: int) -> Callable[[Callable], Callable]:
    """Document the problem responses a route can give."""

    def decorator(view: Callable) -> Callable:
        for status in statuses:
            view = blp.alt_response(status, response=http.HTTPStatus(status).name)(view)
        return view

    return decorator


SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "userToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A user's access token from POST /v1/sessions.",
    },
    "clientToken": {
        "type": "oauth2",
        "description": "A merchant client's token from POST /v1/oauth/token.",
        "flows": {
            "clientCredentials": {
                "tokenUrl": "/v1/oauth/token",
                "scopes": {},
            }
        },
    },
}
