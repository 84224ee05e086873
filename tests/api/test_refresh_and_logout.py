"""Refresh-token rotation, reuse detection (RFC 9700), the grace window, logout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.auth.models import LoginSession, RefreshToken
from service.extensions import db
from tests.conftest import bearer


def _refresh(client, token):
    return client.post("/v1/sessions/refresh", json={"refresh_token": token})


def test_refreshing_rotates_the_refresh_token_and_issues_a_new_access_token(client, login):
    first = login()

    response = _refresh(client, first["refresh_token"])

    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["user"]["id"] == first["user"]["id"]
    assert client.get("/v1/me", headers=bearer(second["access_token"])).status_code == 200
    assert _refresh(client, second["refresh_token"]).status_code == 200


def test_repeating_a_refresh_within_the_grace_window_returns_the_same_new_pair(client, login):
    first = login()

    one = _refresh(client, first["refresh_token"]).get_json()
    two = _refresh(client, first["refresh_token"]).get_json()

    assert two["refresh_token"] == one["refresh_token"]
    assert two["expires_in"] <= one["expires_in"]
    import jwt

    claims = [
        jwt.decode(t["access_token"], options={"verify_signature": False}) for t in (one, two)
    ]
    assert claims[0] == claims[1]
    assert _refresh(client, two["refresh_token"]).status_code == 200


def _age_spent_tokens(app, seconds: int) -> None:
    with app.app_context():
        for row in db.session.scalars(
            db.select(RefreshToken).where(RefreshToken.used_at.isnot(None))
        ):
            row.used_at = row.used_at - timedelta(seconds=seconds)
        db.session.commit()


def test_a_reused_refresh_token_after_the_grace_window_revokes_the_whole_family(app, client, login):
    first = login()
    second = _refresh(client, first["refresh_token"]).get_json()
    _age_spent_tokens(app, 3600)

    replay = _refresh(client, first["refresh_token"])

    assert replay.status_code == 401
    assert replay.mimetype == "application/problem+json"
    assert replay.get_json()["code"] == "refresh_token_reused"
    assert "Bearer" in replay.headers["WWW-Authenticate"]
    # The legitimate holder's newer tokens die with the family.
    assert _refresh(client, second["refresh_token"]).get_json()["code"] == "session_revoked"
    me = client.get("/v1/me", headers=bearer(second["access_token"]))
    assert me.status_code == 401
    assert me.get_json()["code"] == "session_revoked"


def test_replaying_a_token_whose_successor_was_already_used_revokes_the_family(client, login):
    first = login()
    second = _refresh(client, first["refresh_token"]).get_json()
    third = _refresh(client, second["refresh_token"]).get_json()

    replay = _refresh(client, first["refresh_token"])

    assert replay.get_json()["code"] == "refresh_token_reused"
    assert _refresh(client, third["refresh_token"]).status_code == 401


def test_other_sessions_of_the_same_user_survive_a_revoked_family(client, login):
    phone = login(0)
    tablet = login(0)
    _refresh(client, phone["refresh_token"])
    _refresh(client, _refresh(client, phone["refresh_token"]).get_json()["refresh_token"])
    assert _refresh(client, phone["refresh_token"]).status_code == 401

    assert _refresh(client, tablet["refresh_token"]).status_code == 200


def test_an_unknown_refresh_token_is_refused(client):
    response = _refresh(client, "mrt_made-up")

    assert response.status_code == 401
    assert response.get_json()["code"] == "refresh_token_invalid"


def test_an_expired_refresh_token_is_refused(app, client, login):
    tokens = login()
    with app.app_context():
        for row in db.session.scalars(db.select(RefreshToken)):
            row.expires_at = row.issued_at - timedelta(seconds=1)
        db.session.commit()

    response = _refresh(client, tokens["refresh_token"])

    assert response.status_code == 401
    assert response.get_json()["code"] == "refresh_token_expired"


def test_logout_revokes_the_session_and_its_tokens(app, client, login):
    tokens = login()

    response = client.delete("/v1/sessions/current", headers=bearer(tokens["access_token"]))

    assert response.status_code == 204
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert _refresh(client, tokens["refresh_token"]).get_json()["code"] == "session_revoked"
    with app.app_context():
        session = db.session.scalars(db.select(LoginSession)).one()
        assert session.revoked_reason == "logout"


def test_logout_needs_a_token(client):
    response = client.delete("/v1/sessions/current")

    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


@pytest.mark.parametrize("grace", [0])
def test_with_no_grace_window_any_repeat_is_a_reuse(app_env, mock_idp, demo_users, grace):
    from service import create_app
    from tests.conftest import auth_code

    strict = create_app({**app_env, "MINIFIN_REFRESH_GRACE_SECONDS": str(grace)})
    client = strict.test_client()
    code = auth_code(mock_idp.url, demo_users[0]["user_id"])
    tokens = client.post("/v1/sessions", json={"auth_code": code}).get_json()
    assert _refresh(client, tokens["refresh_token"]).status_code == 200
    _age_spent_tokens(strict, 1)

    assert _refresh(client, tokens["refresh_token"]).get_json()["code"] == "refresh_token_reused"
    with strict.app_context():
        db.session.execute(db.delete(RefreshToken))
        db.session.execute(db.delete(LoginSession))
        db.session.commit()


def test_a_session_revoked_by_another_process_is_refused_within_the_check_interval(
    app_env, mock_idp, demo_users
):
    import time

    from service import create_app
    from tests.conftest import auth_code

    quick = create_app({**app_env, "MINIFIN_SESSION_CHECK_SECONDS": "0.3"})
    client = quick.test_client()
    code = auth_code(mock_idp.url, demo_users[0]["user_id"])
    tokens = client.post("/v1/sessions", json={"auth_code": code}).get_json()
    assert client.get("/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    with quick.app_context():  # as another API process's logout would
        db.session.execute(db.update(LoginSession).values(revoked_at=db.func.now()))
        db.session.commit()

    remembered = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    time.sleep(0.35)
    refused = client.get("/v1/me", headers=bearer(tokens["access_token"]))

    assert remembered.status_code == 200
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "session_revoked"
    with quick.app_context():
        db.session.execute(db.delete(RefreshToken))
        db.session.execute(db.delete(LoginSession))
        db.session.commit()
