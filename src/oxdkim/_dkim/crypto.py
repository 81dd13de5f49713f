"""
Signing keys: RSA (PKCS#1 v1.5, SHA-256) and Ed25519 (RFC 8463), through ``cryptography``.

A key is parsed and validated once, when it is loaded; signing reuses the parsed object.
Both algorithms are deterministic, so the same key and input give the same bytes.
Private key material never appears in a repr, a log line or an exception message.
"""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
from pathlib import Path
from types import ModuleType
from typing import cast

import attrs
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils

from .._base.files import is_path, is_whole_number, read_small_file, shown, shown_path
from ..exceptions import ConfigurationError, KeyLoadError, SigningError, WeakKeyError

RSA_ABSOLUTE_MIN_BITS = 1024
RSA_DEFAULT_MIN_BITS = 2048

_PKCS1V15 = padding.PKCS1v15()
_PREHASHED_SHA256 = utils.Prehashed(hashes.SHA256())


_sodium: ModuleType | None
try:
    from nacl import bindings as _nacl_bindings

    _sodium = _nacl_bindings
except ImportError:  # PyNaCl is a dependency; without it cryptography signs alone
    _sodium = None


def _sodium_secret(key: PrivateKey) -> bytes | None:
    """
    libsodium's form of an Ed25519 key (seed and public key), or ``None`` for RSA.
    libsodium signs a digest in about 13.6 µs where OpenSSL through cryptography takes
    19.1 µs (measured side by side on a quiet 2-core EPYC); both let other threads run.
    """
    if _sodium is None or not isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return bytes(_sodium.crypto_sign_seed_keypair(seed)[1])


@functools.lru_cache(maxsize=256)
def _fingerprint(public_key_b64: str) -> str:
    return hashlib.sha256(public_key_b64.encode("ascii")).hexdigest()[:16]


class Algorithm(enum.Enum):
    """A DKIM signing algorithm, valued by its ``a=`` token. ``rsa-sha1`` is not one."""

    RSA_SHA256 = "rsa-sha256"
    ED25519_SHA256 = "ed25519-sha256"

    @property
    def key_type(self) -> str:
        """The key record's ``k=`` value."""
        return "rsa" if self is Algorithm.RSA_SHA256 else "ed25519"

    @classmethod
    def parse(cls, value: str) -> Algorithm:
        """Return the algorithm for an ``a=`` token, refusing anything else."""
        if isinstance(value, str):
            for algorithm in cls:
                if algorithm.value == value.strip().lower():
                    return algorithm
        allowed = ", ".join(a.value for a in cls)
        raise ConfigurationError(f"unsupported algorithm {shown(value)}; use one of {allowed}")


PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


def verify_digest(public_key: PublicKey, signature: bytes, digest: bytes) -> bool:
    """
    Whether ``signature`` is ``public_key``'s signature of the SHA-256 ``digest``: the
    verifying twin of :meth:`SigningKey.sign_digest` (PKCS#1 v1.5 with a SHA-256
    DigestInfo for RSA, the 32 digest bytes themselves for Ed25519, RFC 8463 §3).
    """
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, digest, _PKCS1V15, _PREHASHED_SHA256)
        else:
            public_key.verify(signature, digest)
    except (InvalidSignature, ValueError):
        return False
    return True


def _check_rsa_size(bits: int, min_rsa_bits: int, source: str | None) -> None:
    if not is_whole_number(min_rsa_bits):
        raise ConfigurationError(
            f"min_rsa_bits must be a whole number, not {type(min_rsa_bits).__name__}"
        )
    if min_rsa_bits < RSA_ABSOLUTE_MIN_BITS:
        raise ConfigurationError(
            f"min_rsa_bits={min_rsa_bits} is below the RFC 8301 floor of {RSA_ABSOLUTE_MIN_BITS}"
        )
    if bits < min_rsa_bits:
        raise WeakKeyError(bits, min_rsa_bits, source=source)


