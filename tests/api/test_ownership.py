"""owned_or_404: a caller's own object by id, and one 404 for a missing and a stranger's object."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.auth.models import LoginSession, User
from service.dbtypes import utcnow
from service.errors import NotFound
from service.extensions import db
from service.ownership import owned_or_404

LOOKUP = {"owner": LoginSession.user_id, "detail": "No such session.", "code": "session_not_found"}


@pytest.fixture
def owned(app):
    """A login session of one user, and the id of another user."""
    with app.app_context():
        owner, stranger = User(app_id="app"), User(app_id="app")
        db.session.add_all([owner, stranger])
        db.session.flush()
        session = LoginSession(user_id=owner.id, expires_at=utcnow() + timedelta(hours=1))
        db.session.add(session)
        db.session.commit()
        yield session.id, owner.id, stranger.id


def _refusal(app, object_id: str, owner_id: str | None) -> NotFound:
    with app.app_context(), pytest.raises(NotFound) as refused:
        owned_or_404(LoginSession, object_id, owner_id=owner_id, **LOOKUP)
    return refused.value


def test_the_owner_gets_the_object(app, owned):
    session_id, owner_id, _ = owned
    with app.app_context():
        found = owned_or_404(LoginSession, session_id, owner_id=owner_id, **LOOKUP)
        assert (found.id, found.user_id) == (session_id, owner_id)


def test_a_strangers_lookup_is_answered_like_a_missing_id(app, owned):
    session_id, _, stranger_id = owned
    strangers = _refusal(app, session_id, stranger_id)
    missing = _refusal(app, "ses_missing", stranger_id)
    assert (strangers.status, strangers.code, strangers.detail) == (404, "session_not_found",
                                                                   "No such session.")  # fmt: skip
    assert (missing.status, missing.code, missing.detail) == (
        strangers.status, strangers.code, strangers.detail
    )  # fmt: skip


def test_no_owner_means_anyones_but_a_missing_id_is_still_a_404(app, owned):
    session_id, owner_id, _ = owned
    with app.app_context():
        assert owned_or_404(LoginSession, session_id, owner_id=None, **LOOKUP).user_id == owner_id
    assert _refusal(app, "ses_missing", None).code == "session_not_found"
