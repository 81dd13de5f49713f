"""The async verifier shares the sync verifier's logic: same results, same queries."""

from __future__ import annotations

import asyncio

import pytest

from oxdkim import DnsTempError, SigningKey
from oxdkim._base.answers import CnameAnswer, TxtAnswer
from oxdkim._verify.verifier import AsyncVerifier, DkimReason, DkimResult, Verifier
from oxdkim.resolvers import InMemoryZone

from .support import KEY_NAME, MESSAGE, base_tags, craft, fixed_clock, zone


class _SlowAsync:
    """An async resolver that really awaits, so queries overlap in the event loop."""

    def __init__(self, inner: InMemoryZone) -> None:
        self.inner = inner
        self.in_flight = 0
        self.most_in_flight = 0

    async def txt(self, name: str) -> TxtAnswer:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            return self.inner.txt(name)
        finally:
            self.in_flight -= 1

    async def cname(self, name: str) -> CnameAnswer:
        return self.inner.cname(name)


def _messages(rsa_key: SigningKey, ed_key: SigningKey) -> list[bytes]:
    good = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    return [
        MESSAGE,
        good,
        good.replace(b"numbers", b"letters"),
        craft(good, ed_key, base_tags(ed_key, s="ed")),
        craft(MESSAGE, rsa_key, base_tags(rsa_key, s="down")),
        craft(MESSAGE, rsa_key, base_tags(rsa_key, s="missing")),
        craft(MESSAGE, rsa_key, base_tags(rsa_key, d="bad_domain.example")),
    ]


def test_async_results_equal_sync_results(rsa_key: SigningKey, ed_key: SigningKey) -> None:
    """For pass, fail, temperror, permerror and unsigned mail, both verifiers agree."""
    resolver = zone(
        {KEY_NAME: rsa_key.txt_record(), "ed._domainkey.example.com": ed_key.txt_record()},
        failing=["down._domainkey.example.com"],
    )
    sync = Verifier(resolver, clock=fixed_clock())
    async_ = AsyncVerifier(resolver.as_async(), clock=fixed_clock())
    seen = set()
    for message in _messages(rsa_key, ed_key):
        expected = sync.verify(message)
        assert expected == asyncio.run(async_.verify(message))
        seen.update(r.result for r in expected)
    assert {
        DkimResult.PASS,
        DkimResult.FAIL,
        DkimResult.TEMPERROR,
        DkimResult.PERMERROR,
    } == seen


def test_async_queries_distinct_names_concurrently(rsa_key: SigningKey) -> None:
    """Three signatures with three selectors: their key queries overlap."""
    signed = MESSAGE
    records = {}
    for n in range(3):
        signed = craft(signed, rsa_key, base_tags(rsa_key, s=f"s{n}"))
        records[f"s{n}._domainkey.example.com"] = rsa_key.txt_record()
    slow = _SlowAsync(zone(records))
    results = asyncio.run(AsyncVerifier(slow, clock=fixed_clock()).verify(signed))
    assert [True, True, True] == [r.passed for r in results]
    assert 3 == slow.most_in_flight


def test_async_temporary_failure_is_temperror(rsa_key: SigningKey) -> None:
    """A DnsTempError raised by an async resolver becomes temperror, not an exception."""

    class Down:
        async def txt(self, name: str) -> TxtAnswer:
            raise DnsTempError("timeout", name=name)

        async def cname(self, name: str) -> CnameAnswer:
            raise DnsTempError("timeout", name=name)

    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    (result,) = asyncio.run(AsyncVerifier(Down(), clock=fixed_clock()).verify(signed))
    assert (DkimResult.TEMPERROR, DkimReason.DNS_TEMPORARY) == (result.result, result.reason)


def test_async_options_are_validated() -> None:
    """The async verifier refuses the same bad options as the sync one."""
    from oxdkim import ConfigurationError

    with pytest.raises(ConfigurationError):
        AsyncVerifier(zone().as_async(), max_signatures=0)


class _OneBroken:
    """An async resolver whose lookup of one name raises a non-DNS error at once."""

    def __init__(self, inner: InMemoryZone) -> None:
        self.inner = inner
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cancelled: list[str] = []

    async def txt(self, name: str) -> TxtAnswer:
        self.started.append(name)
        if name.startswith("broken."):
            raise RuntimeError("resolver bug")
        try:
            await asyncio.sleep(0.5)
        except asyncio.CancelledError:
            self.cancelled.append(name)
            raise
        self.finished.append(name)
        return self.inner.txt(name)

    async def cname(self, name: str) -> CnameAnswer:
        return self.inner.cname(name)


def test_a_failing_lookup_cancels_its_siblings(rsa_key: SigningKey) -> None:
    """
    A resolver that raises something other than a DnsError: verify raises it, and the
    sibling lookups of the same message are cancelled, not left running unowned.
    """
    signed = MESSAGE
    for selector in ("broken", "slow1", "slow2"):
        signed = craft(signed, rsa_key, base_tags(rsa_key, s=selector))
    resolver = _OneBroken(zone({}))

    async def scenario() -> None:
        with pytest.raises(RuntimeError, match="resolver bug"):
            await AsyncVerifier(resolver, clock=fixed_clock()).verify(signed)
        assert [] == [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    asyncio.run(scenario())
    assert 3 == len(resolver.started)
    assert sorted(resolver.cancelled) == sorted(n for n in resolver.started if "slow" in n)
    assert [] == resolver.finished
