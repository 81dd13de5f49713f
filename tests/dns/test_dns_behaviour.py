"""
One behaviour table, answered by every resolver: in memory, zone file, real server.

The same questions about the same zones must give the same typed answers whichever
resolver asks, so that tests run from memory mean what the network gives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from behaviour_zones import SOA_MINIMUM, TTL, ZONES

from dnsserver import DnsServer
from oxdkim import CnameAnswer, DnsPermError, DnsStatus, TxtAnswer
from oxdkim._base.answers import AddressAnswer, MxAnswer
from oxdkim.resolvers import (
    AsyncCachingHostResolver,
    AsyncDnspythonResolver,
    CachingHostResolver,
    DnspythonResolver,
    InMemoryZone,
    ZoneFileResolver,
)
from oxdkim.typing import AsyncHostResolver, HostResolver

NOERROR, NXDOMAIN, NODATA = DnsStatus.NOERROR, DnsStatus.NXDOMAIN, DnsStatus.NODATA
E = "example.test"
LOOP = DnsPermError


def _txt(name: str, status: DnsStatus, records: tuple[bytes, ...] = (), *chain: str) -> TxtAnswer:
    ttl = TTL if status is NOERROR else SOA_MINIMUM
    return TxtAnswer(name=name, status=status, records=records, ttl=ttl, chain=chain)


TXT_TABLE: list[tuple[str, TxtAnswer | type[Exception]]] = [
    (f"one.{E}", _txt(f"one.{E}", NOERROR, (b"v=DKIM1; p=abc",))),
    (f"multi.{E}", _txt(f"multi.{E}", NOERROR, (b"v=DKIM1; k=rsa; p=abc",))),
    (f"two.{E}", _txt(f"two.{E}", NOERROR, (b"first", b"second"))),
    (f"a-only.{E}", _txt(f"a-only.{E}", NODATA)),
    (E, _txt(E, NODATA)),
    (f"ent.{E}", _txt(f"ent.{E}", NODATA)),
    (f"x.ent.{E}", _txt(f"x.ent.{E}", NOERROR, (b"below an empty non-terminal",))),
    (f"nope.{E}", _txt(f"nope.{E}", NXDOMAIN)),
    (f"deeper.nope.{E}", _txt(f"deeper.nope.{E}", NXDOMAIN)),
    (f"alias.{E}", _txt(f"alias.{E}", NOERROR, (b"v=DKIM1; p=abc",), f"one.{E}")),
    (
        f"alias2.{E}",
        _txt(f"alias2.{E}", NOERROR, (b"v=DKIM1; p=abc",), f"alias.{E}", f"one.{E}"),
    ),
    (
        f"cross.{E}",
        _txt(
            f"cross.{E}",
            NOERROR,
            (b"v=DKIM1; k=ed25519; p=key",),
            "sel._domainkey.keys.test",
        ),
    ),
    (f"cross-nx.{E}", _txt(f"cross-nx.{E}", NXDOMAIN, (), "nothing.keys.test")),
    (f"dangling.{E}", _txt(f"dangling.{E}", NXDOMAIN, (), f"missing.{E}")),
    (f"to-a-only.{E}", _txt(f"to-a-only.{E}", NODATA, (), f"a-only.{E}")),
    (f"loop1.{E}", LOOP),
    (f"self.{E}", LOOP),
    (f"long0.{E}", LOOP),
    (
        f"long2.{E}",
        _txt(
            f"long2.{E}",
            NOERROR,
            (b"v=DKIM1; p=abc",),
            *[f"long{i}.{E}" for i in range(3, 10)],
            f"one.{E}",
        ),
    ),
    (f"q.wild.{E}", _txt(f"q.wild.{E}", NOERROR, (b"wildcard",))),
    (f"a.b.wild.{E}", _txt(f"a.b.wild.{E}", NOERROR, (b"wildcard",))),
    (f"wild.{E}", _txt(f"wild.{E}", NODATA)),
    ("ONE.Example.Test.", _txt(f"one.{E}", NOERROR, (b"v=DKIM1; p=abc",))),
]


def _mx(
    name: str, status: DnsStatus, records: tuple[tuple[int, str], ...] = (), *chain: str
) -> MxAnswer:
    ttl = TTL if status is NOERROR else SOA_MINIMUM
    return MxAnswer(name=name, status=status, records=records, ttl=ttl, chain=chain)


_MAIL = ((5, "mx.keys.test"), (10, f"both.{E}"), (20, f"a-only.{E}"))
MX_TABLE: list[tuple[str, MxAnswer | type[Exception]]] = [
    (f"mail.{E}", _mx(f"mail.{E}", NOERROR, _MAIL)),
    (f"mx-alias.{E}", _mx(f"mx-alias.{E}", NOERROR, _MAIL, f"mail.{E}")),
    (f"null-mx.{E}", _mx(f"null-mx.{E}", NOERROR, ((0, "."),))),
    (f"many.{E}", _mx(f"many.{E}", NOERROR, tuple((i, f"mx{i}.{E}") for i in range(11)))),
    (f"one.{E}", _mx(f"one.{E}", NODATA)),
    (f"ent.{E}", _mx(f"ent.{E}", NODATA)),
    (f"nope.{E}", _mx(f"nope.{E}", NXDOMAIN)),
    (f"dangling.{E}", _mx(f"dangling.{E}", NXDOMAIN, (), f"missing.{E}")),
    (f"loop1.{E}", LOOP),
    ("MAIL.Example.Test.", _mx(f"mail.{E}", NOERROR, _MAIL)),
]


def _addr(
    name: str, v4: tuple[str, ...] = (), v6: tuple[str, ...] = (), *chain: str, nx: bool = False
) -> AddressAnswer:
    status = NXDOMAIN if nx else NOERROR if v4 or v6 else NODATA
    ttl = TTL if status is NOERROR else SOA_MINIMUM
    return AddressAnswer(name=name, status=status, ipv4=v4, ipv6=v6, ttl=ttl, chain=chain)


ADDRESS_TABLE: list[tuple[str, AddressAnswer | type[Exception]]] = [
    (f"both.{E}", _addr(f"both.{E}", ("192.0.2.2",), ("2001:db8::2",))),
    (f"a-only.{E}", _addr(f"a-only.{E}", ("192.0.2.1",))),
    (f"v6-only.{E}", _addr(f"v6-only.{E}", (), ("2001:db8::3",))),
    (f"to-a-only.{E}", _addr(f"to-a-only.{E}", ("192.0.2.1",), (), f"a-only.{E}")),
    (f"one.{E}", _addr(f"one.{E}")),
    (f"mail.{E}", _addr(f"mail.{E}")),
    (f"ent.{E}", _addr(f"ent.{E}")),
    (f"alias.{E}", _addr(f"alias.{E}", (), (), f"one.{E}")),
    (f"nope.{E}", _addr(f"nope.{E}", nx=True)),
    (f"dangling.{E}", _addr(f"dangling.{E}", (), (), f"missing.{E}", nx=True)),
    (f"self.{E}", LOOP),
    (f"long0.{E}", LOOP),
]

CNAME_TABLE: list[tuple[str, CnameAnswer]] = [
    (f"alias.{E}", CnameAnswer(f"alias.{E}", NOERROR, f"one.{E}", TTL)),
    (f"cross.{E}", CnameAnswer(f"cross.{E}", NOERROR, "sel._domainkey.keys.test", TTL)),
    (f"loop1.{E}", CnameAnswer(f"loop1.{E}", NOERROR, f"loop2.{E}", TTL)),
    (f"one.{E}", CnameAnswer(f"one.{E}", NODATA, None, SOA_MINIMUM)),
    (f"ent.{E}", CnameAnswer(f"ent.{E}", NODATA, None, SOA_MINIMUM)),
    (f"nope.{E}", CnameAnswer(f"nope.{E}", NXDOMAIN, None, SOA_MINIMUM)),
]


def dict_zone() -> InMemoryZone:
    """The two zones of conftest.ZONES written as InMemoryZone's dict shorthand."""
    cnames = {
        f"alias.{E}": f"one.{E}",
        f"alias2.{E}": f"alias.{E}",
        f"cross.{E}": "sel._domainkey.keys.test",
        f"cross-nx.{E}": "nothing.keys.test",
        f"dangling.{E}": f"missing.{E}",
        f"to-a-only.{E}": f"a-only.{E}",
        f"loop1.{E}": f"loop2.{E}",
        f"loop2.{E}": f"loop1.{E}",
        f"self.{E}": f"self.{E}",
    }
    cnames.update({f"long{i}.{E}": f"long{i + 1}.{E}" for i in range(9)})
    cnames[f"long9.{E}"] = f"one.{E}"
    return InMemoryZone(
        {
            f"one.{E}": "v=DKIM1; p=abc",
            f"multi.{E}": [("v=DKIM1; ", "k=rsa; ", "p=abc")],
            f"two.{E}": ["second", "first"],
            f"x.ent.{E}": "below an empty non-terminal",
            f"*.wild.{E}": "wildcard",
            "sel._domainkey.keys.test": "v=DKIM1; k=ed25519; p=key",
        },
        cname={**cnames, f"mx-alias.{E}": f"mail.{E}"},
        mx={
            f"mail.{E}": [(10, f"both.{E}"), (20, f"a-only.{E}"), (5, "mx.keys.test")],
            f"null-mx.{E}": [(0, ".")],
            f"many.{E}": [(i, f"mx{i}.{E}") for i in range(11)],
        },
        addresses={
            f"a-only.{E}": "192.0.2.1",
            f"both.{E}": ["2001:db8::2", "192.0.2.2"],
            f"v6-only.{E}": ["2001:db8::3"],
        },
        other=[(E, "SOA"), ("keys.test", "SOA")],
        ttl=TTL,
        negative_ttl=SOA_MINIMUM,
    )


