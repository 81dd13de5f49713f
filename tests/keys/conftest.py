"""Fixtures for the key ring tests: simulated time, a DNS operator, dkimpy as verifier."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from oxdkim import CnameAnswer, KeyRing, Signer, SigningKey, TxtAnswer
from oxdkim._keys.records import brand_records, render_zone
from oxdkim._keys.ringstate import RingSnapshot
from oxdkim.policies import LegacyBrandPolicy
from oxdkim.resolvers import InMemoryZone

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY_HOST = "keys.brand.example"
CUSTOMER = "customer.example"


class SimClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class DnsOperator:
    """Publishes what oxdkim renders for the ring, as a real operator would."""

    def __init__(self, domains: Iterable[str] = (CUSTOMER,)) -> None:
        self.domains = tuple(domains)
        self.zone = InMemoryZone()

    def publish(self, snapshot: RingSnapshot) -> InMemoryZone:
        """Serve exactly the records oxdkim renders for ``snapshot`` (via zone text)."""
        records = brand_records(ring=snapshot, legacy_domains=self.domains)
        self.zone = InMemoryZone(zone_text=render_zone(records))
        return self.zone

    def txt(self, name: str) -> TxtAnswer:
        return self.zone.txt(name)

    def cname(self, name: str) -> CnameAnswer:
        return self.zone.cname(name)


def message(subject: str = "hello", sender: str = f"a@{CUSTOMER}") -> bytes:
    """A small message from ``sender``."""
    return (
        f"From: {sender}\r\nTo: b@example.net\r\nSubject: {subject}\r\n"
        f"Message-ID: <{abs(hash(subject))}@x>\r\n\r\nBody of {subject}.\r\n"
    ).encode()


def legacy_signer(ring: KeyRing, clock: SimClock) -> Signer:
    """Aligned signing for CUSTOMER (tenant 't1') with ``ring``."""
    return Signer(LegacyBrandPolicy(ring, {"t1": [CUSTOMER]}), clock=clock)


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def operator() -> DnsOperator:
    return DnsOperator()


@pytest.fixture(scope="session")
def ed_keys() -> list[SigningKey]:
    """A pool of Ed25519 keys (cheap)."""
    return [SigningKey.generate("ed25519-sha256") for _ in range(8)]
