"""No module of the code base grows past what a reader takes in at once.

ARCHITECTURE.md says a module past about 300 lines is split by responsibility; this test holds
the line at 320 for everything under service/, schemas/ and config/. Migrations are excluded:
each is written once, by Alembic's template, and never read as part of the design.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "schemas", "config")
EXCLUDED = (Path("service", "migrations"),)
MAX_LINES = 320


def _modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if not any(relative.is_relative_to(excluded) for excluded in EXCLUDED):
                found.append(relative)
    return found


def _line_count(relative: Path) -> int:
    with (ROOT / relative).open(encoding="utf-8") as source:
        return sum(1 for _ in source)


def test_the_packages_are_where_the_size_check_looks():
    modules = _modules()
    assert Path("service", "__init__.py") in modules
    assert Path("schemas", "__init__.py") in modules
    assert any(module.parts[0] == "config" for module in modules)
    assert not any(module.is_relative_to(Path("service", "migrations")) for module in modules)


def test_no_module_is_longer_than_the_limit():
    too_long = {
        str(module): lines
        for module in _modules()
        if (lines := _line_count(module)) > MAX_LINES
    }
    assert too_long == {}, (
        f"modules over {MAX_LINES} lines; split them by responsibility "
        f"(ARCHITECTURE.md, Layout): {too_long}"
    )
