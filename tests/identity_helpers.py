"""Helpers shared by the identity tests: people's real identities, starting and finishing scans."""

from __future__ import annotations

import json
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.conftest import bearer

# Demo users of the mock (tests/conftest.py logs them in by index); their faces pass by default.
ZHANG_WEI = {"name": "张伟", "id_number": "110101198803141119"}  # demo user 0
WANG_FANG = {"name": "王芳", "id_number": "310104199207214802"}  # demo user 1
RETURN_URL = "https://shop.example/after-verification"


def verification_body(person: dict, **changes) -> dict:
    return {**person, "return_url": RETURN_URL, "consent": True, **changes}


def start(client, token: str, person: dict = ZHANG_WEI, key: str | None = None, **changes):
    """POST a verification; returns the response."""
    headers = {**bearer(token), "Idempotency-Key": key or secrets.token_hex(8)}
    return client.post(
        "/v1/identity/verifications", json=verification_body(person, **changes), headers=headers
    )


def certify_id_of(verification: dict) -> str:
    """The platform's certify_id, read from the signed face-scan URL the API handed out."""
    query = parse_qs(urlsplit(verification["certify_url"]).query)
    return json.loads(query["biz_content"][0])["certify_id"]


def finish_scan(mock_url: str, verification: dict, *, passed: bool, reason: str | None = None):
    """What the user does on the face-scan page, through the mock's control API."""
    body = {"passed": passed} | ({"fail_reason": reason} if reason else {})
    response = httpx.post(
        f"{mock_url}/_mock/certifications/{certify_id_of(verification)}/complete", json=body
    )
    response.raise_for_status()


def verify(client, token: str, mock_url: str, person: dict = ZHANG_WEI) -> dict:
    """Take a person through a passing face scan; returns the finished verification."""
    verification = start(client, token, person).get_json()
    finish_scan(mock_url, verification, passed=True)
    finished = client.get(
        f"/v1/identity/verifications/{verification['id']}", headers=bearer(token)
    ).get_json()
    assert finished["status"] == "passed", finished
    return finished
