"""`minifin worker` with the event log's inserts replaced by nothing, for the events overhead.

`python -m bench.worker_launcher worker --source due_gifts …` runs the real command line
(`service.cli`) after replacing the four ways of recording events, `log.record_many`,
`views.record_views`, `recorded_writes.insert_recorded` and `recorded_writes.update_recorded`
(in `service.events`), in every module that imported them, with functions that insert no event
(the stand-ins of the last two still write the rows, with the same array insert and the same
guarded update). `bench/scheduler.py` runs the same burst with the real
workers and with these, and prints the difference as the events' overhead.
"""

from __future__ import annotations

import functools
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
    from service.sql import insert_rows

    insert_rows(view.table, rows)
    return ["" for _ in rows]


def rows_updated(view, event_type, update, entries, params) -> list[str]:
    """What `update_recorded` does without its events: the update alone, returning the ids."""
    from service.extensions import db

    return list(db.session.scalars(_returning_ids(view, update), params))


@functools.cache
def _returning_ids(view, update):
    """The update with `RETURNING id`, built once, as `update_recorded` builds its statement."""
    return update.returning(view.table.c.id)


def main() -> int:
    from service import bootstrap, cli
    from service.events import log, recorded_writes, views

    bootstrap.default_wiring()  # imports every capability, so every importer of the two
    replaced = {"record_many": (log.record_many, no_events),
                "record_views": (views.record_views, no_views),
                "insert_recorded": (recorded_writes.insert_recorded, rows_only),
                "update_recorded": (recorded_writes.update_recorded, rows_updated)}  # fmt: skip
    for module in list(sys.modules.values()):
        for name, (original, replacement) in replaced.items():
            if getattr(module, name, None) is original:
                setattr(module, name, replacement)
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
