"""Gateway failures during login become 502/503 problems and leave nothing half-written."""

from __future__ import annotations

import logging

import pytest

from service.auth.models import LoginSession, User
from service.extensions import db
from tests.conftest import auth_code
from tests.credit_helpers import last_call_id

TOKEN = "alipay.system.oauth.token"
PROFILE = "alipay.user.info.share"


@pytest.fixture(autouse=True)
def _restore_the_limiter(app):
    """Tests here build apps with their own limiter storage; the shared app gets its own back."""
    yield
    from service.extensions import limiter

    limiter.init_app(app)


def _count_rows(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(db.select(db.func.count()).select_from(User)),
            db.session.scalar(db.select(db.func.count()).select_from(LoginSession)),
        )


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"method": TOKEN, "kind": "error"}, 503, "gateway_unavailable"),
        ({"method": PROFILE, "kind": "error"}, 503, "gateway_unavailable"),
        ({"method": TOKEN, "kind": "bad_signature"}, 502, "gateway_bad_response"),
        ({"method": PROFILE, "kind": "bad_signature"}, 502, "gateway_bad_response"),
        ({"method": TOKEN, "kind": "unsigned"}, 502, "gateway_bad_response"),
        (
            {"method": TOKEN, "kind": "error", "code": "40004", "sub_code": "isv.oops"},
            502,
            "gateway_rejected",
        ),
    ],
)
def test_a_gateway_fault_during_login_is_a_problem_and_writes_nothing(
    app, client, mock_control, demo_users, fault, status, code
):
    mock_control.post("/_mock/faults", json=fault).raise_for_status()
    before = _count_rows(app)

    response = client.post(
        "/v1/sessions",
        json={"auth_code": auth_code(str(mock_control.base_url), demo_users[0]["user_id"])},
    )

    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == code
    if status == 503:
        assert int(response.headers["Retry-After"]) >= 1
    assert _count_rows(app) == before


def test_a_transient_profile_failure_is_retried(client, mock_control, demo_users):
    mock_control.post("/_mock/faults", json={"method": PROFILE, "kind": "error", "times": 1})

    response = client.post(
        "/v1/sessions",
        json={"auth_code": auth_code(str(mock_control.base_url), demo_users[0]["user_id"])},
    )

    assert response.status_code == 201


def test_the_code_exchange_is_never_retried(client, mock_control, demo_users):
    mock_control.post("/_mock/faults", json={"method": TOKEN, "kind": "error", "times": 1})
    before = last_call_id(str(mock_control.base_url))  # by id: the mock keeps recent calls

    response = client.post(
        "/v1/sessions",
        json={"auth_code": auth_code(str(mock_control.base_url), demo_users[0]["user_id"])},
    )

    assert response.status_code == 503
    calls = [c for c in mock_control.get("/_mock/calls").json()["calls"] if c["id"] > before]
    assert [c["method"] for c in calls] == [TOKEN]


def test_a_slow_gateway_times_out_as_a_503(app_env, mock_control, demo_users):
    from service import create_app

    impatient = create_app({**app_env, "MINIFIN_GATEWAY_TIMEOUT": "0.3"})
    mock_control.post("/_mock/faults", json={"method": TOKEN, "kind": "latency", "seconds": 1})

    response = impatient.test_client().post(
        "/v1/sessions",
        json={"auth_code": auth_code(str(mock_control.base_url), demo_users[0]["user_id"])},
    )

    assert response.status_code == 503
    assert response.get_json()["code"] == "gateway_unavailable"


def test_a_bad_signature_is_logged_without_the_body(client, mock_control, demo_users, caplog):
    user = demo_users[0]
    mock_control.post("/_mock/faults", json={"method": TOKEN, "kind": "bad_signature"})

    with caplog.at_level(logging.INFO, logger="service"):
        client.post(
            "/v1/sessions",
            json={"auth_code": auth_code(str(mock_control.base_url), user["user_id"])},
        )

    messages = [r.getMessage() for r in caplog.records if r.name.startswith("service")]
    assert any("signature did not verify" in m for m in messages)
    assert not any(user["user_id"] in m or "access_token" in m for m in messages)


def test_login_is_rate_limited_per_client_address(app_env, mock_idp):
    from service import create_app
    from service.extensions import limiter

    limited = create_app({**app_env, "MINIFIN_LOGIN_RATE_LIMIT": "3 per minute"})
    limiter.reset()
    client = limited.test_client()
    statuses = [client.post("/v1/sessions", json={"auth_code": "x"}).status_code for _ in range(4)]
    other = client.post(
        "/v1/sessions", json={"auth_code": "x"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )

    assert statuses == [400, 400, 400, 429]
    assert other.status_code == 400
    limiter.reset()


def test_rate_limits_can_live_in_redis_shared_by_all_processes(app_env):
    import secrets

    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    from service import create_app

    env = {
        **app_env,
        "MINIFIN_RATE_LIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
        "MINIFIN_LOGIN_RATE_LIMIT": "2 per minute",
    }
    one, two = create_app(env).test_client(), create_app(env).test_client()
    address = {"REMOTE_ADDR": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7"}

    answers = [
        client.post("/v1/sessions", json={"auth_code": "x"}, environ_base=address)
        for client in (one, two, one)
    ]

    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[-1].mimetype == "application/problem+json"
    assert answers[-1].get_json()["code"] == "rate_limited"
    assert int(answers[-1].headers["Retry-After"]) > 0
    shared = redis.Redis(host="127.0.0.1", port=6379, db=15)
    assert shared.keys(f"*{address['REMOTE_ADDR']}*"), "the counter is not in Redis"


def test_the_limiter_does_no_work_for_views_without_a_limit(client, monkeypatch):
    """Its per-request context is built only where a limit applies (service/http.py)."""
    from flask_limiter import Limiter

    uses: list[str] = []
    original = Limiter.context

    def counting(self):
        uses.append("context")
        return original.fget(self)

    monkeypatch.setattr(Limiter, "context", property(counting))
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/me").status_code == 401
    unlimited = len(uses)
    limited = client.post("/v1/sessions", json={"auth_code": "x"})

    assert unlimited == 0
    assert uses, "the login's limit is no longer checked"
    assert limited.headers["X-RateLimit-Limit"]
