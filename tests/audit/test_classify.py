"""
Every problem class, seeded in customer zones (or key hosts) that oxdkim rendered, is
classified correctly: through a real Knot server (sync and async dnspython resolvers,
single and bulk) and through the same zones in memory.
"""

from __future__ import annotations

import asyncio

import pytest

from dnsserver import DnsServer
from oxdkim.audit import DelegationVerdict, DomainReport, KeyStatus
from oxdkim.resolvers import AsyncDnspythonResolver, DnspythonResolver, ZoneFileResolver

from .conftest import auditor_for
from .scenario import CASES, Case, found

IDS = [case.id for case in CASES]


def check(case: Case, report: DomainReport) -> None:
    assert case.domain == report.domain
    assert case.problems == found(report)
    assert case.verdict == report.verdict.value


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_knot_sync(case: Case, scenario_server: DnsServer) -> None:
    """Through the sync dnspython resolver and Knot, each case gets its classification."""
    resolver = DnspythonResolver([scenario_server.nameserver], timeout=1.0, retries=0)
    check(case, auditor_for(case).audit(case.domain, resolver))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_memory(case: Case, memory_zone: ZoneFileResolver) -> None:
    """The same table through the same zones held in memory."""
    check(case, auditor_for(case).audit(case.domain, memory_zone))


def test_knot_bulk_async_matches_the_table(scenario_server: DnsServer) -> None:
    """A bulk async audit per auditor classifies every case and keeps the input order."""
    resolver = AsyncDnspythonResolver([scenario_server.nameserver], timeout=1.0, retries=0)
    groups: dict[tuple[str, str], list[Case]] = {}
    for case in CASES:
        groups.setdefault((case.key_host, case.ring), []).append(case)

    async def main() -> None:
        for cases in groups.values():
            run = await auditor_for(cases[0]).audit_many_async(
                [c.domain for c in cases], resolver, concurrency=4
            )
            assert [c.domain for c in cases] == list(run.domains)
            for case, report in zip(cases, run.reports, strict=True):
                check(case, report)

    asyncio.run(main())


def test_knot_bulk_sync_threads_equal_the_async_run(scenario_server: DnsServer) -> None:
    """The sync bulk wrapper (threads over the sync resolver) gives the async run's reports."""
    main_cases = [c for c in CASES if c.ring == "main" and c.key_host == CASES[0].key_host]
    domains = [c.domain for c in main_cases]
    auditor = auditor_for(main_cases[0])
    sync = DnspythonResolver([scenario_server.nameserver], timeout=1.0, retries=0)
    threaded = auditor.audit_many(domains, sync, concurrency=8)
    asynchronous = auditor.audit_many(
        domains, AsyncDnspythonResolver([scenario_server.nameserver], timeout=1.0, retries=0)
    )
    assert threaded.reports == asynchronous.reports
    for case, report in zip(main_cases, threaded.reports, strict=True):
        check(case, report)


def report_for(
    domain: str, memory_zone: ZoneFileResolver, case_id: str | None = None
) -> DomainReport:
    case = next(c for c in CASES if c.domain == domain and (case_id is None or c.id == case_id))
    return auditor_for(case).audit(domain, memory_zone)


def test_missing_cname_says_whether_the_name_exists(memory_zone: ZoneFileResolver) -> None:
    """NXDOMAIN and NODATA are both a missing CNAME; the status seen is kept."""
    nx = report_for("missing.test", memory_zone).problems[0]
    nodata = report_for("nodata.test", memory_zone).problems[0]
    assert "nxdomain" == nx.observed["status"]
    assert "nodata" == nodata.observed["status"]
    assert "publish mail1._domainkey.missing.test CNAME mail1._domainkey.keys.brand.test" in (
        nx.message
    )


def test_copied_key_says_whether_it_matches_the_ring(memory_zone: ZoneFileResolver) -> None:
    """A copy of the ring's key verifies today but is broken; an old key fails now."""
    copy = report_for("txtcopy.test", memory_zone)
    old = report_for("txtold.test", memory_zone)
    assert "ring-key" == copy.problems[0].observed["matches"]
    assert "breaks at the next key rotation" in copy.problems[0].message
    assert copy.verifies_now is True
    assert DelegationVerdict.BROKEN == copy.verdict
    assert "other-key" == old.problems[0].observed["matches"]
    assert old.verifies_now is False


