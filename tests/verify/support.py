"""
Helpers for the verifier tests: keys, fixed clocks, messages, zones, and a signature
crafter that can write any tag set (including ones oxdkim's Signer refuses to make).

The crafter hashes with oxdkim's canonicalization (tested against dkimpy and go-msgauth
tables in tests/dkim) and signs with ``cryptography``; ``test_crafted_signature_is_real``
checks that dkimpy accepts what it makes, so a failure it provokes comes from the tag
under test and not from the crafter.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils

from oxdkim import Algorithm, SigningKey
from oxdkim._dkim.canon import Canon, canonicalize_body, canonicalize_header
from oxdkim._dkim.message import parse_message
from oxdkim.resolvers import InMemoryZone

HERE = Path(__file__).resolve().parent
VECTORS = HERE.parent / "vectors"
DATA = HERE / "data"

FIXED_TIME = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
NOW = int(FIXED_TIME.timestamp())
DOMAIN = "example.com"
SELECTOR = "sel"
KEY_NAME = f"{SELECTOR}._domainkey.{DOMAIN}"

MESSAGE = (
    b"Received: from relay.example.net by mx.example.org; Mon, 6 May 2024 07:08:00 +0000\r\n"
    b"From: Alice Example <alice@example.com>\r\n"
    b"To: Bob <bob@example.net>\r\n"
    b"Subject: The quarterly   report\r\n"
    b"Date: Mon, 6 May 2024 07:08:09 +0000\r\n"
    b"Message-ID: <report-1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hello Bob,  \r\n"
    b"\r\n"
    b"the numbers are\tattached.\r\n"
    b"\r\n"
    b"\r\n"
)


def fixed_clock(when: datetime | int = FIXED_TIME) -> Callable[[], datetime]:
    """A clock that always returns ``when`` (a datetime or UNIX seconds)."""
    moment = when if isinstance(when, datetime) else datetime.fromtimestamp(when, UTC)
    return lambda: moment


def rfc8463_ed25519() -> SigningKey:
    """The RFC 8463 Appendix A Ed25519 key."""
    seed = base64.b64decode((VECTORS / "rfc8463" / "ed25519.seed.b64").read_text())
    return SigningKey.from_ed25519_seed(seed)


def rfc8463_rsa() -> SigningKey:
    """The RFC 8463 Appendix A RSA key (1024 bits)."""
    pem = (VECTORS / "rfc8463" / "rsa.private.pem").read_bytes()
    return SigningKey.from_pem(pem, min_rsa_bits=1024)


def rsa512_private() -> rsa.RSAPrivateKey:
    """A 512-bit RSA test key (made with ``openssl genrsa 512``; far too small for use)."""
    key = serialization.load_pem_private_key((DATA / "rsa512-test.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_b64(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    """The ``p=`` value for a ``cryptography`` private key."""
    if isinstance(key, rsa.RSAPrivateKey):
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        der = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    return base64.b64encode(der).decode("ascii")


def zone(records: Mapping[str, str | list[str]] | None = None, **kwargs: object) -> InMemoryZone:
    """An in-memory zone holding ``records`` (TXT)."""
    return InMemoryZone(dict(records or {}), **kwargs)  # type: ignore[arg-type]


def craft(
    message: bytes,
    key: SigningKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey,
    tags: Mapping[str, str],
    *,
    b_position: int | None = None,
    fold: bool = True,
) -> bytes:
    """
    Sign ``message`` with exactly ``tags`` (in order) and return the signed message.

    ``bh=`` is computed unless given; ``l=`` is honoured when computing it. ``b=`` goes
    last unless ``b_position`` puts it at that index among the tags. The field is
    folded before ``h=``, ``bh=`` and ``b=`` when ``fold``.
    """
    parsed = parse_message(message, lenient=True)
    head_canon, _, body_canon = tags.get("c", "simple/simple").partition("/")
    # Unknown names (a test of c= itself) hash as simple: the signature is refused anyway.
    header_c = Canon.RELAXED if head_canon == "relaxed" else Canon.SIMPLE
    body_c = Canon.RELAXED if body_canon == "relaxed" else Canon.SIMPLE
    items = dict(tags)
    if "bh" not in items:
        body = canonicalize_body(parsed.body, body_c)
        if items.get("l", "").isdigit():
            body = body[: int(items["l"])]
        items["bh"] = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
    order = list(items)
    order.insert(len(order) if b_position is None else b_position, "b")

    def field(b_value: str) -> bytes:
        parts = []
        for name in order:
            value = b_value if name == "b" else items[name]
            sep = "\r\n\t" if fold and name in ("h", "bh", "b") else " "
            parts.append(f"{sep}{name}={value}")
        return ("DKIM-Signature:" + ";".join(parts) + "\r\n").encode("utf-8")

    hasher = hashlib.sha256()
    remaining: dict[bytes, list[bytes]] = {}
    for f in parsed.fields:
        remaining.setdefault(f.key, []).append(f.raw)
    for name in items.get("h", "").split(":"):
        stack = remaining.get(name.strip().lower().encode())
        if stack:
            hasher.update(canonicalize_header(stack.pop(), header_c))
    hasher.update(canonicalize_header(field(""), header_c)[:-2])
    digest = hasher.digest()
    signature = _sign(key, digest)
    return field(base64.b64encode(signature).decode("ascii")) + message


def _sign(key: SigningKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, digest: bytes) -> bytes:
    if isinstance(key, SigningKey):
        return key.sign_digest(digest)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    return key.sign(digest)


def base_tags(
    key: SigningKey, *, domain: str = DOMAIN, selector: str = SELECTOR, **extra: str
) -> dict[str, str]:
    """The usual tags for ``key``, plus ``extra`` (which may override them)."""
    tags = {
        "v": "1",
        "a": key.algorithm.value,
        "c": "relaxed/relaxed",
        "d": domain,
        "s": selector,
        "t": str(NOW),
        "h": "from:to:subject:date:message-id",
    }
    tags.update(extra)
    return tags


def key_zone(key: SigningKey, name: str = KEY_NAME, **kwargs: object) -> InMemoryZone:
    """A zone publishing ``key`` at ``name``."""
    return zone({name: key.txt_record()}, **kwargs)


__all__ = [
    "DATA",
    "DOMAIN",
    "FIXED_TIME",
    "KEY_NAME",
    "MESSAGE",
    "NOW",
    "SELECTOR",
    "VECTORS",
    "Algorithm",
    "base_tags",
    "craft",
    "fixed_clock",
    "key_zone",
    "public_b64",
    "rfc8463_ed25519",
    "rfc8463_rsa",
    "rsa512_private",
    "zone",
]
