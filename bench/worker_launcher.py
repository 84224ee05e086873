"""`minifin worker` with the event log's inserts replaced by nothing, for the events overhead.

`python -m bench.worker_launcher worker --source due_gifts …` runs the real command line
(`service.cli`) after replacing the three ways of recording events, `log.record_many`,
`views.record_views` and `views.insert_recorded` (in `service.events`), in every module that
imported them, with functions that insert no event (`insert_recorded`'s stand-in still writes
the rows, with the same array insert). `bench/scheduler.py` runs the same burst with the real
workers and with these, and prints the difference as the events' overhead.
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


def no_views(view, entries, extra=None) -> list[str]:
    """What `record_views` returns, for events that are never recorded."""
    return ["" for _ in entries]


def rows_only(view, event_type, rows) -> list[str]:
    """What `insert_recorded` does without its events: the rows alone, inserted the same way."""
    from service.events.views import insert_rows

    insert_rows(view.table, rows)
    return ["" for _ in rows]


def main() -> int:
    from service import bootstrap, cli
    from service.events import log, views

    bootstrap.default_wiring()  # imports every capability, so every importer of the two
    replaced = {"record_many": (log.record_many, no_events),
                "record_views": (views.record_views, no_views),
                "insert_recorded": (views.insert_recorded, rows_only)}  # fmt: skip
    for module in list(sys.modules.values()):
        for name, (original, replacement) in replaced.items():
            if getattr(module, name, None) is original:
                setattr(module, name, replacement)
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
