"""Every error is application/problem+json with a stable code; bad input never reaches a 500."""

from __future__ import annotations

import pytest

from tests.conftest import bearer


def _assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert list(body)[:5] == ["type", "title", "status", "detail", "code"]
    assert body["status"] == status
    assert body["code"] == code
    return body


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/v1/nowhere", {}, 404, "not_found"),
        ("put", "/v1/sessions", {"json": {}}, 405, "method_not_allowed"),
        (
            "post",
            "/v1/sessions",
            {"data": "x" * 70_000, "content_type": "application/json"},
            413,
            "payload_too_large",
        ),
        (
            "post",
            "/v1/sessions",
            {"data": "auth_code=abc", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (
            "post",
            "/v1/sessions",
            {"data": "{not json", "content_type": "application/json"},
            400,
            "malformed_json",
        ),
        (
            "post",
            "/v1/sessions",
            {"data": "[1, 2]", "content_type": "application/json"},
            400,
            "malformed_json",
        ),
        ("post", "/v1/sessions", {"json": {}}, 422, "validation_failed"),
        ("get", "/v1/me", {}, 401, "unauthorized"),
    ],
)
def test_each_error_status_answers_a_problem_document(client, method, path, kwargs, status, code):
    _assert_problem(getattr(client, method)(path, **kwargs), status, code)


def test_method_not_allowed_names_the_allowed_methods(client):
    response = client.get("/v1/sessions")

    _assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_an_unknown_field_is_rejected_with_its_name(client):
    body = _assert_problem(
        client.post("/v1/sessions", json={"auth_code": "abc", "extra": 1}), 422, "validation_failed"
    )
    assert body["errors"] == {"extra": ["Unknown field."]}


def test_a_missing_field_is_named(client):
    body = _assert_problem(client.post("/v1/sessions", json={}), 422, "validation_failed")
    assert body["errors"] == {"auth_code": ["Missing data for required field."]}


@pytest.mark.parametrize("value", [None, 12, "", ["a"], {"a": 1}, "x" * 600])
def test_a_wrongly_typed_or_sized_field_is_a_422(client, value):
    body = _assert_problem(
        client.post("/v1/sessions", json={"auth_code": value}), 422, "validation_failed"
    )
    assert "auth_code" in body["errors"]


# The token endpoint answers the same refusals as OAuth errors: tests/api/test_oauth_errors.py.
BODY_ENDPOINTS = [
    ("post", "/v1/sessions", {"auth_code": "abc"}),
    ("post", "/v1/sessions/refresh", {"refresh_token": "mrt_x"}),
]


@pytest.mark.parametrize(("method", "path", "valid"), BODY_ENDPOINTS)
def test_every_body_endpoint_refuses_malformed_json(client, method, path, valid):
    del valid
    response = getattr(client, method)(path, data="{", content_type="application/json")
    _assert_problem(response, 400, "malformed_json")


@pytest.mark.parametrize(("method", "path", "valid"), BODY_ENDPOINTS)
def test_every_body_endpoint_refuses_a_wrong_content_type(client, method, path, valid):
    del valid
    response = getattr(client, method)(path, data="hello", content_type="text/plain")
    _assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(("method", "path", "valid"), BODY_ENDPOINTS)
def test_every_body_endpoint_refuses_an_oversized_body(client, method, path, valid):
    del valid
    data = '{"x": "' + "y" * 66_000 + '"}'
    response = getattr(client, method)(path, data=data, content_type="application/json")
    _assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize(("method", "path", "valid"), BODY_ENDPOINTS)
def test_every_body_endpoint_refuses_unknown_fields(client, method, path, valid):
    response = getattr(client, method)(path, json={**valid, "surprise": True})
    body = _assert_problem(response, 422, "validation_failed")
    assert body["errors"]["surprise"] == ["Unknown field."]


@pytest.mark.parametrize(("method", "path", "valid"), BODY_ENDPOINTS)
def test_every_body_endpoint_names_missing_fields(client, method, path, valid):
    response = getattr(client, method)(path, json={})
    body = _assert_problem(response, 422, "validation_failed")
    assert set(valid) <= set(body["errors"])


@pytest.mark.server_error_expected
def test_an_unexpected_failure_is_a_500_problem_without_details(app, client, login, monkeypatch):
    tokens = login()
    from service.auth import decorators

    def boom(claims):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(decorators, "authenticated_user", boom)
    response = client.get("/v1/me", headers=bearer(tokens["access_token"]))

    body = _assert_problem(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert body["detail"]
