"""The audit's outputs: JSON round trips, CSV rows, and the diff between two runs."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import attrs
import pytest

from oxdkim import ConfigurationError, SlotState
from oxdkim.audit import (
    CSV_COLUMNS,
    AuditRun,
    ChangeKind,
    DelegationAuditor,
    DelegationVerdict,
    DomainReport,
    Party,
    Problem,
    ProblemCode,
    SelectorReport,
    Severity,
)
from oxdkim.resolvers import ZoneFileResolver

from .scenario import (
    CUSTOMER_DOMAINS,
    OTHER_BRAND,
    RING,
    T0,
    _customer_bodies,
    delegation,
    render_zone,
    servfail_names,
    without,
    zones,
)


def audit(bodies: dict[str, str] | None = None, domains: list[str] | None = None) -> AuditRun:
    zone = ZoneFileResolver.from_text(*zones(bodies).values(), failing=servfail_names())
    auditor = DelegationAuditor(RING, known_key_hosts=[OTHER_BRAND], clock=lambda: T0)
    return auditor.audit_many(domains or CUSTOMER_DOMAINS, zone, concurrency=1)


@pytest.fixture(scope="module")
def run() -> AuditRun:
    """Every customer domain of the scenario, audited from memory."""
    return audit()


def test_json_round_trip(run: AuditRun) -> None:
    """A run read back from its JSON equals the run."""
    again = AuditRun.from_json(run.to_json())
    assert run == again
    assert run.to_json() == again.to_json()


def test_repr_counts_the_reports_instead_of_listing_them(run: AuditRun) -> None:
    """A run's repr stays one short line however many domains it holds (asyncio.run on
    Python 3.11 formats it when a bulk run returns)."""
    text = repr(run)
    assert f"reports=<{len(run)} reports>" in text
    assert run.reports[0].domain not in text
    assert f"key_host={run.key_host!r}" in text


def test_json_has_summary_and_derived_fields(run: AuditRun) -> None:
    """The JSON carries counts, per-domain verdict and summary for readers."""
    data = json.loads(run.to_json())
    assert ("oxdkim-audit", 1) == (data["format"], data["version"])
    counts = run.counts()
    assert counts[DelegationVerdict.BROKEN] == data["summary"]["broken"]
    assert len(CUSTOMER_DOMAINS) == data["summary"]["domains"]
    entry = next(d for d in data["domains"] if d["domain"] == "onlyone.test")
    assert "broken" == entry["verdict"]
    assert entry["summary"].startswith("mail2 CNAME missing")
    assert "2026-11-28T12:00:00Z" == entry["checked_at"]
    assert data["summary"]["problems"]["wrong-target"] >= 5


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("not json", "not JSON"),
        ('{"format": "something-else"}', "not an oxdkim audit"),
        ('{"format": "oxdkim-audit", "version": 2, "domains": []}', "version"),
        ('{"format": "oxdkim-audit", "version": 1, "domains": {}}', "must be a list"),
        ('{"format": "oxdkim-audit", "version": 1, "domains": [{"domain": 1}]}', "domain"),
    ],
)
def test_bad_json_is_a_configuration_error(text: str, match: str) -> None:
    """Unreadable or foreign JSON raises ConfigurationError naming the problem."""
    with pytest.raises(ConfigurationError, match=match):
        AuditRun.from_json(text)


def test_bad_token_in_a_report_is_named(run: AuditRun) -> None:
    """An unknown problem code is reported with where it was found."""
    data = run.to_json_obj()
    data["domains"][1]["selectors"][0]["problems"][0]["code"] = "no-such-code"
    with pytest.raises(ConfigurationError, match="unknown value 'no-such-code'"):
        AuditRun.from_json_obj(data)


def test_csv_has_one_row_per_domain_and_selector(run: AuditRun) -> None:
    """The CSV's header is CSV_COLUMNS; each (domain, selector) has a row with its data."""
    rows = list(csv.DictReader(io.StringIO(run.to_csv())))
    assert 2 * len(CUSTOMER_DOMAINS) == len(rows)
    assert list(CSV_COLUMNS) == list(rows[0])
    by_key = {(row["domain"], row["selector"]): row for row in rows}
    doubled = by_key[("doubled.test", "mail1")]
    assert "broken" == doubled["verdict"]
    assert "wrong-target" == doubled["problems"]
    assert "doubled-domain" == doubled["target_kind"]
    assert "mail1._domainkey.keys.brand.test.doubled.test" == doubled["target"]
    ok = by_key[("ok.test", "mail2")]
    assert ("ok", "published", "noerror", "3600", "ring-key", "") == (
        ok["selector_verdict"],
        ok["slot_state"],
        ok["cname_status"],
        ok["cname_ttl"],
        ok["key"],
        ok["problems"],
    )
    assert by_key[("servfail.test", "mail1")]["cname_status"] == ""


