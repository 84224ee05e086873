"""The servers a bench runs: children in their own process groups, polled until up, always stopped.

Each child gets its own session (process group), so stopping it also stops the workers it forked;
a child is registered with an ExitStack the moment it starts, so it stops whether or not the run
gets as far as using it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import HOST, BenchFailed

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback port the OS says is free right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def gunicorn_argv(app_path: str, port: int, workers: int, threads: int) -> list[str]:
    """The one gunicorn command line every server shares, differing only in the app and port."""
    return [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{HOST}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--graceful-timeout", "5",
        "--log-level", "warning",
        "--chdir", str(ROOT),
        app_path,
    ]  # fmt: skip


def serve(
    stack: contextlib.ExitStack, argv: list[str], env: dict, log: Path, probe: str
) -> subprocess.Popen:
    """Start a server (stopped when `stack` closes), wait until `probe` answers 200, return it."""
    process = start_process(argv, env, log)
    stack.callback(stop_process, process)
    wait_until_up(probe, process, log)
    return process


def group_cpu_seconds(process: subprocess.Popen) -> float:
    """User + system CPU seconds used so far by the child's process group (it and its workers).

    Read from /proc (Linux); 0 elsewhere. Workers that exited are not counted, so call it around
    a load during which none is recycled (gunicorn's max_requests is unset).
    """
    total = 0.0
    proc = Path("/proc")
    for entry in proc.glob("[0-9]*/stat") if proc.is_dir() else ():
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = entry.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == process.pid:  # field 5, the process group, after state and ppid
                total += _cpu_seconds(fields)
    return total


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds one process has used so far (0 once it is gone)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return _cpu_seconds(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split())
    return 0.0


def _cpu_seconds(fields: list[str]) -> float:
    """utime + stime of a /proc/<pid>/stat line's fields after the command's closing bracket."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_process(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start a child in its own process group (so it and its workers stop together)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM the child's process group, wait a little, then SIGKILL whatever is left of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    """Poll `url` until it answers 200, or fail with the child's log."""
    parts = urlsplit(url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchFailed(f"{url}: process exited ({process.returncode})\n{tail(log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection(HOST, parts.port, timeout=2)
            try:
                connection.request("GET", parts.path)
                if connection.getresponse().status == 200:
                    return
            finally:
                connection.close()
        time.sleep(0.1)
    raise BenchFailed(f"{url} did not answer within {seconds:.0f}s\n{tail(log)}")


def tail(log: Path, lines: int = 20) -> str:
    """The end of a child's log, for error messages."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
