"""Access logs keep the shape of a request but not the bearer secrets in its URL."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from service.access_log import RedactingFilter, RedactingGunicornLogger, redact

TOKEN = "ct_7hQ2mZp9xK4vW1sR8tY6uB3nL5cD0eF"
CODE = "GV7K-2M9Q-XR4T-8"


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (f"GET /claim/{TOKEN} HTTP/1.1", "GET /claim/… HTTP/1.1"),
        (f"POST /v1/claims/{TOKEN} HTTP/1.1", "POST /v1/claims/… HTTP/1.1"),
        (f"POST /v1/vouchers/{CODE}/redemptions", "POST /v1/vouchers/…/redemptions"),
        ("GET /claim/return?auth_code=abc&state=xyz HTTP/1.1", "GET /claim/return HTTP/1.1"),
        ("GET /v1/vouchers/vch_123 HTTP/1.1", "GET /v1/vouchers/vch_123 HTTP/1.1"),
        ("GET /v1/gifts?role=sent HTTP/1.1", "GET /v1/gifts HTTP/1.1"),
    ],
)
def test_secrets_in_urls_are_redacted_and_the_rest_kept(line, redacted):
    assert redact(line) == redacted


def test_gunicorns_access_line_carries_no_claim_token_or_query():
    logger = RedactingGunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": f"/v1/claims/{TOKEN}?x=1",
        "PATH_INFO": f"/v1/claims/{TOKEN}", "QUERY_STRING": "x=1", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7", "HTTP_REFERER": f"https://shop.example/claim/{TOKEN}",
    }  # fmt: skip
    response = SimpleNamespace(status="200 OK", headers=[], sent=10)

    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=0.01))

    assert atoms["r"] == "POST /v1/claims/… HTTP/1.1"
    assert atoms["U"] == "/v1/claims/…"
    assert atoms["q"] == ""
    assert atoms["f"] == "https://shop.example/claim/…"
    assert TOKEN not in str(atoms)


def test_werkzeugs_request_lines_are_redacted(caplog):
    log = logging.getLogger("werkzeug")
    log.addFilter(RedactingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            log.info(
                '%s - - [%s] "%s" %s -', "127.0.0.1", "now", f"GET /claim/{TOKEN} HTTP/1.1", 200
            )
    finally:
        log.filters = [f for f in log.filters if not isinstance(f, RedactingFilter)]
    assert TOKEN not in caplog.text
    assert '"GET /claim/… HTTP/1.1" 200' in caplog.text
