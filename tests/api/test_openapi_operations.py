"""Every operation of the OpenAPI document can be found and read: a unique, stable operationId
(`<blueprint>.<view>`), a summary and a description; and `/docs` needs no CDN by default."""

from __future__ import annotations

from collections import Counter

import pytest

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture
def operations(client) -> list[tuple[str, str, dict]]:
    spec = client.get("/openapi.json").get_json()
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_has_an_operation_id_a_summary_and_a_description(operations):
    assert len(operations) > 40
    lacking = [
        f"{method.upper()} {path}: {what}"
        for path, method, operation in operations
        for what in ("operationId", "summary", "description")
        if not operation.get(what, "").strip()
    ]
    assert not lacking, "\n".join(lacking)


def test_operation_ids_are_unique_and_named_by_blueprint_and_view(operations):
    ids = Counter(operation["operationId"] for _, _, operation in operations)
    assert [name for name, count in ids.items() if count > 1] == []
    by_route = {(path, method): op["operationId"] for path, method, op in operations}
    assert by_route[("/v1/gifts", "post")] == "gifts.buy_gift"
    assert by_route[("/v1/sessions", "post")] == "auth.login"


def test_a_description_is_not_the_summary_again(operations):
    repeated = [
        f"{method.upper()} {path}"
        for path, method, operation in operations
        if operation.get("description", "").strip() == operation.get("summary", "").strip()
    ]
    assert not repeated, repeated


def test_the_docs_page_loads_swagger_ui_from_minifin_itself(client):
    page = client.get("/docs").get_data(as_text=True)
    assert 'src="/docs/assets/swagger-ui-bundle.js"' in page
    assert "https://" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        response = client.get(f"/docs/assets/{asset}")
        assert response.status_code == 200, asset
        assert len(response.get_data()) > 1000, asset
    assert client.get("/docs/assets/../../pyproject.toml").status_code == 404


def test_a_cdn_is_used_only_when_configured(app_env):
    from service import create_app

    cdn = "https://cdn.example/swagger-ui-dist@5/"
    app = create_app({**app_env, "MINIFIN_DOCS_ASSETS_URL": cdn})
    try:
        page = app.test_client().get("/docs").get_data(as_text=True)
        assert f'src="{cdn}swagger-ui-bundle.js"' in page
        assert app.test_client().get("/docs/assets/swagger-ui.css").status_code == 404
    finally:
        app.extensions["minifin"].gateway.close()
