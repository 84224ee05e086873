"""Settings are declared once (`config/settings.py`): the README, the defaults, the parsing and the
production checks all follow the declarations, and config stays at the bottom layer."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, Settings, load_settings
from config.declaration import INSTANCE_DIR, KEY, PROFILES, declared
from config.profiles import profile_defaults
from config.reference import BEGIN, END, markdown_table, shown_value

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DECLARED = list(declared(Settings))


def _readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, "the README's settings table lost its markers"
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def _readme_rows() -> dict[str, str]:
    """Variable → default cell of each row of the README's table, read without the renderer."""
    rows = {}
    for line in _readme_table().splitlines()[2:]:
        variable_cell, default_cell, _meaning = (c.strip() for c in line.strip("|").split(" | "))
        names = re.findall(r"`(MINIFIN_[A-Z0-9_]+)`", variable_cell)
        assert len(names) == 1, f"one variable per row: {line}"
        assert names[0] not in rows, f"{names[0]} has two rows"
        rows[names[0]] = default_cell
    return rows


def test_the_readme_table_is_the_one_generated_from_the_declarations():
    assert _readme_table() == markdown_table(), (
        "README.md's configuration table is stale: run `python -m config.reference --write "
        "README.md`"
    )


def test_every_setting_has_a_readme_row_with_its_defaults_and_no_row_is_left_over():
    rows = _readme_rows()
    assert set(rows) == {item.variable for item in DECLARED}
    for item in DECLARED:
        for profile in PROFILES:
            value = item.default_in(profile)
            if value is not None:
                assert shown_value(value) in rows[item.variable], (item.variable, profile)
            elif item.declaration.required or profile in item.declaration.required_in:
                assert "required" in rows[item.variable], (item.variable, profile)


def test_every_field_of_settings_but_the_raw_variables_is_a_declared_setting():
    names = {field.name for field in dataclasses.fields(Settings)}
    assert names - {item.attribute for item in DECLARED} == {"extra"}


@pytest.mark.parametrize("profile", ["dev", "test"])
def test_each_profile_loads_with_the_declared_defaults(profile, tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("MINIFIN_")]:
        monkeypatch.delenv(name)
    settings = load_settings({"MINIFIN_PROFILE": profile, "MINIFIN_INSTANCE_DIR": str(tmp_path)})

    for item in DECLARED:
        value = item.default_in(profile)
        loaded = getattr(settings, item.attribute)
        if item.declaration.form == KEY or item.attribute in ("profile", "instance_dir"):
            continue
        if value is None:
            assert loaded == "", item.variable
            continue
        value = value.replace(INSTANCE_DIR, str(tmp_path))
        if isinstance(loaded, tuple):
            assert loaded == tuple(value.split(",")), item.variable
        elif isinstance(loaded, bool):
            assert loaded is (value == "true"), item.variable
        else:
            assert loaded == type(loaded)(value), item.variable


def test_production_defaults_name_no_mock_and_no_demo_value():
    production = profile_defaults("production")
    for variable in ("MINIFIN_GATEWAY_URL", "MINIFIN_MOCK_IDP_URL", "MINIFIN_APP_ID"):
        assert variable not in production
    assert "MINIFIN_CREDIT_SERVICE_ID" not in production
    assert "MINIFIN_CREDIT_SERVICE_ID" in profile_defaults("dev")



@pytest.mark.parametrize(
    "item",
    [item for item in DECLARED if "production" in item.declaration.required_in],
    ids=lambda item: item.variable,
)
def test_what_the_table_says_production_requires_it_refuses_to_start_without(item, production_env):
    with pytest.raises(ConfigError, match=f"^{item.variable}: required in production"):
        load_settings({**production_env, item.variable: ""})


def test_keys_are_never_in_the_settings_repr(production_env):
    settings = load_settings(production_env)
    assert production_env["MINIFIN_PLATFORM_PUBLIC_KEY"] not in repr(settings)
    assert "PRIVATE KEY" not in repr(settings)


def test_config_imports_nothing_from_service(tmp_path):
    for path in sorted((ROOT / "config").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            for module in modules:
                assert not module.startswith("service"), f"{path.name} imports {module}"
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, config, config.reference; from config import load_settings; "
            "load_settings({'MINIFIN_PROFILE': 'test'}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'service'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert loaded.stdout.strip() == "[]"
