"""
pytest fixtures for projects that test code embedding oxdkim.

Loaded automatically once oxdkim is installed (entry point ``pytest11``). Every fixture is
function-scoped and offline: keys are deterministic, DNS is an in-memory zone.

* ``oxdkim_clock``: a :class:`~oxdkim.testing.FixedClock` at 2026-01-01 12:00 UTC.
* ``oxdkim_brand``: a :class:`~oxdkim.testing.TestBrand` (Ed25519 keys; tenants ``acme``
  and ``globex``; both delegated; ``_dmarc.acme.example`` is ``p=reject``).
* ``oxdkim_ring``, ``oxdkim_zone``: that brand's key ring and DNS zone.
* ``oxdkim_signer``: the brand's aligned signer (generic fallback).
* ``oxdkim_verifier``: a verifier reading the brand's zone.
* ``oxdkim_message``: :func:`~oxdkim.testing.make_message`, to build messages.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ._keys.keyring import KeyRing
from ._signing.signer import Signer
from ._verify.verifier import Verifier
from .resolvers import InMemoryZone
from .testing import FixedClock, TestBrand, make_message


@pytest.fixture
def oxdkim_clock() -> FixedClock:
    """A clock that stands still until moved."""
    return FixedClock()


@pytest.fixture
def oxdkim_brand(oxdkim_clock: FixedClock) -> TestBrand:
    """A whole brand in memory."""
    return TestBrand.build(clock=oxdkim_clock, dmarc={"acme.example": "v=DMARC1; p=reject"})


@pytest.fixture
def oxdkim_ring(oxdkim_brand: TestBrand) -> KeyRing:
    """The brand's two-slot key ring (mail1 active, mail2 published)."""
    return oxdkim_brand.ring


@pytest.fixture
def oxdkim_zone(oxdkim_brand: TestBrand) -> InMemoryZone:
    """The brand's DNS zone (call ``oxdkim_brand.publish()`` after rollover steps)."""
    return oxdkim_brand.zone


@pytest.fixture
def oxdkim_signer(oxdkim_brand: TestBrand) -> Signer:
    """The brand's aligned signer, with a generic fallback."""
    return oxdkim_brand.signer()


@pytest.fixture
def oxdkim_verifier(oxdkim_brand: TestBrand) -> Verifier:
    """A verifier that reads the brand's current zone."""
    return oxdkim_brand.verifier()


@pytest.fixture
def oxdkim_message() -> Callable[..., bytes]:
    """The message builder :func:`~oxdkim.testing.make_message`."""
    return make_message
