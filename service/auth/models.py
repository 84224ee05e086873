"""Accounts, login sessions with their refresh-token chains, and merchant clients."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.dbtypes import UTCDateTime, utcnow
from service.extensions import Model
from service.ids import new_id


class User(Model):
    """A platform user of one mini-program, keyed by the platform's user id or open id."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("app_id", "platform_user_id"),
        UniqueConstraint("app_id", "open_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("usr"))
    app_id: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str | None] = mapped_column(String(32))
    open_id: Mapped[str | None] = mapped_column(String(128))
    nickname: Mapped[str | None] = mapped_column(String(64))
    avatar_url: Mapped[str | None] = mapped_column(String(512))
    # The keyed digest of the user's mobile, proven with my.getPhoneNumber (phone_proof.py) or
    # reported at login to privileged apps, so a gift addressed to that number can be recognised
    # as theirs; the number itself is never kept.
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(Model):
    """One login: the family of refresh tokens rotated from it, revoked as a whole."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("ses"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))

    user: Mapped[User] = relationship(lazy="joined")


class RefreshToken(Model):
    """One link of a session's rotation chain; only the token's hash is stored.

    `used_at` marks a token as spent. The successor's raw value is derived from the spent token
    with a server secret, so a retry within the grace window can be answered with the same pair
    without ever storing a usable token.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_session_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("login_sessions.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("refresh_tokens.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    access_jti: Mapped[str] = mapped_column(String(64))

    session: Mapped[LoginSession] = relationship(lazy="joined")


class MerchantClient(Model):
    """A merchant back office or store till using the client-credentials grant."""

    __tablename__ = "merchant_clients"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: new_id("cli"))
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())
