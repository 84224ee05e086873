"""The OpenAPI document, the docs page, and the liveness/readiness probes."""

from __future__ import annotations

import pytest


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_spec_is_openapi_3_1_with_both_security_schemes(spec):
    assert spec["openapi"].startswith("3.1")
    schemes = spec["components"]["securitySchemes"]
    assert schemes["userToken"]["scheme"] == "bearer"
    assert "vouchers:redeem" in schemes["clientToken"]["flows"]["clientCredentials"]["scopes"]


@pytest.mark.parametrize(
    ("path", "method", "security", "success", "problems"),
    [
        ("/v1/sessions", "post", None, "201", {"400", "413", "415", "422", "429", "502", "503"}),
        ("/v1/sessions/refresh", "post", None, "200", {"401", "422", "429"}),
        ("/v1/sessions/current", "delete", "userToken", "204", {"401"}),
        ("/v1/me", "get", "userToken", "200", {"401"}),
        ("/v1/oauth/token", "post", None, "200", {"401", "400", "422"}),
    ],
)
def test_each_endpoint_documents_security_success_and_problems(
    spec, path, method, security, success, problems
):
    operation = spec["paths"][path][method]
    if security:
        assert operation["security"] == [{security: []}]
    else:
        assert "security" not in operation
    assert success in operation["responses"]
    assert problems <= set(operation["responses"])
    problem = spec["components"]["responses"]["UNAUTHORIZED"]["content"]
    assert "application/problem+json" in problem


def test_problem_responses_point_at_the_problem_schema(spec):
    schema = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= set(schema["properties"])


def test_success_schemas_never_expose_secrets_as_inputs(spec):
    login = spec["components"]["schemas"]["SessionTokens"]["properties"]
    assert all(prop.get("readOnly") for prop in login.values())


def test_the_docs_page_is_served(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert b"swagger" in response.data.lower()


def test_liveness_is_ok(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "checks": {}}


def test_readiness_checks_the_database_and_reports_the_gateway(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "gateway": "ok"}


class CountingGateway:
    """A stand-in gateway URL on a loopback port that counts the requests it gets."""

    def __init__(self):
        from flask import Flask

        from tests.live_server import LiveServer

        self.hits = 0
        app = Flask("counting")

        @app.route("/gateway.do", methods=["GET", "POST"])
        def gateway():
            self.hits += 1
            return "{}"

        self.server = LiveServer(app).start()
        self.url = f"{self.server.url}/gateway.do"


def test_readiness_probes_do_not_each_send_a_request_to_the_platform(app_env):
    from service import create_app

    gateway = CountingGateway()
    try:
        probed = create_app({**app_env, "MINIFIN_GATEWAY_URL": gateway.url}).test_client()
        answers = [probed.get("/readyz") for _ in range(20)]
    finally:
        gateway.server.stop()

    assert {answer.status_code for answer in answers} == {200}
    assert gateway.hits == 1


def test_an_unreachable_platform_does_not_make_the_process_unready(app_env):
    from service import create_app

    unreachable = create_app({**app_env, "MINIFIN_GATEWAY_URL": "http://127.0.0.1:9/gateway.do"})
    response = unreachable.test_client().get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready", "checks": {"database": "ok", "gateway": "unreachable"}
    }


def test_an_unreachable_database_makes_the_process_unready_with_a_problem(app_env, tmp_path):
    from service import create_app

    nowhere = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'db.sqlite3'}"
    response = create_app({**app_env, "MINIFIN_DATABASE_URL": nowhere}).test_client().get(
        "/readyz"
    )

    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "not_ready"
    assert "database" in response.get_json()["detail"]
    assert response.headers["Retry-After"]


def test_the_gateway_state_is_asked_again_once_it_is_stale(monkeypatch):
    from service import health

    now = [0.0]
    answers = iter([False, True])
    monkeypatch.setattr(health, "gateway_reachable", lambda: next(answers))
    state = health.GatewayState(every=30, clock=lambda: now[0])

    assert state.current() == "unreachable"
    now[0] = 29.0
    assert state.current() == "unreachable"
    now[0] = 30.0
    assert state.current() == "ok"


def test_metrics_send_one_charset_in_their_content_type(client):
    response = client.get("/metrics")

    assert response.status_code == 200
    content_type = response.headers["Content-Type"]
    assert content_type.count("charset") == 1, content_type
    assert content_type.startswith("text/plain")
