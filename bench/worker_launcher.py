"""`minifin worker` with the event log's insert replaced by nothing, for the events overhead.

`python -m bench.worker_launcher worker --source due_gifts …` runs the real command line
(`service.cli`) after replacing `service.events.log.record_many`, in every module that imported
it, with a function that builds nothing and inserts nothing. `bench/scheduler.py` runs the same
burst with the real workers and with these, and prints the difference as the events' overhead.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def no_events(events) -> list[str]:
    """What `record_many` returns, for events that are never recorded."""
    return ["" for _ in events]


def main() -> int:
    from service import bootstrap, cli
    from service.events import log

    bootstrap.default_wiring()  # imports every capability, so every importer of record_many
    original = log.record_many
    for module in list(sys.modules.values()):
        if getattr(module, "record_many", None) is original:
            module.record_many = no_events  # type: ignore[attr-defined]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
