"""On a fresh checkout (no instance/, no keys) the CLI helps instead of printing tracebacks, and
no command disappears from its help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ["clients", "db", "dev", "jobs", "keys", "mock-idp", "routes", "run", "seed", "serve",
            "shell", "worker"]  # fmt: skip


def _minifin(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIFIN_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stderr


def test_the_help_lists_every_command_without_a_traceback(tmp_path):
    result = _minifin(tmp_path, "--help")

    assert result.returncode == 0
    _no_traceback(result)
    listed = {line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines()
              if line.strip()}  # fmt: skip
    assert set(COMMANDS) <= listed
    assert not (tmp_path / "instance").exists()


@pytest.mark.parametrize(
    "args", [["db", "--help"], ["db", "upgrade", "--help"], ["keys", "--help"],
             ["keys", "generate", "--help"], ["worker", "--help"], ["jobs", "list", "--help"]],
)  # fmt: skip
def test_each_commands_help_works_without_keys(tmp_path, args):
    result = _minifin(tmp_path, *args)

    assert result.returncode == 0, result.stderr
    _no_traceback(result)
    assert result.stdout.startswith("Usage:")


def test_keys_generate_works_on_a_fresh_checkout(tmp_path):
    result = _minifin(tmp_path, "keys", "generate")

    assert result.returncode == 0, result.stderr
    _no_traceback(result)
    assert (tmp_path / "instance" / "keys.json").exists()


@pytest.mark.parametrize("args", [["db", "upgrade"], ["jobs", "list"], ["routes"]])
def test_a_command_that_needs_the_app_says_what_is_missing(tmp_path, args):
    result = _minifin(tmp_path, *args)

    assert result.returncode != 0
    _no_traceback(result)
    assert "keys generate" in result.stderr or "minifin dev" in result.stderr
