"""end_transaction_before_call: the read's transaction ends, and unsaved changes are never lost."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.auth.models import User
from service.extensions import db
from service.transactions import UnsavedChanges, end_transaction_before_call


def test_a_read_transaction_is_over_before_the_call(app):
    with app.app_context():
        db.session.scalar(select(func.count()).select_from(User))
        assert db.session().in_transaction()
        end_transaction_before_call()
        assert not db.session().in_transaction()


@pytest.mark.parametrize("change", ["new", "dirty", "deleted"])
def test_changes_not_yet_committed_are_refused_not_dropped(app, change):
    with app.app_context():
        user = User(app_id="app", nickname="kept")
        if change != "new":
            db.session.add(user)
            db.session.commit()
        if change == "new":
            db.session.add(user)
        elif change == "dirty":
            user.nickname = "changed"
        else:
            db.session.delete(user)
        with pytest.raises(UnsavedChanges):
            end_transaction_before_call()
        assert user in {"new": db.session.new, "dirty": db.session.dirty,
                        "deleted": db.session.deleted}[change]  # fmt: skip
        db.session.rollback()
