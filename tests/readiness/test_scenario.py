"""The preview of every seeded customer domain: through a real Knot server and from memory."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from dnsserver import DnsServer
from oxdkim._config.values import BrandConfig
from oxdkim._readiness.preview import ReadinessPreview
from oxdkim._readiness.values import DomainReadiness, ReadinessRun
from oxdkim.resolvers import AsyncDnspythonResolver, DnspythonResolver, ZoneFileResolver

from .scenario import CUSTOMERS, GENERIC_DOMAIN, PROVIDER_BOUNCE, T0, Customer

pytestmark = pytest.mark.dnsserver

DOMAINS = [customer.domain for customer in CUSTOMERS]


def check(customer: Customer, report: DomainReadiness) -> None:
    """Every prediction the scenario table states for ``customer``."""
    assert customer.domain == report.domain
    assert customer.verdict == report.verdict.value
    assert customer.signing == report.signing.mode.value
    assert customer.dkim == report.dkim.outlook.value
    assert customer.spf == (report.spf.result.value if report.spf.result else None)
    assert customer.spf_aligned == report.spf.aligned
    assert customer.policy == (report.policy.value if report.policy else None)
    assert customer.disposition == (report.disposition.value if report.disposition else None)
    assert customer.summary == report.summary
    assert T0 == report.checked_at


def check_run(run: ReadinessRun) -> None:
    assert DOMAINS == [report.domain for report in run.reports]
    for customer, report in zip(CUSTOMERS, run.reports, strict=True):
        check(customer, report)


def test_every_domain_through_knot_sync(
    preview: ReadinessPreview, preview_server: DnsServer
) -> None:
    """Through dnspython and Knot, one domain at a time: each seeded outcome is predicted."""
    resolver = DnspythonResolver([preview_server.nameserver], timeout=1.0, retries=0)
    run = preview.preview_many(DOMAINS, resolver, concurrency=1)
    check_run(run)


def test_every_domain_through_knot_async_bulk(
    preview: ReadinessPreview, preview_server: DnsServer
) -> None:
    """The async bulk run with concurrency gives the same predictions, in input order."""
    resolver = AsyncDnspythonResolver([preview_server.nameserver], timeout=1.0, retries=0)
    seen: list[tuple[int, int, str]] = []

    def progress(done: int, total: int, report: DomainReadiness) -> None:
        seen.append((done, total, report.domain))

    run = asyncio.run(
        preview.preview_many_async(DOMAINS, resolver, concurrency=4, progress=progress)
    )
    check_run(run)
    assert [(n, len(DOMAINS)) for n in range(1, len(DOMAINS) + 1)] == [s[:2] for s in seen]
    assert sorted(DOMAINS) == sorted(s[2] for s in seen)


def test_every_domain_through_knot_threads(
    preview: ReadinessPreview, preview_server: DnsServer
) -> None:
    """The sync bulk run on threads gives the same predictions."""
    resolver = DnspythonResolver([preview_server.nameserver], timeout=1.0, retries=0)
    check_run(preview.preview_many(DOMAINS, resolver, concurrency=3))


def test_every_domain_from_memory(
    preview: ReadinessPreview, preview_memory: ZoneFileResolver
) -> None:
    """The same zone texts answered from memory give the same predictions, sync and async."""
    check_run(preview.preview_many(DOMAINS, preview_memory, concurrency=1))
    check_run(preview.preview_many(DOMAINS, preview_memory.as_async(), concurrency=2))


def test_one_domain_sync_and_async_agree(
    preview: ReadinessPreview, preview_memory: ZoneFileResolver
) -> None:
    """preview() and preview_async() are twins: equal values for every domain."""
    for domain in DOMAINS:
        sync = preview.preview(domain, preview_memory)
        both = asyncio.run(preview.preview_async(domain, preview_memory.as_async()))
        assert sync == both


def test_generic_brand_with_the_providers_bounce_domain(
    bulkmail: BrandConfig, preview_server: DnsServer
) -> None:
    """Generic signing with MAIL FROM at the provider: SPF passes but never aligns."""
    resolver = DnspythonResolver([preview_server.nameserver], timeout=1.0, retries=0)
    run = ReadinessPreview(bulkmail, clock=lambda: T0).preview_many(["pass.test"], resolver)
    (report,) = run.reports
    assert "fail" == report.verdict.value
    assert (GENERIC_DOMAIN, False) == (report.dkim.domain, report.dkim.aligned)
    assert (PROVIDER_BOUNCE, "pass", False) == (
        report.spf.mail_from,
        report.spf.result.value if report.spf.result else None,
        report.spf.aligned,
    )
    assert (
        "fails DMARC: generic signing never aligns and MAIL FROM bounce.brandmail.test is "
        "not aligned; p=reject: mail will be rejected"
    ) == report.summary
    assert "reject" == report.disposition.value


def test_stopping_the_server_gives_unknown_not_fail(
    preview: ReadinessPreview, dns_server_factory: Callable[..., DnsServer]
) -> None:
    """A server that stops answering makes every prediction unknown, never a failure."""
    from .scenario import zones

    with dns_server_factory(zones()) as server:
        resolver = DnspythonResolver([server.nameserver], timeout=0.3, retries=0)
        assert "pass" == preview.preview("pass.test", resolver).verdict.value
        server.stop()
        run = preview.preview_many(["pass.test", "spfonly.test"], resolver, concurrency=2)
    assert ["unknown", "unknown"] == [r.verdict.value for r in run.reports]
    assert all("temporary DNS failure" in r.summary for r in run.reports)


def test_json_and_table(preview: ReadinessPreview, preview_memory: ZoneFileResolver) -> None:
    """The run's JSON carries every prediction; the table has one row per domain."""
    run = preview.preview_many(DOMAINS, preview_memory)
    data = json.loads(run.to_json())
    assert "oxdkim-dmarc-preview" == data["format"]
    assert {"pass": 3, "fail": 2, "no-policy": 1, "unknown": 1, "permerror": 0} == data["counts"]
    by_domain = {d["domain"]: d for d in data["domains"]}
    spfonly = by_domain["spfonly.test"]
    assert ("generic", "dkim.brandmail.test") == (
        spfonly["signing"]["mode"],
        spfonly["signing"]["d"],
    )
    assert ["bounce.spfonly.test"] == [s["domain"] for s in spfonly["spf"]["analysis"]["steps"]]
    assert "reject" == spfonly["dmarc"]["disposition"]
    assert (
        "dmarc=fail header.from=spfonly.test policy.dmarc=reject"
        == spfonly["dmarc"]["authentication_results"]
    )
    broken = by_domain["brokenreject.test"]
    assert ["missing-cname", "missing-cname"] == [
        p["code"] for s in broken["dkim"]["audit"]["selectors"] for p in s["problems"]
    ]
    assert ["include:_spf.spfok.test", "include:_spf.brandmail.test"] == by_domain["spfok.test"][
        "spf"
    ]["analysis"]["provider_path"]
    lines = run.table().splitlines()
    assert lines[0].split() == ["DOMAIN", "SIGNING", "DKIM", "SPF", "DMARC", "PREDICTION"]
    rows = {line.split()[0]: line for line in lines[1 : len(DOMAINS) + 1]}
    assert sorted(DOMAINS) == sorted(rows)
    assert rows["spfonly.test"].endswith("FAIL -> reject")
    assert rows["pass.test"].endswith("pass (dkim+spf)")
    assert any(line.startswith("fragile.test: ") for line in lines)
    assert "  - the delegation is broken even though today's signatures verify: " in run.table()
