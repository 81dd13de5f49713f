"""
CachingResolver: TTLs honoured, negative answers cached, size bounded, failures not kept.

The clock is a fake one that tests move by hand; the resolver behind the cache is an
InMemoryZone that counts the questions it gets, so a hit is a question not asked.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator

import pytest

from dnsserver import DnsServer, make_zone
from oxdkim import DnsStatus, DnsTempError
from oxdkim.exceptions import ConfigurationError
from oxdkim.resolvers import (
    AnswerCache,
    AsyncCachingResolver,
    AsyncDnspythonResolver,
    CachingResolver,
    DnspythonResolver,
    InMemoryZone,
)

KEY = "sel._domainkey.example.com"


class FakeClock:
    """Monotonic seconds that only move when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at t=1000."""
    return FakeClock()


@pytest.fixture
def zone() -> InMemoryZone:
    """A key with TTL 300, an alias to it, and negative answers with TTL 60."""
    return InMemoryZone(
        {KEY: "v=DKIM1; p=key", "other.example.com": "x"},
        cname={"alias.example.com": KEY},
        ttl=300,
        negative_ttl=60,
    )


def test_answer_is_kept_for_its_ttl(zone: InMemoryZone, clock: FakeClock) -> None:
    """A second lookup within the TTL is a hit; after the TTL the zone is asked again."""
    cache = CachingResolver(zone, clock=clock)
    first = cache.txt(KEY)
    clock.now += 299
    assert first == cache.txt(KEY)
    assert 1 == zone.queries[("TXT", KEY)]
    clock.now += 1
    assert first == cache.txt(KEY)
    assert 2 == zone.queries[("TXT", KEY)]


def test_lookup_names_are_normalized_before_caching(zone: InMemoryZone, clock: FakeClock) -> None:
    """'KEY.' and 'key' are one cache entry."""
    cache = CachingResolver(zone, clock=clock)
    cache.txt(KEY)
    cache.txt(KEY.upper() + ".")
    assert 1 == zone.queries[("TXT", KEY)]
    assert 1 == cache.cache.hits


def test_negative_answers_are_cached_for_the_negative_ttl(
    zone: InMemoryZone, clock: FakeClock
) -> None:
    """NXDOMAIN and NODATA are kept for the SOA-derived negative TTL, then asked again."""
    cache = CachingResolver(zone, clock=clock)
    assert DnsStatus.NXDOMAIN == cache.txt("missing.example.com").status
    assert DnsStatus.NODATA == cache.cname(KEY).status
    clock.now += 59
    cache.txt("missing.example.com")
    cache.cname(KEY)
    assert 1 == zone.queries[("TXT", "missing.example.com")]
    assert 1 == zone.queries[("CNAME", KEY)]
    clock.now += 1
    cache.txt("missing.example.com")
    assert 2 == zone.queries[("TXT", "missing.example.com")]


def test_negative_ttl_is_capped(clock: FakeClock) -> None:
    """A long negative TTL is cut to max_negative_ttl, so a new key is seen soon."""
    zone = InMemoryZone({}, negative_ttl=86400)
    cache = CachingResolver(zone, clock=clock, max_negative_ttl=30)
    cache.txt("new._domainkey.example.com")
    clock.now += 30
    cache.txt("new._domainkey.example.com")
    assert 2 == zone.queries[("TXT", "new._domainkey.example.com")]


def test_positive_ttl_is_capped(clock: FakeClock) -> None:
    """A long record TTL is cut to max_ttl."""
    zone = InMemoryZone({KEY: "k"}, ttl=10**6)
    cache = CachingResolver(zone, clock=clock, max_ttl=100)
    cache.txt(KEY)
    clock.now += 100
    cache.txt(KEY)
    assert 2 == zone.queries[("TXT", KEY)]


def test_unknown_negative_ttl_uses_the_default(clock: FakeClock) -> None:
    """A negative answer without an SOA is kept for unknown_ttl seconds."""
    zone = InMemoryZone({}, negative_ttl=None)
    cache = CachingResolver(zone, clock=clock, unknown_ttl=5)
    assert cache.txt("nothing.example.com").ttl is None
    clock.now += 4
    cache.txt("nothing.example.com")
    assert 1 == zone.queries[("TXT", "nothing.example.com")]
    clock.now += 1
    cache.txt("nothing.example.com")
    assert 2 == zone.queries[("TXT", "nothing.example.com")]


def test_zero_ttl_is_not_cached(clock: FakeClock) -> None:
    """An answer with TTL 0 is asked for every time."""
    zone = InMemoryZone({KEY: "k"}, ttl=0)
    cache = CachingResolver(zone, clock=clock)
    cache.txt(KEY)
    cache.txt(KEY)
    assert 2 == zone.queries[("TXT", KEY)]
    assert 0 == len(cache.cache)


def test_size_is_bounded_least_recently_used_first(zone: InMemoryZone, clock: FakeClock) -> None:
    """Beyond max_entries the least recently used answer goes; recently used ones stay."""
    cache = CachingResolver(zone, clock=clock, max_entries=2)
    cache.txt("a.example.com")
    cache.txt("b.example.com")
    cache.txt("a.example.com")  # a is now the most recently used
    cache.txt("c.example.com")  # evicts b
    assert 2 == len(cache.cache)
    cache.txt("a.example.com")
    cache.txt("b.example.com")
    assert 1 == zone.queries[("TXT", "a.example.com")]
    assert 2 == zone.queries[("TXT", "b.example.com")]


def test_bytes_are_bounded_whatever_the_records_weigh(clock: FakeClock) -> None:
    """
    Attacker-sized TXT answers (60 KB each) cannot fill memory: the bytes held stay under
    max_bytes, and an answer over an eighth of it is not kept at all.
    """
    big = "x" * 60_000
    zone = InMemoryZone({f"k{i}.example.com": [big[:250]] * 240 for i in range(100)})
    cache = CachingResolver(zone, clock=clock, max_bytes=1 << 20)
    for i in range(100):
        cache.txt(f"k{i}.example.com")
    assert cache.cache.size <= 1 << 20
    assert 10 <= len(cache.cache) < 20  # ~60 KB each: about 16 fit
    single = CachingResolver(InMemoryZone({"huge.example.com": [big] * 3}), max_bytes=1 << 20)
    single.txt("huge.example.com")
    assert (0, 0) == (len(single.cache), single.cache.size)


def test_temporary_failures_are_not_cached(zone: InMemoryZone, clock: FakeClock) -> None:
    """A DnsTempError passes through and is not remembered: the next lookup asks again."""
    cache = CachingResolver(zone, clock=clock)
    zone.fail(KEY)
    with pytest.raises(DnsTempError):
        cache.txt(KEY)
    zone.recover(KEY)
    assert (b"v=DKIM1; p=key",) == cache.txt(KEY).records
    assert 2 == zone.queries[("TXT", KEY)]
    assert 1 == len(cache.cache)


def test_chain_answer_is_cached_under_the_name_asked(zone: InMemoryZone, clock: FakeClock) -> None:
    """A TXT reached through a CNAME is cached under the alias, chain included."""
    cache = CachingResolver(zone, clock=clock)
    first = cache.txt("alias.example.com")
    assert first == cache.txt("alias.example.com")
    assert (KEY,) == first.chain
    assert 1 == zone.queries[("TXT", "alias.example.com")]


def test_txt_and_cname_are_cached_apart(zone: InMemoryZone, clock: FakeClock) -> None:
    """TXT and CNAME answers for one name are separate entries."""
    cache = CachingResolver(zone, clock=clock)
    assert DnsStatus.NOERROR == cache.txt("alias.example.com").status
    assert KEY == cache.cname("alias.example.com").target
    assert KEY == cache.cname("alias.example.com").target
    assert 1 == zone.queries[("CNAME", "alias.example.com")]


def test_shared_cache_between_resolvers(zone: InMemoryZone, clock: FakeClock) -> None:
    """Two wrappers given one AnswerCache share its entries."""
    shared = AnswerCache(clock=clock)
    CachingResolver(zone, cache=shared).txt(KEY)
    CachingResolver(zone, cache=shared).txt(KEY)
    assert 1 == zone.queries[("TXT", KEY)]


def test_concurrent_use_from_threads(zone: InMemoryZone) -> None:
    """Many threads using one cache get correct answers and the bound holds."""
    cache = CachingResolver(zone, max_entries=8)
    names = [f"n{i}.example.com" for i in range(20)] + [KEY]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                for name in names:
                    answer = cache.txt(name)
                    expected = DnsStatus.NOERROR if name == KEY else DnsStatus.NXDOMAIN
                    assert expected == answer.status
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors
    assert 8 >= len(cache.cache)


@pytest.mark.parametrize(
    "options",
    [{"max_entries": 0}, {"max_ttl": -1}, {"max_negative_ttl": -1}, {"unknown_ttl": 1.5}],
)
def test_bad_cache_settings_are_refused(options: dict[str, int]) -> None:
    """Nonsense limits are refused when the cache is built."""
    with pytest.raises(ConfigurationError):
        AnswerCache(**options)  # type: ignore[arg-type]


def test_async_cache_honours_ttl_and_skips_failures(zone: InMemoryZone, clock: FakeClock) -> None:
    """The async twin caches answers for their TTL and does not cache DnsTempError."""
    cache = AsyncCachingResolver(zone.as_async(), clock=clock)

    async def run() -> None:
        await cache.txt(KEY)
        await cache.txt(KEY)
        await cache.cname("alias.example.com")
        await cache.cname("alias.example.com")
        zone.fail("other.example.com")
        with pytest.raises(DnsTempError):
            await cache.txt("other.example.com")
        zone.recover()
        await cache.txt("other.example.com")
        clock.now += 300
        await cache.txt(KEY)

    asyncio.run(run())
    assert 2 == zone.queries[("TXT", KEY)]
    assert 1 == zone.queries[("CNAME", "alias.example.com")]
    assert 2 == zone.queries[("TXT", "other.example.com")]


@pytest.fixture
def key_server(dns_server_factory: Callable[..., DnsServer]) -> Iterator[DnsServer]:
    """A real server with one key, to be stopped by the test."""
    zone = make_zone("cache.test", 'sel._domainkey TXT "v=DKIM1; p=cached"\n')
    with dns_server_factory({"cache.test": zone}) as server:
        yield server


def test_cache_over_real_server_survives_an_outage(key_server: DnsServer) -> None:
    """With the server down, a cached key is still served; an uncached name is temperror."""
    cache = CachingResolver(DnspythonResolver([key_server.nameserver], timeout=0.3, retries=0))
    assert (b"v=DKIM1; p=cached",) == cache.txt("sel._domainkey.cache.test").records
    key_server.stop()
    assert (b"v=DKIM1; p=cached",) == cache.txt("sel._domainkey.cache.test").records
    with pytest.raises(DnsTempError):
        cache.txt("other._domainkey.cache.test")
    assert 1 == len(cache.cache)


def test_async_cache_over_real_server(key_server: DnsServer) -> None:
    """The async cache in front of the async dnspython resolver answers from the cache."""
    cache = AsyncCachingResolver(
        AsyncDnspythonResolver([key_server.nameserver], timeout=0.3, retries=0)
    )

    async def run() -> tuple[bytes, ...]:
        await cache.txt("sel._domainkey.cache.test")
        key_server.stop()
        return (await cache.txt("sel._domainkey.cache.test")).records

    assert (b"v=DKIM1; p=cached",) == asyncio.run(run())