def zonefile_resolver(tmp_path: Path) -> ZoneFileResolver:
    """ZoneFileResolver over the zones written to files, one file per zone."""
    paths = []
    for origin, text in ZONES.items():
        path = tmp_path / f"{origin}.zone"
        path.write_text(text)
        paths.append(path)
    return ZoneFileResolver(*paths)


class AsyncAsSync:
    """Runs an AsyncHostResolver's lookups in a fresh event loop, to share the table."""

    def __init__(self, resolver: AsyncHostResolver) -> None:
        self._resolver = resolver

    def txt(self, name: str) -> TxtAnswer:
        return asyncio.run(self._resolver.txt(name))

    def cname(self, name: str) -> CnameAnswer:
        return asyncio.run(self._resolver.cname(name))

    def mx(self, name: str) -> MxAnswer:
        return asyncio.run(self._resolver.mx(name))

    def addresses(self, name: str) -> AddressAnswer:
        return asyncio.run(self._resolver.addresses(name))


@pytest.fixture(scope="module")
def behaviour_server(dns_server_factory: Callable[..., DnsServer]) -> Iterator[DnsServer]:
    """Knot serving the behaviour zones."""
    with dns_server_factory(ZONES) as server:
        yield server


@pytest.fixture(
    params=[
        "memory-dict",
        "memory-text",
        "memory-async",
        "memory-cached",
        "zonefile",
        "dnspython",
        "dnspython-async",
        "dnspython-async-cached",
    ]
)
def resolver(request: pytest.FixtureRequest, tmp_path: Path) -> HostResolver:
    """Every resolver over the behaviour zones (the network ones ask a real Knot server)."""
    if request.param == "memory-dict":
        return dict_zone()
    if request.param == "memory-text":
        return InMemoryZone(zone_text=ZONES.values())
    if request.param == "memory-async":
        return AsyncAsSync(dict_zone().as_async())
    if request.param == "memory-cached":
        return CachingHostResolver(dict_zone())
    if request.param == "zonefile":
        return zonefile_resolver(tmp_path)
    server: DnsServer = request.getfixturevalue("behaviour_server")
    if request.param == "dnspython":
        return DnspythonResolver([server.nameserver], timeout=1.0)
    network = AsyncDnspythonResolver([server.nameserver], timeout=1.0)
    if request.param == "dnspython-async-cached":
        return AsyncAsSync(AsyncCachingHostResolver(network))
    return AsyncAsSync(network)


