"""The session helpers use cases lean on: `existing` rows and `rows_changed` counts."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from service.auth.models import User
from service.extensions import db
from service.sql import existing, rows_changed


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
