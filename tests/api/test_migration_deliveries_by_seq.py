"""The migration that makes deliveries reference their event by `seq` keeps every row.

Deliveries written before it get their event's `seq`, their attempts survive the rebuild of
their table (on SQLite a rebuild with foreign keys on would delete them by cascade), the
cascade from an event to its deliveries and their attempts still holds, and the downgrade
brings the old reference back with the rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from service import MIGRATIONS_DIR, create_app
from service.extensions import db

BEFORE = "d2f4a6c8e0b1"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _seed() -> None:
    """An endpoint, two events, a delivery of the second with one attempt (the old schema)."""
    rows = {"now": NOW}
    db.session.execute(text(
        "INSERT INTO webhook_endpoints (id, url, description, enabled_events, enabled,"
        " secret_sealed, failure_streak, created_at, updated_at) VALUES ('we_1',"
        " 'https://example.com/hook', '', '[\"*\"]', true, 'sealed', 0, :now, :now)"
    ), rows)  # fmt: skip
    for seq, event_id in ((1, "evt_first"), (2, "evt_second")):
        db.session.execute(text(
            "INSERT INTO events (seq, id, type, created_at, object_type, object_id, data)"
            " VALUES (:seq, :id, 'gift.sent', :now, 'gift', 'gft_1', '{}')"
        ), {**rows, "seq": seq, "id": event_id})  # fmt: skip
    db.session.execute(text(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, attempts,"
        " next_attempt_at, created_at) VALUES ('whd_1', 'we_1', 'evt_second', 'pending', 1,"
        " :now, :now)"
    ), rows)  # fmt: skip
    db.session.execute(text(
        "INSERT INTO webhook_attempts (delivery_id, attempt, at, duration_ms, status_code)"
        " VALUES ('whd_1', 1, :now, 12, 500)"
    ), rows)  # fmt: skip
    db.session.commit()


def _count(table: str) -> int:
    return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608


def test_deliveries_get_their_events_seq_and_keep_their_attempts(app_env, any_database_url):
    application = create_app({**app_env, "MINIFIN_DATABASE_URL": any_database_url})
    try:
        with application.app_context():
            upgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
            _seed()

            upgrade(directory=MIGRATIONS_DIR)
            delivery = db.session.execute(text(
                "SELECT event_seq, event_id FROM webhook_deliveries WHERE id = 'whd_1'"
            )).one()  # fmt: skip
            assert tuple(delivery) == (2, "evt_second")
            assert _count("webhook_attempts") == 1
            unique = inspect(db.engine).get_unique_constraints("events")
            assert [c["column_names"] for c in unique] == []
            db.session.rollback()

            downgrade(directory=MIGRATIONS_DIR, revision=BEFORE)
            columns = {c["name"] for c in inspect(db.engine).get_columns("webhook_deliveries")}
            assert "event_seq" not in columns
            assert _count("webhook_deliveries") == 1 and _count("webhook_attempts") == 1
            db.session.rollback()

            upgrade(directory=MIGRATIONS_DIR)
            db.session.execute(text("DELETE FROM events WHERE seq = 2"))
            db.session.commit()
            assert (_count("events"), _count("webhook_deliveries"),
                    _count("webhook_attempts")) == (1, 0, 0)  # fmt: skip
    finally:
        application.extensions["minifin"].gateway.close()
        with application.app_context():
            db.engine.dispose()
