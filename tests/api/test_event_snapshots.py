"""The sending batch's events are built without marshmallow: they must be exactly what the
merchant schemas dump, and cost the batch a fixed number of statements however large it is."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from schemas.gifting import MerchantGiftSchema, MerchantVoucherSchema
from service.events.models import Event
from service.extensions import db
from service.gifting.models import Gift, Voucher
from service.gifting.sending import send_due_gifts
from service.gifting.snapshots import gift_snapshot, voucher_snapshot
from tests.gifting_helpers import seed_paid_gifts


def _events(event_type: str) -> list[Event]:
    return list(db.session.scalars(db.select(Event).where(Event.type == event_type)))


def test_the_batch_events_are_the_merchant_schemas_dumps_of_the_gifts_and_vouchers(app):
    with app.app_context():
        ids = seed_paid_gifts("2088000000000301", 3, 2, lambda n, now: now - timedelta(seconds=n))
        assert send_due_gifts("test-worker", 100) == 3

        sent, issued = _events("gift.sent"), _events("voucher.issued")
        assert sorted(e.object_id for e in sent) == sorted(ids) and len(issued) == 6
        for recorded in sent:
            gift = db.session.get(Gift, recorded.object_id)
            assert recorded.data == MerchantGiftSchema().dump(gift) == gift_snapshot(gift)
            assert recorded.object_type == "gift"
        for recorded in issued:
            voucher = db.session.get(Voucher, recorded.object_id)
            assert recorded.data == MerchantVoucherSchema().dump(voucher)
            assert recorded.data == voucher_snapshot(voucher)


def test_every_gift_event_snapshot_is_the_merchant_schemas_dump(app, client, mock, template,
                                                                people):  # fmt: skip
    from tests.event_flows import gift_flows

    ids = gift_flows(app, client, mock, template, people, set())
    with app.app_context():  # the last event of a gift shows it as it is now
        for gift_id in (ids["claimed"], ids["expired"], ids["canceled"], ids["unpaid"]):
            last = db.session.scalars(db.select(Event).where(Event.object_id == gift_id)
                                      .order_by(Event.seq.desc())).first()  # fmt: skip
            assert last is not None
            assert last.data == MerchantGiftSchema().dump(db.session.get(Gift, gift_id))


def _statements_to_send(app, count: int, platform_id: str) -> int:
    with app.app_context():
        seed_paid_gifts(platform_id, count, 2, lambda n, now: now - timedelta(seconds=1),
                        sender_platform_id=platform_id.replace("08800", "08801"))
        statements: list[str] = []

        def _count(conn, cursor, statement, parameters, context, executemany) -> None:
            statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", _count)
        try:
            assert send_due_gifts("test-worker", 1000) == count
        finally:
            event.remove(engine, "before_cursor_execute", _count)
        return len(statements)


def test_the_batch_records_its_events_in_a_fixed_number_of_statements(app):
    few = _statements_to_send(app, 2, "2088000000000302")
    with app.app_context():
        db.session.execute(db.delete(Event))
        db.session.commit()
    many = _statements_to_send(app, 40, "2088000000000303")

    assert many == few
    with app.app_context():
        assert len(_events("gift.sent")) == 40 and len(_events("voucher.issued")) == 80
