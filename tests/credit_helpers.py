"""Helpers shared by the credit tests: consents granted with real auth codes, checks, and the
mock's credit profiles (changed for a test and restored afterwards, since the mock is shared)."""

from __future__ import annotations

import re
import secrets

import httpx
from sqlalchemy import text

from service.extensions import db
from service.gateway import signing
from tests.conftest import auth_code, bearer

BRIEF = "zhima.credit.score.brief.get"
SCORE = "zhima.credit.score.get"
ZHIMA = ("auth_zhima",)  # my.getAuthCode({scopes: "auth_zhima"})
POWER_BANK = {"order_ref": "rent-0042", "title": "充电宝押金", "category": "RENT_POWERBANK"}


def grant(
    client,
    token: str,
    mock_url: str,
    platform_user_id: str,
    purpose: str = "credit_check",
    *,
    scopes: tuple[str, ...] = ZHIMA,
    key: str | None = None,
):
    """What the mini-program does: `my.getAuthCode({scopes: 'auth_zhima'})`, then POST the code
    with the `authSuccessScopes` it reported."""
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    code = auth_code(mock_url, platform_user_id, scopes)
    body = {"auth_code": code, "scopes": list(scopes), "purpose": purpose}
    return client.post("/v1/credit/consents", json=body, headers=headers)


def check(client, token: str, purpose: str = "credit_check", *, key: str | None = None, **body):
    """POST a check of the user's own credit with a fresh (or the given) Idempotency-Key."""
    headers = {**bearer(token), "Idempotency-Key": key or secrets.token_hex(8)}
    return client.post("/v1/credit/checks", json={"purpose": purpose, **body}, headers=headers)


def start_deposit(client, token: str, amount_fen: int = 9900, *, key: str | None = None, **changes):
    """POST a deposit (it rests on the `deposit_waiver` consent); returns the response."""
    headers = {**bearer(token), "Idempotency-Key": key or secrets.token_hex(8)}
    body = {**POWER_BANK, "amount_fen": amount_fen, **changes}
    return client.post("/v1/credit/deposits", json=body, headers=headers)


def consent(client, token: str, mock_url: str, platform_user_id: str, purpose: str) -> dict:
    """Grant a consent that must succeed; returns it."""
    response = grant(client, token, mock_url, platform_user_id, purpose)
    assert response.status_code == 201, body_of(response)
    return body_of(response)


def forged_notification(mock, notification: dict, **changes) -> dict:
    """The platform's notification with other values (and a new `notify_id`), genuinely signed
    by the platform's key."""
    fields = {k: v for k, v in notification["fields"].items() if k not in ("sign", "sign_type")}
    fields.update(changes, notify_id=secrets.token_hex(16))
    return signing.sign_notification(fields, mock.live.app.extensions["mock_idp_platform_key"])


def body_of(response) -> dict:
    """The JSON of a Flask test response or an httpx response (served Minifin)."""
    return response.get_json() if hasattr(response, "get_json") else response.json()


def settle_headers(token: str) -> dict:
    """A settling merchant client's headers for one release or charge."""
    return {**bearer(token), "Idempotency-Key": secrets.token_hex(8)}


def calls_of(mock_url: str, method: str = BRIEF, *, after: int = 0) -> list[dict]:
    """The platform's log of calls to `method` (answered or refused), those after call id `after`.

    Compare by id, not by count: the mock keeps only its most recent calls.
    """
    calls = httpx.get(f"{mock_url}/_mock/calls", params={"method": method}).json()["calls"]
    return [call for call in calls if call["id"] > after]


def last_call_id(mock_url: str) -> int:
    """The id of the platform's latest logged call of any method (0 when none)."""
    calls = httpx.get(f"{mock_url}/_mock/calls").json()["calls"]
    return max((call["id"] for call in calls), default=0)


class CreditProfiles:
    """Changes to mock users' credit profiles, remembered so that `restore` can undo them all."""

    def __init__(self, mock_url: str):
        self.mock_url = mock_url
        self.originals: dict[str, dict] = {}

    def change(self, user_id: str, **credit) -> dict:
        """Merge `zm_score`, `waiver_limit_fen`, `evaluable` into the user's credit profile."""
        if user_id not in self.originals:
            profile = httpx.get(f"{self.mock_url}/_mock/users/{user_id}").json()
            self.originals[user_id] = profile["credit"]
        response = httpx.put(f"{self.mock_url}/_mock/users/{user_id}/credit", json=credit)
        assert response.status_code == 200, response.text
        return response.json()

    def restore(self) -> None:
        """Put every changed profile back as it was (the mock is shared by the whole session)."""
        for user_id, credit in self.originals.items():
            url = f"{self.mock_url}/_mock/users/{user_id}/credit"
            httpx.put(url, json=credit).raise_for_status()


def whole_number(value: int) -> re.Pattern[str]:
    """The number as a whole word: not part of a longer number, an id or a hex string."""
    return re.compile(rf"(?<![0-9A-Za-z]){value}(?![0-9A-Za-z])")


def rows_holding(app, pattern: re.Pattern[str]) -> list[tuple[str, dict]]:
    """Every row of every table (of this app's database) with a value the pattern finds."""
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')).mappings():  # noqa: S608
                if any(pattern.search(str(value)) for value in row.values()):
                    found.append((table.name, dict(row)))
        db.session.rollback()
    return found
