"""Login by auth code, refresh-token rotation with reuse detection, logout, the current user."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, or_, select, update

from service.auth import refresh_tokens
from service.auth.models import LoginSession, RefreshToken, User
from service.auth.phones import phone_index
from service.auth.scopes import USER_SCOPE
from service.components import components
from service.dbtypes import utcnow
from service.errors import InvalidRequest, NotFound, Unauthorized
from service.extensions import db
from service.gateway import oauth, user_info
from service.gateway.errors import GatewayRejected
from service.ids import new_id
from service.sql import insert_ignoring_conflicts, rows_changed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedTokens:
    """What a login or refresh hands the mini-program."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: User
    token_type: str = "Bearer"


def login_with_auth_code(auth_code: str) -> IssuedTokens:
    """Exchange a mini-program auth code at the gateway, upsert the user, start a session.

    Both gateway calls happen before any database work, so no transaction waits on the network.
    """
    grant = exchange_auth_code(auth_code)
    profile = user_info.public_profile(components().gateway, grant["access_token"])
    now = utcnow()
    user = _upsert_user(grant, profile, now)
    settings = components().settings
    session = LoginSession(
        id=new_id("ses"), user=user, expires_at=now + timedelta(seconds=settings.refresh_token_ttl)
    )
    db.session.add(session)
    issued = _rotate_into(session, refresh_tokens.new_token(), parent=None, now=now)
    db.session.commit()
    log.info("user %s logged in (session %s)", user.id, session.id)
    return issued


def exchange_auth_code(auth_code: str) -> dict[str, Any]:
    """Spend a mini-program auth code at the gateway; the grant names the user and its token."""
    try:
        return oauth.exchange_auth_code(components().gateway, auth_code)
    except GatewayRejected as exc:
        if exc.sub_code in oauth.CODE_UNUSABLE_SUB_CODES:
            raise InvalidRequest(
                "The auth code is invalid, expired or already used; get a new one with "
                "my.getAuthCode.",
                code="auth_code_invalid",
            ) from exc
        raise


def _upsert_user(grant: dict[str, Any], profile: dict[str, Any], now: datetime) -> User:
    """Find or create the user by platform user id / open id; keep nickname, avatar, phone index.

    Of what else a privileged profile carries, only the mobile number is used, and only as a
    blind index (to recognise gifts addressed to it); names and ID numbers are deliberately not
    stored here: real-name data enters only through verified identity flows.
    """
    app_id = components().settings.app_id
    platform_user_id = grant.get("user_id") or None
    open_id = grant.get("open_id") or None
    insert_ignoring_conflicts(
        User,
        {
            "id": new_id("usr"),
            "app_id": app_id,
            "platform_user_id": platform_user_id,
            "open_id": open_id,
            "created_at": now,
        },
    )
    keys = []
    if platform_user_id:
        keys.append(User.platform_user_id == platform_user_id)
    if open_id:
        keys.append(User.open_id == open_id)
    user = db.session.scalars(
        select(User).where(User.app_id == app_id, or_(*keys)).order_by(User.created_at)
    ).first()
    assert user is not None, "the insert above guarantees a row"
    user.platform_user_id = user.platform_user_id or platform_user_id
    user.open_id = user.open_id or open_id
    user.nickname = profile.get("nick_name") or user.nickname
    user.avatar_url = profile.get("avatar") or user.avatar_url
    user.phone_hash = phone_index(profile.get("mobile") or "") or user.phone_hash
    user.last_login_at = now
    return user


def _rotate_into(
    session: LoginSession, raw_token: str, *, parent: RefreshToken | None, now: datetime
) -> IssuedTokens:
    """Add the next refresh token of a session and sign its access token."""
    settings = components().settings
    expires_at = min(now + timedelta(seconds=settings.refresh_idle_ttl), session.expires_at)
    row = RefreshToken(
        session=session,
        parent_id=parent.id if parent else None,
        token_hash=refresh_tokens.token_hash(raw_token),
        issued_at=now,
        expires_at=expires_at,
        access_jti=new_id("atk", 16),
    )
    db.session.add(row)
    return _tokens_for(row, raw_token, now)


def _tokens_for(row: RefreshToken, raw_token: str, now: datetime) -> IssuedTokens:
    """The pair for a refresh-token row; the same row always yields the same access claims."""
    settings = components().settings
    session = row.session
    access_token, claims = components().token_keys.issue(
        session.user.id,
        scope=USER_SCOPE,
        ttl=settings.access_token_ttl,
        issued_at=row.issued_at,
        jti=row.access_jti,
        extra={"sid": session.id},
    )
    return IssuedTokens(
        access_token=access_token,
        expires_in=max(0, claims["exp"] - int(now.timestamp())),
        refresh_token=raw_token,
        refresh_expires_in=max(0, int((row.expires_at - now).total_seconds())),
        user=session.user,
    )


