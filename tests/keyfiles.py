"""
The published vectors' files and keys, shared by the tests of every layer (tests/dkim,
tests/signing): where the vectors live, the RFC 8463 Appendix A keys, a fixed clock, a
reader for the vectors' zone files, and the key fixtures those folders' conftest.py
import (so each folder names the same keys the same way).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oxdkim import Algorithm, SigningKey

VECTORS = Path(__file__).resolve().parent / "vectors"
RFC8463 = VECTORS / "rfc8463"

FIXED_TIME = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
"""A fixed signing time in the past (dkimpy refuses t= more than 10 h in the future)."""


def fixed_clock(when: datetime = FIXED_TIME) -> Callable[[], datetime]:
    """A clock that always returns ``when``."""
    return lambda: when


def rfc8463_ed25519() -> SigningKey:
    """The RFC 8463 Appendix A Ed25519 key, from its published seed."""
    seed = base64.b64decode((RFC8463 / "ed25519.seed.b64").read_text())
    return SigningKey.from_ed25519_seed(seed)


def rfc8463_rsa() -> SigningKey:
    """The RFC 8463 Appendix A RSA key (1024 bits, so it needs the opt-in)."""
    return SigningKey.from_pem((RFC8463 / "rsa.private.pem").read_bytes(), min_rsa_bits=1024)


def read_zone(path: Path) -> dict[str, str]:
    """
    Read the vectors' zone-file subset: ``NAME [TTL] [IN] TXT "s1" ["s2" ...]``.

    Returns name (lowercase, no trailing dot) -> the record's strings joined.
    """
    records: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        name, rest = line.split(None, 1)
        match = re.search(r"\bTXT\s+(.*)$", rest)
        if match is None:
            continue
        records[name.lower().rstrip(".")] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', match[1]))
    return records


# -- key fixtures, imported by tests/dkim/conftest.py and tests/signing/conftest.py ------


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    """The RFC 8463 Ed25519 key (deterministic signatures)."""
    return rfc8463_ed25519()


@pytest.fixture(scope="session")
def ed_key2() -> SigningKey:
    """A second, fresh Ed25519 key."""
    return SigningKey.generate(Algorithm.ED25519_SHA256)


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    """The RFC 8463 RSA key (1024 bits; deterministic signatures)."""
    return rfc8463_rsa()


@pytest.fixture(scope="session")
def rsa2048_key() -> SigningKey:
    """A fresh 2048-bit RSA key, the default minimum size."""
    return SigningKey.generate(Algorithm.RSA_SHA256, bits=2048)


@pytest.fixture(scope="session", params=["ed25519", "rsa"])
def any_key(request: pytest.FixtureRequest) -> SigningKey:
    """Each algorithm's key in turn."""
    return rfc8463_ed25519() if request.param == "ed25519" else rfc8463_rsa()