@pytest.mark.parametrize(("name", "expected"), TXT_TABLE)
def test_txt(resolver: HostResolver, name: str, expected: TxtAnswer | type[Exception]) -> None:
    """txt() gives the table's answer: records, NXDOMAIN, NODATA, chains, loop errors."""
    if isinstance(expected, TxtAnswer):
        assert expected == resolver.txt(name)
    else:
        with pytest.raises(expected):
            resolver.txt(name)


@pytest.mark.parametrize(("name", "expected"), CNAME_TABLE)
def test_cname(resolver: HostResolver, name: str, expected: CnameAnswer) -> None:
    """cname() reports the CNAME at the name itself, NODATA beside other data, NXDOMAIN."""
    assert expected == resolver.cname(name)


@pytest.mark.parametrize(("name", "expected"), MX_TABLE)
def test_mx(resolver: HostResolver, name: str, expected: MxAnswer | type[Exception]) -> None:
    """mx() gives the exchanges by preference, through CNAMEs; NXDOMAIN, NODATA, loops."""
    if isinstance(expected, MxAnswer):
        assert expected == resolver.mx(name)
        assert expected == resolver.mx(name)  # the cached ones answer alike the second time
    else:
        with pytest.raises(expected):
            resolver.mx(name)


@pytest.mark.parametrize(("name", "expected"), ADDRESS_TABLE)
def test_addresses(
    resolver: HostResolver, name: str, expected: AddressAnswer | type[Exception]
) -> None:
    """addresses() joins A and AAAA: one family, both, none (NODATA), NXDOMAIN, loops."""
    if isinstance(expected, AddressAnswer):
        assert expected == resolver.addresses(name)
        assert expected == resolver.addresses(name)
    else:
        with pytest.raises(expected):
            resolver.addresses(name)
