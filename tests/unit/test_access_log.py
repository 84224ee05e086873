"""Access logs keep the shape of a request but not the bearer secrets in its URL.

Which segments are secret comes from the routes (the `secret` converter); these tests learn
routes shaped like Minifin's from a small app of their own.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from gunicorn.config import Config

from service import access_log
from service.access_log import RedactingFilter, RedactingGunicornLogger, redact

TOKEN = "ct_7hQ2mZp9xK4vW1sR8tY6uB3nL5cD0eF"
CODE = "GV7K-2M9Q-XR4T-8"
ROUTES = (
    "/claim/return", "/claim/<secret:token>", "/v1/claims/<secret:claim_token>",
    "/v1/vouchers", "/v1/vouchers/<secret:voucher_id>", "/v1/vouchers/<secret:code>/redemptions",
    "/v1/gifts", "/v1/gifts/<gift_id>",
)  # fmt: skip


def _learn(*rules: str) -> None:
    app = Flask(__name__)
    access_log.install(app)
    for n, rule in enumerate(rules):
        app.add_url_rule(rule, f"view_{n}", lambda **_: "")
    access_log.learn_routes(app)


@pytest.fixture(autouse=True)
def _routes() -> None:
    _learn(*ROUTES)


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        (f"GET /claim/{TOKEN} HTTP/1.1", "GET /claim/… HTTP/1.1"),
        (f"POST /v1/claims/{TOKEN} HTTP/1.1", "POST /v1/claims/… HTTP/1.1"),
        (f"POST /v1/vouchers/{CODE}/redemptions", "POST /v1/vouchers/…/redemptions"),
        ("GET /claim/return?auth_code=abc&state=xyz HTTP/1.1", "GET /claim/return HTTP/1.1"),
        (f"GET /v1/vouchers/{CODE} HTTP/1.1", "GET /v1/vouchers/… HTTP/1.1"),  # a code, typed
        (
            f"DELETE /v1/claims/{TOKEN}/nothing-here HTTP/1.1",
            "DELETE /v1/claims/…/nothing-here HTTP/1.1",
        ),
        ("GET /v1/gifts/gft_123 HTTP/1.1", "GET /v1/gifts/gft_123 HTTP/1.1"),
        ("GET /v1/gifts?role=sent HTTP/1.1", "GET /v1/gifts HTTP/1.1"),
    ],
)
def test_secrets_in_urls_are_redacted_and_the_rest_kept(line, redacted):
    assert redact(line) == redacted


def test_a_new_route_that_takes_a_secret_is_redacted_without_touching_the_access_log():
    _learn("/v1/passes/<secret:serial_number>/status")

    assert redact(f"GET /v1/passes/{CODE}/status HTTP/1.1") == "GET /v1/passes/…/status HTTP/1.1"


def test_a_process_that_learned_no_routes_shows_no_path_at_all(monkeypatch):
    monkeypatch.setattr(access_log, "_secret_segments", None)

    assert redact(f"GET /claim/{TOKEN}?x=1 HTTP/1.1") == "GET /… HTTP/1.1"


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
