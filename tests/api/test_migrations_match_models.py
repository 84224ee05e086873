"""The migrations build exactly the schema the models declare (nothing for autogenerate to add)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from service.extensions import db


def test_the_migrated_database_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, db.metadata)

    assert differences == []


def test_the_event_keys_are_compared_as_bytes_on_postgresql(app):
    """Alembic does not compare collations, so the migration's "C" is checked here."""
    from sqlalchemy import text

    from tests.conftest import engine_name

    if engine_name() != "postgresql":
        pytest.skip("SQLite compares bytes (BINARY) without being told")
    with app.app_context():
        found = dict(db.session.execute(text(
            "SELECT table_name || '.' || column_name, collation_name"
            " FROM information_schema.columns WHERE (table_name, column_name) IN"
            " (('events', 'id'), ('events', 'type'),"
            " ('events', 'object_id'), ('webhook_deliveries', 'event_id'))"
        )).all())  # fmt: skip
    assert found == dict.fromkeys(
        ["events.id", "events.type", "events.object_id", "webhook_deliveries.event_id"], "C"
    )
