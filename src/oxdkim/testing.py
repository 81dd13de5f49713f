"""
Helpers for testing code that embeds oxdkim: a fixed clock, message builders, test keys,
and a whole brand in memory (keys, key ring, DNS zone, signer, verifier).

Nothing here touches the network or the file system. The same objects back the pytest
fixtures of ``oxdkim.pytest_plugin`` (``oxdkim_brand``, ``oxdkim_clock``, ...), which
pytest loads automatically once oxdkim is installed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

import attrs

from ._base.answers import CnameAnswer, TxtAnswer
from ._dkim.crypto import Algorithm, SigningKey
from ._keys.keyring import KeyRing
from ._keys.records import DnsRecord, brand_records, render_zone
from ._signing.policies import DefaultGenericPolicy, LegacyBrandPolicy
from ._signing.signer import Signer
from ._verify.verifier import Verifier
from .resolvers import InMemoryZone
from .typing import Resolver

__all__ = ["FixedClock", "TestBrand", "make_message", "test_key", "transport"]

DEFAULT_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FixedClock:
    """
    A clock that stands still until moved: pass it wherever oxdkim takes a ``clock``.

    >>> clock = FixedClock()
    >>> clock().isoformat()
    '2026-01-01T12:00:00+00:00'
    >>> clock.advance(hours=2).isoformat()
    '2026-01-01T14:00:00+00:00'
    """

    def __init__(self, now: datetime = DEFAULT_TIME) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.now: datetime = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)`` and return the new time."""
        self.now += timedelta(**delta)
        return self.now

    def __repr__(self) -> str:
        return f"<FixedClock {self.now.isoformat()}>"


def make_message(
    sender: str = "Alice <alice@acme.example>",
    *,
    to: str = "Bob <bob@receiver.example>",
    subject: str = "Test message",
    body: str | bytes = "Hello.\r\n",
    headers: Iterable[tuple[str, str]] = (),
    linesep: bytes = b"\r\n",
) -> bytes:
    """
    An RFC 5322 message: From, To, Subject, Date, Message-ID, extra ``headers``, ``body``.

    >>> make_message(subject="Hi", body="x").split(b"\\r\\n")[2]
    b'Subject: Hi'
    """
    digest = hashlib.sha256(f"{sender}{to}{subject}".encode()).hexdigest()[:16]
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Thu, 01 Jan 2026 12:00:00 +0000",
        f"Message-ID: <{digest}@test.oxdkim>",
        *(f"{name}: {value}" for name, value in headers),
    ]
    head = linesep.join(line.encode() for line in lines) + linesep + linesep
    data = body.encode() if isinstance(body, str) else body
    if linesep == b"\n":
        data = data.replace(b"\r\n", b"\n")
    return head + data


def transport(message: bytes) -> bytes:
    """
    The message as an MTA delivers it: every bare CR and bare LF becomes CRLF, and the
    message ends with CRLF (SMTP's DATA ends every message so, RFC 5321 §4.1.1.4).
    A signature oxdkim makes must still verify after this.

    >>> transport(b"From: a@example.com\\nX: 1\\r\\n\\r\\nline\\rtwo ")
    b'From: a@example.com\\r\\nX: 1\\r\\n\\r\\nline\\r\\ntwo \\r\\n'
    """
    data = bytes(message).replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
    return data if not data or data.endswith(b"\r\n") else data + b"\r\n"


def test_key(algorithm: Algorithm | str = "ed25519-sha256", *, seed: int = 0) -> SigningKey:
    """
    A deterministic key for tests: the same ``seed`` gives the same Ed25519 key.

    RSA keys cannot be derived from a seed with ``cryptography``; they are generated
    (2048 bits) and cached per seed for the life of the process.
    """
    algorithm = Algorithm.parse(algorithm) if isinstance(algorithm, str) else algorithm
    if algorithm is Algorithm.ED25519_SHA256:
        return SigningKey.from_ed25519_seed(hashlib.sha256(f"oxdkim-test-{seed}".encode()).digest())
    cached = _RSA_CACHE.get(seed)
    if cached is None:
        cached = _RSA_CACHE[seed] = SigningKey.generate(Algorithm.RSA_SHA256, bits=2048)
    return cached


test_key.__test__ = False  # type: ignore[attr-defined]  # not a test for pytest to collect
_RSA_CACHE: dict[int, SigningKey] = {}


