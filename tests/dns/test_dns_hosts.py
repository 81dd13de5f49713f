"""
MX and address lookups beyond the behaviour table: temporary failures (simulated, SERVFAIL,
REFUSED, a stopped server) are DnsTempError, never a missing record; the caches keep
answers for their TTL and never keep failures; bad MX and address data is refused.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator

import pytest

import oxdkim.resolvers
from dnsserver import DnsServer, make_zone
from oxdkim import AddressAnswer, DnsStatus, DnsTempError, MxAnswer
from oxdkim._base.sansio import AsyncByClass
from oxdkim.exceptions import ConfigurationError
from oxdkim.resolvers import (
    AnswerCache,
    AsyncCachingHostResolver,
    AsyncCachingResolver,
    AsyncDnspythonResolver,
    CachingHostResolver,
    CachingResolver,
    DnspythonResolver,
    InlineAsyncHostResolver,
    InlineAsyncResolver,
    InMemoryZone,
)
from oxdkim.typing import AsyncHostResolver, HostResolver, Resolver


class FakeClock:
    """Monotonic seconds that only move when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def zone(**kwargs: object) -> InMemoryZone:
    return InMemoryZone(
        {"txt.example": "x"},
        mx={"mail.example": ["mx1.example", "mx2.example"]},
        addresses={"mx1.example": ["192.0.2.1", "2001:db8::1"]},
        ttl=300,
        negative_ttl=60,
        **kwargs,  # type: ignore[arg-type]
    )


# --- in memory ----------------------------------------------------------------------------


def test_failing_names_raise_for_mx_and_addresses() -> None:
    """A simulated SERVFAIL at the name, or at a CNAME target, is DnsTempError."""
    resolver = zone(
        failing=["mail.example", "mx1.example"], cname={"to-mx1.example": "mx1.example"}
    )
    for lookup in (
        lambda: resolver.mx("mail.example"),
        lambda: resolver.addresses("mx1.example"),
        lambda: resolver.addresses("to-mx1.example"),
        lambda: asyncio.run(resolver.as_async().mx("mail.example")),
        lambda: asyncio.run(resolver.as_async().addresses("mx1.example")),
    ):
        with pytest.raises(DnsTempError):
            lookup()
    resolver.recover()
    assert ("mx1.example", "mx2.example") == resolver.mx("mail.example").exchanges


def test_a_placeholder_is_not_an_address() -> None:
    """other=[(name, "A")] makes a name exist; it holds no address (NODATA)."""
    resolver = InMemoryZone({}, other=[("host.example", "A")])
    assert DnsStatus.NODATA is resolver.addresses("host.example").status


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mx": {"m.example": ["bad name.example"]}},
        {"mx": {"m.example": [(70000, "mx.example")]}},
        {"mx": {"m.example": [(-1, "mx.example")]}},
        {"addresses": {"h.example": "192.0.2.300"}},
        {"addresses": {"h.example": ["mx.example"]}},
        {"mx": {"m.example": ["mx.example"]}, "cname": {"m.example": "x.example"}},
    ],
)
def test_bad_mx_and_address_data_is_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        InMemoryZone({}, **kwargs)  # type: ignore[arg-type]


def test_the_protocols() -> None:
    """Every built-in resolver is a HostResolver; the plain cache over any resolver stays
    a Resolver only."""
    memory = zone()
    assert isinstance(memory, HostResolver)
    assert isinstance(CachingHostResolver(memory), HostResolver)
    assert isinstance(memory.as_async(), AsyncHostResolver)
    assert isinstance(DnspythonResolver(["127.0.0.1"]), HostResolver)
    assert isinstance(AsyncDnspythonResolver(["127.0.0.1"]), AsyncHostResolver)
    plain = CachingResolver(memory)
    assert isinstance(plain, Resolver)
    assert not isinstance(plain, HostResolver)


def test_every_async_resolver_says_so_by_class() -> None:
    """Each async resolver oxdkim exports derives from AsyncByClass (how audit_many and
    preview_many know it is async without probing it); no sync one does."""
    classes = [
        obj
        for name in oxdkim.resolvers.__all__
        if isinstance(obj := getattr(oxdkim.resolvers, name), type) and hasattr(obj, "txt")
    ]
    asynchronous = {c.__name__ for c in classes if inspect.iscoroutinefunction(c.txt)}
    assert {"AsyncDnspythonResolver", "AsyncCachingResolver", "InlineAsyncResolver"} <= asynchronous
    assert asynchronous == {c.__name__ for c in classes if issubclass(c, AsyncByClass)}


