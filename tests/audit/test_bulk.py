"""
Bulk audits: bounded concurrency, progress, input order, bad input, and a DNS server that
stops in the middle of a run (temporary failures, never a crash or a "broken" verdict).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from dnsserver import DnsServer, make_zone
from oxdkim import CnameAnswer, ConfigurationError, TxtAnswer
from oxdkim._keys.records import delegation_records, render_zone
from oxdkim.audit import DelegationAuditor, DelegationVerdict, DomainReport, ProblemCode
from oxdkim.resolvers import (
    AsyncCachingHostResolver,
    AsyncCachingResolver,
    AsyncDnspythonResolver,
    InlineAsyncResolver,
    InMemoryZone,
    ZoneFileResolver,
)
from oxdkim.typing import AsyncResolver

from .scenario import KEY_HOST, RING, SELECTORS, T0, brand_zone

N = 240


def bulk_domains(n: int = N) -> list[str]:
    return [f"c{i:04d}.bulk.test" for i in range(n)]


def bulk_zone(n: int = N) -> str:
    records = [r for d in bulk_domains(n) for r in delegation_records(d, SELECTORS, KEY_HOST)]
    return make_zone("bulk.test", render_zone(records))


def auditor() -> DelegationAuditor:
    return DelegationAuditor(RING, clock=lambda: T0)


def test_stopping_the_server_mid_audit_gives_temporary_failures(
    dns_server_factory: Callable[..., DnsServer],
) -> None:
    """Domains checked before the stop are ok, after it unknown; nothing raises or is broken."""
    server = dns_server_factory({"brand.test": brand_zone(), "bulk.test": bulk_zone()})
    resolver = AsyncDnspythonResolver([server.nameserver], timeout=0.2, retries=0)
    stopped_at: list[int] = []

    def progress(done: int, total: int, report: DomainReport) -> None:
        if done == 40:
            server.stop()
            stopped_at.append(done)

    try:
        run = auditor().audit_many(bulk_domains(), resolver, concurrency=64, progress=progress)
    finally:
        server.stop()
    assert [40] == stopped_at
    assert bulk_domains() == list(run.domains)
    counts = run.counts()
    assert 0 == counts[DelegationVerdict.BROKEN]
    assert counts[DelegationVerdict.OK] >= 40
    assert counts[DelegationVerdict.UNKNOWN] >= N - 40 - 64
    for report in run.reports:
        if report.verdict is DelegationVerdict.UNKNOWN:
            assert {ProblemCode.DNS_TEMPORARY} == {p.code for p in report.problems}
            assert report.verifies_now is None


def test_progress_is_called_once_per_domain_and_order_is_kept() -> None:
    """progress(done, total, report) counts 1..N; the run lists reports in input order."""
    zone = ZoneFileResolver.from_text(brand_zone(), bulk_zone())
    seen: list[tuple[int, int, str]] = []
    domains = list(reversed(bulk_domains()))
    run = auditor().audit_many(
        domains,
        zone.as_async(),
        concurrency=7,
        progress=lambda done, total, report: seen.append((done, total, report.domain)),
    )
    assert domains == list(run.domains)
    assert list(range(1, N + 1)) == [done for done, _, _ in seen]
    assert {N} == {total for _, total, _ in seen}
    assert set(domains) == {domain for _, _, domain in seen}
    assert N == run.counts()[DelegationVerdict.OK]


def test_key_record_behind_the_brand_target_is_fetched_once_per_run() -> None:
    """Every correct domain points at the same targets: their TXT is asked once per run."""
    zone = ZoneFileResolver.from_text(brand_zone(), bulk_zone())
    auditor().audit_many(bulk_domains(), zone, concurrency=1)
    queries = zone.queries
    assert 1 == queries[("TXT", f"mail1._domainkey.{KEY_HOST}")]
    assert 1 == queries[("TXT", f"mail2._domainkey.{KEY_HOST}")]
    assert 1 == queries[("CNAME", "mail1._domainkey.c0007.bulk.test")]


def test_temporary_failures_of_the_key_host_are_asked_again() -> None:
    """A temporary failure is not remembered for the rest of the run."""
    zone = InMemoryZone(
        zone_text=[brand_zone(), bulk_zone(3)], failing=[f"mail1._domainkey.{KEY_HOST}"]
    )

    async def main() -> None:
        run = await auditor().audit_many_async(bulk_domains(3), zone.as_async(), concurrency=1)
        assert 3 * [DelegationVerdict.UNKNOWN] == [r.verdict for r in run.reports]

    asyncio.run(main())
    assert 3 == zone.queries[("TXT", f"mail1._domainkey.{KEY_HOST}")]


def test_repeated_domains_are_audited_once_and_names_are_normalized() -> None:
    """Upper case, a trailing dot and repeats collapse to one normalized domain."""
    zone = ZoneFileResolver.from_text(brand_zone(), bulk_zone(2))
    run = auditor().audit_many(["C0000.Bulk.Test.", "c0000.bulk.test", "c0001.bulk.test"], zone)
    assert ("c0000.bulk.test", "c0001.bulk.test") == run.domains


@pytest.mark.parametrize(
    ("domains", "concurrency", "match"),
    [
        (["ok.test", "not a domain"], 4, "invalid domain"),
        ("ok.test", 4, "not one string"),
        (["ok.test"], 0, "concurrency"),
    ],
)
def test_bad_input_is_refused_before_any_query(
    domains: list[str] | str, concurrency: int, match: str
) -> None:
    """Invalid domains or limits raise ConfigurationError and ask DNS nothing."""
    zone = InMemoryZone()
    with pytest.raises(ConfigurationError, match=match):
        auditor().audit_many(domains, zone, concurrency=concurrency)
    assert not zone.queries


def test_sync_wrapper_refuses_to_run_inside_an_event_loop() -> None:
    """audit_many with an async resolver inside a running loop says to await the async one."""
    zone = InMemoryZone().as_async()

    async def main() -> None:
        with pytest.raises(ConfigurationError, match="audit_many_async"):
            auditor().audit_many(["ok.test"], zone)

    asyncio.run(main())


def test_empty_list_gives_an_empty_run() -> None:
    """No domains: an empty run with its metadata."""
    run = auditor().audit_many([], InMemoryZone())
    assert 0 == len(run)
    assert (KEY_HOST, ("mail1", "mail2"), T0) == (run.key_host, run.selectors, run.started_at)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"key_host": "not a host"}, "invalid key host"),
        ({"selectors": ["mail3"]}, "no slot"),
        ({"selectors": "mail1"}, "list"),
        ({"min_ttl": -1}, "min_ttl"),
        ({"typo_distance": 1.5}, "typo_distance"),
    ],
)
def test_bad_auditor_configuration(kwargs: dict[str, object], match: str) -> None:
    """Bad auditor arguments raise ConfigurationError when it is built."""
    with pytest.raises(ConfigurationError, match=match):
        DelegationAuditor(RING, **kwargs)  # type: ignore[arg-type]


def test_a_ring_without_key_host_needs_one() -> None:
    """Without a key host in the ring or in the arguments there is nothing to point at."""
    from oxdkim import RingSnapshot

    bare = RingSnapshot(RING.algorithm, RING.slots)
    with pytest.raises(ConfigurationError, match="key host"):
        DelegationAuditor(bare)
    assert "keys.x.test" == DelegationAuditor(bare, key_host="Keys.X.Test.").key_host


def test_one_selector_audit_has_no_one_selector_problem() -> None:
    """Auditing only mail1 checks just that selector."""
    zone = ZoneFileResolver.from_text(brand_zone(), bulk_zone(1))
    report = DelegationAuditor(RING, selectors=["MAIL1"]).audit("c0000.bulk.test", zone)
    assert ("mail1",) == tuple(s.selector for s in report.selectors)
    assert DelegationVerdict.OK == report.verdict


# --- which kind of resolver: by class, never by probing ---------------------------------


class _CustomAsync:
    """An async resolver of the caller's own (not one of oxdkim's classes)."""

    def __init__(self, zone: InMemoryZone) -> None:
        self.zone = zone
        self.asked: list[tuple[str, str]] = []

    async def txt(self, name: str) -> TxtAnswer:
        self.asked.append(("TXT", name))
        return self.zone.txt(name)

    async def cname(self, name: str) -> CnameAnswer:
        self.asked.append(("CNAME", name))
        return self.zone.cname(name)


def _bulk_memory(n: int) -> InMemoryZone:
    return InMemoryZone(zone_text=[brand_zone(), bulk_zone(n)])


@pytest.mark.parametrize(
    "wrap",
    [
        lambda zone: zone.as_async(),
        lambda zone: AsyncCachingResolver(zone.as_async()),
        lambda zone: AsyncCachingHostResolver(zone.as_async()),
        lambda zone: InlineAsyncResolver(zone),
    ],
    ids=["inline-host", "cache", "host-cache", "inline"],
)
def test_oxdkims_async_resolvers_run_on_a_loop_without_a_warning(
    wrap: Callable[[InMemoryZone], AsyncResolver],
) -> None:
    """oxdkim's own async resolvers are known by class: run on an event loop (progress is
    called in it), no warning."""
    zone = _bulk_memory(5)
    loops: list[asyncio.AbstractEventLoop] = []

    def progress(done: int, total: int, report: DomainReport) -> None:
        loops.append(asyncio.get_running_loop())  # raises outside a loop

    run = auditor().audit_many(bulk_domains(5), wrap(zone), concurrency=3, progress=progress)
    assert 5 == run.counts()[DelegationVerdict.OK]
    assert 5 == len(loops)
    assert 1 == len(set(loops))
    assert 1 == zone.queries[("TXT", f"mail1._domainkey.{KEY_HOST}")]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_custom_async_resolver_still_works_with_a_deprecation_warning(concurrency: int) -> None:
    """audit_many(custom async resolver): the reports of the sync run, asked the same
    questions, after a DeprecationWarning; no coroutine is left un-awaited."""
    expected = auditor().audit_many(bulk_domains(6), _bulk_memory(6), concurrency=1)
    custom = _CustomAsync(_bulk_memory(6))
    with pytest.warns(DeprecationWarning, match=r"audit_many_async") as caught:
        run = auditor().audit_many(bulk_domains(6), custom, concurrency=concurrency)
    assert 1 == len(caught)
    assert caught[0].filename == __file__  # it points at the caller's line
    assert expected.reports == run.reports
    direct = _CustomAsync(_bulk_memory(6))
    asyncio.run(auditor().audit_many_async(bulk_domains(6), direct, concurrency=concurrency))
    assert sorted(direct.asked) == sorted(custom.asked)


def test_a_custom_async_resolver_inside_a_loop_is_refused_after_the_warning() -> None:
    """Inside a running loop the deprecated form warns, then refuses as before."""
    custom = _CustomAsync(_bulk_memory(1))

    async def main() -> None:
        with (
            pytest.warns(DeprecationWarning, match="not one of oxdkim's"),
            pytest.raises(ConfigurationError, match="audit_many_async"),
        ):
            auditor().audit_many(bulk_domains(1), custom)

    asyncio.run(main())
    assert [] == custom.asked
