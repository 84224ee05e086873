"""A trade notification is a gift's payment only if it says so: our app, our seller account, the
gift's trade, the sender as buyer, the gift's amount and currency. Each mismatch is a genuinely
signed notification from the live mock, refused (recorded, counted, answered `success`), and a
payment of the wrong amount parks the gift for review."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from service.extensions import db
from service.gateway import signing
from service.gifting.models import Gift
from service.notifications.models import GatewayNotification, PlatformFact
from service.notifications.services import receive_notification
from tests.gifting_helpers import buy, forged_payment, order, run_outbox_now

OTHER_MERCHANT_APP = "2021000000000777"


def _bought(client, people, template) -> dict:
    gift = buy(client, people, order(template, people)).get_json()
    assert gift["trade_no"], gift
    return gift


def _paid_notification(mock, trade_no: str) -> dict[str, str]:
    """The signed TRADE_SUCCESS the mock queued for a paid trade (its URL is not served here)."""
    found = mock.wait_for_notifications(
        lambda ns: any(n["fields"]["trade_status"] == "TRADE_SUCCESS" for n in ns),
        trade_no=trade_no,
    )
    return next(n["fields"] for n in found if n["fields"]["trade_status"] == "TRADE_SUCCESS")


def _deliver(client, form: dict[str, str]) -> str:
    response = client.post("/v1/notifications/alipay", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _gift(client, people, gift_id: str) -> dict:
    return client.get(f"/v1/gifts/{gift_id}", headers=people["sender"]).get_json()


def _record(app, notify_id: str) -> GatewayNotification:
    with app.app_context():
        return db.session.scalars(
            db.select(GatewayNotification).where(GatewayNotification.notify_id == notify_id)
        ).one()


def _learn_the_seller(app, client, people, template, mock) -> None:
    """One good payment of our own trade teaches Minifin its seller account."""
    gift = _bought(client, people, template)
    mock.pay(gift["trade_no"]).raise_for_status()
    assert _deliver(client, _paid_notification(mock, gift["trade_no"])) == "success"
    assert _gift(client, people, gift["id"])["status"] == "scheduled"


def test_a_trade_of_another_merchant_app_with_our_gifts_id_is_refused_and_counted(
    app, client, people, template, mock, demo_users
):
    other_key = signing.generate_private_key()
    mock.register_app(OTHER_MERCHANT_APP, signing.public_key_pem(other_key))
    gift = _bought(client, people, template)
    other = mock.app_client(OTHER_MERCHANT_APP, other_key)
    created = other.call(
        "alipay.trade.create",
        {"out_trade_no": gift["id"], "total_amount": "58.00", "subject": "咖啡券",
         "buyer_id": demo_users[0]["user_id"]},
        notify_url="http://127.0.0.1:5000/v1/notifications/alipay",
    )  # fmt: skip
    other.close()
    foreign_trade = created.inner["trade_no"]
    mock.pay(foreign_trade).raise_for_status()
    form = _paid_notification(mock, foreign_trade)
    assert form["out_trade_no"] == gift["id"] and form["app_id"] == OTHER_MERCHANT_APP

    assert _deliver(client, form) == "success"

    assert _gift(client, people, gift["id"])["status"] == "pending_payment"
    record = _record(app, form["notify_id"])
    assert (record.outcome, record.refusal) == ("refused", "app_mismatch")
    assert mock.trade(gift["trade_no"])["trade_status"] == "WAIT_BUYER_PAY"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'minifin_notifications_refused_total{reason="app_mismatch"} 1.0' in metrics


def test_a_refused_notification_is_logged_without_personal_data(
    app, client, people, template, mock, caplog
):
    gift = _bought(client, people, template)
    mock.pay(gift["trade_no"]).raise_for_status()
    form = forged_payment(
        mock, gift["trade_no"], {"app_id": "2021000000000888", "auth_app_id": None}
    )

    with caplog.at_level("WARNING", logger="service"):
        assert _deliver(client, form) == "success"

    assert "refused (app_mismatch)" in caplog.text
    for private in (form["buyer_id"], form["buyer_logon_id"]):
        assert private not in caplog.text


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"trade_no": "2026120122000000000000000001"}, "trade_no_mismatch"),
        ({"buyer_id": "2088000000000009"}, "buyer_mismatch"),
        ({"buyer_open_id": "another-person-of-this-app"}, "buyer_mismatch"),
        ({"buyer_id": None, "buyer_open_id": None}, "buyer_mismatch"),
    ],
)
def test_a_signed_notification_about_another_trade_or_buyer_is_refused_and_the_gift_stays(
    app, client, people, template, mock, changes, refusal
):
    gift = _bought(client, people, template)
    mock.pay(gift["trade_no"]).raise_for_status()
    form = forged_payment(mock, gift["trade_no"], changes)

    assert _deliver(client, form) == "success"

    assert _gift(client, people, gift["id"])["status"] == "pending_payment"
    assert (_record(app, form["notify_id"]).refusal) == refusal


def test_a_notification_from_another_seller_account_is_refused_once_the_seller_is_known(
    app, client, people, template, mock
):
    _learn_the_seller(app, client, people, template, mock)
    gift = _bought(client, people, template)
    mock.pay(gift["trade_no"]).raise_for_status()
    form = forged_payment(mock, gift["trade_no"], {"seller_id": "2088999999999999"})

    assert _deliver(client, form) == "success"

    assert _gift(client, people, gift["id"])["status"] == "pending_payment"
    assert _record(app, form["notify_id"]).refusal == "seller_mismatch"


def test_the_seller_is_learned_once_from_our_own_trade_and_kept_in_the_database(
    app, client, people, template, mock
):
    _learn_the_seller(app, client, people, template, mock)

    with app.app_context():
        (fact,) = db.session.scalars(db.select(PlatformFact)).all()
    assert fact.name == "seller_id" and fact.value.startswith("2088")
    assert fact.source == "trade_status_sync"


def test_until_the_seller_is_known_a_trade_minifin_did_not_open_is_not_believed(
    app, client, people, template, mock
):
    gift = _bought(client, people, template)
    mock.pay(gift["trade_no"]).raise_for_status()
    form = _paid_notification(mock, gift["trade_no"])
    with app.app_context():  # as if trade.create's answer had been lost
        db.session.execute(db.update(Gift).values(trade_no=None))
        db.session.commit()

    assert _deliver(client, form) == "success"

    assert _record(app, form["notify_id"]).refusal == "seller_unknown"
    with app.app_context():
        assert db.session.scalars(db.select(PlatformFact)).all() == []
    run_outbox_now(app)  # the settle job's query still finds the payment
    assert _gift(client, people, gift["id"])["status"] == "scheduled"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"total_amount": "0.01"}, "amount_mismatch"),
        ({"trans_currency": "USD"}, "currency_mismatch"),
    ],
)
def test_a_payment_of_another_amount_or_currency_parks_the_gift_for_review(
    app, client, people, template, mock, changes, reason, monkeypatch, app_env
):
    gift = _bought(client, people, template)
    mock.pay(gift["trade_no"]).raise_for_status()
    form = forged_payment(mock, gift["trade_no"], changes)

    assert _deliver(client, form) == "success"

    parked = _gift(client, people, gift["id"])
    assert parked["status"] == "needs_review"
    assert parked["events"][-1]["type"] == "needs_review"
    assert parked["events"][-1]["detail"]["reason"] == reason
    assert _record(app, form["notify_id"]).refusal == reason
    assert client.get(f"/v1/gifts/{gift['id']}", headers=people["friend"]).status_code == 404
    run_outbox_now(app)  # the settle job leaves a gift in review alone
    assert _gift(client, people, gift["id"])["status"] == "needs_review"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "minifin_gifts_needs_review 1.0" in metrics
    for key, value in app_env.items():
        monkeypatch.setenv(key, value)
    from service.cli import main

    listed = CliRunner().invoke(main, ["gifts", "review"])
    assert listed.exit_code == 0, listed.output
    assert gift["id"] in listed.output and reason in listed.output
    assert "1 gift(s) in review" in listed.output


def test_reconciliation_that_finds_another_amount_parks_the_gift_for_review(
    app, client, people, template, mock
):
    gift = _bought(client, people, template)
    mock.pay(gift["trade_no"]).raise_for_status()
    with app.app_context():  # Minifin's record and the platform's trade disagree
        db.session.execute(db.update(Gift).values(amount_fen=5900, unit_price_fen=2950))
        db.session.commit()

    run_outbox_now(app)

    parked = _gift(client, people, gift["id"])
    assert parked["status"] == "needs_review"
    assert parked["events"][-1]["detail"] == {
        "reason": "amount_mismatch", "via": "reconciliation", "trade_no": gift["trade_no"],
        "reported_fen": 5800,
    }  # fmt: skip


def test_a_notification_for_an_unknown_gift_is_refused_not_silently_dropped(
    app, client, mock, people, template
):
    gift = _bought(client, people, template)
    mock.pay(gift["trade_no"]).raise_for_status()
    form = forged_payment(mock, gift["trade_no"], {"out_trade_no": "gft_nobodyknowsthisone0"})

    assert _deliver(client, form) == "success"

    assert _record(app, form["notify_id"]).refusal == "unknown_trade"


def test_the_dispatch_checks_apply_before_any_handler(app, mock_idp):
    platform_key = mock_idp.app.extensions["mock_idp_platform_key"]
    form = signing.sign_notification(
        {"notify_time": "2026-12-01 10:00:00", "notify_type": "fund_auth_freeze",
         "notify_id": "n-dispatch-1", "app_id": "2021000000000999", "charset": "utf-8",
         "version": "1.0", "out_order_no": "dep_x"},
        platform_key,
    )  # fmt: skip
    with app.app_context():
        assert receive_notification(form) == "refused"
    assert _record(app, "n-dispatch-1").refusal == "app_mismatch"


def test_a_configured_seller_id_is_the_one_checked(app_env, app, client, people, template, mock):
    from service import create_app

    configured = create_app({**app_env, "MINIFIN_SELLER_ID": "2088000000000001"})
    gift = _bought(client, people, template)
    mock.pay(gift["trade_no"]).raise_for_status()
    form = _paid_notification(mock, gift["trade_no"])  # signed with the mock's own seller_id

    try:
        assert _deliver(configured.test_client(), form) == "success"
    finally:
        configured.extensions["minifin"].gateway.close()

    assert _record(app, form["notify_id"]).refusal == "seller_mismatch"
    assert _gift(client, people, gift["id"])["status"] == "pending_payment"
