"""Auth codes and user access/refresh tokens: issued, redeemed once, looked up, tied to one app."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from service.mock_idp.apps import AppRecord
from service.mock_idp.store import MockStore

SCOPES = ("auth_base", "auth_user", "auth_zhima")
_OPEN_ID_KEY = b"minifin mock identity provider: open_id derivation"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Grant:
    """Who granted what to which app: what a code or a token stands for."""

    app_id: str
    user_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class TokenPair:
    """A freshly issued access token and refresh token with their lifetimes in seconds."""

    grant: Grant
    access_token: str
    refresh_token: str
    expires_in: int
    re_expires_in: int
    issued_at: float


class GrantRefused(Exception):
    """A code or token that cannot be used; `reason` names why (`unknown`, `used`, `expired`)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_scopes(value: Any) -> tuple[str, ...]:
    """Scopes from a list or a comma/space separated string; ValueError if any is unknown."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise ValueError("scopes must be a non-empty list")
    unknown = [item for item in items if item not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scopes {unknown}; known: {list(SCOPES)}")
    return tuple(scope for scope in SCOPES if scope in items)


def issue_auth_code(store: MockStore, app_id: str, user_id: str, scopes: tuple[str, ...]) -> str:
    """A new single-use code, as `my.getAuthCode` or the authorisation page hands it out."""
    code = secrets.token_hex(16)
    now = time.time()
    store.execute(
        "INSERT INTO auth_codes (code, app_id, user_id, scopes, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (code, app_id, user_id, " ".join(scopes), now, now + store.settings()["auth_code_ttl"]),
    )
    return code


def redeem_auth_code(store: MockStore, code: str, app_id: str) -> TokenPair:
    """Spend a code (once, for its own app, before it expires) on a new token pair."""
    now = time.time()
    with store.transaction() as db:
        row = db.execute("SELECT * FROM auth_codes WHERE code = ?", (code,)).fetchone()
        if row is None or row["app_id"] != app_id:
            raise GrantRefused("unknown")
        if row["used_at"] is not None:
            raise GrantRefused("used")
        if row["expires_at"] <= now:
            raise GrantRefused("expired")
        db.execute("UPDATE auth_codes SET used_at = ? WHERE code = ?", (now, code))
    grant = Grant(row["app_id"], row["user_id"], tuple(row["scopes"].split()))
    return _issue_tokens(store, grant, now)


def refresh_tokens(store: MockStore, refresh_token: str, app_id: str) -> TokenPair:
    """Spend a refresh token (once, for its own app, before it expires) on a new pair."""
    now = time.time()
    with store.transaction() as db:
        row = db.execute(
            "SELECT * FROM tokens WHERE refresh_token = ?", (refresh_token,)
        ).fetchone()
        if row is None or row["app_id"] != app_id:
            raise GrantRefused("unknown")
        if row["refreshed_at"] is not None:
            raise GrantRefused("used")
        if row["refresh_expires_at"] <= now:
            raise GrantRefused("expired")
        db.execute(
            "UPDATE tokens SET refreshed_at = ? WHERE refresh_token = ?", (now, refresh_token)
        )
    grant = Grant(row["app_id"], row["user_id"], tuple(row["scopes"].split()))
    return _issue_tokens(store, grant, now)


def _issue_tokens(store: MockStore, grant: Grant, now: float) -> TokenPair:
    settings = store.settings()
    pair = TokenPair(
        grant=grant,
        access_token="authusrB" + secrets.token_hex(16),
        refresh_token="authusrB" + secrets.token_hex(16),
        expires_in=int(settings["access_token_ttl"]),
        re_expires_in=int(settings["refresh_token_ttl"]),
        issued_at=now,
    )
    store.execute(
        "INSERT INTO tokens (access_token, refresh_token, app_id, user_id, scopes, created_at,"
        " access_expires_at, refresh_expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            pair.access_token, pair.refresh_token, grant.app_id, grant.user_id,
            " ".join(grant.scopes), now, now + pair.expires_in, now + pair.re_expires_in,
        ),
    )  # fmt: skip
    return pair


def grant_of_access_token(store: MockStore, access_token: str, app_id: str) -> Grant:
    """What a user's access token (`auth_token`) allows this app, or GrantRefused."""
    row = store.query_one("SELECT * FROM tokens WHERE access_token = ?", (access_token or "",))
    if row is None or row["app_id"] != app_id:
        raise GrantRefused("unknown")
    if row["access_expires_at"] <= time.time():
        raise GrantRefused("expired")
    return Grant(row["app_id"], row["user_id"], tuple(row["scopes"].split()))


# Codes and tokens both record a consent: a code is issued the moment the user agrees.
_CONSENTS = """SELECT user_id, created_at FROM auth_codes WHERE app_id = :app_id
    AND ' ' || scopes || ' ' LIKE :scope UNION ALL SELECT user_id, created_at FROM tokens
    WHERE app_id = :app_id AND ' ' || scopes || ' ' LIKE :scope"""


def _consents(store: MockStore, app_id: str, scope: str, user_id: str | None = None) -> list:
    sql = f"SELECT user_id FROM ({_CONSENTS})"  # noqa: S608 - a fixed statement
    params = {"app_id": app_id, "scope": f"% {scope} %", "user_id": user_id}
    if user_id is not None:
        sql += " WHERE user_id = :user_id"
    return store.query(sql + " ORDER BY created_at DESC LIMIT 1", params)


def has_granted(store: MockStore, app_id: str, user_id: str, scope: str) -> bool:
    """Whether the user ever granted this app `scope` (an auth code or token carries it)."""
    return bool(_consents(store, app_id, scope, user_id))


def latest_grantor(store: MockStore, app_id: str, scope: str) -> str | None:
    """The user who most recently granted this app `scope`, or None."""
    rows = _consents(store, app_id, scope)
    return rows[0]["user_id"] if rows else None


def open_id_for(app_id: str, user_id: str) -> str:
    """The user's opaque id as this app sees it: stable, different for every app."""
    digest = hmac.new(_OPEN_ID_KEY, f"{app_id}:{user_id}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    while number:
        number, remainder = divmod(number, 62)
        chars.append(_BASE62[remainder])
    return "0" + "".join(chars)[:45].rjust(45, "0")


def subject_fields(app: AppRecord, user_id: str) -> dict[str, str]:
    """`user_id` and/or `open_id`, as the app's id_mode says the platform reveals them."""
    fields = {}
    if app.id_mode in ("user_id", "both"):
        fields["user_id"] = user_id
    if app.id_mode in ("open_id", "both"):
        fields["open_id"] = open_id_for(app.app_id, user_id)
    return fields


def user_of_open_id(store: MockStore, app_id: str, open_id: str) -> str | None:
    """The user behind an app's open_id (the mock derives open_ids, so it searches its users)."""
    for user in store.list_users():
        if open_id_for(app_id, user["user_id"]) == open_id:
            return user["user_id"]
    return None