def test_wrong_targets_carry_what_was_seen(memory_zone: ZoneFileResolver) -> None:
    """Each kind of wrong target names the observed target and its evidence."""
    doubled = report_for("doubled.test", memory_zone).problems[0]
    assert "mail1._domainkey.keys.brand.test.doubled.test" == doubled.observed["target"]
    assert "doubled.test" == doubled.observed["appended"]
    assert "trailing dot" in doubled.message
    moved = report_for("moved.test", memory_zone).problems[0]
    assert "keys.otherbrand.test" == moved.observed["brand_key_host"]
    typo = report_for("typo.test", memory_zone)
    assert [1, 1] == [p.observed["distance"] for p in typo.problems]
    swapped = report_for("swapped.test", memory_zone).problems[0]
    assert "mail2" == swapped.observed["other_selector"]


def test_one_selector_only_says_whether_it_signs_now(memory_zone: ZoneFileResolver) -> None:
    """Missing the active selector fails now; missing the other fails after rotation."""
    inactive = report_for("onlyone.test", memory_zone).selector("mail2").problems[0]
    active = report_for("onlysecond.test", memory_zone).selector("mail1").problems[0]
    assert inactive.observed["signing"] is False
    assert "after the next rotation" in inactive.message
    assert active.observed["signing"] is True
    assert report_for("onlysecond.test", memory_zone).verifies_now is False
    assert report_for("onlyone.test", memory_zone).verifies_now is True


def test_low_ttl_is_a_warning_with_the_ttl(memory_zone: ZoneFileResolver) -> None:
    """A 60-second CNAME works (verdict ok) but is reported with its TTL and the threshold."""
    report = report_for("lowttl.test", memory_zone)
    problem = report.problems[0]
    assert (60, 300) == (problem.observed["ttl"], problem.observed["min_ttl"])
    assert "warning" == problem.severity.value
    assert "mail1 CNAME TTL is low; mail2 CNAME TTL is low" == report.summary()


def test_min_ttl_is_configurable(memory_zone: ZoneFileResolver) -> None:
    """With a threshold of 0 the short TTL is not reported."""
    from oxdkim.audit import DelegationAuditor

    from .scenario import RING

    report = DelegationAuditor(RING, min_ttl=0).audit("lowttl.test", memory_zone)
    assert () == report.problems


def test_provider_problems_are_not_the_customers(memory_zone: ZoneFileResolver) -> None:
    """Key host problems and an empty slot name the provider as the party to act."""
    for case in CASES:
        report = auditor_for(case).audit(case.domain, memory_zone)
        for problem in report.problems:
            if problem.code.value.startswith(("key-", "multiple", "malformed", "slot")):
                assert "provider" == problem.party.value, (case.id, problem)
            if problem.code.value == "dns-temporary":
                assert "dns" == problem.party.value
                assert "unknown" == problem.severity.value


def test_indirect_chain_reaches_the_key(memory_zone: ZoneFileResolver) -> None:
    """A customer alias in front of the brand's target is followed like a verifier would."""
    report = report_for("indirect.test", memory_zone)
    mail1 = report.selector("mail1")
    assert ("dkim1.indirect.test", "mail1._domainkey.keys.brand.test") == mail1.chain
    assert KeyStatus.RING_KEY == mail1.key_status


def test_ok_report_details(scenario_server: DnsServer) -> None:
    """A correct domain shows both targets, their TTLs, the ring's keys and the time."""
    from .scenario import T0

    resolver = DnspythonResolver([scenario_server.nameserver], timeout=1.0)
    report = auditor_for(CASES[0]).audit("ok.test", resolver)
    assert T0 == report.checked_at
    assert "mail1" == report.active_selector
    assert report.verifies_now is True
    assert "delegation verified" == report.summary()
    for selector in report.selectors:
        assert selector.expected_target == selector.target
        assert 3600 == selector.cname_ttl
        assert KeyStatus.RING_KEY == selector.key_status


def test_verifies_now_for_unreachable_and_unknown_keys(memory_zone: ZoneFileResolver) -> None:
    """A CNAME loop on the active selector fails now; a temporary failure leaves it open."""
    assert report_for("loop.test", memory_zone).verifies_now is False
    assert report_for("servfail.test", memory_zone).verifies_now is None
