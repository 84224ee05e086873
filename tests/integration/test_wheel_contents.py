"""The wheel says its packages are typed (PEP 561), so a project importing Minifin is checked.

The wheel is built from a copy of the sources (so no `build/` is left in the checkout), the way
pip builds it on a fresh machine: in an isolated environment with the build requirements the
project declares.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TYPED_PACKAGES = ("service", "schemas", "config")


def test_the_wheel_marks_every_package_typed(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in TYPED_PACKAGES:
        shutil.copytree(REPO / package, source / package,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
         str(tmp_path / "dist"), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip

    (wheel,) = (tmp_path / "dist").glob("minifin-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"{package}/py.typed" for package in TYPED_PACKAGES} <= names
