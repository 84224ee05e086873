"""The session helpers use cases lean on: `existing` rows, `rows_changed` counts, and
`insert_rows`, a batch's rows in one statement (arrays bound in binary on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, select, update

from service.auth.models import User
from service.extensions import db
from service.scheduler.models import OutboxJob
from service.sql import existing, insert_rows, rows_changed

JOBS = cast(Table, OutboxJob.__table__)


def test_existing_gives_the_row_and_refuses_a_missing_one(app):
    with app.app_context():
        db.session.add(User(id="usr_helper", app_id="2021000000000001", nickname="helper"))
        db.session.commit()

        assert existing(User, "usr_helper").nickname == "helper"
        with pytest.raises(LookupError, match="usr_nobody"):
            existing(User, "usr_nobody")


def test_rows_changed_counts_only_the_rows_a_conditional_update_moved(app):
    with app.app_context():
        db.session.add_all([User(id=f"usr_count{n}", app_id="2021000000000001") for n in range(3)])
        db.session.commit()
        rename = update(User).where(User.id.like("usr_count%"), User.nickname.is_(None))

        assert rows_changed(rename.values(nickname="first")) == 3
        assert rows_changed(rename.values(nickname="again")) == 0  # none is unnamed any more
        db.session.rollback()


def _job(key: str | None, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"kind": "test", "payload": payload, "dedupe_key": key, "status": "pending",
            "run_at": at, "attempts": 0, "max_attempts": 3, "created_at": at}  # fmt: skip


def _stored() -> list[tuple[str | None, dict[str, Any], datetime]]:
    rows = db.session.execute(
        select(OutboxJob.dedupe_key, OutboxJob.payload, OutboxJob.run_at).order_by(OutboxJob.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_insert_rows_writes_every_value_as_given_and_skips_conflicting_keys(app):
    """JSON, aware times in any zone, NULLs, and keys taken by an earlier row or by one of the
    same batch: the conflicting rows are skipped, the others stored as they were given."""
    beijing = timezone(timedelta(hours=8))
    at = datetime(2026, 12, 4, 20, 0, 0, 123456, tzinfo=beijing)
    with app.app_context():
        insert_rows(JOBS, [_job("taken", {"n": 0}, at)], skip_conflicts=True)
        insert_rows(JOBS, [
            _job("taken", {"n": 1}, at), _job("fresh", {"n": 2, "list": [1, "二"]}, at),
            _job("fresh", {"n": 3}, at), _job(None, {}, at + timedelta(days=1)),
        ], skip_conflicts=True)  # fmt: skip
        db.session.commit()

        stored = _stored()
        assert [(key, payload) for key, payload, _ in stored] == [
            ("taken", {"n": 0}), ("fresh", {"n": 2, "list": [1, "二"]}), (None, {})
        ]
        assert [when for _, _, when in stored] == [at, at, at + timedelta(days=1)]


def test_insert_rows_without_skipping_refuses_a_conflict_and_writes_nothing(app):
    at = datetime(2026, 12, 4, 12, tzinfo=UTC)
    with app.app_context():
        insert_rows(JOBS, [_job("once", {}, at)])
        db.session.commit()
        with pytest.raises(Exception, match=r"(?i)unique"):
            insert_rows(JOBS, [_job("other", {}, at), _job("once", {}, at)])
        db.session.rollback()
        assert [key for key, _, _ in _stored()] == ["once"]


# Any text a column can hold (PostgreSQL's text has no NUL, and surrogates are not UTF-8).
ANY_TEXT = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40
)
ONE_APP = [HealthCheck.function_scoped_fixture]  # each example empties the table first


@settings(max_examples=40, deadline=None, suppress_health_check=ONE_APP)
@given(texts=st.lists(ANY_TEXT, min_size=1, max_size=12))
def test_insert_rows_keeps_any_text_exactly(app, texts):
    """Quotes, braces, commas, backslashes, spaces, the word NULL and any script: each text
    reaches the table as it was (the arrays' binary form has no quoting to get wrong)."""
    at = datetime(2026, 12, 4, 12, tzinfo=UTC)
    with app.app_context():
        db.session.execute(JOBS.delete())
        insert_rows(JOBS, [_job(f"k{n}", {"text": text}, at) | {"kind": text[:64]}
                           for n, text in enumerate(texts)])  # fmt: skip
        stored = db.session.execute(
            select(OutboxJob.kind, OutboxJob.payload).order_by(OutboxJob.id)
        )
        assert [(kind, payload["text"]) for kind, payload in stored] == [
            (text[:64], text) for text in texts
        ]
        db.session.rollback()
