"""The transaction rule, where it can be read from the code: a commit is the use case's.

A public function of a capability (what a route, a job handler or a command calls) commits; a
private helper that commits (steps 3 and 4 of the rule, or an outcome recorded on the way out)
says so in its docstring, so a reader of the use case never meets a hidden commit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CAPABILITIES = ("auth", "identity", "credit", "gifting")
ROOT = Path(__file__).resolve().parents[2] / "service"


def _helpers_that_commit():
    for capability in CAPABILITIES:
        for path in sorted((ROOT / capability).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.FunctionDef) or not node.name.startswith("_"):
                    continue
                commits = any(
                    isinstance(call, ast.Call) and ast.unparse(call.func) == "db.session.commit"
                    for call in ast.walk(node)
                )
                if commits:
                    yield f"{capability}/{path.name}:{node.name}", ast.get_docstring(node) or ""


HELPERS = list(_helpers_that_commit())


def test_some_helpers_commit_so_the_check_below_is_not_empty():
    assert len(HELPERS) >= 5


@pytest.mark.parametrize(("helper", "docstring"), HELPERS, ids=[name for name, _ in HELPERS])
def test_a_helper_that_commits_says_so(helper, docstring):
    assert "commit" in docstring.lower(), f"{helper} commits without saying so in its docstring"
