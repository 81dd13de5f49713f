"""
The sync and async caching host resolvers run one caching plan: for generated sequences
of lookups, clock steps and failing names they give the same answers and errors, ask the
resolver behind them the same questions, and end with the same hits, misses and sizes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from oxdkim.exceptions import DnsError
from oxdkim.resolvers import AsyncCachingHostResolver, CachingHostResolver, InMemoryZone

ZONE = """\
a.test. 300 IN TXT "v=spf1 -all"
b.test. 30 IN TXT "short lived"
alias.test. 120 IN CNAME a.test.
a.test. 600 IN MX 10 mx.a.test.
mx.a.test. 60 IN A 192.0.2.1
mx.a.test. 90 IN AAAA 2001:db8::1
"""
NAMES = ("a.test", "b.test", "alias.test", "mx.a.test", "none.test", "A.TEST.", "bad..name")
KINDS = ("txt", "cname", "mx", "addresses")


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Counting:
    """The resolver behind the cache: a zone that logs each question."""

    def __init__(self, failing: frozenset[str]) -> None:
        self.zone = InMemoryZone(zone_text=ZONE, failing=failing)
        self.asked: list[tuple[str, str]] = []

    def ask(self, kind: str, name: str) -> Any:
        self.asked.append((kind, name))
        return getattr(self.zone, kind)(name)


class _Sync(_Counting):
    def txt(self, name: str) -> Any:
        return self.ask("txt", name)

    def cname(self, name: str) -> Any:
        return self.ask("cname", name)

    def mx(self, name: str) -> Any:
        return self.ask("mx", name)

    def addresses(self, name: str) -> Any:
        return self.ask("addresses", name)


class _Async(_Counting):
    async def txt(self, name: str) -> Any:
        return self.ask("txt", name)

    async def cname(self, name: str) -> Any:
        return self.ask("cname", name)

    async def mx(self, name: str) -> Any:
        return self.ask("mx", name)

    async def addresses(self, name: str) -> Any:
        return self.ask("addresses", name)


def _outcome(call: Any) -> Any:
    try:
        return call()
    except DnsError as exc:
        return (type(exc), str(exc))


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(KINDS), st.sampled_from(NAMES), st.sampled_from((0, 1, 29, 61))),
        max_size=30,
    ),
    failing=st.frozensets(st.sampled_from(NAMES[:5]), max_size=2),
    max_negative_ttl=st.sampled_from((0, 40, 900)),
)
def test_sync_and_async_caches_agree(
    steps: list[tuple[str, str, int]], failing: frozenset[str], max_negative_ttl: int
) -> None:
    sync_clock, async_clock = _Clock(), _Clock()
    inner, ainner = _Sync(failing), _Async(failing)
    cache = CachingHostResolver(inner, clock=sync_clock, max_negative_ttl=max_negative_ttl)
    acache = AsyncCachingHostResolver(ainner, clock=async_clock, max_negative_ttl=max_negative_ttl)

    async def run_async(kind: str, name: str) -> Any:
        try:
            return await getattr(acache, kind)(name)
        except DnsError as exc:
            return (type(exc), str(exc))

    for kind, name, seconds in steps:
        sync_clock.now += seconds
        async_clock.now += seconds
        one = _outcome(lambda kind=kind, name=name: getattr(cache, kind)(name))
        other = asyncio.run(run_async(kind, name))
        assert one == other
    assert inner.asked == ainner.asked
    assert (cache.cache.hits, cache.cache.misses, cache.cache.size, len(cache.cache)) == (
        acache.cache.hits,
        acache.cache.misses,
        acache.cache.size,
        len(acache.cache),
    )