def _token_secret() -> bytes:
    return base64.b64decode(components().keys_document["token_secret"])


def refresh_session(raw_token: str) -> IssuedTokens:
    """Rotate a refresh token (RFC 9700 §4.14).

    The spend is a conditional UPDATE, so of two concurrent refreshes exactly one rotates. A token
    spent within the grace window is answered with the same successor pair (the client lost the
    response); spent earlier, or after its successor was used, it is a replay and the whole
    session is revoked.
    """
    now = utcnow()
    digest = refresh_tokens.token_hash(raw_token)
    spent = rows_changed(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == digest,
            RefreshToken.used_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    row = db.session.scalars(select(RefreshToken).where(RefreshToken.token_hash == digest)).first()
    if row is None:
        raise Unauthorized("The refresh token is not valid.", code="refresh_token_invalid")
    session = row.session
    if session.revoked_at is not None:
        db.session.rollback()
        raise Unauthorized("This session has ended; log in again.", code="session_revoked")
    if spent:
        issued = _rotate_into(
            session, refresh_tokens.successor(raw_token, _token_secret()), parent=row, now=now
        )
        db.session.commit()
        return issued
    if row.used_at is None:
        db.session.rollback()
        raise Unauthorized(
            "The refresh token has expired; log in again.", code="refresh_token_expired"
        )
    return _replay_or_revoke(row, raw_token, now)


def _replay_or_revoke(row: RefreshToken, raw_token: str, now: datetime) -> IssuedTokens:
    """A refresh token used a second time: within the grace period (a retry that lost its answer)
    the tokens it was exchanged for are answered again; after it, the whole family is revoked,
    since a stolen token is being replayed. It commits the revocation before refusing.
    """
    grace = timedelta(seconds=components().settings.refresh_grace_seconds)
    child = db.session.scalars(select(RefreshToken).where(RefreshToken.parent_id == row.id)).first()
    if (
        child is not None
        and child.used_at is None
        and row.used_at is not None
        and now - row.used_at <= grace
    ):
        return _tokens_for(child, refresh_tokens.successor(raw_token, _token_secret()), now)
    _revoke(row.session_id, "refresh_token_reused", now)
    db.session.commit()
    log.warning("refresh token reuse detected; session %s revoked", row.session_id)
    raise Unauthorized(
        "This refresh token was already used; the session has been ended for safety.",
        code="refresh_token_reused",
    )


def _revoke(session_id: str, reason: str, now: datetime) -> None:
    components().live_sessions.forget(session_id)
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.id == session_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )


def logout(session_id: str) -> None:
    """End a session: its refresh tokens stop working and its access tokens are refused."""
    _revoke(session_id, "logout", utcnow())
    db.session.commit()


# Built once and run through a bare connection: this is every authenticated request's query, and
# the ORM session's machinery would cost more than the query itself.
_LIVE_SESSION_USER = (
    select(*User.__table__.columns, LoginSession.revoked_at)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(LoginSession.id == bindparam("sid"), User.id == bindparam("sub"))
)


def _read_connection() -> Connection:
    """A connection for one read that needs no transaction.

    On PostgreSQL, autocommit spares the BEGIN and ROLLBACK round trips. SQLite's driver opens no
    transaction for a SELECT anyway, and switching its isolation level there and back on every
    checkout cost more than the query.
    """
    connection = db.engine.connect()
    if connection.dialect.name == "sqlite":
        return connection
    return connection.execution_options(isolation_level="AUTOCOMMIT")


def existing_user(user_id: str) -> User:
    """The user a merchant client names, or the 404 every such route answers."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.", code="user_not_found")
    return user


def authenticated_user(claims: dict[str, Any]) -> Row:
    """The user behind verified access-token claims, if their session is still live.

    The session must exist, belong to the token's subject and not be revoked. The answer (a
    read-only row of the users table: `.id`, `.nickname`, …) is remembered per process for
    MINIFIN_SESSION_CHECK_SECONDS, so a burst of requests costs one indexed query; revoking a
    session forgets it here at once and in other processes within that time.
    """
    session_id = claims.get("sid")
    if not isinstance(session_id, str) or not claims["sub"].startswith("usr_"):
        raise Unauthorized("This endpoint needs a user's access token.", code="user_token_required")
    live = components().live_sessions
    row = live.get(session_id)
    if row is None:
        with _read_connection() as connection:
            row = connection.execute(
                _LIVE_SESSION_USER, {"sid": session_id, "sub": claims["sub"]}
            ).first()
        if row is None:
            raise Unauthorized("The access token is not valid.", code="invalid_token")
        if row.revoked_at is not None:
            raise Unauthorized("This session has ended; log in again.", code="session_revoked")
        live.put(session_id, row)
    if row.id != claims["sub"]:
        raise Unauthorized("The access token is not valid.", code="invalid_token")
    return row
