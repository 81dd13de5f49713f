"""
Shared pieces of the hostile-input suite: a two-tenant brand, fixed keys and time, and
the check every case makes, that the caller's bytes come back unchanged.

Budgets (time with ``time.perf_counter``, memory with the ``tracemalloc`` peak) are
generous on purpose: they catch a hang or a quadratic blow-up, not a slow machine. They
are listed in docs/security.md.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TypeVar

import attrs

from oxdkim import (
    DefaultGenericPolicy,
    KeyRing,
    LegacyBrandPolicy,
    OxDkimError,
    Signer,
    SigningKey,
    SignResult,
    Verifier,
    VerifyResult,
)
from oxdkim.resolvers import InMemoryZone

T = TypeVar("T")

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALICE, BOB = "alice", "bob"
ALICE_DOMAIN, BOB_DOMAIN = "alice.example", "bob.example"
GENERIC_DOMAIN = "dkim.brand.example"
KEY_HOST = "keys.brand.example"

MB = 1 << 20


def clock() -> datetime:
    """The fixed signing and verifying time."""
    return NOW


def seed_key(byte: int) -> SigningKey:
    """A deterministic Ed25519 key (never use such keys for mail)."""
    return SigningKey.from_ed25519_seed(bytes([byte]) * 32)


BRAND_KEY_1 = seed_key(1)
BRAND_KEY_2 = seed_key(2)
GENERIC_KEY = seed_key(3)


def brand_ring() -> KeyRing:
    """The brand's two-slot ring; ``mail1`` signs."""
    return KeyRing.from_keys({"mail1": BRAND_KEY_1, "mail2": BRAND_KEY_2}, active="mail1")


TENANTS = {ALICE: [ALICE_DOMAIN, "bücher.example"], BOB: [BOB_DOMAIN, "news.bob.example"]}


def brand_signer(*, fallback: bool = False) -> Signer:
    """
    Aligned signing for two tenants; with ``fallback``, every refusal of the aligned
    policy signs as the provider's generic domain instead.
    """
    generic = DefaultGenericPolicy(GENERIC_DOMAIN, "gen1", GENERIC_KEY)
    policy = LegacyBrandPolicy(brand_ring(), TENANTS, fallback=generic if fallback else None)
    return Signer(policy, clock=clock)


def brand_zone(**extra: str) -> InMemoryZone:
    """The DNS a receiver sees: every tenant domain delegated to the key host."""
    txt = {
        f"mail1._domainkey.{KEY_HOST}": BRAND_KEY_1.txt_record(),
        f"mail2._domainkey.{KEY_HOST}": BRAND_KEY_2.txt_record(),
        f"gen1._domainkey.{GENERIC_DOMAIN}": GENERIC_KEY.txt_record(),
        **extra,
    }
    domains = [ALICE_DOMAIN, "xn--bcher-kva.example", BOB_DOMAIN, "news.bob.example"]
    cname = {
        f"{selector}._domainkey.{domain}": f"{selector}._domainkey.{KEY_HOST}"
        for domain in domains
        for selector in ("mail1", "mail2")
    }
    return InMemoryZone(txt, cname=cname)


def verifier(zone: InMemoryZone | None = None, **options: object) -> Verifier:
    """oxdkim's own verifier over ``zone`` (default: the brand's DNS), at the fixed time."""
    return Verifier(zone or brand_zone(), clock=clock, **options)  # type: ignore[arg-type]


@attrs.frozen
class Outcome:
    """What a call did with a message: its result, or the oxdkim error it raised."""

    value: object = None
    error: OxDkimError | None = None

    @property
    def signatures(self) -> tuple[SignResult, ...]:
        """The signatures made (fails the test when the call raised)."""
        assert self.error is None, f"expected signatures, got {self.error!r}"
        assert isinstance(self.value, tuple)
        return self.value

    @property
    def results(self) -> tuple[VerifyResult, ...]:
        """The verification results (fails the test when the call raised)."""
        assert self.error is None, f"expected results, got {self.error!r}"
        assert isinstance(self.value, tuple)
        return self.value


def run_unchanged(call: Callable[[bytes], object], message: bytes) -> Outcome:
    """
    Run ``call`` on ``message`` as ``bytes`` and as a ``bytearray``.

    Both must end alike (same result, or the same error type, problem and text), and
    the caller's buffer must hold exactly the bytes it held before.
    """
    outcomes = []
    for kind in (bytes, bytearray):
        buffer = kind(message)
        before = bytes(buffer)
        try:
            outcome = Outcome(value=call(buffer))
        except OxDkimError as exc:
            outcome = Outcome(error=exc)
        assert before == bytes(buffer), "the caller's bytes were modified"
        outcomes.append(outcome)
    first, second = outcomes
    if first.error is None or second.error is None:
        assert first.value == second.value
        assert first.error is second.error
    else:
        assert type(first.error) is type(second.error)
        assert str(first.error) == str(second.error)
    return first


def sign_unchanged(
    signer: Signer, message: bytes, *, tenant: str | None = ALICE, chunk: int = 7
) -> Outcome:
    """
    Sign ``message`` whole (bytes and bytearray) and in ``chunk``-byte bytearray pieces;
    all three must agree, and no input buffer may change.
    """
    whole = run_unchanged(lambda m: signer.sign(m, tenant=tenant), message)
    pieces = [bytearray(message[i : i + chunk]) for i in range(0, len(message), chunk)]
    before = [bytes(p) for p in pieces]
    try:
        chunked = Outcome(value=signer.sign_chunks(pieces, tenant=tenant))
    except OxDkimError as exc:
        chunked = Outcome(error=exc)
    assert before == [bytes(p) for p in pieces], "a chunk buffer was modified"
    if whole.error is None:
        assert whole.value == chunked.value
    else:
        assert type(whole.error) is type(chunked.error)
        assert getattr(whole.error, "problem", None) == getattr(chunked.error, "problem", None)
    return whole


@attrs.frozen
class Cost:
    """Wall time and peak traced allocation of one call."""

    seconds: float
    peak_bytes: int


def measure(call: Callable[[], T]) -> tuple[T | OxDkimError, Cost]:
    """Run ``call`` under tracemalloc; return its result (or oxdkim error) and its cost."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        try:
            result: T | OxDkimError = call()
        except OxDkimError as exc:
            result = exc
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, Cost(seconds, peak)


def within(cost: Cost, *, seconds: float, megabytes: float) -> bool:
    """True when ``cost`` keeps to the budget (printed by pytest on failure)."""
    return cost.seconds <= seconds and cost.peak_bytes <= megabytes * MB


def domains(results: Iterable[SignResult]) -> list[str]:
    """The ``d=`` of each signature."""
    return [result.domain for result in results]
