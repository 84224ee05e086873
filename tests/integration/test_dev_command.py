"""`minifin dev`, as a newcomer runs it: three processes, a working login, a clean Ctrl-C, reuse."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import APP_ID, bearer

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DevRun:
    """`minifin dev` in a child process, its output collected line by line."""

    def __init__(self, workdir: Path, api_port: int, mock_port: int):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MINIFIN_")}
        env["PYTHONPATH"] = str(REPO)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "dev", "--api-port", str(api_port),
             "--mock-port", str(mock_port)],
            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        if any(text in line for line in self.output):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            self.output.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} never appeared:\n{''.join(self.output)}")

    def interrupt(self, how: signal.Signals = signal.SIGINT) -> int:
        self.process.send_signal(how)
        return self.process.wait(timeout=30)


def _login(api: str, mock: str) -> dict:
    users = httpx.get(f"{mock}/_mock/users").json()["users"]
    code = httpx.post(
        f"{mock}/_mock/auth-codes",
        json={
            "app_id": APP_ID,
            "user_id": users[0]["user_id"],
            "scopes": ["auth_user"],
        },
    ).json()["auth_code"]
    response = httpx.post(f"{api}/v1/sessions", json={"auth_code": code}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_minifin_dev_runs_everything_and_stops_cleanly_then_reuses_its_instance(tmp_path):
    api_port, mock_port = _free_port(), _free_port()
    api, mock = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{mock_port}"

    first = DevRun(tmp_path, api_port, mock_port)
    try:
        first.wait_for("Ctrl-C stops everything")
        assert "Try it" in "".join(first.output)
        tokens = _login(api, mock)
        assert httpx.get(f"{api}/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
        templates = httpx.get(f"{api}/v1/voucher-templates", headers=bearer(tokens["access_token"]))
        assert len(templates.json()["data"]) == 3
        cover = httpx.get(templates.json()["data"][0]["covers"][0]["image_url"])
        assert cover.status_code == 200 and cover.headers["content-type"].startswith("image/svg")
        first.wait_for("started (sources:")
    finally:
        assert first.interrupt() == 0
    assert _port_is_free(api_port) and _port_is_free(mock_port)
    keys = (tmp_path / "instance" / "keys.json").read_text()

    second = DevRun(tmp_path, api_port, mock_port)
    try:
        second.wait_for("Ctrl-C stops everything")
        again = _login(api, mock)
        listed = httpx.get(f"{api}/v1/voucher-templates", headers=bearer(again["access_token"]))
        assert len(listed.json()["data"]) == 3  # seeded once, not again
    finally:
        assert second.interrupt(signal.SIGTERM) == 0  # as a process manager would stop it
    assert _port_is_free(api_port) and _port_is_free(mock_port)
    assert (tmp_path / "instance" / "keys.json").read_text() == keys
    assert again["user"]["id"] == tokens["user"]["id"]
