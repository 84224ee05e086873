"""The gift and voucher events' snapshots are built by the database: they must be exactly what
the merchant schemas dump, on both engines, and cost a batch a fixed number of statements
however large it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, literal, select

from schemas.gifting import MerchantGiftSchema, MerchantVoucherSchema
from service.dbtypes import UTCDateTime, utcnow
from service.events.log import PersonalDataInEvent
from service.events.models import Event
from service.events.recorded_writes import update_recorded
from service.events.views import IsoTime, View, record_views
from service.extensions import db
from service.gifting.models import SENT, Gift, Voucher
from service.gifting.sending import send_due_gifts
from service.gifting.snapshots import GIFT_VIEW, VOUCHER_VIEW
from tests.conftest import engine_name
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
            assert recorded.data == MerchantGiftSchema().dump(gift)
            assert recorded.object_type == "gift"
        for recorded in issued:
            voucher = db.session.get(Voucher, recorded.object_id)
            assert recorded.data == MerchantVoucherSchema().dump(voucher)


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


def _statements_to_send(app, count: int, platform_id: str) -> list[str]:
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
        return statements


def test_the_batch_records_its_events_in_a_fixed_number_of_statements(app):
    few = _statements_to_send(app, 2, "2088000000000302")
    with app.app_context():
        db.session.execute(db.delete(Event))
        db.session.commit()
    many = _statements_to_send(app, 40, "2088000000000303")

    assert len(many) == len(few)
    with app.app_context():
        assert len(_events("gift.sent")) == 40 and len(_events("voucher.issued")) == 80


def test_the_vouchers_are_written_with_their_events_not_looked_up_again(app):
    statements = _statements_to_send(app, 3, "2088000000000304")
    writes = [text for text in statements if "INSERT INTO vouchers" in text]
    assert len(writes) == 1
    if engine_name() == "postgresql":  # one statement: the events come from its RETURNING
        assert "INSERT INTO events" in writes[0] and "JOIN vouchers" not in writes[0]
        assert not any("JOIN vouchers" in text for text in statements)
    with app.app_context():
        issued = db.session.scalars(db.select(Event).where(Event.type == "voucher.issued")
                                    .order_by(Event.seq)).all()  # fmt: skip
        vouchers = db.session.scalars(db.select(Voucher).order_by(Voucher.gift_id)).all()
        assert len(issued) == 6 == len(vouchers)
        for recorded in issued:
            voucher = db.session.get(Voucher, recorded.object_id)
            assert recorded.data == MerchantVoucherSchema().dump(voucher)


def test_the_gifts_are_recorded_sent_by_the_update_that_sends_them(app):
    statements = _statements_to_send(app, 3, "2088000000000305")
    updates = [text for text in statements if "UPDATE gifts" in text]
    recording = [text for text in statements if "INSERT INTO events" in text]
    if engine_name() == "postgresql":  # the events come from the update's RETURNING
        assert len(updates) == 1 and "INSERT INTO events" in updates[0]
        assert not any("JOIN gifts" in text for text in recording)
    assert len(recording) == 2  # gift.sent, voucher.issued
    with app.app_context():
        sent = db.session.scalars(db.select(Event).where(Event.type == "gift.sent")
                                  .order_by(Event.seq)).all()  # fmt: skip
        first_issued = db.session.scalars(db.select(Event.seq)
                                          .where(Event.type == "voucher.issued")).all()  # fmt: skip
        assert len(sent) == 3 and max(e.seq for e in sent) < min(first_issued)
        for recorded in sent:
            gift = db.session.get(Gift, recorded.object_id)
            assert recorded.data == MerchantGiftSchema().dump(gift) and gift.status == SENT


def test_a_row_the_update_leaves_alone_gets_no_event(app):
    if engine_name() != "postgresql":
        pytest.skip("update_recorded is PostgreSQL's data-modifying CTE")
    from service.gifting.sending import _CLAIMS, _MARK_SENT

    with app.app_context():
        ids = seed_paid_gifts("2088000000000306", 2, 1, lambda n, now: now)
        db.session.execute(db.update(Gift).where(Gift.id == ids[1]).values(status=SENT))
        now = utcnow()
        params = {"now": now, "ids": ids, "indexes": ["i1", "i2"], "seals": ["s1", "s2"],
                  "expiries": [now, now], "event_ids": ["evt_a", "evt_b"]}  # fmt: skip
        moved = update_recorded(GIFT_VIEW, "gift.sent", _MARK_SENT, _CLAIMS, params)
        assert moved == [ids[0]]
        assert [(e.id, e.object_id) for e in _events("gift.sent")] == [("evt_a", ids[0])]
        db.session.rollback()


_MOMENTS = st.datetimes(
    min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-11))]),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@example(moment=datetime(2026, 12, 2, 15, 18, 2, tzinfo=UTC))  # no fraction: none is spelled
@example(moment=datetime(2026, 12, 2, 15, 18, 2, 10, tzinfo=UTC))
@given(moment=_MOMENTS)
def test_the_database_spells_a_stored_time_as_isoformat_does(app, moment):
    with app.app_context():
        spelled = db.session.scalar(select(IsoTime(literal(moment, UTCDateTime()))))
        assert spelled == moment.astimezone(UTC).isoformat()
        assert db.session.scalar(select(IsoTime(literal(None, UTCDateTime())))) is None


def test_a_view_with_a_personal_data_key_is_refused_when_it_is_declared():
    table = Voucher.__table__
    with pytest.raises(PersonalDataInEvent):
        View("voucher", table, {"id": Voucher.id, "owner": {"code_masked": Voucher.code_last4}})
    with pytest.raises(ValueError):
        View("voucher", table, {"id'); --": Voucher.id})
    with pytest.raises(ValueError):
        View("voucher'", table, {"id": Voucher.id})


def test_an_event_for_an_object_that_is_not_there_is_refused_not_dropped(app):
    with app.app_context():
        with pytest.raises(LookupError):
            record_views(VOUCHER_VIEW, [("voucher.issued", "vch_missing")])
        with pytest.raises(PersonalDataInEvent):
            record_views(VOUCHER_VIEW, [("voucher.redeemed", "vch_missing")], {"code": 1})
        db.session.rollback()
        assert len(_events("voucher.issued")) == 0