@attrs.frozen
class SigningKey:
    """
    A parsed private key ready to sign, with the public half DNS must publish.

    Build one with :meth:`generate`, :meth:`from_pem` or :meth:`from_file`; keep it and
    reuse it (loading an RSA key costs as much as dozens of signatures).
    """

    algorithm: Algorithm
    _private: PrivateKey = attrs.field(repr=False, eq=False)
    public_key_b64: str = attrs.field(repr=False)
    """The ``p=`` value: base64 SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519."""
    _sodium: bytes | None = attrs.field(
        init=False, repr=False, eq=False, default=attrs.Factory(
            lambda self: _sodium_secret(self._private), takes_self=True
        ),
    )  # fmt: skip

    @classmethod
    def from_private_key(
        cls, key: object, *, min_rsa_bits: int = RSA_DEFAULT_MIN_BITS, source: str | None = None
    ) -> SigningKey:
        """Wrap an already parsed ``cryptography`` private key."""
        if isinstance(key, rsa.RSAPrivateKey):
            _check_rsa_size(key.key_size, min_rsa_bits, source)
            if key.public_key().public_numbers().e < 3:
                raise KeyLoadError("RSA public exponent is invalid", source=source)
            der = key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return cls(Algorithm.RSA_SHA256, key, base64.b64encode(der).decode("ascii"))
        if isinstance(key, ed25519.Ed25519PrivateKey):
            raw = key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            return cls(Algorithm.ED25519_SHA256, key, base64.b64encode(raw).decode("ascii"))
        raise KeyLoadError(
            f"unsupported key type {type(key).__name__}; DKIM signs with RSA or Ed25519",
            source=source,
        )

    @classmethod
    def generate(cls, algorithm: Algorithm | str, *, bits: int = 2048) -> SigningKey:
        """Make a fresh key: RSA of ``bits`` bits (at least 1024) or Ed25519."""
        if not isinstance(algorithm, Algorithm):
            algorithm = Algorithm.parse(algorithm)
        if algorithm is Algorithm.ED25519_SHA256:
            return cls.from_private_key(ed25519.Ed25519PrivateKey.generate())
        # Asking for a 1024..2047-bit key is the opt-in; below 1024 is a WeakKeyError,
        # not a complaint about a min_rsa_bits the caller never passed.
        if not is_whole_number(bits):
            raise ConfigurationError(f"bits must be a whole number, not {type(bits).__name__}")
        _check_rsa_size(bits, max(min(bits, RSA_DEFAULT_MIN_BITS), RSA_ABSOLUTE_MIN_BITS), None)
        if bits > 8192:
            raise ConfigurationError(f"RSA keys over 8192 bits are not supported (got {bits})")
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        return cls.from_private_key(key, min_rsa_bits=min(bits, RSA_DEFAULT_MIN_BITS))

    @classmethod
    def from_pem(
        cls,
        data: bytes | str,
        *,
        password: bytes | None = None,
        min_rsa_bits: int = RSA_DEFAULT_MIN_BITS,
        source: str = "PEM data",
    ) -> SigningKey:
        """
        Parse a PEM private key (PKCS#8 or PKCS#1 RSA, optionally encrypted).

        Raises:
            KeyLoadError: Not a PEM private key, wrong or missing passphrase, unsupported type.
            WeakKeyError: An RSA key below ``min_rsa_bits`` (never below 1024).
        """
        if source != "PEM data":
            source = shown_path(source)
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        if not isinstance(data, bytes | bytearray | memoryview):
            raise KeyLoadError(f"PEM data must be bytes, not {type(data).__name__}", source=source)
        if password is not None and not isinstance(password, bytes):
            raise KeyLoadError("the passphrase must be bytes", source=source)
        # Errors are raised outside the except blocks: cryptography's own exception may
        # quote the input, and even a suppressed __context__ is kept on the new exception.
        problem = None
        try:
            key = serialization.load_pem_private_key(bytes(data), password=password)
        except TypeError:
            problem = (
                "the key is encrypted: give its passphrase"
                if password is None
                else "a passphrase was given, but the key is not encrypted"
            )
        except (ValueError, UnsupportedAlgorithm):
            problem = "not a readable PEM private key (truncated, corrupt, or wrong passphrase)"
        if problem is not None:
            raise KeyLoadError(problem, source=source)
        return cls.from_private_key(key, min_rsa_bits=min_rsa_bits, source=source)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        password: bytes | None = None,
        min_rsa_bits: int = RSA_DEFAULT_MIN_BITS,
    ) -> SigningKey:
        """
        Read a PEM private key from ``path``; errors name the file, never its content.

        A value that may be key material itself (PEM text pasted where the path goes) is
        never echoed: the error describes it by its length only.
        """
        if not is_path(path):
            raise KeyLoadError(
                f"a key file path must be a str or Path, not {type(path).__name__} "
                "(for PEM bytes use SigningKey.from_pem)"
            )
        source = shown_path(path)
        data: bytes | None = None
        problem = "unknown error"
        try:
            data = read_small_file(Path(path))
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
        except ValueError:  # an embedded NUL
            problem = "not a file path"
        if data is None:
            hint = "; pass the key file's path" if "-----BEGIN" in str(path) else ""
            raise KeyLoadError(f"cannot read key file ({problem}){hint}", source=source)
        return cls.from_pem(data, password=password, min_rsa_bits=min_rsa_bits, source=source)

    @classmethod
    def from_ed25519_seed(cls, seed: bytes) -> SigningKey:
        """Build an Ed25519 key from its raw 32-byte seed (the RFC 8463 example's form)."""
        if not isinstance(cast(object, seed), bytes) or len(seed) != 32:
            raise KeyLoadError("an Ed25519 seed must be exactly 32 bytes")
        return cls.from_private_key(ed25519.Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def bits(self) -> int:
        """Key size in bits (256 for Ed25519)."""
        if isinstance(self._private, rsa.RSAPrivateKey):
            return self._private.key_size
        return 256

    @property
    def fingerprint(self) -> str:
        """
        A short identifier that is safe to log.

        The first 16 hex digits of the SHA-256 of the ``p=`` value.
        """
        return _fingerprint(self.public_key_b64)

    def public_key(self) -> PublicKey:
        """The public half as a ``cryptography`` object."""
        return self._private.public_key()

    def txt_record(self) -> str:
        """The key record's value: ``v=DKIM1; k=rsa; p=...`` (unsplit)."""
        return f"v=DKIM1; k={self.algorithm.key_type}; p={self.public_key_b64}"

    def private_pem(self, *, password: bytes | None = None) -> bytes:
        """Serialize the private key as PKCS#8 PEM, encrypted when ``password`` is given."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        return self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def sign_digest(self, digest: bytes) -> bytes:
        """
        Sign the SHA-256 ``digest`` of the canonicalized header data.

        RSA signs it as a PKCS#1 v1.5 SHA-256 DigestInfo; Ed25519 signs the 32 digest
        bytes themselves (RFC 8463 §3).
        """
        try:
            if isinstance(self._private, rsa.RSAPrivateKey):
                return self._private.sign(digest, _PKCS1V15, _PREHASHED_SHA256)
            if self._sodium is not None and _sodium is not None:
                # Ed25519 is deterministic: the same signature as cryptography's.
                return bytes(_sodium.crypto_sign(digest, self._sodium)[:64])
            return self._private.sign(digest)
        except Exception as exc:  # the backend's own failure, surfaced typed
            raise SigningError(f"{self.algorithm.value} signing failed") from exc

    def same_key_as(self, other: SigningKey) -> bool:
        """True when both hold the same key pair (compared by public key)."""
        return self.algorithm is other.algorithm and self.public_key_b64 == other.public_key_b64
