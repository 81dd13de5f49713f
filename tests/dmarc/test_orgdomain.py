"""Organizational domains: the RFC 9989 §4.10 tree walk and the RFC 7489 §3.2 PSL rule."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from oxdkim import ConfigurationError, DnsTempError
from oxdkim._dmarc.orgdomain import (
    MAX_TREE_WALK_QUERIES,
    AsyncComparingFinder,
    AsyncFinderAdapter,
    AsyncTreeWalkFinder,
    ComparingFinder,
    PslFinder,
    TreeWalkFinder,
    normalize_dmarc_domain,
    walk_targets,
)
from oxdkim._dmarc.record import OrgDomainMethod, OrgDomainRule
from oxdkim.typing import AsyncOrgDomainFinder, OrgDomainFinder

from .helpers import PSL_SNAPSHOT, VECTORS, as_async, load_cases, recording

TREEWALK = load_cases("treewalk_cases.json")


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in cases]


class TestTreeWalkVectors:
    @pytest.mark.parametrize(
        "case", [c for c in TREEWALK if "expected_queries" in c], ids=lambda c: c["id"]
    )
    def test_query_sequence(self, case: dict[str, Any]) -> None:
        """The walk queries exactly the vector's names, in order (RFC 9989 §4.10)."""
        resolver = recording(case["dmarc_records"])
        TreeWalkFinder(resolver).find(case["author_domain"])
        assert case["expected_queries"] == resolver.names

    @pytest.mark.parametrize(
        "case", [c for c in TREEWALK if "start_domain" in c], ids=lambda c: c["id"]
    )
    def test_organizational_domain(self, case: dict[str, Any]) -> None:
        """The organizational domain is selected per RFC 9989 §4.10.2."""
        org = TreeWalkFinder(recording(case["dmarc_records"])).find(case["start_domain"])
        assert case["expected_org_domain"] == org.organizational_domain
        assert OrgDomainMethod.TREE_WALK is org.method

    @pytest.mark.parametrize(
        "case", [c for c in TREEWALK if c["id"].startswith("bis41-B.4")], ids=lambda c: c["id"]
    )
    def test_appendix_b4_organizational_domains(self, case: dict[str, Any]) -> None:
        """Appendix B.4 examples: the organizational domain of each identifier."""
        finder = TreeWalkFinder(recording(case["dmarc_records"]))
        found = {d: finder.find(d).organizational_domain for d in case["expected_org_domain"]}
        assert case["expected_org_domain"] == found

    def test_appendix_b42_author_queries(self) -> None:
        """Appendix B.4.2: the deep author domain is walked with the jump to seven labels."""
        (case,) = [c for c in TREEWALK if c["id"] == "bis41-B.4.2"]
        resolver = recording(case["dmarc_records"])
        TreeWalkFinder(resolver).find(case["author_domain"])
        assert case["expected_queries_author"] == resolver.names


