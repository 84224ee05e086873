"""Ids and voucher codes: drawn from one random read each, and still every character's equal.

Both are built from one big random number (service/ids.py, gifting/codes.py) rather than a
draw per character; these tests hold what that must not change: the alphabet, the length, the
check symbol, and that no position favours some characters.
"""

from __future__ import annotations

from collections import Counter

from service import ids
from service.gifting import codes
from service.ids import _ALPHABET, new_id


def test_ids_keep_their_prefix_length_and_alphabet():
    ids = {new_id("vch") for _ in range(2000)}
    assert len(ids) == 2000
    for value in ids:
        prefix, body = value.split("_")
        assert prefix == "vch" and len(body) == 20 and set(body) <= set(_ALPHABET)


def test_every_position_of_an_id_uses_the_whole_alphabet_evenly():
    bodies = [new_id("x")[2:] for _ in range(7000)]
    for position in (0, 10, 19):  # the last digit is where a short number would show
        counts = Counter(body[position] for body in bodies)
        assert set(counts) == set(_ALPHABET)
        assert max(counts.values()) < 2 * min(counts.values())


def test_a_read_with_too_few_usable_bytes_is_drawn_again(monkeypatch):
    # Bytes 245-255 would favour the first 11 characters, so they are dropped, and a read left
    # with fewer than 20 is replaced by a fresh one rather than padded.
    reads = iter([bytes([250] * 9 + [0] * 19), bytes(range(28))])
    monkeypatch.setattr(ids.secrets, "token_bytes", lambda size: next(reads))
    assert new_id("x") == "x_" + _ALPHABET[:20]


def test_bytes_above_the_last_full_alphabet_are_never_spelled(monkeypatch):
    monkeypatch.setattr(ids.secrets, "token_bytes", lambda size: bytes([244, *range(245, 256)] * 3))
    assert new_id("x", length=3) == "x_" + _ALPHABET[244 % 35] * 3


def test_codes_are_well_formed_and_spread_over_the_alphabet():
    made = [codes.new_code() for _ in range(6000)]
    assert all(codes.is_well_formed(code) for code in made)
    assert len(set(made)) == len(made)
    for position in (0, 8, 15):
        counts = Counter(code[position] for code in made)
        assert set(counts) == set(codes.ALPHABET)
        assert max(counts.values()) < 2 * min(counts.values())
    assert len({code[-1] for code in made}) == 37  # every check symbol occurs
