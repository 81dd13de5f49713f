"""
SPF analysis with host lookups (RFC 7208 §4.6.4): void lookups of ``a``, ``mx`` and
``exists``, and the limit of 10 MX names, through the public API.

Each regression runs against every built-in host resolver: in memory, zone file, a
cache in front of one, and the async twins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from oxdkim.dmarc import MAX_MX_NAMES, SpfAnalysis, analyze_spf, analyze_spf_async
from oxdkim.resolvers import (
    AsyncCachingHostResolver,
    CachingHostResolver,
    InMemoryZone,
    ZoneFileResolver,
)
from oxdkim.typing import HostResolver, Resolver

PROVIDER = "_spf.brandmail.example"
PROVIDER_RECORD = "v=spf1 ip4:192.0.2.0/24 -all"
DOMAIN = "bounce.example"
MX = Sequence[str]


def world(
    record: str,
    *,
    mx: Mapping[str, MX] | None = None,
    addresses: Mapping[str, str | Sequence[str]] | None = None,
    txt: Mapping[str, str] | None = None,
) -> InMemoryZone:
    """The provider's include, ``record`` at the domain, and the hosts given."""
    return InMemoryZone(
        {PROVIDER: PROVIDER_RECORD, DOMAIN: record, **(txt or {})},
        mx=mx,
        addresses=addresses,
    )


def as_zone_file(zone: InMemoryZone) -> ZoneFileResolver:
    """The same records as master-file text, read by the zone-file resolver."""
    lines = []
    store = zone.store
    for name in sorted(store.names):
        for rdtype in ("TXT", "MX", "A", "AAAA"):
            rrset = store.rrset(name, rdtype)
            for rdata in rrset.rdatas if rrset else ():
                if isinstance(rdata, tuple):
                    text = " ".join('"' + s.decode() + '"' for s in rdata)
                elif rdtype == "MX":
                    preference, exchange = rdata.split(" ")
                    text = f"{preference} {exchange.rstrip('.')}."
                else:
                    text = rdata
                lines.append(f"{name}. 300 IN {rdtype} {text}")
    return ZoneFileResolver.from_text("\n".join(lines) + "\n")


def analyses(zone: InMemoryZone) -> dict[str, SpfAnalysis]:
    """The analysis through each built-in host resolver over the same records."""
    cached = CachingHostResolver(zone)
    files = as_zone_file(zone)
    inline = zone.as_async()
    async_cached = AsyncCachingHostResolver(zone.as_async())
    return {
        "memory": analyze_spf(zone, DOMAIN, PROVIDER, hosts=zone),
        "zonefile": analyze_spf(files, DOMAIN, PROVIDER, hosts=files),
        "cached": analyze_spf(cached, DOMAIN, PROVIDER, hosts=cached),
        "async": asyncio.run(analyze_spf_async(inline, DOMAIN, PROVIDER, hosts=inline)),
        "async-cached": asyncio.run(
            analyze_spf_async(async_cached, DOMAIN, PROVIDER, hosts=async_cached)
        ),
    }


def one(zone: InMemoryZone) -> SpfAnalysis:
    """The analysis, checked to be the same through every host resolver."""
    found = analyses(zone)
    first = found["memory"]
    for name, other in found.items():
        assert first == other, name
    return first


def codes(analysis: SpfAnalysis) -> list[str]:
    return [problem.code.value for problem in analysis.problems]


def hosts(count: int) -> dict[str, list[str]]:
    return {f"mx{i}.bounce.example": ["198.51.100.25"] for i in range(count)}


# --- the limit of 10 MX names ------------------------------------------------------------


def test_mx_with_eleven_names_before_the_provider_is_permerror() -> None:
    """11 MX names at the domain: receivers stop with permerror at the mx term."""
    names = [f"mx{i}.bounce.example" for i in range(MAX_MX_NAMES + 1)]
    zone = world(
        f"v=spf1 mx include:{PROVIDER} -all",
        mx={DOMAIN: names},
        addresses=hosts(MAX_MX_NAMES + 1),
    )
    found = one(zone)
    assert ("permerror", ["too-many-mx"]) == (found.result.value, codes(found))
    assert "11 MX records" in found.explain()
    assert not any("MX names" in limit for limit in found.limits)


def test_mx_with_ten_names_is_not_an_error() -> None:
    names = [f"mx{i}.bounce.example" for i in range(MAX_MX_NAMES)]
    zone = world(
        f"v=spf1 mx include:{PROVIDER} -all", mx={DOMAIN: names}, addresses=hosts(MAX_MX_NAMES)
    )
    found = one(zone)
    assert ("pass", []) == (found.result.value, codes(found))


def test_eleven_mx_names_after_the_provider_are_reported_but_it_passes() -> None:
    names = [f"mx{i}.bounce.example" for i in range(MAX_MX_NAMES + 1)]
    zone = world(
        f"v=spf1 include:{PROVIDER} mx:bounce.example -all",
        mx={DOMAIN: names},
        addresses=hosts(MAX_MX_NAMES + 1),
    )
    found = one(zone)
    assert ("pass", ["too-many-mx"]) == (found.result.value, codes(found))


# --- void lookups of a, mx and exists ----------------------------------------------------