class TestTreeWalk:
    @pytest.mark.parametrize(
        ("labels", "queries"),
        [(1, 1), (2, 2), (7, 7), (8, 8), (9, 8), (20, 8), (100, 8)],
    )
    def test_never_more_than_eight_queries(self, labels: int, queries: int) -> None:
        """Names of 8 labels or more jump to 7 labels after the first query (RFC 9989 §4.10)."""
        name = "a." * (labels - 1) + "com"
        resolver = recording()
        TreeWalkFinder(resolver).find(name)
        assert queries == len(resolver.names)
        assert queries <= MAX_TREE_WALK_QUERIES
        assert f"_dmarc.{name}" == resolver.names[0]
        assert "_dmarc.com" == resolver.names[-1]
        if labels > 1:  # "_dmarc.<n labels>" has n dots
            assert min(labels - 1, 7) == resolver.names[1].count(".")

    def test_walk_targets_for_eight_labels(self) -> None:
        """Eight labels: the parent has seven, so the walk is the full eight names."""
        assert ("a.b.c.d.e.f.g.com", "b.c.d.e.f.g.com", "c.d.e.f.g.com") == walk_targets(
            "a.b.c.d.e.f.g.com"
        )[:3]

    def test_no_record_means_own_organizational_domain(self) -> None:
        """With no record anywhere, the domain is its own organizational domain."""
        org = TreeWalkFinder(recording()).find("mail.example.com")
        assert ("mail.example.com", OrgDomainRule.NO_RECORD) == (
            org.organizational_domain,
            org.rule,
        )

    def test_psd_y_at_start_is_ignored_for_rule_two(self) -> None:
        """psd=y on the starting domain stops the walk; that domain is the answer (§4.10.2)."""
        resolver = recording({"_dmarc.example": "v=DMARC1; p=none; psd=y"})
        org = TreeWalkFinder(resolver).find("example")
        assert ["_dmarc.example"] == resolver.names
        assert ("example", OrgDomainRule.FEWEST_LABELS) == (org.organizational_domain, org.rule)

    def test_psd_n_stops_the_walk(self) -> None:
        """A record with psd=n stops the walk and names itself (§4.10 step 6, §4.10.2 rule 1)."""
        resolver = recording(
            {
                "_dmarc.mail.example.com": "v=DMARC1; p=none; psd=n",
                "_dmarc.example.com": "v=DMARC1; p=reject",
            }
        )
        org = TreeWalkFinder(resolver).find("a.b.mail.example.com")
        assert ["_dmarc.a.b.mail.example.com", "_dmarc.b.mail.example.com"] == resolver.names[:2]
        assert "_dmarc.mail.example.com" == resolver.names[-1]
        assert ("mail.example.com", OrgDomainRule.PSD_NO) == (org.organizational_domain, org.rule)

    def test_psd_y_after_a_jump_names_the_label_below(self) -> None:
        """psd=y found after the jump: the answer is one label below it on the author's path."""
        resolver = recording({"_dmarc.c.d.e.f.g.example.com": "v=DMARC1; p=reject; psd=y"})
        org = TreeWalkFinder(resolver).find("a.b.c.d.e.f.g.example.com")
        assert ["_dmarc.a.b.c.d.e.f.g.example.com", "_dmarc.c.d.e.f.g.example.com"] == (
            resolver.names
        )
        assert "b.c.d.e.f.g.example.com" == org.organizational_domain
        assert "c.d.e.f.g.example.com" == org.public_suffix_domain
        assert OrgDomainRule.BELOW_PSD is org.rule

    def test_multiple_records_are_no_record(self) -> None:
        """Several DMARC records at a name are discarded and the walk goes on (§4.10 step 6)."""
        resolver = recording(
            {
                "_dmarc.example.com": ["v=DMARC1; p=none; psd=n", "v=DMARC1; p=reject"],
                "_dmarc.mail.example.com": "v=DMARC1; p=reject",
            }
        )
        org = TreeWalkFinder(resolver).find("a.mail.example.com")
        assert "mail.example.com" == org.organizational_domain
        assert "_dmarc.com" == resolver.names[-1]

    def test_non_dmarc_txt_records_are_ignored(self) -> None:
        """TXT records that are not DMARC records do not count (§4.10 step 2)."""
        org = TreeWalkFinder(recording({"_dmarc.example.com": "v=spf1 -all"})).find("a.example.com")
        assert "a.example.com" == org.organizational_domain

    def test_lookups_and_queries_are_reported(self) -> None:
        """The result lists every lookup made, in order."""
        resolver = recording({"_dmarc.example.com": "v=DMARC1; p=reject"})
        org = TreeWalkFinder(resolver).find("mail.example.com")
        assert tuple(resolver.names) == org.queries
        lookup = org.lookup_for("example.com")
        assert lookup is not None
        assert lookup.record is not None

    def test_temporary_failure_propagates(self) -> None:
        """A temporary failure anywhere in the walk is DnsTempError, not 'no record'."""
        resolver = recording(failing=["_dmarc.com"])
        with pytest.raises(DnsTempError):
            TreeWalkFinder(resolver).find("mail.example.com")

    def test_async_walk_is_the_same(self) -> None:
        """The async finder queries the same names and returns the same value."""
        records = {"_dmarc.bank.example": "v=DMARC1; p=reject; psd=y"}
        sync = recording(records)
        expected = TreeWalkFinder(sync).find("x.mail.mega.bank.example")
        inner = recording(records)
        got = asyncio.run(AsyncTreeWalkFinder(as_async(inner)).find("x.mail.mega.bank.example"))
        assert expected == got
        assert sync.names == inner.names

    def test_async_temporary_failure_propagates(self) -> None:
        """The async finder raises DnsTempError too."""
        finder = AsyncTreeWalkFinder(as_async(recording(failing=["_dmarc.example.com"])))
        with pytest.raises(DnsTempError):
            asyncio.run(finder.find("example.com"))

    def test_input_is_normalized(self) -> None:
        """Upper case, a trailing dot and U-labels are normalized before walking."""
        resolver = recording()
        org = TreeWalkFinder(resolver).find("Mail.Bücher.Example.")
        assert "mail.xn--bcher-kva.example" == org.domain
        assert "_dmarc.mail.xn--bcher-kva.example" == resolver.names[0]

    @pytest.mark.parametrize("bad", ["", ".", "a..b", "exa mple.com", "-x.com"])
    def test_bad_domain_is_a_configuration_error(self, bad: str) -> None:
        """A string that is not a domain is refused with a typed error."""
        with pytest.raises(ConfigurationError):
            TreeWalkFinder(recording()).find(bad)

    def test_protocols(self) -> None:
        """The finders satisfy the typing protocols."""
        assert isinstance(TreeWalkFinder(recording()), OrgDomainFinder)
        assert isinstance(PslFinder(PSL_SNAPSHOT), OrgDomainFinder)
        assert isinstance(AsyncTreeWalkFinder(as_async(recording())), AsyncOrgDomainFinder)


