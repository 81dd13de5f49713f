"""Fixtures for the signing-core tests: real keys, loaded or generated once per session."""

from __future__ import annotations

import pytest

from oxdkim import Algorithm, SigningKey

from .helpers import rfc8463_ed25519, rfc8463_rsa


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    """The RFC 8463 Ed25519 key (deterministic signatures)."""
    return rfc8463_ed25519()


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    """The RFC 8463 RSA key (1024 bits; deterministic signatures)."""
    return rfc8463_rsa()


@pytest.fixture(scope="session")
def rsa2048_key() -> SigningKey:
    """A fresh 2048-bit RSA key, the default minimum size."""
    return SigningKey.generate(Algorithm.RSA_SHA256, bits=2048)


@pytest.fixture(scope="session")
def ed_key2() -> SigningKey:
    """A second, fresh Ed25519 key."""
    return SigningKey.generate(Algorithm.ED25519_SHA256)


@pytest.fixture(scope="session", params=["ed25519", "rsa"])
def any_key(request: pytest.FixtureRequest) -> SigningKey:
    """Each algorithm's key in turn."""
    return rfc8463_ed25519() if request.param == "ed25519" else rfc8463_rsa()
