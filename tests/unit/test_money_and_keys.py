"""Money conversion at the gateway boundary, the keys file, refresh-token values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.auth import refresh_tokens
from service.gateway.money import fen_to_yuan, yuan_to_fen
from service.security import keyfiles


@pytest.mark.parametrize(
    ("fen", "yuan"), [(0, "0.00"), (5, "0.05"), (990, "9.90"), (123456, "1234.56")]
)
def test_fen_and_yuan_convert_both_ways(fen, yuan):
    assert fen_to_yuan(fen) == yuan
    assert yuan_to_fen(yuan) == fen


@pytest.mark.parametrize("bad", ["", "1.234", "-1.00", "1,00", "abc", "1e3"])
def test_malformed_yuan_amounts_are_refused(bad):
    with pytest.raises(ValueError):
        yuan_to_fen(bad)


def test_negative_fen_is_refused():
    with pytest.raises(ValueError):
        fen_to_yuan(-1)


def test_the_keys_file_round_trips_with_owner_only_permissions(tmp_path):
    path = tmp_path / "keys.json"
    keyfiles.write_keys(path, keyfiles.new_keys_document(dev=True))

    document = keyfiles.read_keys(path)

    assert document["dev"] is True
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(document["jwt"]) == 1


def test_a_missing_keys_file_says_how_to_make_one(tmp_path):
    with pytest.raises(keyfiles.KeysFileError, match="minifin keys generate"):
        keyfiles.read_keys(tmp_path / "absent.json")


def test_rotation_adds_a_key_and_drops_only_keys_retired_long_enough_ago():
    document = keyfiles.new_keys_document(dev=False)
    first = document["jwt"][0]["kid"]

    rotated = keyfiles.rotate_jwt_keys(
        document, retired_before=datetime.now(UTC) - timedelta(hours=1)
    )
    assert rotated["jwt"][0]["kid"] == first
    assert len(rotated["jwt"]) == 2

    again = keyfiles.rotate_jwt_keys(rotated, retired_before=datetime.now(UTC) + timedelta(hours=1))
    assert first not in [k["kid"] for k in again["jwt"]]
    assert len(again["jwt"]) == 2


def test_refresh_token_successors_are_deterministic_and_secret_bound():
    token = refresh_tokens.new_token()

    assert refresh_tokens.successor(token, b"k1") == refresh_tokens.successor(token, b"k1")
    assert refresh_tokens.successor(token, b"k1") != refresh_tokens.successor(token, b"k2")
    assert refresh_tokens.token_hash(token) != token
    assert len(refresh_tokens.token_hash(token)) == 64
