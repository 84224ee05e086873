"""A pytest plugin: every 5xx any in-process server answers during the suite, counted and checked.

Flask sends `request_finished` for every answer, error handlers' included, from each app in this
process: Minifin's API (through the test client and through live servers on loopback) and the mock
identity provider. Minifin's own 500s are failures of the test they happen in, unless the test is
marked `server_error_expected` (the few that provoke one on purpose, to prove how it is answered).
Its 502/503s are the designed answers to a failing platform, and the mock's 5xx are faults tests
inject; both are counted. The summary prints the figures at the end of the run.
"""

from __future__ import annotations

from collections import Counter

import pytest
from flask import request, request_finished

MINIFIN_API = "service.app"  # the import name create_app (service/app.py) gives its app

answered: Counter[tuple[str, int]] = Counter()  # (server, status) → answers
unexpected: list[str] = []


def _finished(sender, response, **extra) -> None:
    if response.status_code < 500:
        return
    server = "minifin" if sender.import_name == MINIFIN_API else "mock"
    answered[(server, response.status_code)] += 1
    if server == "minifin" and response.status_code == 500:
        unexpected.append(f"{request.method} {request.path}")


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "server_error_expected: the test provokes a 500 from Minifin on purpose"
    )
    request_finished.connect(_finished, weak=False)


@pytest.fixture(autouse=True)
def _no_unexpected_server_error(request):
    before = len(unexpected)
    yield
    new = unexpected[before:]
    if new and request.node.get_closest_marker("server_error_expected") is None:
        pytest.fail(f"Minifin answered 500 to: {', '.join(new)}", pytrace=False)


def pytest_terminal_summary(terminalreporter) -> None:
    totals = {
        server: sum(n for (s, _), n in answered.items() if s == server)
        for server in ("minifin", "mock")
    }
    by_status = ", ".join(f"{who} {status}: {n}" for (who, status), n in sorted(answered.items()))
    terminalreporter.write_line(
        f"server 5xx answers: Minifin {totals['minifin']}, the mock {totals['mock']}"
        f" ({by_status or 'none'}); Minifin 500s: {answered[('minifin', 500)]}"
    )
