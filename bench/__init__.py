"""Performance scripts that print ratios against a baseline measured in the same run."""

from __future__ import annotations

import sys

# Everything a bench starts listens on the loopback only.
HOST = "127.0.0.1"


class BenchFailed(RuntimeError):
    """The bench could not produce trustworthy figures (a server failed or answered wrongly)."""


def progress(message: str) -> None:
    """Narrate on stderr, so stdout holds only the results."""
    print(f"bench: {message}", file=sys.stderr, flush=True)
