"""Name → handler tables built from declared pairs, refusing a name claimed twice.

The composition root (bootstrap.py) joins every capability's declared job kinds and notification
types with this: two handlers for one name would leave which one runs to the order of a list, so
a repeat is an error when the app is built, never a silent override.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

V = TypeVar("V")


def unique_table(what: str, pairs: Iterable[tuple[str, V]]) -> dict[str, V]:
    """A dict of the pairs, in their order; a name given twice raises RuntimeError."""
    table: dict[str, V] = {}
    for name, value in pairs:
        if name in table:
            raise RuntimeError(f"{what} {name!r} is claimed twice")
        table[name] = value
    return table