def _psl_lines() -> list[tuple[str, str | None, str | None]]:
    """(input, expected) pairs of tests.txt; 'null' is None."""
    rows = []
    for line in (VECTORS / "psl" / "tests.txt").read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("//"):
            continue
        given, expected = line.split()
        rows.append(
            (line, None if given == "null" else given, None if expected == "null" else expected)
        )
    return rows


def _check_psl_calls() -> list[tuple[str | None, str | None]]:
    """checkPublicSuffix(input, expected) calls of test_psl.txt."""
    import re

    pattern = re.compile(r"^checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);$")
    calls = []
    for line in (VECTORS / "psl" / "test_psl.txt").read_text("utf-8").splitlines():
        match = pattern.match(line)
        if match:
            given, expected = (None if g == "null" else g[1:-1] for g in match.groups())
            calls.append((given, expected))
    return calls


@pytest.fixture(scope="module")
def snapshot() -> PslFinder:
    """The PSL finder over the snapshot the list's own tests go with."""
    return PslFinder(PSL_SNAPSHOT)


class TestPublicSuffixList:
    @pytest.mark.parametrize(("line", "given", "expected"), _psl_lines(), ids=lambda v: str(v))
    def test_list_tests_txt(
        self, snapshot: PslFinder, line: str, given: str | None, expected: str | None
    ) -> None:
        """The Public Suffix List's tests.txt cases pass against its snapshot."""
        got = None if given is None else snapshot.registrable_domain(given)
        assert expected == got, line

    def test_list_test_psl_txt(self, snapshot: PslFinder) -> None:
        """The Public Suffix List's test_psl.txt checkPublicSuffix calls all pass."""
        calls = _check_psl_calls()
        assert len(calls) > 70
        got = [(g, None if g is None else snapshot.registrable_domain(g)) for g, _ in calls]
        assert calls == got

    def test_find_returns_the_registered_domain(self, snapshot: PslFinder) -> None:
        """find() gives the public suffix plus one label, with the suffix matched."""
        org = snapshot.find("a.b.example.co.uk")
        assert ("example.co.uk", "co.uk") == (org.organizational_domain, org.public_suffix_domain)
        assert (OrgDomainMethod.PUBLIC_SUFFIX_LIST, OrgDomainRule.PUBLIC_SUFFIX_LIST) == (
            org.method,
            org.rule,
        )
        assert () == org.lookups

    def test_public_suffix_has_no_organizational_domain(self, snapshot: PslFinder) -> None:
        """A public suffix is flagged; it aligns only with itself (RFC 7489 §3.1.1)."""
        for name in ("com", "co.uk"):
            org = snapshot.find(name)
            assert (name, True, OrgDomainRule.PUBLIC_SUFFIX) == (
                org.organizational_domain,
                org.is_public_suffix,
                org.rule,
            )

    def test_idn_is_found_as_a_labels(self, snapshot: PslFinder) -> None:
        """U-label input is normalized to A-labels and matched against the IDN rules."""
        org = snapshot.find("www.食狮.公司.cn")
        assert "xn--85x722f.xn--55qx5d.cn" == org.organizational_domain

    def test_private_section_is_honoured_by_default(self, snapshot: PslFinder) -> None:
        """PRIVATE-section suffixes count by default and can be turned off."""
        icann = PslFinder(PSL_SNAPSHOT, private_domains=False)
        assert "foo.github.io" == snapshot.find("a.foo.github.io").organizational_domain
        assert "github.io" == icann.find("a.foo.github.io").organizational_domain

    def test_bundled_list_works_offline(self) -> None:
        """Without a file, the list bundled with publicsuffixlist is used."""
        assert "example.co.uk" == PslFinder().find("mail.example.co.uk").organizational_domain

    def test_unreadable_list_file(self, tmp_path: Path) -> None:
        """A list file that cannot be read is a ConfigurationError."""
        with pytest.raises(ConfigurationError):
            PslFinder(tmp_path / "missing.dat")


