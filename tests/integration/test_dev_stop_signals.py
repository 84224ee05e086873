"""`minifin dev` stops, with all three of its processes, on SIGINT, SIGTERM and SIGHUP alike,
even when started from a script that had SIGINT ignored (`trap '' INT`), as some wrappers do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.integration.test_dev_command import REPO, _free_port, _port_is_free


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_minifin_dev_started_with_sigint_ignored_stops_all_three_processes_on_each_signal(
    tmp_path, how
):
    api_port, mock_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIFIN_")}
    env["PYTHONPATH"] = str(REPO)
    command = (
        f"trap '' INT; exec {sys.executable} -m service.cli dev"
        f" --api-port {api_port} --mock-port {mock_port}"
    )
    dev = subprocess.Popen(
        ["bash", "-c", command], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert dev.stdout is not None
        for line in dev.stdout:
            output.append(line)
            if "started (sources:" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    children: list[int] = []
    try:
        assert ready.wait(90), "".join(output)
        children = _children(dev.pid)
        assert len(children) == 3, (children, "".join(output))

        dev.send_signal(how)

        assert dev.wait(timeout=30) == 0, "".join(output)
    finally:
        if dev.poll() is None:
            dev.kill()
        _kill_survivors_after(children, seconds=10)
    assert not [pid for pid in children if _alive(pid)], "".join(output)
    assert _port_is_free(api_port) and _port_is_free(mock_port)


def _kill_survivors_after(pids: list[int], *, seconds: float) -> None:
    """Give the children time to stop; kill those left (they would fail the test anyway)."""
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [pid for pid in pids if _alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    if survivors:
        raise AssertionError(f"still running after the stop: {survivors}")
