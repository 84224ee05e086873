"""Importing the gateway's protocol code or the mock loads no part of the API.

The mock identity provider and the settings checks share only the protocol primitives
(`service.gateway.signing`, `service.gateway.money`, `service.gateway.certificates`,
`service.gateway.content_encryption`); the import-linter contracts in pyproject.toml check the
imports written in the code, and these tests check what a fresh interpreter really loads (a
package `__init__` importing the API would defeat the contracts).
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import service.mock_idp

REPO = Path(__file__).resolve().parents[2]
MOCK_MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(service.mock_idp.__path__, prefix="service.mock_idp.")
)
PROTOCOL = {
    "service", "service.gateway", "service.gateway.signing", "service.gateway.money",
    "service.gateway.certificates", "service.gateway.content_encryption",
}  # fmt: skip


def _loaded_after_importing(*modules: str) -> set[str]:
    """The `service` modules a fresh interpreter holds after importing `modules`."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'service')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def test_the_gateways_signing_code_loads_nothing_else():
    assert _loaded_after_importing("service.gateway.signing") == {
        "service", "service.gateway", "service.gateway.signing",
    }  # fmt: skip


def test_the_content_encryption_code_loads_only_the_signing_rules_beside_it():
    assert _loaded_after_importing("service.gateway.content_encryption") == {
        "service", "service.gateway", "service.gateway.content_encryption",
        "service.gateway.signing",  # cutting a member out of the envelope, one rule for both
    }  # fmt: skip


def test_the_package_alone_loads_nothing_else():
    assert _loaded_after_importing("service") == {"service"}


def test_every_mock_module_together_loads_only_the_mock_and_the_protocol_primitives():
    loaded = _loaded_after_importing("service.mock_idp", *MOCK_MODULES)

    outside = {m for m in loaded - PROTOCOL if not m.startswith("service.mock_idp")}
    assert outside == set()
    assert {"service.gateway.signing", "service.mock_idp.store"} <= loaded


def test_the_scan_sees_the_mocks_modules():
    assert {"service.mock_idp.store", "service.mock_idp.protocol",
            "service.mock_idp.methods.trades"} <= set(MOCK_MODULES)  # fmt: skip