class TestComparing:
    def test_disagreement_is_reported(self, snapshot: PslFinder) -> None:
        """Tree walk and PSL disagree where records and the list differ."""
        resolver = recording({"_dmarc.mail.example.com": "v=DMARC1; p=reject"})
        org = ComparingFinder(TreeWalkFinder(resolver), snapshot).find("a.mail.example.com")
        assert "mail.example.com" == org.organizational_domain
        assert org.alternative is not None
        assert "example.com" == org.alternative.organizational_domain
        assert org.disagrees

    def test_agreement(self, snapshot: PslFinder) -> None:
        """With a record at the registered domain the two methods agree."""
        resolver = recording({"_dmarc.example.com": "v=DMARC1; p=reject"})
        org = ComparingFinder(TreeWalkFinder(resolver), snapshot).find("a.mail.example.com")
        assert not org.disagrees
        assert not TreeWalkFinder(resolver).find("example.com").disagrees

    def test_async_comparing(self, snapshot: PslFinder) -> None:
        """The async comparing finder gives the same value."""
        records = {"_dmarc.mail.example.com": "v=DMARC1; p=reject"}
        expected = ComparingFinder(TreeWalkFinder(recording(records)), snapshot).find(
            "a.mail.example.com"
        )
        finder = AsyncComparingFinder(
            AsyncTreeWalkFinder(as_async(recording(records))), AsyncFinderAdapter(snapshot)
        )
        assert expected == asyncio.run(finder.find("a.mail.example.com"))


class TestNormalize:
    def test_single_label_is_allowed(self) -> None:
        """DMARC accepts single-label names (d=com); IDN labels become A-labels."""
        assert ["com", "xn--fiqs8s", "example.com"] == [
            normalize_dmarc_domain(n) for n in ("COM.", "中国", "Example.COM")
        ]
