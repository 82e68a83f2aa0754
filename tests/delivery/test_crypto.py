"""Authenticated encryption and keyed hashing: round trips, tampering, wrong keys, randomness."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.crypto import Cipher, CryptoError, DecryptionError, KeyedHasher, keyed_hash

SECRET = "s" * 16 + "0123456789abcdef0123"
OTHER = "o" * 16 + "0123456789abcdef0123"


@given(st.binary(max_size=2000), st.binary(max_size=50))
def test_bytes_round_trip(plaintext: bytes, context: bytes) -> None:
    cipher = Cipher(SECRET, "test")
    token = cipher.encrypt(plaintext, context)
    assert isinstance(token, bytes)
    assert cipher.decrypt(token, context) == plaintext


@given(st.text(max_size=500), st.text(max_size=50))
def test_text_round_trip_is_ascii(plaintext: str, context: str) -> None:
    cipher = Cipher(SECRET, "test")
    token = cipher.encrypt(plaintext, context)
    assert isinstance(token, str)
    assert token.isascii() and token.startswith("v1.")
    assert cipher.decrypt(token, context) == plaintext


def test_same_plaintext_gives_different_tokens() -> None:
    cipher = Cipher(SECRET, "test")
    tokens = {cipher.encrypt("工会 grievance reply") for _ in range(200)}
    assert len(tokens) == 200
    nonces = {base64.urlsafe_b64decode(t[3:] + "==")[:12] for t in tokens}
    assert len(nonces) == 200


def test_plaintext_does_not_appear_in_the_token() -> None:
    token = Cipher(SECRET, "test").encrypt(b"member 12345 wrote this")
    assert b"12345" not in token and b"wrote" not in token


@given(st.binary(min_size=1, max_size=200), st.data())
def test_any_flipped_bit_is_detected(plaintext: bytes, data: st.DataObject) -> None:
    cipher = Cipher(SECRET, "test")
    token = bytearray(cipher.encrypt(plaintext))
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))
    token[index] ^= 1 << bit
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(token))


def test_text_token_tampering_is_detected() -> None:
    cipher = Cipher(SECRET, "test")
    token = cipher.encrypt("hello")
    body = bytearray(base64.urlsafe_b64decode(token[3:] + "=="))
    body[-1] ^= 0x01
    forged = "v1." + base64.urlsafe_b64encode(bytes(body)).rstrip(b"=").decode()
    with pytest.raises(DecryptionError):
        cipher.decrypt(forged)
    with pytest.raises(DecryptionError):
        cipher.decrypt(token[:-4])
    with pytest.raises(DecryptionError):
        cipher.decrypt("v2." + token[3:])
    with pytest.raises(DecryptionError):
        cipher.decrypt("v1.!!!not base64!!!")


def test_wrong_key_purpose_or_context_cannot_open() -> None:
    token = Cipher(SECRET, "grievance-link").encrypt("ticket 7 -> member 42", "ticket:7")
    with pytest.raises(DecryptionError, match="grievance-link"):
        Cipher(OTHER, "grievance-link").decrypt(token, "ticket:7")
    with pytest.raises(DecryptionError):
        Cipher(SECRET, "poll-vote").decrypt(token, "ticket:7")
    with pytest.raises(DecryptionError):
        Cipher(SECRET, "grievance-link").decrypt(token, "ticket:8")
    assert Cipher(SECRET, "grievance-link").decrypt(token, "ticket:7") == "ticket 7 -> member 42"


def test_error_messages_never_carry_the_secret_or_the_token() -> None:
    cipher = Cipher(SECRET, "test")
    token = cipher.encrypt("secret text")
    with pytest.raises(DecryptionError) as caught:
        Cipher(OTHER, "test").decrypt(token)
    message = str(caught.value)
    assert SECRET not in message and OTHER not in message and token[3:20] not in message
    assert SECRET not in repr(cipher)


def test_short_secrets_and_empty_purposes_are_refused() -> None:
    with pytest.raises(CryptoError):
        Cipher("short", "test")
    with pytest.raises(CryptoError):
        Cipher(SECRET, "")


def test_keyed_hash_is_stable_and_separated_by_purpose_and_key() -> None:
    first = keyed_hash(SECRET, "poll-vote", "poll:3:member:42")
    assert first == keyed_hash(SECRET, "poll-vote", "poll:3:member:42")
    assert first == KeyedHasher(SECRET, "poll-vote")(b"poll:3:member:42")
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != keyed_hash(SECRET, "grievance", "poll:3:member:42")
    assert first != keyed_hash(OTHER, "poll-vote", "poll:3:member:42")
    assert first != keyed_hash(SECRET, "poll-vote", "poll:3:member:43")