def test_csv_rows_match_the_json(run: AuditRun) -> None:
    """Every CSV row agrees with the report it comes from (domain, selector, verdicts, codes)."""
    rows = list(csv.DictReader(io.StringIO(run.to_csv())))
    expected = [
        (r.domain, r.verdict.value, s.selector, s.verdict.value, [p.code.value for p in s.problems])
        for r in run.reports
        for s in r.selectors
    ]
    assert expected == [
        (
            row["domain"],
            row["verdict"],
            row["selector"],
            row["selector_verdict"],
            row["problems"].split(),
        )
        for row in rows
    ]


def test_csv_defuses_spreadsheet_formulas() -> None:
    """A target read from a hostile zone that starts with '=' is written with a quote."""
    selector = SelectorReport(
        "mail1",
        "mail1._domainkey.keys.brand.test",
        SlotState.ACTIVE,
        None,
        target="=cmd|calc.evil.test",
    )
    run = AuditRun([DomainReport("evil.test", T0, (selector,))])
    [row] = list(csv.DictReader(io.StringIO(run.to_csv())))
    assert "'=cmd|calc.evil.test" == row["target"]


def test_problem_codes_have_explanations() -> None:
    """Every problem code explains itself in a sentence or more."""
    for code in ProblemCode:
        assert len(code.explanation) > 60, code


def changed_bodies() -> dict[str, str]:
    bodies = _customer_bodies()
    bodies["missing.test"] = render_zone(delegation("missing.test"))  # fixed
    bodies["ok.test"] = render_zone(without(delegation("ok.test"), "mail2"))  # broke
    bodies["lowttl.test"] = render_zone(delegation("lowttl.test"))  # warning gone
    bodies["new.test"] = render_zone(delegation("new.test"))  # added
    return bodies


def test_diff_names_what_changed(run: AuditRun) -> None:
    """Fixed, broke, changed, added and removed domains are each reported; the rest is not."""
    domains = [d for d in CUSTOMER_DOMAINS if d != "txtold.test"] + ["new.test"]
    later = attrs.evolve(audit(changed_bodies(), domains), started_at=T0 + timedelta(days=1))
    diff = later.diff(run)
    kinds = {change.domain: change.kind for change in diff.changes}
    assert {
        "missing.test": ChangeKind.FIXED,
        "ok.test": ChangeKind.BROKE,
        "lowttl.test": ChangeKind.CHANGED,
        "new.test": ChangeKind.ADDED,
        "txtold.test": ChangeKind.REMOVED,
    } == kinds
    assert len(CUSTOMER_DOMAINS) - 4 == diff.unchanged
    broke = diff.of_kind(ChangeKind.BROKE)[0]
    assert [("mail2", "one-selector-only", None)] == [p.identity for p in broke.new_problems]
    assert (DelegationVerdict.OK, DelegationVerdict.BROKEN) == (broke.before, broke.after)
    fixed = diff.of_kind(ChangeKind.FIXED)[0]
    assert 2 == len(fixed.fixed_problems)
    assert "ok.test: ok -> broken; new: mail2 one-selector-only" == broke.describe()
    assert ["ok.test"] == [c.domain for c in diff.new_errors]
    assert {"added": 1, "removed": 1, "broke": 1, "fixed": 1, "changed": 1} == {
        k: v for k, v in diff.counts().items() if k != "unchanged"
    }


def test_diff_survives_a_json_round_trip(run: AuditRun) -> None:
    """Diffing against a run loaded from JSON gives the same diff as against the original."""
    later = audit(changed_bodies())
    assert later.diff(run) == later.diff(AuditRun.from_json(run.to_json()))
    assert json.loads(later.diff(run).to_json())["summary"]["fixed"] == 1


def test_no_change_means_an_empty_diff(run: AuditRun) -> None:
    """Two audits of unchanged zones differ in nothing (times and wording aside)."""
    diff = audit().diff(run)
    assert () == diff.changes
    assert len(CUSTOMER_DOMAINS) == diff.unchanged


def test_duplicate_domains_in_a_run_are_refused() -> None:
    """A run lists each domain once."""
    report = DomainReport("a.test", T0, ())
    with pytest.raises(ConfigurationError, match="twice"):
        AuditRun([report, report])


def test_verdict_is_derived_from_severities() -> None:
    """Errors make a domain broken, else a temporary failure makes it unknown, else ok."""

    def report(*severities: Severity) -> DomainReport:
        problems = tuple(
            Problem(ProblemCode.LOW_TTL, "mail1", s, Party.CUSTOMER, "x") for s in severities
        )
        selector = SelectorReport("mail1", "t", SlotState.ACTIVE, None, problems=problems)
        return DomainReport("a.test", T0, (selector,))

    assert DelegationVerdict.OK == report(Severity.WARNING, Severity.NOTICE).verdict
    assert DelegationVerdict.UNKNOWN == report(Severity.UNKNOWN, Severity.WARNING).verdict
    assert DelegationVerdict.BROKEN == report(Severity.UNKNOWN, Severity.ERROR).verdict