@pytest.mark.parametrize(("voids", "result"), [(2, "pass"), (3, "permerror")])
def test_a_terms_naming_hosts_without_addresses(voids: int, result: str) -> None:
    """Hosts that exist (a TXT record) without an address are void (NODATA): two are
    allowed, the third is permerror (RFC 7208 §4.6.4)."""
    names = [f"h{i}.example" for i in range(voids)]
    terms = " ".join(f"a:{name}" for name in names)
    zone = world(
        f"v=spf1 {terms} include:{PROVIDER} -all",
        txt=dict.fromkeys(names, "exists, no address"),
    )
    found = one(zone)
    assert (result, voids) == (found.result.value, found.void_lookups)
    if voids > 2:
        assert "h2.example has no address" in found.explain()


def test_without_a_host_resolver_those_hosts_are_not_seen() -> None:
    """The same record through a resolver given no hosts=: the old, TXT-only view, said
    in limits (a resolver with only txt and cname keeps working)."""
    names = [f"h{i}.example" for i in range(3)]
    terms = " ".join(f"a:{name}" for name in names)
    zone = world(
        f"v=spf1 {terms} mx include:{PROVIDER} -all",
        txt=dict.fromkeys(names, "exists, no address"),
    )
    plain: Resolver = TxtOnly(zone)
    found = analyze_spf(plain, DOMAIN, PROVIDER)
    assert ("pass", 0) == (found.result.value, found.void_lookups)
    limits = " | ".join(found.limits)
    assert "no host resolver was given (hosts=)" in limits
    assert "limit of 10 MX names" in limits


def test_mx_void_lookups_count_the_mx_query_and_each_host() -> None:
    """An MX name without MX records is one void lookup, and each exchange without an
    address another: three in all is permerror."""
    zone = world(
        f"v=spf1 mx:nomx.example mx:mail.example include:{PROVIDER} -all",
        mx={"mail.example": ["gone1.example", "gone2.example"]},
        addresses={"nomx.example": "198.51.100.1"},
    )
    found = one(zone)
    assert ("permerror", 3) == (found.result.value, found.void_lookups)
    assert found.explain().endswith(
        "gone2.example does not exist: more than 2 lookups found no name or nothing at it "
        "(void lookups): receivers stop with permerror there (RFC 7208 §4.6.4)"
    )


def test_a_without_a_domain_asks_for_the_records_own_domain() -> None:
    """``a`` in an included record asks that record's domain, which has no address."""
    zone = world(
        f"v=spf1 include:i1.example include:i2.example include:i3.example include:{PROVIDER}",
        txt={f"i{n}.example": "v=spf1 a -all" for n in (1, 2, 3)},
    )
    found = one(zone)
    assert ("permerror", 3) == (found.result.value, found.void_lookups)


def test_exists_counts_ipv4_only_and_matches_when_its_name_has_one() -> None:
    """exists asks for A records (RFC 7208 §5.7): a name with only an IPv6 address is
    void; a name with an IPv4 address matches every sender."""
    zone = world(
        f"v=spf1 exists:v6.example -exists:v4.example include:{PROVIDER} ~all",
        addresses={"v6.example": "2001:db8::1", "v4.example": "127.0.0.2"},
    )
    found = one(zone)
    assert ("fail", 1) == (found.result.value, found.void_lookups)


def test_a_host_with_one_address_family_is_said_in_limits() -> None:
    zone = world(
        f"v=spf1 a:v6.example include:{PROVIDER} -all", addresses={"v6.example": "2001:db8::1"}
    )
    found = one(zone)
    assert ("pass", 0) == (found.result.value, found.void_lookups)
    assert any("v6.example ('a:v6.example') has no IPv4 (A)" in x for x in found.limits)


def test_a_failing_mx_host_is_temperror() -> None:
    """DNS that does not answer for an MX exchange makes the provider's mail temperror."""
    zone = InMemoryZone(
        {PROVIDER: PROVIDER_RECORD, DOMAIN: f"v=spf1 mx include:{PROVIDER} -all"},
        mx={DOMAIN: ["mx1.example"]},
        failing=["mx1.example"],
    )
    found = analyze_spf(zone, DOMAIN, PROVIDER, hosts=zone)
    assert "temperror" == found.result.value
    assert "mx1.example" in found.explain()


class TxtOnly:
    """A custom resolver with only ``txt`` and ``cname`` (the Resolver protocol)."""

    def __init__(self, inner: HostResolver) -> None:
        self._inner = inner

    def txt(self, name: str) -> Any:
        return self._inner.txt(name)

    def cname(self, name: str) -> Any:
        return self._inner.cname(name)


def test_an_exists_that_matches_ends_every_evaluation() -> None:
    """+exists: on a name with an IPv4 address passes every sender, the provider's mail
    too; nothing after it is looked up or counted, not even the redirect."""
    zone = world(
        "v=spf1 exists:v4.example a:gone1.example a:gone2.example a:gone3.example "
        "redirect=gone4.example",
        addresses={"v4.example": "127.0.0.2"},
    )
    found = one(zone)
    assert ("pass", 1, 0) == (found.result.value, found.lookups, found.void_lookups)
    assert ["pass-all"] == codes(found)
    assert 0 == zone.queries[("A", "gone1.example")]


def test_a_null_mx_is_not_a_void_lookup() -> None:
    """A null MX (RFC 7505, ``0 .``) names no host: nothing is looked up, nothing is void
    (pyspf agrees)."""
    names = [f"n{i}.example" for i in range(3)]
    terms = " ".join(f"mx:{name}" for name in names)
    zone = world(f"v=spf1 {terms} include:{PROVIDER} -all", mx={name: [(0, ".")] for name in names})
    found = one(zone)
    assert ("pass", 0) == (found.result.value, found.void_lookups)