def test_host_wrappers_are_their_plain_wrappers_too() -> None:
    """A host cache or inline adapter is the plain one (one constructor, its arguments)."""
    memory = zone()
    clock = FakeClock()
    cache = AnswerCache(clock=clock)
    for host, plain in (
        (CachingHostResolver(memory, cache=cache), CachingResolver),
        (AsyncCachingHostResolver(memory.as_async(), cache=cache), AsyncCachingResolver),
        (InlineAsyncHostResolver(memory), InlineAsyncResolver),
    ):
        assert isinstance(host, plain)
    assert CachingHostResolver(memory, cache=cache).cache is cache
    assert CachingHostResolver(memory, max_entries=3, clock=clock).cache is not cache
    with pytest.raises(ConfigurationError):
        AsyncCachingHostResolver(memory.as_async(), max_entries=0)


# --- the caches ---------------------------------------------------------------------------


def test_mx_and_address_answers_are_cached_for_their_ttl() -> None:
    clock = FakeClock()
    memory = zone()
    cache = CachingHostResolver(memory, clock=clock)
    first = cache.mx("mail.example")
    assert first == cache.mx("MAIL.example.")
    assert cache.addresses("mx1.example") == cache.addresses("mx1.example")
    assert 1 == memory.queries[("MX", "mail.example")]
    assert 1 == memory.queries[("A", "mx1.example")]
    assert 1 == memory.queries[("AAAA", "mx1.example")]
    clock.now += 300
    cache.mx("mail.example")
    assert 2 == memory.queries[("MX", "mail.example")]


def test_negative_host_answers_are_cached_for_the_negative_ttl() -> None:
    clock = FakeClock()
    memory = zone()
    cache = CachingHostResolver(memory, clock=clock)
    assert DnsStatus.NODATA is cache.mx("txt.example").status
    assert DnsStatus.NXDOMAIN is cache.addresses("mx2.example").status
    clock.now += 59
    cache.mx("txt.example")
    cache.addresses("mx2.example")
    assert 1 == memory.queries[("MX", "txt.example")]
    assert 1 == memory.queries[("A", "mx2.example")]
    clock.now += 1
    cache.mx("txt.example")
    assert 2 == memory.queries[("MX", "txt.example")]


def test_failures_are_never_cached() -> None:
    memory = zone(failing=["mail.example", "mx1.example"])
    cache = CachingHostResolver(memory)
    async_cache = AsyncCachingHostResolver(memory.as_async())
    for _ in range(2):
        with pytest.raises(DnsTempError):
            cache.mx("mail.example")
        with pytest.raises(DnsTempError):
            asyncio.run(async_cache.addresses("mx1.example"))
    assert 2 == memory.queries[("MX", "mail.example")]
    assert 2 == memory.queries[("A", "mx1.example")]
    memory.recover()
    assert isinstance(cache.mx("mail.example"), MxAnswer)
    assert isinstance(asyncio.run(async_cache.addresses("mx1.example")), AddressAnswer)


# --- the network --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(dns_server_factory: Callable[..., DnsServer]) -> Iterator[DnsServer]:
    """Knot serving up.test, and broken.test whose file is broken (SERVFAIL)."""
    body = "mail MX 10 mx1\nmx1 A 192.0.2.1\nmx1 AAAA 2001:db8::1\n"
    with dns_server_factory(
        {"up.test": make_zone("up.test", body)}, broken_zones=["broken.test"]
    ) as srv:
        yield srv


@pytest.mark.dnsserver
def test_servfail_and_refused_are_temporary_for_mx_and_addresses(server: DnsServer) -> None:
    sync = DnspythonResolver([server.nameserver], timeout=1.0)
    async_ = AsyncDnspythonResolver([server.nameserver], timeout=1.0)
    for name, rcode in (("mail.broken.test", "SERVFAIL"), ("mail.elsewhere.test", "REFUSED")):
        with pytest.raises(DnsTempError, match=rcode):
            sync.mx(name)
        with pytest.raises(DnsTempError, match=rcode):
            sync.addresses(name)
        with pytest.raises(DnsTempError, match=rcode):
            asyncio.run(async_.mx(name))
        with pytest.raises(DnsTempError, match=rcode):
            asyncio.run(async_.addresses(name))
    assert ("mx1.up.test",) == sync.mx("mail.up.test").exchanges


@pytest.mark.dnsserver
def test_a_stopped_server_is_temporary_for_mx_and_addresses(
    dns_server_factory: Callable[..., DnsServer],
) -> None:
    with dns_server_factory({"up.test": make_zone("up.test", "mx1 A 192.0.2.1\n")}) as srv:
        resolver = DnspythonResolver([srv.nameserver], timeout=0.3, retries=0)
        assert ("192.0.2.1",) == resolver.addresses("mx1.up.test").ipv4
        srv.stop()
        with pytest.raises(DnsTempError):
            resolver.addresses("mx1.up.test")
        with pytest.raises(DnsTempError):
            resolver.mx("up.test")
