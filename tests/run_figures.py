"""A pytest plugin: figures a test measured (how many requests a fuzzing gate sent…), printed at
the end of the run, so CI's log carries them without `-s`."""

from __future__ import annotations

lines: list[str] = []


def report(line: str) -> None:
    """Print `line` in the run's summary (and now, when output is not captured)."""
    lines.append(line)
    print(line)


def pytest_terminal_summary(terminalreporter) -> None:
    for line in lines:
        terminalreporter.write_line(line)
