"""`minifin serve` (gunicorn) answers over HTTP; `minifin worker` stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.integration.test_dev_command import _free_port

REPO = Path(__file__).resolve().parents[2]


def _spawn(args: list[str], app_env: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, **app_env, "PYTHONPATH": str(REPO), "MINIFIN_LOG_LEVEL": "INFO"}
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def test_serve_runs_the_api_under_gunicorn(app, app_env):
    port = _free_port()
    server = _spawn(["serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"], app_env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "gunicorn did not come up"
                time.sleep(0.2)
        assert response.status_code == 200
        while response.json()["checks"]["gateway"] == "unknown" and time.monotonic() < deadline:
            # a probe that outlived the client's timeout is still looking: `unknown` meanwhile
            time.sleep(0.2)
            response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert response.json()["checks"] == {"database": "ok", "gateway": "ok"}
        claim = httpx.get(f"http://127.0.0.1:{port}/v1/claims/ct_secret_in_the_path?a=b")
        assert claim.status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    output = server.stdout.read()
    assert '"GET /v1/claims/… HTTP/1.1" 401' in output  # the access log, redacted
    assert "ct_secret_in_the_path" not in output


def test_the_worker_stops_after_sigterm(app, app_env):
    worker = _spawn(["worker", "--poll-interval", "0.1"], app_env)
    assert worker.stdout is not None
    deadline = time.monotonic() + 30
    for line in worker.stdout:
        if "started (sources:" in line:
            break
        assert time.monotonic() < deadline
    worker.send_signal(signal.SIGTERM)

    assert worker.wait(timeout=15) == 0
    assert "stopped after" in worker.stdout.read()
