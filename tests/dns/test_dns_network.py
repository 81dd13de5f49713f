"""
The dnspython resolvers against a real Knot server: TCP fallback, failures, settings.

Temporary failures (server stopped, REFUSED, SERVFAIL) must raise DnsTempError, never
look like a missing record and never leak a dnspython exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.resolver
import pytest

from dnsserver import DnsServer, free_port, make_zone
from oxdkim import Algorithm, DnsPermError, DnsStatus, DnsTempError, SigningKey, TxtAnswer
from oxdkim._dns.dnspython import parse_nameserver, step_from_error
from oxdkim.exceptions import ConfigurationError
from oxdkim.resolvers import AsyncDnspythonResolver, DnspythonResolver, ZoneFileResolver

Factory = Callable[..., DnsServer]


def txt_rdata(value: str) -> str:
    """A TXT value as zone-file character-strings of at most 255 bytes."""
    return " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


@pytest.fixture(scope="module")
def big_key() -> str:
    """The key record of a fresh 4096-bit RSA key (about 750 bytes)."""
    return SigningKey.generate(Algorithm.RSA_SHA256, bits=4096).txt_record()


@pytest.fixture(scope="module")
def big_zone(big_key: str) -> str:
    """A zone whose answers exceed 1232 bytes (the EDNS payload) or 512 (no EDNS)."""
    padding = "".join(f"big TXT {txt_rdata(f'padding-{i}-' + 'x' * 240)}\n" for i in range(4))
    body = (
        f"key._domainkey TXT {txt_rdata(big_key)}\n"
        f"big TXT {txt_rdata(big_key)}\n{padding}"
        "alias CNAME key._domainkey\n"
        'short TXT "v=DKIM1; p="\n'
        "slow 100 CNAME short\n"
    )
    return make_zone("big.test", body, soa_minimum=45)


@pytest.fixture(scope="module")
def server(dns_server_factory: Factory, big_zone: str) -> Iterator[DnsServer]:
    """Knot serving big.test, plus a zone whose file is broken (answers SERVFAIL)."""
    with dns_server_factory({"big.test": big_zone}, broken_zones=["broken.test"]) as srv:
        yield srv


@pytest.fixture
def stoppable(dns_server_factory: Factory) -> Iterator[DnsServer]:
    """A server of its own, which the test may stop and start."""
    zone = make_zone("up.test", 'key TXT "v=DKIM1; p=up"\n')
    with dns_server_factory({"up.test": zone}) as srv:
        yield srv


def test_udp_answer_is_truncated_at_the_payload_size(server: DnsServer) -> None:
    """The big RRset does not fit in a 1232-byte UDP answer: the server sets TC."""
    query = dns.message.make_query("big.big.test", "TXT", use_edns=0, payload=1232)
    response = dns.query.udp(query, server.host, port=server.port, timeout=2)
    assert dns.flags.TC & response.flags


def test_truncated_answer_is_fetched_over_tcp(server: DnsServer, big_key: str) -> None:
    """A TXT RRset larger than the UDP payload is answered whole, through TCP fallback."""
    answer = DnspythonResolver([server.nameserver], timeout=2.0).txt("big.big.test")
    assert DnsStatus.NOERROR == answer.status
    assert 5 == len(answer.records)
    assert big_key.encode() in answer.records


def test_key_record_without_edns_is_fetched_over_tcp(server: DnsServer, big_key: str) -> None:
    """Without EDNS a 4096-bit key record (> 512 bytes) still arrives whole, via TCP."""
    resolver = DnspythonResolver([server.nameserver], edns=False, timeout=2.0)
    assert (big_key.encode(),) == resolver.txt("key._domainkey.big.test").records
    assert (big_key.encode(),) == resolver.txt("alias.big.test").records


def test_tcp_only(server: DnsServer, big_key: str) -> None:
    """tcp=True asks over TCP from the start and gets the same answer."""
    resolver = DnspythonResolver([server.nameserver], tcp=True)
    assert (big_key.encode(),) == resolver.txt("key._domainkey.big.test").records


def test_async_truncated_answer_is_fetched_over_tcp(server: DnsServer, big_key: str) -> None:
    """The async resolver also falls back to TCP for a truncated answer."""
    resolver = AsyncDnspythonResolver([server.nameserver], timeout=2.0)
    answer = asyncio.run(resolver.txt("big.big.test"))
    assert 5 == len(answer.records)
    assert big_key.encode() in answer.records


def test_chain_ttl_is_the_lowest_along_the_chain(server: DnsServer, tmp_path: Path) -> None:
    """A TXT reached through a CNAME with TTL 100 has TTL 100, from Knot and a zone file."""
    expected = TxtAnswer(
        "slow.big.test", DnsStatus.NOERROR, (b"v=DKIM1; p=",), 100, ("short.big.test",)
    )
    path = tmp_path / "big.test.zone"
    path.write_text(server.zones["big.test"])
    assert expected == DnspythonResolver([server.nameserver]).txt("slow.big.test")
    assert expected == ZoneFileResolver(path).txt("slow.big.test")


def test_refused_is_a_temporary_failure(server: DnsServer) -> None:
    """A server that does not serve the zone answers REFUSED: DnsTempError naming it."""
    resolver = DnspythonResolver([server.nameserver], timeout=1.0)
    with pytest.raises(DnsTempError, match="REFUSED") as caught:
        resolver.txt("sel._domainkey.elsewhere.test")
    assert "sel._domainkey.elsewhere.test" == caught.value.name
    with pytest.raises(DnsTempError, match="REFUSED"):
        resolver.cname("sel._domainkey.elsewhere.test")


def test_servfail_is_a_temporary_failure(server: DnsServer) -> None:
    """A zone Knot could not load answers SERVFAIL: DnsTempError with the rcode."""
    resolver = DnspythonResolver([server.nameserver], timeout=1.0)
    with pytest.raises(DnsTempError, match="SERVFAIL"):
        resolver.txt("sel._domainkey.broken.test")


def test_async_refused_and_servfail(server: DnsServer) -> None:
    """The async resolver maps REFUSED and SERVFAIL to DnsTempError too."""
    resolver = AsyncDnspythonResolver([server.nameserver], timeout=1.0)

    async def lookups() -> tuple[BaseException | TxtAnswer, ...]:
        return await asyncio.gather(
            resolver.txt("x.elsewhere.test"),
            resolver.txt("x.broken.test"),
            resolver.txt("key._domainkey.big.test"),
            return_exceptions=True,
        )

    refused, servfail, ok = asyncio.run(lookups())
    assert isinstance(refused, DnsTempError)
    assert "REFUSED" in str(refused)
    assert isinstance(servfail, DnsTempError)
    assert "SERVFAIL" in str(servfail)
    assert isinstance(ok, TxtAnswer)


def test_stopped_server_gives_temporary_failure(stoppable: DnsServer) -> None:
    """Stopping the server mid-test turns answers into DnsTempError; restarting heals."""
    resolver = DnspythonResolver([stoppable.nameserver], timeout=0.3, retries=0)
    assert (b"v=DKIM1; p=up",) == resolver.txt("key.up.test").records
    stoppable.stop()
    with pytest.raises(DnsTempError):
        resolver.txt("key.up.test")
    with pytest.raises(DnsTempError):
        resolver.cname("key.up.test")
    stoppable.start()
    assert (b"v=DKIM1; p=up",) == resolver.txt("key.up.test").records


def test_async_stopped_server_gives_temporary_failure(stoppable: DnsServer) -> None:
    """The async resolver reports a stopped server as DnsTempError, never NXDOMAIN."""
    resolver = AsyncDnspythonResolver([stoppable.nameserver], timeout=0.3, retries=0)
    stoppable.stop()
    with pytest.raises(DnsTempError):
        asyncio.run(resolver.txt("key.up.test"))
    stoppable.start()
    assert (b"v=DKIM1; p=up",) == asyncio.run(resolver.txt("key.up.test")).records


def test_concurrent_lookups_from_threads(server: DnsServer, big_key: str) -> None:
    """One sync resolver shared by eight threads answers every lookup correctly."""
    resolver = DnspythonResolver([server.nameserver], timeout=2.0)
    names = ["key._domainkey.big.test", "alias.big.test", "nothing.big.test"] * 10
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(resolver.txt, names))
    statuses = {a.name: a.status for a in answers}
    assert {
        "key._domainkey.big.test": DnsStatus.NOERROR,
        "alias.big.test": DnsStatus.NOERROR,
        "nothing.big.test": DnsStatus.NXDOMAIN,
    } == statuses
    assert all(a.records == (big_key.encode(),) for a in answers if a.records)


def test_many_concurrent_async_lookups(server: DnsServer) -> None:
    """Two hundred concurrent async lookups all get their answer."""
    resolver = AsyncDnspythonResolver([server.nameserver], timeout=2.0)

    async def run() -> list[TxtAnswer]:
        names = [f"n{i}.big.test" for i in range(199)] + ["short.big.test"]
        return await asyncio.gather(*(resolver.txt(n) for n in names))

    answers = asyncio.run(run())
    assert 199 == sum(a.status is DnsStatus.NXDOMAIN for a in answers)
    assert (b"v=DKIM1; p=",) == answers[-1].records


def test_dead_first_server_falls_over_to_the_next(stoppable: DnsServer) -> None:
    """With a dead server listed first, the lookup is answered by the second one."""
    dead = f"127.0.0.1:{free_port()}"
    resolver = DnspythonResolver([dead, stoppable.nameserver], timeout=0.3, retries=0)
    assert (b"v=DKIM1; p=up",) == resolver.txt("key.up.test").records


def test_nameserver_ipv6_loopback_with_port() -> None:
    """An IPv6 nameserver in brackets is accepted; nothing listens, so DnsTempError."""
    port = free_port()
    resolver = DnspythonResolver([f"[::1]:{port}"], timeout=0.2, retries=0)
    assert (f"[::1]:{port}",) == resolver.nameservers
    with pytest.raises(DnsTempError):
        resolver.txt("key.up.test")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", ("192.0.2.1", 53)),
        ("192.0.2.1:5353", ("192.0.2.1", 5353)),
        ("[2001:db8::1]:5353", ("2001:db8::1", 5353)),
        ("[2001:db8::1]", ("2001:db8::1", 53)),
        ("2001:db8::1", ("2001:db8::1", 53)),
        (" 127.0.0.1 ", ("127.0.0.1", 53)),
    ],
)
def test_parse_nameserver(text: str, expected: tuple[str, int]) -> None:
    """host[:port] strings give an IP address and a port (53 by default)."""
    assert expected == parse_nameserver(text)


@pytest.mark.parametrize(
    "text",
    [
        "dns.example",
        "192.0.2.1:0",
        "192.0.2.1:65536",
        "192.0.2.1:",
        "192.0.2.1:x",
        "[::1",
        "[::1]x",
        "",
    ],
)
def test_parse_nameserver_rejects(text: str) -> None:
    """Host names, bad ports and broken brackets are ConfigurationErrors."""
    with pytest.raises(ConfigurationError):
        parse_nameserver(text)


@pytest.mark.parametrize(
    "options",
    [{"timeout": 0}, {"timeout": 61}, {"retries": -1}, {"payload": 100}, {"max_hops": -1}],
)
def test_bad_settings_are_refused(options: dict[str, float]) -> None:
    """Out-of-range settings are refused when the resolver is built."""
    with pytest.raises(ConfigurationError):
        DnspythonResolver(["127.0.0.1"], **options)  # type: ignore[arg-type]


def test_empty_nameserver_list_is_refused() -> None:
    """An empty list is an error, not a silent fallback to the system's servers."""
    with pytest.raises(ConfigurationError):
        DnspythonResolver([])


def test_one_nameserver_string_is_accepted() -> None:
    """A single string is taken as one nameserver, not as a list of characters."""
    assert ("127.0.0.1:5300",) == DnspythonResolver("127.0.0.1:5300").nameservers


@pytest.mark.parametrize(
    "exc",
    [
        dns.resolver.NoNameservers(),
        dns.resolver.LifetimeTimeout(timeout=1.0, errors=[]),
        dns.resolver.NoRootSOA(),
        dns.resolver.NoMetaqueries(),
        ConnectionRefusedError(),
    ],
)
def test_dnspython_errors_become_temporary_failures(exc: Exception) -> None:
    """Every dnspython (and socket) failure becomes DnsTempError, none escapes as is."""
    with pytest.raises(DnsTempError):
        step_from_error("x.example", dns.rdatatype.TXT, exc)


def test_yxdomain_is_a_permanent_error() -> None:
    """YXDOMAIN (a DNAME that overflows the name) is a permanent error."""
    with pytest.raises(DnsPermError):
        step_from_error("x.example", dns.rdatatype.TXT, dns.resolver.YXDOMAIN())
