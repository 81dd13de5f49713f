"""
Private keys at rest: sealed with AES-256-GCM under the operator's key-encryption key.

The database never holds a private key in clear. Each sealed key is bound to its row
(brand and fingerprint as associated data), so a sealed key copied to another brand's row
does not open. The store keeps a check value of the key-encryption key, so a wrong one is
refused before anything is read or written.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import stat
from pathlib import Path
from typing import cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .._base.files import is_path, looks_like_key_text, read_small_file, shown_path
from ..exceptions import ConfigurationError, KeyEncryptionError

_VERSION = b"\x01"
_NONCE = 12


def _decode(text: str, source: str) -> bytes:
    """32 bytes from base64 (``openssl rand -base64 32``) or 64 hex digits."""
    text = text.strip()
    raw = b""
    with contextlib.suppress(ValueError, binascii.Error):
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ConfigurationError(
            f"{source} must hold a 256-bit key as base64 (openssl rand -base64 32) or "
            "64 hex digits (its text is not shown)"
        )
    return raw


class KeyEncryptionKey:
    """The operator's 256-bit key that seals the private keys kept in the store."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(cast(object, key), bytes) or len(key) != 32:
            raise ConfigurationError("a key-encryption key is 32 bytes")
        self._key = key

    def __repr__(self) -> str:
        return f"<KeyEncryptionKey check={self.check_value[:8]}…>"

    @classmethod
    def generate(cls) -> KeyEncryptionKey:
        """A new random key (keep it in a file only the signing service can read)."""
        return cls(os.urandom(32))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> KeyEncryptionKey:
        """
        Read a key file: base64 or hex text, readable by its owner only.

        Raises:
            ConfigurationError: The file is missing, readable by others, or holds no key.
        """
        if not is_path(path) or (
            looks_like_key_text(os.fspath(path)) and not os.path.lexists(path)
        ):
            raise ConfigurationError(
                f"key_encryption_key_file must be a path, not {shown_path(path)}"
            )
        file = Path(path)
        try:
            info = os.stat(file)
            text = read_small_file(file).decode("ascii")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not text"
            raise ConfigurationError(
                f"cannot read the key-encryption key {shown_path(file)}: {why}"
            ) from None
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise ConfigurationError(
                f"{file} is readable by group or others: chmod 600 it (it seals every key)"
            )
        return cls(_decode(text, str(file)))

    @classmethod
    def from_env(cls, name: str) -> KeyEncryptionKey:
        """Read the key from the environment variable ``name``."""
        value = os.environ.get(name)
        if value is None:
            raise ConfigurationError(
                f"environment variable {name} (the key-encryption key) is not set"
            )
        return cls(_decode(value, f"environment variable {name}"))

    def text(self) -> str:
        """The key as base64 text, for writing a new key file."""
        return base64.b64encode(self._key).decode()

    @property
    def check_value(self) -> str:
        """A value that tells keys apart without revealing them (kept in the store)."""
        digest = hmac.new(self._key, b"oxdkim key-encryption key check", hashlib.sha256)
        return digest.hexdigest()[:32]

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt ``plaintext`` bound to ``context`` (its row)."""
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + AESGCM(self._key).encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        """
        Decrypt a sealed value of the row ``context``.

        Raises:
            KeyEncryptionError: Another key sealed it, it belongs to another row, or it
                was altered.
        """
        if not sealed.startswith(_VERSION) or len(sealed) < 1 + _NONCE + 16:
            raise KeyEncryptionError(f"{context}: the sealed key is not in a known format")
        nonce, body = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
        try:
            return AESGCM(self._key).decrypt(nonce, body, context.encode())
        except InvalidTag:
            raise KeyEncryptionError(
                f"{context}: the key-encryption key does not open this sealed key "
                "(a wrong key-encryption key, or a key moved from another row)"
            ) from None
