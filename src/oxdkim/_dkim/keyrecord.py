"""
DKIM key records (RFC 6376 §3.6.1, RFC 8463 §4): TXT bytes -> a typed, parsed key.

The public key is parsed here, once, and the result is a frozen value; the verifier
keeps parsed records in a small cache keyed by the record's bytes, so a key used by many
messages is decoded once.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Sequence

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from ..exceptions import RecordSyntaxError
from .crypto import PublicKey, verify_digest
from .tags import compact, parse_tag_list, split_list

KEY_TYPES = ("rsa", "ed25519")
"""The ``k=`` values oxdkim can verify with."""

RSA_MAX_BITS = 16384
"""Larger moduli are refused (OpenSSL's own limit for RSA operations)."""

# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE, AlgorithmIdentifier
# with OID 1.3.101.112, BIT STRING of 33 bytes. 12 bytes, then the 32-byte key.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


@attrs.frozen
class KeyRecord:
    """
    A parsed DKIM key record.

    Attributes:
        key_type: The ``k=`` value (default ``"rsa"``); other values than
            :data:`KEY_TYPES` are kept so the verifier can say why they do not fit.
        public_key: The parsed key; ``None`` when revoked or of an unknown type.
        revoked: ``p=`` is empty (RFC 6376 §3.6.1).
        hashes: The ``h=`` hash names, or ``None`` when absent (all allowed).
        services: The ``s=`` service types (default ``("*",)``).
        testing: ``t=y``: the domain is testing DKIM.
        strict: ``t=s``: the AUID's domain must equal ``d=`` exactly.
        notes: The ``n=`` text, as written.
    """

    key_type: str
    public_key: PublicKey | None = attrs.field(repr=False, eq=False)
    revoked: bool
    hashes: tuple[str, ...] | None = None
    services: tuple[str, ...] = ("*",)
    testing: bool = False
    strict: bool = False
    notes: str | None = None
    p: str = attrs.field(default="", repr=False)
    """The ``p=`` value without whitespace (compare it to a key's ``public_key_b64``)."""

    @property
    def bits(self) -> int | None:
        """Key size in bits (256 for Ed25519); ``None`` without a key."""
        if isinstance(self.public_key, rsa.RSAPublicKey):
            return self.public_key.key_size
        if isinstance(self.public_key, ed25519.Ed25519PublicKey):
            return 256
        return None

    @property
    def key_bytes(self) -> bytes | None:
        """
        The public key encoded as ``SigningKey.public_key_b64`` encodes it (SPKI DER for
        RSA, the raw 32 bytes for Ed25519), whatever form ``p=`` used; ``None`` without
        a key.
        """
        if isinstance(self.public_key, rsa.RSAPublicKey):
            return self.public_key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        if isinstance(self.public_key, ed25519.Ed25519PublicKey):
            return self.public_key.public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        return None

    def verify_digest(self, signature: bytes, digest: bytes) -> bool:
        """Whether ``signature`` signs the SHA-256 ``digest`` with this record's key."""
        return self.public_key is not None and verify_digest(self.public_key, signature, digest)

    @property
    def allows_email(self) -> bool:
        """True when ``s=`` lists ``*`` or ``email``."""
        return "*" in self.services or "email" in self.services


def _parse_rsa(der: bytes) -> rsa.RSAPublicKey:
    """SubjectPublicKeyInfo DER, or a bare PKCS#1 RSAPublicKey (Stalwart, dkimpy accept it)."""
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        raise RecordSyntaxError(
            "key record: p= is not an RSA public key (SubjectPublicKeyInfo or PKCS#1 DER)",
            tag="p",
        ) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise RecordSyntaxError(
            f"key record: k=rsa but p= holds a {type(key).__name__.removeprefix('_')}",
            tag="p",
        )
    numbers = key.public_numbers()
    # cryptography refuses these already; kept so no backend can hand us e=1.
    if numbers.e < 3 or numbers.e % 2 == 0:  # pragma: no cover
        raise RecordSyntaxError("key record: the RSA public exponent is invalid", tag="p")
    if key.key_size > RSA_MAX_BITS:
        raise RecordSyntaxError(
            f"key record: RSA key of {key.key_size} bits is larger than {RSA_MAX_BITS}",
            tag="p",
        )
    return key


def _parse_ed25519(raw: bytes) -> ed25519.Ed25519PublicKey:
    """The raw 32-byte key (RFC 8463 §4); an SPKI wrapper is refused with a clear reason."""
    if len(raw) == 44 and raw.startswith(_ED25519_SPKI_PREFIX):
        raise RecordSyntaxError(
            "key record: Ed25519 p= must be the raw 32-byte key (RFC 8463 §4), "
            "not a SubjectPublicKeyInfo",
            tag="p",
        )
    if len(raw) != 32:
        raise RecordSyntaxError(
            f"key record: Ed25519 p= must be 32 bytes (RFC 8463 §4), not {len(raw)}", tag="p"
        )
    return ed25519.Ed25519PublicKey.from_public_bytes(raw)


def parse_key_record(record: bytes) -> KeyRecord:
    """
    Parse one key record (its TXT strings already joined, RFC 6376 §3.6.2.2).

    Whitespace inside ``p=`` is removed; unknown tags are ignored.

    Raises:
        RecordSyntaxError: Bad tag list, ``v=`` not first or not ``DKIM1``, no ``p=``,
            bad base64, a key that does not parse for its ``k=``, or a bad ``t=``/``s=``.
    """
    tags = parse_tag_list(record, what="key record")
    if "v" in tags:
        if next(iter(tags)) != "v":
            raise RecordSyntaxError("key record: v= must be the first tag", tag="v")
        if tags["v"] != b"DKIM1":
            version = tags["v"][:20].decode("ascii", "replace")
            raise RecordSyntaxError(
                f"key record: unsupported version v={version!r} (must be DKIM1)", tag="v"
            )
    if "p" not in tags:
        raise RecordSyntaxError("key record: the required p= tag is missing", tag="p")
    key_type = compact(tags.get("k", b"rsa")).decode("ascii").lower()
    hashes = None
    if "h" in tags:
        hashes = tuple(h.decode("ascii").lower() for h in split_list(tags["h"]))
    services: tuple[str, ...] = ("*",)
    if "s" in tags:
        services = tuple(s.decode("ascii").lower() for s in split_list(tags["s"]))
    flags = {f.decode("ascii").lower() for f in split_list(tags["t"])} if "t" in tags else set()
    p_value = compact(tags["p"])
    try:
        p_text = p_value.decode("ascii")
        der = base64.b64decode(p_value, validate=True)
    except (binascii.Error, ValueError):
        raise RecordSyntaxError("key record: p= is not valid base64", tag="p") from None
    public_key: PublicKey | None = None
    if der:
        if key_type == "rsa":
            public_key = _parse_rsa(der)
        elif key_type == "ed25519":
            public_key = _parse_ed25519(der)
    return KeyRecord(
        key_type=key_type,
        public_key=public_key,
        revoked=not der,
        hashes=hashes,
        services=services,
        testing="y" in flags,
        strict="s" in flags,
        notes=tags["n"].decode("ascii") if "n" in tags else None,
        p=p_text,
    )


# The first tag of a TXT string, when it is v= (RFC 6376 §3.6.1: v=, if present, is first).
_VERSION = re.compile(rb"[ \t\r\n]*+v[ \t\r\n]*+=[ \t\r\n]*+([^; \t\r\n]*+)")


def key_records(records: Sequence[bytes]) -> list[bytes]:
    """
    The records of a TXT answer that are DKIM key records: all but those whose ``v=`` is
    present and is not ``DKIM1`` (RFC 6376 §3.6.1), such as ``v=spf1 -all`` served
    beside the key by a wildcard or at a CNAME target. Only several key records at once
    are ambiguous; dkimpy, OpenDKIM and mailauth read the answer the same way.
    """
    kept = []
    for record in records:
        version = _VERSION.match(record)
        if version is None or version.group(1) == b"DKIM1":
            kept.append(record)
    return kept


CACHED_RECORD_BYTES = 4096
"""Longest record the parse cache keeps: an RSA-16384 key record is under 3 KB."""


@functools.lru_cache(maxsize=1024)
def _parse_cached(record: bytes) -> KeyRecord:
    return parse_key_record(record)


def parse_key_record_cached(record: bytes) -> KeyRecord:
    """
    :func:`parse_key_record`, remembered by the record's bytes (errors are not cached).

    At most 1,024 records of at most :data:`CACHED_RECORD_BYTES` each are kept, so
    records chosen by an attacker (any signature names its own key) hold at most 4 MB;
    longer ones are parsed every time.
    """
    if len(record) > CACHED_RECORD_BYTES:
        return parse_key_record(record)
    return _parse_cached(record)


__all__ = [
    "KEY_TYPES",
    "KeyRecord",
    "key_records",
    "parse_key_record",
    "parse_key_record_cached",
]
