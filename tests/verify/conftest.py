"""Fixtures for the verifier tests: real keys, made or loaded once per session."""

from __future__ import annotations

import pytest

from oxdkim import Algorithm, SigningKey

from .support import rfc8463_ed25519, rfc8463_rsa


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    """A fresh 2048-bit RSA key."""
    return SigningKey.generate(Algorithm.RSA_SHA256, bits=2048)


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    """The RFC 8463 Ed25519 key."""
    return rfc8463_ed25519()


@pytest.fixture(scope="session")
def rsa1024_key() -> SigningKey:
    """The RFC 8463 RSA key (1024 bits)."""
    return rfc8463_rsa()


@pytest.fixture(scope="session", params=["rsa", "ed25519"])
def any_key(request: pytest.FixtureRequest, rsa_key: SigningKey, ed_key: SigningKey) -> SigningKey:
    """Each algorithm's key in turn."""
    return rsa_key if request.param == "rsa" else ed_key
