"""
Fixtures for the tests of ``oxdkim._dkim`` (the wire format and key crypto): real keys,
loaded or generated once per session.

This folder has no ``__init__.py`` on purpose: as a package it would be named ``dkim``
and hide dkimpy (``import dkim``) from every test. Its modules are imported by their
own names, so keep them unique across the rootless folders (tests/, tests/dns/).
"""

from __future__ import annotations

import pytest

from keyfiles import rfc8463_ed25519, rfc8463_rsa
from oxdkim import Algorithm, SigningKey


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
