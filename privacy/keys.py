"""The data key (LOANFLOW_DATA_KEY): AES-256-GCM for values at rest, HMAC-SHA256 for look-ups.

Two sub-keys are derived from the one setting with HKDF-SHA256 (different `info`), so the
look-up hash never uses the encryption key itself. A sealed value is `lf1:` + URL-safe base64 of
a random 96-bit nonce followed by the AES-GCM ciphertext and tag: the same clear value seals
differently each time, so equality on sealed columns never works; look-ups go through the hash.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "lf1:"
# The demo's data key, public like the demo's signing key: outside --demo, serve and worker refuse
# to start without LOANFLOW_DATA_KEY. 64 hex digits = 32 bytes.
DEMO_DATA_KEY = "6c6f616e666c6f772d64656d6f2d646174612d6b65792d6e6f742d7365637265"


class DataKeyError(ValueError):
    """The data key is missing, malformed, or does not open a stored value."""


def parse_key(setting: str) -> bytes:
    """32 bytes from 64 hex digits or from standard/URL-safe base64."""
    text = (setting or "").strip()
    if not text:
        raise DataKeyError("LOANFLOW_DATA_KEY is not set")
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
    except (ValueError, binascii.Error):
        raise DataKeyError("LOANFLOW_DATA_KEY must be 32 bytes as 64 hex digits or base64") from None
    if len(raw) != 32:
        raise DataKeyError(f"LOANFLOW_DATA_KEY must be 32 bytes (it is {len(raw)})")
    return raw


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


class Keyring:
    """Seals and opens values, and makes the keyed look-up hash. Built once per process."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(_derive(key, b"loanflow data encryption v1"))
        self._hash_key = _derive(key, b"loanflow look-up hash v1")
        self._chain_key = _derive(key, b"loanflow audit chain v1")

    @classmethod
    def from_setting(cls, setting: str) -> "Keyring":
        return cls(parse_key(setting))

    def seal(self, text: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), None)
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str) -> str:
        if not sealed.startswith(PREFIX):
            raise DataKeyError("a stored value is not sealed (was the database upgraded with `loanflow db upgrade`?)")
        raw = base64.urlsafe_b64decode(sealed[len(PREFIX):])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], None).decode("utf-8")
        except InvalidTag:
            raise DataKeyError("a stored value does not open with this LOANFLOW_DATA_KEY") from None

    def lookup_hash(self, value: str) -> str:
        """HMAC-SHA256 of the normalised value (stripped, upper case: an ID number's X), 64 hex digits."""
        normal = (value or "").strip().upper()
        return hmac.new(self._hash_key, normal.encode("utf-8"), hashlib.sha256).hexdigest()


    def chain_mac(self, text: str) -> str:
        """HMAC-SHA256 of a link of the audit chain (workflows/audit_chain.py), 64 hex digits: keyed,
        so whoever can write the database but lacks the key cannot forge a consistent chain."""
        return hmac.new(self._chain_key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def is_sealed(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)
