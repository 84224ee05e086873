"""Login end to end over real HTTP on both engines: client → Minifin → mock gateway and back."""

from __future__ import annotations

import httpx
import pytest
from flask_migrate import upgrade

from service import MIGRATIONS_DIR, create_app
from tests.conftest import auth_code, bearer
from tests.live_server import LiveServer


@pytest.fixture
def served_minifin(app_env, any_database_url):
    application = create_app({**app_env, "MINIFIN_DATABASE_URL": any_database_url})
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    with LiveServer(application) as server:
        yield server
    application.extensions["minifin"].gateway.close()
    from service.extensions import db

    with application.app_context():
        db.engine.dispose()


def test_a_user_logs_in_refreshes_and_logs_out_over_http(served_minifin, mock_idp, demo_users):
    with httpx.Client(base_url=served_minifin.url, timeout=10) as api:
        code = auth_code(mock_idp.url, demo_users[4]["user_id"])
        login = api.post("/v1/sessions", json={"auth_code": code})
        assert login.status_code == 201, login.text
        tokens = login.json()

        me = api.get("/v1/me", headers=bearer(tokens["access_token"]))
        assert me.json()["nickname"] == demo_users[4]["nick_name"]

        refreshed = api.post(
            "/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200
        new_access = refreshed.json()["access_token"]

        assert api.delete("/v1/sessions/current", headers=bearer(new_access)).status_code == 204
        gone = api.get("/v1/me", headers=bearer(new_access))
        assert gone.status_code == 401
        assert gone.headers["content-type"] == "application/problem+json"


def test_concurrent_refreshes_of_one_token_rotate_it_once(served_minifin, mock_idp, demo_users):
    """Racing clients (two tabs) get the same successor pair, never a revoked session."""
    from concurrent.futures import ThreadPoolExecutor

    with httpx.Client(base_url=served_minifin.url, timeout=20) as api:
        code = auth_code(mock_idp.url, demo_users[5]["user_id"])
        tokens = api.post("/v1/sessions", json={"auth_code": code}).json()

        def refresh(_):
            return api.post("/v1/sessions/refresh", json={"refresh_token": tokens["refresh_token"]})

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(refresh, range(8)))

    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["refresh_token"] for a in answers}) == 1
