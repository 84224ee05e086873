"""OpenAPI wiring: problem responses documented as application/problem+json, security schemes."""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any

from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response

from schemas.common import ProblemSchema
from service.errors import PROBLEM_MIME


class MinifinApi(Api):
    """flask-smorest's Api, with every error response described as a problem document."""

    ERROR_SCHEMA = ProblemSchema

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
