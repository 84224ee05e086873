"""Every PostgreSQL session carries the partition bounds of `service/db_sessions.py`."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import migrated_app, postgres_base_url, temporary_postgres_database


def test_a_postgresql_session_is_opened_with_the_configured_idle_statement_and_tcp_bounds(
    app_env,
):
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL is not reachable (set MINIFIN_TEST_DATABASE_URL)")
    from service.extensions import db

    with temporary_postgres_database(base) as url, migrated_app(
        app_env, url, MINIFIN_DB_IDLE_IN_TRANSACTION_SECONDS="7",
        MINIFIN_DB_STATEMENT_TIMEOUT_SECONDS="9", MINIFIN_DB_TCP_TIMEOUT_SECONDS="12",
    ) as app, app.app_context():  # fmt: skip
        shown = {
            name: db.session.execute(text(f"SHOW {name}")).scalar()
            for name in ("idle_in_transaction_session_timeout", "statement_timeout",
                         "tcp_user_timeout", "tcp_keepalives_idle")
        }  # fmt: skip
        db.session.rollback()
    assert shown == {"idle_in_transaction_session_timeout": "7s", "statement_timeout": "9s",
                     "tcp_user_timeout": "12000", "tcp_keepalives_idle": "6"}  # fmt: skip


def test_a_sqlite_engine_gets_no_postgresql_options(app_env, tmp_path):
    from config import load_settings
    from service.db_sessions import engine_options

    settings = load_settings({**app_env, "MINIFIN_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert engine_options(settings) == {}
