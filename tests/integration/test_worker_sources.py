"""`minifin worker --source`: a worker dedicated to some kinds of due work, and a clear refusal."""

from __future__ import annotations

import signal

from service.bootstrap import default_wiring
from tests.integration.test_serve_and_worker_commands import _spawn


def test_a_worker_can_be_given_only_some_sources(app, app_env):
    worker = _spawn(["worker", "--source", "due_gifts", "--source", "outbox"], app_env)
    assert worker.stdout is not None
    started = next(line for line in worker.stdout if "started (sources:" in line)
    worker.send_signal(signal.SIGTERM)

    assert started.rstrip().endswith("started (sources: due_gifts, outbox)")
    assert worker.wait(timeout=15) == 0


def test_an_unknown_source_is_refused_with_the_known_ones(app, app_env):
    worker = _spawn(["worker", "--source", "due_gifts", "--source", "cron"], app_env)
    output, _ = worker.communicate(timeout=30)

    assert worker.returncode == 2
    assert "Invalid value for --source: cron (known: " in output
    assert ", ".join(sorted(default_wiring().due_work)) in output
