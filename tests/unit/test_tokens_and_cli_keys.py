"""Access tokens across key rotation, and the `minifin keys` commands."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from service.auth.tokens import InvalidToken, TokenKeys
from service.cli import main
from service.security.keyfiles import read_keys


def _keys(document) -> TokenKeys:
    return TokenKeys(document["jwt"], issuer="minifin", audience="minifin-api")


@pytest.fixture
def keys_file(tmp_path):
    path = tmp_path / "keys.json"
    result = CliRunner().invoke(main, ["keys", "generate", "--file", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_generate_refuses_to_overwrite_without_force(keys_file):
    result = CliRunner().invoke(main, ["keys", "generate", "--file", str(keys_file)])

    assert result.exit_code != 0
    assert "--force" in result.output


def test_generate_can_also_make_an_app_key_and_print_its_public_half(tmp_path):
    app_key = tmp_path / "app.pem"
    result = CliRunner().invoke(
        main, ["keys", "generate", "--file", str(tmp_path / "k.json"), "--app-key", str(app_key)]
    )

    assert result.exit_code == 0, result.output
    assert "BEGIN PRIVATE KEY" in app_key.read_text()
    assert result.output.strip().splitlines()[-1].startswith("MIIB")


def test_rotation_signs_with_the_new_key_and_still_verifies_old_tokens(keys_file, monkeypatch):
    monkeypatch.setenv("MINIFIN_PROFILE", "test")
    monkeypatch.setenv("MINIFIN_INSTANCE_DIR", str(keys_file.parent))
    old = _keys(read_keys(keys_file))
    token, _ = old.issue("usr_1", scope="user", ttl=900)

    result = CliRunner().invoke(main, ["keys", "rotate", "--file", str(keys_file)])
    assert result.exit_code == 0, result.output

    new = _keys(read_keys(keys_file))
    assert new.signing_kid != old.signing_kid
    assert new.verify(token)["sub"] == "usr_1"
    fresh, _ = new.issue("usr_2", scope="user", ttl=900)
    with pytest.raises(InvalidToken, match="unknown_key"):
        old.verify(fresh)
    assert {k["kid"] for k in new.jwks()["keys"]} == {old.signing_kid, new.signing_kid}


def test_the_keys_file_is_private_and_never_printed(keys_file):
    document = json.loads(keys_file.read_text())
    assert keys_file.stat().st_mode & 0o777 == 0o600
    result = CliRunner().invoke(main, ["keys", "rotate", "--file", str(keys_file)])
    assert document["token_secret"] not in result.output


def test_a_running_process_picks_up_a_rotated_key_from_the_file(keys_file, monkeypatch):
    monkeypatch.setenv("MINIFIN_PROFILE", "test")
    monkeypatch.setenv("MINIFIN_INSTANCE_DIR", str(keys_file.parent))
    running = TokenKeys(
        read_keys(keys_file)["jwt"], issuer="minifin", audience="minifin-api", source=keys_file
    )
    before = running.signing_kid
    assert CliRunner().invoke(main, ["keys", "rotate", "--file", str(keys_file)]).exit_code == 0
    rotated = _keys(read_keys(keys_file))
    token_from_a_restarted_peer, _ = rotated.issue("usr_3", scope="user", ttl=900)

    assert running.verify(token_from_a_restarted_peer)["sub"] == "usr_3"
    assert running.signing_kid == rotated.signing_kid != before


def test_a_remembered_token_is_still_refused_once_it_expires(keys_file):
    keys = _keys(read_keys(keys_file))
    token, claims = keys.issue("usr_4", scope="user", ttl=60)
    assert keys.verify(token)["sub"] == "usr_4"  # now remembered

    keys.clock = lambda: claims["exp"] + 10
    with pytest.raises(InvalidToken, match="token_expired"):
        keys.verify(token)


def test_a_remembered_token_hands_out_a_copy_of_its_claims(keys_file):
    keys = _keys(read_keys(keys_file))
    token, _ = keys.issue("usr_5", scope="user", ttl=60)
    keys.verify(token)["sub"] = "usr_evil"

    assert keys.verify(token)["sub"] == "usr_5"
