"""`minifin --version` names the installed package's version, and needs no instance/ to say it."""

from __future__ import annotations

from importlib.metadata import version

from click.testing import CliRunner

from service.cli import main


def test_version_is_the_installed_packages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no instance/, no keys: the version must not build the app
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"minifin {version('minifin')}\n"
    assert not (tmp_path / "instance").exists()
