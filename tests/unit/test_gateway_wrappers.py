"""Every platform method goes through a wrapper in `service/gateway/`, named by a constant, and
no caller renames a module on import."""

from __future__ import annotations

import ast
import importlib.util
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "service" / "gateway"
# The mock is the other side of the wire: it dispatches on method names of its own.
MOCK = ROOT / "service" / "mock_idp"
# Alembic's generated migrations keep its `import sqlalchemy as sa` convention.
MIGRATIONS = ROOT / "service" / "migrations"
METHOD = re.compile(r"^(alipay|zhima|koubei|ant)(\.[a-z0-9_]+){2,}$")
CLIENT_METHODS = {"call", "money_call", "page_url", "order_string"}


def _modules(*roots: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    return [
        path
        for root in roots
        for path in sorted(root.rglob("*.py"))
        if not any(path.is_relative_to(s) for s in skip)
    ]


def _method_literals(tree: ast.AST) -> list[ast.Constant]:
    """String constants that are platform method names, docstrings left out."""
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and METHOD.match(node.value)
        and id(node) not in docstrings
    ]


def test_no_method_name_and_no_client_call_outside_the_gateway_wrappers():
    outside = _modules(ROOT / "service", ROOT / "schemas", ROOT / "config", skip=(GATEWAY, MOCK))
    for path in outside:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for literal in _method_literals(tree):
            raise AssertionError(f"{path}:{literal.lineno} names {literal.value!r}: use a wrapper")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CLIENT_METHODS
                and "gateway" in ast.unparse(node.func.value)
            ):
                raise AssertionError(f"{path}:{node.lineno} calls the gateway client directly")


def test_each_method_name_is_one_module_constant_in_the_gateway():
    values: Counter[str] = Counter()
    for path in _modules(GATEWAY):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {
            id(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id.isupper()
        }
        for literal in _method_literals(tree):
            assert id(literal) in constants, f"{path.name}:{literal.lineno}: {literal.value!r}"
            values[literal.value] += 1
    assert {"alipay.system.oauth.token", "alipay.user.info.share"} <= set(values)
    assert [name for name, count in values.items() if count > 1] == []


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def test_no_module_is_renamed_on_import():
    renamed = []
    for path in _modules(ROOT / "service", skip=(MIGRATIONS,)):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                renamed += [(path, a.name) for a in node.names if a.asname]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                renamed += [
                    (path, f"{node.module}.{a.name}")
                    for a in node.names
                    if a.asname and _is_module(f"{node.module}.{a.name}")
                ]
    assert renamed == []
