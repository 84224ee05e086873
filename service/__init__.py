"""Minifin: the API (service/app.py), its worker, and the mock identity provider.

Importing the package loads nothing else: the mock and the gateway's protocol code are imported
by processes that must not load the API (tests/unit/test_import_boundaries.py checks it), so
`create_app` is looked up from service/app.py only when asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")

if TYPE_CHECKING:
    from service.app import create_app

__all__ = ["MIGRATIONS_DIR", "create_app"]


def __getattr__(name: str) -> Any:
    """`from service import create_app` keeps working, without importing the API up front."""
    if name == "create_app":
        from service.app import create_app

        return create_app
    raise AttributeError(f"module 'service' has no attribute {name!r}")
