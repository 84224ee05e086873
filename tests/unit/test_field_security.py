"""Field encryption (AES-GCM key ring bound to the owner), blind indexes, masking."""

from __future__ import annotations

import os

import pytest

from service.security.fields import BlindIndex, FieldCipher, FieldDecryptionError
from service.security.keyfiles import new_keys_document
from service.security.masking import mask_id_number, mask_phone


@pytest.fixture
def cipher():
    return FieldCipher.from_keys_document(new_keys_document(dev=True))


def test_a_sealed_value_opens_for_its_owner_only(cipher):
    token = cipher.seal("110101198803141119", owner="usr_a")

    assert "110101198803141119" not in token
    assert cipher.open(token, owner="usr_a") == "110101198803141119"
    with pytest.raises(FieldDecryptionError):
        cipher.open(token, owner="usr_b")


def test_sealing_twice_gives_different_ciphertexts(cipher):
    assert cipher.seal("x", owner="o") != cipher.seal("x", owner="o")


def test_a_tampered_or_foreign_value_does_not_open(cipher):
    token = cipher.seal("secret", owner="o")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for bad in (flipped, "v1.f9." + token.split(".", 2)[2], "garbage", "v2.f1.AAAA"):
        with pytest.raises(FieldDecryptionError):
            cipher.open(bad, owner="o")


def test_after_a_rotation_old_values_open_and_new_ones_use_the_new_key():
    old_key, new_key = os.urandom(32), os.urandom(32)
    before = FieldCipher({"f1": old_key}, "f1")
    token = before.seal("name", owner="o")
    after = FieldCipher({"f1": old_key, "f2": new_key}, "f2")

    assert after.open(token, owner="o") == "name"
    assert after.sealed_with_old_key(token)
    assert not after.sealed_with_old_key(after.seal("name", owner="o"))


def test_keys_must_be_aes_256_and_the_active_one_present():
    with pytest.raises(ValueError):
        FieldCipher({"f1": os.urandom(16)}, "f1")
    with pytest.raises(ValueError):
        FieldCipher({"f1": os.urandom(32)}, "f2")


def test_blind_indexes_are_stable_keyed_and_separated_by_purpose():
    index = BlindIndex(os.urandom(32))

    assert index.digest("phone", "13812345678") == index.digest("phone", "13812345678")
    assert index.digest("phone", "13812345678") != index.digest("id_number", "13812345678")
    assert BlindIndex(os.urandom(32)).digest("phone", "1") != index.digest("phone", "1")


def test_masks_keep_only_the_ends():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("110101198803141119") == "110***********1119"
