"""
Golden files: with a fixed clock and the RFC 8463 keys, the exact DKIM-Signature bytes.

Both algorithms are deterministic, so any change in these bytes is a change in what
oxdkim writes (tag order, folding, header list, canonicalization, crypto). When such a
change is intended, regenerate with ``OXDKIM_REGEN_GOLDEN=1`` (see golden/README.md) and
review the diff; every golden signature is also verified with dkimpy, so a regenerated
file cannot pin a broken signature.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oxdkim import (
    Canon,
    Canonicalization,
    SignatureOptions,
    SignatureSpec,
    Signer,
    SigningKey,
)

from .helpers import (
    RFC8463,
    StaticPolicy,
    dkimpy_verify_all,
    fixed_clock,
    rfc8463_ed25519,
    rfc8463_rsa,
)

GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("OXDKIM_REGEN_GOLDEN") == "1"
CLOCK = fixed_clock(datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC))
DOMAIN = "golden.example"

MESSAGE = (
    b"Received: from client.example by mx.golden.example; Mon, 6 May 2024 07:08:00 +0000\r\n"
    b'From: "Gold Sender" <sender@golden.example>\r\n'
    b"To: one@rcpt.example,\r\n"
    b"\ttwo@rcpt.example\r\n"
    b"Cc: three@rcpt.example\r\n"
    b"Subject:  Golden   file\t test \r\n"
    b"Date: Mon, 6 May 2024 07:08:09 +0000\r\n"
    b"Message-ID: <golden.1@golden.example>\r\n"
    b"X-Unicode: Gr\xc3\xbc\xc3\x9fe \xf0\x9f\x8e\x89\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"List-Id: <list.golden.example>\r\n"
    b"\r\n"
    b"Body line with trailing space \r\n"
    b"  indented\tand  spaced  \r\n"
    b"\r\n"
    b"last line without newline"
)

KEYS: dict[str, Callable[[], SigningKey]] = {"ed25519": rfc8463_ed25519, "rsa": rfc8463_rsa}
CANONS = {f"{h.value}-{b.value}": Canonicalization(h, b) for h in Canon for b in Canon}


def spec(key: str, canon: str = "relaxed-relaxed", **options: object) -> SignatureSpec:
    """A spec for DOMAIN with selector = key name."""
    opts = SignatureOptions(canonicalization=CANONS[canon], **options)  # type: ignore[arg-type]
    return SignatureSpec(DOMAIN, key, KEYS[key](), opts)


def records() -> dict[str, str]:
    return {f"{name}._domainkey.{DOMAIN}": load().txt_record() for name, load in KEYS.items()}


CASES: dict[str, tuple[tuple[SignatureSpec, ...], bytes]] = {
    **{f"{key}_{canon}": ((spec(key, canon),), MESSAGE) for key in KEYS for canon in CANONS},
    "ed25519_relaxed-relaxed_lf": ((spec("ed25519"),), MESSAGE.replace(b"\r\n", b"\n")),
    "ed25519_custom-headers_expiry_identity": (
        (
            SignatureSpec(
                DOMAIN,
                "ed25519",
                rfc8463_ed25519(),
                SignatureOptions(
                    headers=("from", "subject", "x-unicode", "to"),
                    oversign=False,
                    expires_in=20 * 365 * 86400,
                ),
                identity="sender@golden.example",
            ),
        ),
        MESSAGE,
    ),
    "two-signatures": ((spec("ed25519"), spec("rsa", "simple-simple")), MESSAGE),
    "rfc8463-unsigned_ed25519": (
        (
            SignatureSpec(
                "football.example.com",
                "ed25519",
                rfc8463_ed25519(),
                SignatureOptions(headers=("from", "to", "subject", "date", "message-id")),
            ),
        ),
        (RFC8463 / "unsigned.eml").read_bytes(),
    ),
}


def produce(specs: tuple[SignatureSpec, ...], message: bytes) -> bytes:
    """The signature fields the signer writes for ``message``."""
    return b"".join(r.header for r in Signer(StaticPolicy(specs), clock=CLOCK).sign(message))


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str):
    """The exact DKIM-Signature bytes equal the golden file (regenerate: OXDKIM_REGEN_GOLDEN=1)."""
    specs, message = CASES[name]
    produced = produce(specs, message)
    path = GOLDEN / f"{name}.txt"
    if REGEN:
        path.write_bytes(produced)
        pytest.skip(f"regenerated {path.name}")
    assert path.read_bytes() == produced


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_signatures_verify(name: str):
    """Every golden signature verifies with dkimpy (so a golden never pins a broken one)."""
    specs, message = CASES[name]
    if name.startswith("rfc8463"):
        recs = {"ed25519._domainkey.football.example.com": rfc8463_ed25519().txt_record()}
    else:
        recs = records()
    signed = produce(specs, message) + message
    assert [True] * len(specs) == dkimpy_verify_all(signed, recs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_chunked(name: str):
    """sign_chunks writes the same golden bytes, in 13-byte chunks."""
    specs, message = CASES[name]
    signer = Signer(StaticPolicy(specs), clock=CLOCK)
    chunks = [message[i : i + 13] for i in range(0, len(message), 13)]
    assert (GOLDEN / f"{name}.txt").read_bytes() == b"".join(
        r.header for r in signer.sign_chunks(chunks)
    )


def test_repeat_signing_is_identical():
    """Signing twice with a fixed clock gives identical bytes (both algorithms)."""
    specs, message = CASES["two-signatures"]
    assert produce(specs, message) == produce(specs, message)