@attrs.define
class TestBrand:
    """
    A brand in memory: generic key, two-slot key ring, tenants, and a DNS zone that serves
    what oxdkim renders for them (plus DMARC records you give).

    Build one with :meth:`build`; after a rollover step, :meth:`publish` makes the zone
    serve the ring's new records, as an operator would.
    """

    __test__ = False  # not a test class for pytest

    generic_key: SigningKey
    ring: KeyRing
    tenants: Mapping[str, tuple[str, ...]]
    clock: FixedClock
    generic_domain: str = "dkim.brandmail.example"
    generic_selector: str = "gen1"
    key_host: str = "keys.brandmail.example"
    delegated: tuple[str, ...] | None = None
    extra_records: tuple[DnsRecord, ...] = ()
    zone: InMemoryZone = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.publish()

    @classmethod
    def build(
        cls,
        algorithm: Algorithm | str = "ed25519-sha256",
        *,
        tenants: Mapping[str, Iterable[str]] | None = None,
        delegated: Iterable[str] | None = None,
        dmarc: Mapping[str, str] | None = None,
        clock: FixedClock | None = None,
    ) -> TestBrand:
        """
        A brand with deterministic keys.

        Args:
            algorithm: Of every key.
            tenants: ``{tenant: [domains]}``; default ``acme`` and ``globex``.
            delegated: Domains whose CNAMEs are published (default: all tenant domains).
            dmarc: ``{domain: "v=DMARC1; p=..."}`` records to publish at ``_dmarc.<domain>``.
            clock: The brand's clock (also the ring's); default a :class:`FixedClock`.
        """
        clock = clock or FixedClock()
        chosen = {
            t: tuple(d)
            for t, d in (
                tenants or {"acme": ["acme.example"], "globex": ["globex.example"]}
            ).items()
        }
        ring = KeyRing.from_keys(
            {"mail1": test_key(algorithm, seed=1), "mail2": test_key(algorithm, seed=2)},
            active="mail1",
            since=clock.now - timedelta(days=30),
            key_host="keys.brandmail.example",
        )
        ring.clock = clock
        extra = tuple(DnsRecord(f"_dmarc.{d}", "TXT", v) for d, v in (dmarc or {}).items())
        return cls(
            generic_key=test_key(algorithm, seed=0),
            ring=ring,
            tenants=chosen,
            clock=clock,
            delegated=tuple(delegated) if delegated is not None else None,
            extra_records=extra,
        )

    @property
    def domains(self) -> tuple[str, ...]:
        """Every tenant domain."""
        return tuple(d for domains in self.tenants.values() for d in domains)

    def records(self) -> list[DnsRecord]:
        """What the brand and its delegated customers publish."""
        delegated = self.domains if self.delegated is None else self.delegated
        return brand_records(
            ring=self.ring.snapshot(),
            generic=(self.generic_domain, self.generic_selector, self.generic_key),
            legacy_domains=delegated,
        )

    def publish(self) -> InMemoryZone:
        """Rebuild the zone from the current records (after a rollover step)."""
        self.zone = InMemoryZone(zone_text=render_zone([*self.records(), *self.extra_records]))
        return self.zone

    def generic_policy(self) -> DefaultGenericPolicy:
        """Signs as the brand's generic domain."""
        return DefaultGenericPolicy(self.generic_domain, self.generic_selector, self.generic_key)

    def aligned_policy(self, *, fallback: bool = True) -> LegacyBrandPolicy:
        """Signs aligned for each tenant's own domains (generic fallback unless disabled)."""
        return LegacyBrandPolicy(
            self.ring, self.tenants, fallback=self.generic_policy() if fallback else None
        )

    def signer(self, mode: str = "aligned") -> Signer:
        """A signer in ``"aligned"`` or ``"generic"`` mode, on the brand's clock."""
        policy = self.aligned_policy() if mode == "aligned" else self.generic_policy()
        return Signer(policy, clock=self.clock)

    @property
    def resolver(self) -> Resolver:
        """A resolver that always answers from the brand's current zone (see publish)."""
        return _LiveZone(self)

    def verifier(self) -> Verifier:
        """A verifier reading the brand's current zone, on the brand's clock."""
        return Verifier(self.resolver, clock=self.clock)


class _LiveZone:
    """Delegates to whatever zone the brand serves now."""

    def __init__(self, brand: TestBrand) -> None:
        self._brand = brand

    def txt(self, name: str) -> TxtAnswer:
        return self._brand.zone.txt(name)

    def cname(self, name: str) -> CnameAnswer:
        return self._brand.zone.cname(name)
