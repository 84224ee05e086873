"""The notifications endpoint: signature checked, each notify_id applied once, then success."""

from __future__ import annotations

import logging
import secrets

import pytest

from service.bootstrap import CONTRIBUTIONS
from service.contributions import Contributions
from service.extensions import db
from service.gateway import signing
from service.notifications.models import GatewayNotification

applied: list[dict] = []
explode = {"now": False}


def _apply(fields) -> None:
    if explode["now"]:
        raise RuntimeError("the database went away mid-change")
    applied.append(dict(fields))


TEST_TYPE = Contributions(name="test", notification_handlers=(("test_status_sync", _apply),))


@pytest.fixture(scope="module")
def app(app_env):
    """Minifin wired with one more notification type, on the session's database."""
    from flask_migrate import upgrade

    from service import MIGRATIONS_DIR, create_app

    application = create_app(app_env, contributions=(*CONTRIBUTIONS, TEST_TYPE))
    with application.app_context():
        upgrade(directory=MIGRATIONS_DIR)
    yield application
    application.extensions["minifin"].gateway.close()


@pytest.fixture(autouse=True)
def _reset():
    applied.clear()
    explode["now"] = False


@pytest.fixture
def platform_key(mock_idp):
    """The key the platform signs with (the mock's), to play the gateway in these tests."""
    return mock_idp.app.extensions["mock_idp_platform_key"]


def _notification(platform_key, notify_type="test_status_sync", **fields) -> dict[str, str]:
    return signing.sign_notification(
        {
            "notify_time": "2026-11-25 10:00:00",
            "notify_type": notify_type,
            "notify_id": secrets.token_hex(16),
            "app_id": "2021000000000001",
            "charset": "utf-8",
            "version": "1.0",
            "out_trade_no": "gft_x",
            "trade_status": "TRADE_SUCCESS",
            **fields,
        },
        platform_key,
    )


def _post(client, form):
    return client.post("/v1/notifications/alipay", data=form)


def _recorded(app) -> list[GatewayNotification]:
    with app.app_context():
        return list(db.session.scalars(db.select(GatewayNotification)))


def test_a_signed_notification_is_applied_and_answered_success(app, client, platform_key):
    form = _notification(platform_key)

    response = _post(client, form)

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "success"
    assert applied[0]["out_trade_no"] == "gft_x"
    (record,) = _recorded(app)
    assert record.notify_id == form["notify_id"] and record.outcome == "handled"
    assert "sign" not in record.fields


def test_a_repeated_notification_is_acknowledged_but_not_applied_again(app, client, platform_key):
    form = _notification(platform_key)

    answers = [_post(client, form).get_data(as_text=True) for _ in range(3)]

    assert answers == ["success"] * 3
    assert len(applied) == 1
    assert len(_recorded(app)) == 1


def test_a_bad_signature_is_rejected_logged_and_changes_nothing(app, client, platform_key, caplog):
    form = {**_notification(platform_key), "trade_status": "TRADE_CLOSED"}

    with caplog.at_level(logging.WARNING, logger="service"):
        response = _post(client, form)

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "invalid_notification_signature"
    assert applied == [] and _recorded(app) == []
    assert "does not verify" in caplog.text


def test_a_notification_signed_by_someone_else_is_rejected(client):
    stranger = signing.generate_private_key()
    assert _post(client, _notification(stranger)).status_code == 400
    assert applied == []


@pytest.mark.server_error_expected
def test_a_failure_while_applying_answers_an_error_so_the_gateway_delivers_again(
    app, client, platform_key
):
    form = _notification(platform_key)
    explode["now"] = True

    failed = _post(client, form)

    assert failed.status_code == 500
    assert failed.get_data(as_text=True) != "success"
    assert _recorded(app) == []
    explode["now"] = False
    assert _post(client, form).get_data(as_text=True) == "success"
    assert len(applied) == 1


def _scrape(client) -> str:
    return client.get("/metrics").get_data(as_text=True)


def test_an_unknown_type_is_parked_counted_and_answered_so_the_platform_delivers_it_again(
    app, client, platform_key, caplog
):
    form = _notification(platform_key, notify_type="brand_new_sync")

    with caplog.at_level(logging.WARNING, logger="service"):
        answers = [_post(client, form) for _ in range(2)]

    for response in answers:
        assert response.status_code == 503
        assert response.get_data(as_text=True) != "success"
        assert response.get_json()["code"] == "notification_unhandled"
    (record,) = _recorded(app)
    assert record.outcome == "unhandled" and record.notify_type == "brand_new_sync"
    assert 'minifin_notifications_unhandled{notify_type="brand_new_sync"} 1.0' in _scrape(client)
    assert "no handler for notification type brand_new_sync; parked" in caplog.text


def test_a_parked_notification_is_applied_once_its_type_has_a_handler(
    app, app_env, client, platform_key
):
    from service import create_app

    form = _notification(platform_key, notify_type="later_sync")
    assert _post(client, form).status_code == 503
    later = Contributions(name="later", notification_handlers=(("later_sync", _apply),))
    upgraded = create_app(app_env, contributions=(*CONTRIBUTIONS, later))
    try:
        again = upgraded.test_client()
        answers = [_post(again, form).get_data(as_text=True) for _ in range(2)]
        scraped = _scrape(again)
    finally:
        upgraded.extensions["minifin"].gateway.close()

    assert answers == ["success", "success"]
    assert len(applied) == 1 and applied[0]["notify_type"] == "later_sync"
    assert [r.outcome for r in _recorded(app)] == ["handled"]
    assert 'notify_type="later_sync"' not in scraped


def test_a_notification_without_an_id_is_refused(client, platform_key):
    form = _notification(platform_key)
    del form["notify_id"]
    form = signing.sign_notification(form, platform_key)

    assert _post(client, form).status_code == 400
