"""Authenticated encryption and keyed hashing, keyed from the `SECRET_KEY` setting.

Why this shape:

* One secret, many uses. Each use names a *purpose* ("outbox-payload",
  "grievance-link", "poll-vote"…); HKDF-SHA256 derives an independent 256-bit
  key per purpose, so a token made for one purpose never opens under another and
  a leak of one derived key says nothing about the others.
* AES-256-GCM with a random 96-bit nonce per message: the same plaintext never
  gives the same token twice (nothing to correlate in a database dump), and any
  change to the token — or decrypting with another secret, purpose or
  associated data — fails loudly with :class:`DecryptionError` instead of
  returning garbage.
* Versioned tokens: the first byte names the format, so the scheme can change
  later without guessing what old rows hold. The version byte is also
  authenticated (it is part of the associated data).
* Associated data binds a token to where it lives (a row's key, a ticket id):
  copying a ciphertext into another row makes it undecryptable.
* :func:`keyed_hash` gives stable, unguessable identifiers (HMAC-SHA256) for
  lookups that must not reveal the input without the secret — e.g. "has this
  member already voted?" without storing who voted.

Token layout (bytes): ``version (1) | nonce (12) | ciphertext | tag (16)``.
The text form is ``"v1." + urlsafe-base64(token without the version byte)``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
from typing import overload

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
_VERSION_BYTE = bytes([VERSION])
_TEXT_PREFIX = f"v{VERSION}."
_NONCE_BYTES = 12
_TAG_BYTES = 16
_SALT = b"union-bot/hkdf/v1"
_MIN_SECRET = 32


class CryptoError(Exception):
    """Base class: something about a key or token is wrong."""


class DecryptionError(CryptoError):
    """The token was altered, is malformed, or was made with another key/purpose/context.

    The message never includes the token or any plaintext.
    """


def _secret_bytes(secret: str | bytes) -> bytes:
    raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    if len(raw) < _MIN_SECRET:
        raise CryptoError(f"the secret must be at least {_MIN_SECRET} bytes")
    return raw


@functools.lru_cache(maxsize=256)
def derive_key(secret: str | bytes, label: str) -> bytes:
    """A 256-bit key for one label, independent of the keys for every other label.

    Remembered per (secret, label): handlers build their hashers and ciphers per
    update, and deriving anew each time was 3% of the bot's CPU in a rush of votes.
    The process holds the secret itself anyway (its settings)."""
    if not label or label.endswith(":"):
        raise CryptoError("a key needs a non-empty purpose label")
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_SALT,
        info=f"union-bot:{label}".encode(),
    )
    return hkdf.derive(_secret_bytes(secret))


def _as_bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


class Cipher:
    """Encrypt and decrypt for one purpose. Thread- and task-safe; build once and reuse.

    ``encrypt`` of ``bytes`` returns a binary token; of ``str`` returns a text
    token (ASCII, safe for a Text/JSON column). ``decrypt`` mirrors the type it
    is given.
    """

    __slots__ = ("_aead", "purpose")

    def __init__(self, secret: str | bytes, purpose: str) -> None:
        self.purpose = purpose
        self._aead = AESGCM(derive_key(secret, f"aead:{purpose}"))

    def __repr__(self) -> str:
        return f"Cipher(purpose={self.purpose!r})"

    def _aad(self, associated_data: bytes | str) -> bytes:
        return _VERSION_BYTE + b"\x00" + _as_bytes(associated_data)

    @overload
    def encrypt(self, plaintext: bytes, associated_data: bytes | str = b"") -> bytes: ...
    @overload
    def encrypt(self, plaintext: str, associated_data: bytes | str = b"") -> str: ...

    def encrypt(self, plaintext: bytes | str, associated_data: bytes | str = b"") -> bytes | str:
        """Seal ``plaintext``; the same ``associated_data`` is needed to open it."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, _as_bytes(plaintext), self._aad(associated_data))
        if isinstance(plaintext, str):
            body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
            return _TEXT_PREFIX + body
        return _VERSION_BYTE + nonce + sealed

    @overload
    def decrypt(self, token: bytes, associated_data: bytes | str = b"") -> bytes: ...
    @overload
    def decrypt(self, token: str, associated_data: bytes | str = b"") -> str: ...

    def decrypt(self, token: bytes | str, associated_data: bytes | str = b"") -> bytes | str:
        """Open a token made by :meth:`encrypt`, or raise :class:`DecryptionError`."""
        if isinstance(token, str):
            body = self._text_body(token)
            return self._open(body, associated_data).decode("utf-8")
        if token[:1] != _VERSION_BYTE:
            raise DecryptionError("unknown token version")
        return self._open(bytes(token[1:]), associated_data)

    def _text_body(self, token: str) -> bytes:
        if not token.startswith(_TEXT_PREFIX):
            raise DecryptionError("unknown token version")
        encoded = token[len(_TEXT_PREFIX) :]
        try:
            return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError):
            raise DecryptionError("malformed token") from None

    def _open(self, body: bytes, associated_data: bytes | str) -> bytes:
        if len(body) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptionError("token too short")
        nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, sealed, self._aad(associated_data))
        except InvalidTag:
            raise DecryptionError(
                f"token does not authenticate for purpose {self.purpose!r} "
                "(altered, or made with another key or context)"
            ) from None


class KeyedHasher:
    """:func:`keyed_hash` with the key derived once, for hashing many values."""

    __slots__ = ("_key", "purpose")

    def __init__(self, secret: str | bytes, purpose: str) -> None:
        self.purpose = purpose
        self._key = derive_key(secret, f"hmac:{purpose}")

    def __repr__(self) -> str:
        return f"KeyedHasher(purpose={self.purpose!r})"

    def __call__(self, value: bytes | str) -> str:
        return hmac.new(self._key, _as_bytes(value), hashlib.sha256).hexdigest()


def keyed_hash(secret: str | bytes, purpose: str, value: bytes | str) -> str:
    """HMAC-SHA256 of ``value`` under a per-purpose key, as 64 hex characters.

    Deterministic (same inputs, same output) so it can be indexed and compared;
    without the secret it cannot be reversed or recomputed from a guess.
    """
    return KeyedHasher(secret, purpose)(value)
