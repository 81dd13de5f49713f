"""SPF analysis for the preview (RFC 7208): grammar, include/redirect walk, limits, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from oxdkim import RecordSyntaxError
from oxdkim._audit.spf import (
    MAX_SPF_LOOKUPS,
    SpfRecord,
    SpfTerm,
    analyze_spf,
    analyze_spf_async,
    is_spf_record,
)
from oxdkim.exceptions import ConfigurationError
from oxdkim.resolvers import InMemoryZone

PROVIDER = "_spf.brandmail.example"
PROVIDER_RECORD = "v=spf1 ip4:192.0.2.0/24 -all"


def zone(records: Mapping[str, Any], **kwargs: Any) -> InMemoryZone:
    """The provider's include plus ``records``."""
    return InMemoryZone({PROVIDER: PROVIDER_RECORD, **records}, **kwargs)


def analyze(records: Mapping[str, Any], domain: str = "bounce.example", **kwargs: Any) -> Any:
    return analyze_spf(zone(records, **kwargs), domain, PROVIDER)


def codes(analysis: Any) -> list[str]:
    return [problem.code.value for problem in analysis.problems]


# --- the grammar (RFC 7208 §12) --------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1",
        "v=spf1 -all",
        "V=SPF1 MX -ALL",
        "v=spf1 a mx ptr ip4:192.0.2.1 ip4:192.0.2.0/24 ip6:2001:db8::/32 ip6:::ffff:1.2.3.4 ~all",
        "v=spf1 a:mail.example.com/24 mx:example.com//64 a/32//128 mx/0 ?all",
        "v=spf1 include:_spf.google.com include:spf.protection.outlook.com. -all",
        "v=spf1 exists:%{i}._spf.%{d}.example.com exists:%{ir}.%{l1r+-}._spf.%{d2} -all",
        "v=spf1 redirect=_spf.example.com",
        "v=spf1 mx exp=explain._spf.%{d} -all",
        "v=spf1 mx foo-bar=baz.%{d} x.y_z=anything -all",
        "v=spf1 include:%{d}.spf.example  ",
        "v=spf1 a:host-1.example.123-4 -all",
    ],
)
def test_valid_records_parse(record: str) -> None:
    """Records that follow the ABNF parse, whatever their case and spacing."""
    parsed = SpfRecord.parse(record)
    assert record.split()[1:] == [term.text for term in parsed.terms]


@pytest.mark.parametrize(
    ("record", "tag"),
    [
        ("v=spf1 include", "include"),
        ("v=spf1 include:", "include"),
        ("v=spf1 include:example", "include"),
        ("v=spf1 include:example.123", "include"),
        ("v=spf1 exists", "exists"),
        ("v=spf1 all:example.com", "all"),
        ("v=spf1 ip4:192.0.2.256", "ip4"),
        ("v=spf1 ip4:192.0.2.01", "ip4"),
        ("v=spf1 ip4:192.0.2.1/33", "ip4"),
        ("v=spf1 ip4:192.0.2.1/", "ip4"),
        ("v=spf1 ip4", "ip4"),
        ("v=spf1 ip6:2001:db8::/129", "ip6"),
        ("v=spf1 ip6:2001:db8::g", "ip6"),
        ("v=spf1 ip6:fe80::1%eth0", "ip6"),
        ("v=spf1 a:example.com/24//129", "a"),
        ("v=spf1 mx/033", "mx"),
        ("v=spf1 ptr:", "ptr"),
        ("v=spf1 include:%{c}.example.com", "include"),
        ("v=spf1 include:%{x}.example.com", "include"),
        ("v=spf1 redirect=a.example redirect=b.example", "redirect"),
        ("v=spf1 exp=a.example exp=b.example", "exp"),
        ("v=spf1 redirect=", "redirect"),
        ("v=spf1 foo=b\u00e4r", "foo"),
        ("v=spf1 mx\t-all", "mx"),
        ("v=spf1 +-all", None),
        ("v=spf1 include:example.com%", "include"),
        ("v=spf1 include:50%.example.com", "include"),
        ("v=spf1 spf:example.com", None),
        ("v=spf1 %{d}", None),
    ],
)
def test_syntax_errors_are_refused(record: str, tag: str | None) -> None:
    """Each malformed term is a RecordSyntaxError naming the term's mechanism or modifier."""
    with pytest.raises(RecordSyntaxError) as caught:
        SpfRecord.parse(record)
    assert tag == caught.value.tag


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("v=spf1", True),
        ("v=spf1 -all", True),
        ("V=Spf1 mx", True),
        ("v=spf10 -all", False),
        ("v=spf1\t-all", False),
        (" v=spf1 -all", False),
        ("v=DMARC1; p=none", False),
        ("spf2.0/pra include:x.example", False),
    ],
)
def test_version_section(record: str, expected: bool) -> None:
    """Only records whose version section is exactly v=spf1 (then SP or end) count (§4.5)."""
    assert expected == is_spf_record(record)
    assert expected == is_spf_record(record.encode())


def test_term_properties() -> None:
    """Qualifiers default to +; lookup terms and macro targets are recognised."""
    record = SpfRecord.parse("v=spf1 mx ~include:%{d}.x.example ip4:192.0.2.1 redirect=r.example")
    mx, include, ip4, redirect = record.terms
    assert ("+", True, False) == (mx.qualifier, mx.queries_dns, mx.has_macro)
    assert ("~", True, True) == (include.qualifier, include.queries_dns, include.has_macro)
    assert (False, None) == (ip4.queries_dns, ip4.target)
    assert (True, "r.example") == (redirect.is_modifier, redirect.target)
    assert redirect == record.redirect
    assert record.all is None
    assert "a.example" == SpfTerm.parse("a:a.example/24").target


# --- does the record authorize the provider? -------------------------------------------


def test_direct_include_authorizes() -> None:
    """include:<provider> with the default + qualifier: the provider's mail gets pass."""
    found = analyze({"bounce.example": f"v=spf1 mx include:{PROVIDER} -all"})
    assert ("pass", True, "-") == (
        found.result.value,
        found.authorizes_provider,
        found.all_qualifier,
    )
    assert (f"include:{PROVIDER}",) == found.provider_path
    assert 2 == found.lookups
    assert ["bounce.example", PROVIDER] == [step.domain for step in found.steps]
    assert [] == codes(found)


def test_nested_include_authorizes_with_its_path() -> None:
    """A customer include that includes the provider: pass, and the path shows both hops."""
    found = analyze(
        {
            "bounce.example": "v=spf1 include:_spf.example ~all",
            "_spf.example": f"v=spf1 ip4:198.51.100.1 include:{PROVIDER} -all",
        }
    )
    assert "pass" == found.result.value
    assert ("include:_spf.example", f"include:{PROVIDER}") == found.provider_path
    assert [0, 1, 2] == [step.depth for step in found.steps]
    assert "~" == found.all_qualifier  # the analysed domain's own all


@pytest.mark.parametrize(
    ("qualifier", "result"),
    [("+", "pass"), ("?", "neutral"), ("~", "softfail"), ("-", "fail")],
)
def test_the_include_qualifier_decides(qualifier: str, result: str) -> None:
    """The provider's include with ? ~ - gives neutral, softfail, fail (§4.6.2)."""
    found = analyze({"bounce.example": f"v=spf1 {qualifier}include:{PROVIDER} -all"})
    assert result == found.result.value
    assert (result == "pass") == found.authorizes_provider
    assert found.provider_listed


def test_a_restricted_inner_include_does_not_match() -> None:
    """~include:<provider> inside an include gives softfail there: the outer include does
    not match, so the analysed record's -all decides (fail)."""
    found = analyze(
        {
            "bounce.example": "v=spf1 include:_spf.example -all",
            "_spf.example": f"v=spf1 ~include:{PROVIDER} ?all",
        }
    )
    assert ("fail", True, False) == (
        found.result.value,
        found.provider_listed,
        found.authorizes_provider,
    )
    assert "lists the provider only as include:_spf.example -> ~include:" in found.explain()


@pytest.mark.parametrize(
    ("ending", "result"), [("-all", "fail"), ("~all", "softfail"), ("", "neutral")]
)
def test_not_listed_gets_the_all_result(ending: str, result: str) -> None:
    """Without the provider's include, the provider's mail gets what 'all' says (neutral
    without one, §4.7)."""
    found = analyze({"bounce.example": f"v=spf1 mx a ip4:198.51.100.0/24 {ending}".strip()})
    assert (result, False) == (found.result.value, found.provider_listed)
    assert (ending[:1] or None) == found.all_qualifier
    assert "does not include _spf.brandmail.example" in found.explain()


def test_redirect_to_the_provider() -> None:
    """redirect=<provider> hands the whole evaluation to the provider's record: pass."""
    found = analyze({"bounce.example": f"v=spf1 redirect={PROVIDER}"})
    assert ("pass", (f"redirect={PROVIDER}",), "-") == (
        found.result.value,
        found.provider_path,
        found.all_qualifier,
    )
    assert 1 == found.lookups


def test_redirect_to_a_record_that_includes_the_provider() -> None:
    """redirect= then include: pass; the all qualifier is the redirect target's."""
    found = analyze(
        {
            "bounce.example": "v=spf1 mx redirect=spf.example",
            "spf.example": f"v=spf1 include:{PROVIDER} ~all",
        }
    )
    assert ("pass", "~", 3) == (found.result.value, found.all_qualifier, found.lookups)


def test_redirect_is_ignored_beside_all() -> None:
    """A redirect in a record with 'all' is never followed (§6.1), and that is reported."""
    found = analyze({"bounce.example": f"v=spf1 -all redirect={PROVIDER}"})
    assert ("fail", 0) == (found.result.value, found.lookups)
    assert ["unreachable"] == codes(found)


def test_terms_after_all_are_never_reached() -> None:
    """include:<provider> after -all is never evaluated (§5.1): fail, and a warning."""
    found = analyze({"bounce.example": f"v=spf1 -all include:{PROVIDER}"})
    assert ("fail", False) == (found.result.value, found.provider_listed)
    assert ["unreachable"] == codes(found)


def test_plus_all_passes_everyone() -> None:
    """+all gives the provider pass too, with a warning: any host may send."""
    found = analyze({"bounce.example": "v=spf1 mx +all"})
    assert ("pass", False) == (found.result.value, found.provider_listed)
    assert ["pass-all"] == codes(found)


def test_the_provider_domain_itself() -> None:
    """A MAIL FROM domain that is the provider's include domain authorizes the provider."""
    found = analyze_spf(zone({}), PROVIDER, PROVIDER)
    assert (True, ()) == (found.authorizes_provider, found.provider_path)


def test_without_a_provider_include_the_result_is_for_unlisted_senders() -> None:
    """No spf_include configured: the result is what a sender the record does not list gets."""
    found = analyze_spf(
        zone({"bounce.example": f"v=spf1 include:{PROVIDER} ~all"}), "bounce.example"
    )
    assert ("softfail", False, None) == (
        found.result.value,
        found.provider_listed,
        found.provider_include,
    )
    assert "cannot be judged" in found.explain()


# --- none, several records, errors -----------------------------------------------------


def test_no_record_is_none() -> None:
    """No v=spf1 record (other TXT records do not count): none, not an error (§4.5)."""
    found = analyze({"bounce.example": ["google-site-verification=abc", "v=spf10 -all"]})
    assert ("none", None) == (found.result.value, found.record)
    assert ["no-record"] == codes(found)
    assert "none" == analyze({}).result.value  # NXDOMAIN


def test_several_records_are_permerror() -> None:
    """Two v=spf1 records at one name: permerror (§4.5)."""
    found = analyze({"bounce.example": [f"v=spf1 include:{PROVIDER} -all", "v=spf1 -all"]})
    assert ("permerror", ["multiple-records"]) == (found.result.value, codes(found))


def test_a_syntax_error_anywhere_in_the_record_is_permerror() -> None:
    """A bad term after the provider's include still makes the whole record permerror."""
    found = analyze({"bounce.example": f"v=spf1 include:{PROVIDER} ip4:300.1.1.1 -all"})
    assert ("permerror", ["syntax-error"]) == (found.result.value, codes(found))
    assert "300.1.1.1" in found.explain()


@pytest.mark.parametrize(
    ("target", "code"),
    [
        (None, "no-record"),
        ("v=spf1 ip4:1.2.3", "syntax-error"),
        (["v=spf1 -all", "v=spf1 ~all"], "multiple-records"),
    ],
)
def test_a_broken_include_before_the_provider_is_permerror(target: Any, code: str) -> None:
    """An include whose record is missing, malformed or doubled: permerror (§5.2)."""
    records: dict[str, Any] = {
        "bounce.example": f"v=spf1 include:gone.example include:{PROVIDER} -all"
    }
    if target is not None:
        records["gone.example"] = target
    found = analyze(records)
    assert ("permerror", [code]) == (found.result.value, codes(found))


def test_a_broken_include_after_the_provider_does_not_change_the_result() -> None:
    """Evaluation stops at the provider's include: a broken one after it is only reported."""
    found = analyze({"bounce.example": f"v=spf1 include:{PROVIDER} include:gone.example -all"})
    assert ("pass", ["no-record"]) == (found.result.value, codes(found))


def test_an_invalid_include_target_is_permerror() -> None:
    """include:<a name DNS cannot carry> is 'none' for the target, so permerror (§4.3)."""
    found = analyze({"bounce.example": f"v=spf1 include:bad_name!.example include:{PROVIDER}"})
    assert ("permerror", ["dns-permanent"]) == (found.result.value, codes(found))


def test_macro_targets_are_not_followed() -> None:
    """include:%{d}... depends on each message: counted, reported, not followed."""
    found = analyze(
        {"bounce.example": f"v=spf1 include:%{{d}}.spf.example include:{PROVIDER} -all"}
    )
    assert ("pass", 2, ["macro"]) == (found.result.value, found.lookups, codes(found))
    assert ["bounce.example", PROVIDER] == [step.domain for step in found.steps]


def test_ptr_is_counted_and_discouraged() -> None:
    """ptr counts toward the limit and draws a notice (§5.5)."""
    found = analyze({"bounce.example": f"v=spf1 ptr include:{PROVIDER} -all"})
    assert ("pass", 2, ["ptr"]) == (found.result.value, found.lookups, codes(found))


# --- loops and the 10-lookup limit -----------------------------------------------------


@pytest.mark.parametrize(
    "records",
    [
        {"bounce.example": "v=spf1 include:bounce.example -all"},
        {
            "bounce.example": "v=spf1 include:a.example -all",
            "a.example": "v=spf1 include:b.example",
            "b.example": "v=spf1 include:a.example",
        },
        {
            "bounce.example": "v=spf1 redirect=a.example",
            "a.example": "v=spf1 mx redirect=bounce.example",
        },
    ],
    ids=["self", "a-b-a", "redirect"],
)
def test_loops_are_permerror(records: dict[str, str]) -> None:
    """An include or redirect back onto its own path is permerror, found without 10 queries."""
    resolver = zone(records)
    found = analyze_spf(resolver, "bounce.example", PROVIDER)
    assert "permerror" == found.result.value
    assert "loop" in codes(found)
    assert len(records) == sum(resolver.queries.values())


def test_the_same_include_twice_is_not_a_loop() -> None:
    """Two branches including one record is legal; each include counts (§4.6.4)."""
    found = analyze(
        {
            "bounce.example": "v=spf1 include:a.example include:b.example -all",
            "a.example": f"v=spf1 include:{PROVIDER}",
            "b.example": f"v=spf1 include:{PROVIDER}",
        }
    )
    assert ("pass", 4, []) == (found.result.value, found.lookups, codes(found))


@pytest.mark.parametrize(("before", "result"), [(9, "pass"), (10, "permerror")])
def test_the_provider_include_as_the_tenth_and_eleventh_lookup(before: int, result: str) -> None:
    """Nine lookup terms before the provider's include: it is the 10th, pass; ten before:
    it would be the 11th, permerror (§4.6.4). ip4/ip6/all never count."""
    terms = " ".join(["a", "mx", "exists:x.example", "ptr", "ip4:192.0.2.9"] * 4)
    lookups = " ".join(t for t in terms.split() if not t.startswith("ip4"))
    chosen = " ".join(lookups.split()[:before])
    found = analyze({"bounce.example": f"v=spf1 ip6:2001:db8::1 {chosen} include:{PROVIDER} -all"})
    assert result == found.result.value
    assert min(before + 1, MAX_SPF_LOOKUPS + 1) == found.lookups
    assert (result == "permerror") == ("too-many-lookups" in codes(found))


def test_lookups_inside_includes_count() -> None:
    """Terms of included records count toward the one limit, and the walk stops there."""
    records = {"bounce.example": "v=spf1 " + " ".join(f"include:i{n}.example" for n in range(6))}
    records |= {f"i{n}.example": "v=spf1 a mx" for n in range(6)}
    records["bounce.example"] += f" include:{PROVIDER} -all"
    resolver = zone(records)
    found = analyze_spf(resolver, "bounce.example", PROVIDER)
    assert ("permerror", MAX_SPF_LOOKUPS + 1) == (found.result.value, found.lookups)
    assert ["too-many-lookups"] == codes(found)
    assert 5 == sum(resolver.queries.values())  # the analysed domain and i0..i3, no more


def test_over_the_limit_after_the_provider_passes_but_is_reported() -> None:
    """Lookups past the limit after the provider's include do not change its pass; the
    problem is reported (other senders get permerror)."""
    tail = " ".join(["a"] * 12)
    found = analyze({"bounce.example": f"v=spf1 include:{PROVIDER} {tail} -all"})
    assert ("pass", ["too-many-lookups"]) == (found.result.value, codes(found))


def test_a_deep_chain_costs_at_most_eleven_queries() -> None:
    """A chain of 30 includes stops at the limit: the analysed domain plus ten includes."""
    records = {f"c{n}.example": f"v=spf1 include:c{n + 1}.example" for n in range(30)}
    resolver = zone(records)
    found = analyze_spf(resolver, "c0.example", PROVIDER)
    assert "permerror" == found.result.value
    assert 11 == sum(resolver.queries.values())


# --- DNS failures ----------------------------------------------------------------------


def test_temporary_failure_of_the_domain_is_temperror() -> None:
    """The analysed domain's query fails: temperror, unknown, never 'none'."""
    found = analyze({"bounce.example": "v=spf1 -all"}, failing=["bounce.example"])
    assert ("temperror", True, ["dns-temporary"]) == (
        found.result.value,
        found.temporary,
        codes(found),
    )


def test_temporary_failure_of_an_include_is_temperror() -> None:
    """An include that cannot be fetched before the provider's: temperror (§5.2)."""
    found = analyze(
        {
            "bounce.example": f"v=spf1 include:a.example include:{PROVIDER} -all",
            "a.example": "v=spf1",
        },
        failing=["a.example"],
    )
    assert "temperror" == found.result.value


def test_temporary_failure_of_the_provider_include_is_temperror() -> None:
    """The provider's own record cannot be fetched: temperror, not pass."""
    found = analyze({"bounce.example": f"v=spf1 include:{PROVIDER} -all"}, failing=[PROVIDER])
    assert "temperror" == found.result.value


def test_a_cname_loop_is_permerror() -> None:
    """A name the resolver cannot follow (CNAME loop) is permanent: permerror."""
    resolver = InMemoryZone(
        {PROVIDER: PROVIDER_RECORD},
        cname={"bounce.example": "x.example", "x.example": "bounce.example"},
    )
    found = analyze_spf(resolver, "bounce.example", PROVIDER)
    assert ("permerror", ["dns-permanent"]) == (found.result.value, codes(found))


def test_async_twin_gives_the_same_analysis() -> None:
    """analyze_spf_async drives the same walk: equal values."""
    resolver = zone(
        {
            "bounce.example": "v=spf1 include:_spf.example ptr ~all",
            "_spf.example": f"v=spf1 include:{PROVIDER} include:gone.example",
        }
    )
    sync = analyze_spf(resolver, "bounce.example", PROVIDER)
    both = asyncio.run(analyze_spf_async(resolver.as_async(), "bounce.example", PROVIDER))
    assert sync == both
    assert "pass" == sync.result.value


def test_invalid_domains_are_configuration_errors() -> None:
    """The analysed domain and the provider include must be domain names."""
    with pytest.raises(ConfigurationError):
        analyze_spf(zone({}), "not a domain", PROVIDER)
    with pytest.raises(ConfigurationError):
        analyze_spf(zone({}), "bounce.example", "bad..include")


def test_json_form() -> None:
    """The analysis as JSON: result, path, steps with records, problems with severity."""
    found = analyze({"bounce.example": f"v=spf1 ptr include:{PROVIDER} -all"})
    data = found.to_json()
    assert ("pass", True, 2, "-") == (
        data["result"],
        data["authorizes_provider"],
        data["lookups"],
        data["all"],
    )
    assert [{"code": "ptr", "domain": "bounce.example", "severity": "notice"}] == [
        {k: p[k] for k in ("code", "domain", "severity")} for p in data["problems"]
    ]
    assert f"v=spf1 ptr include:{PROVIDER} -all" == data["steps"][0]["record"]


def test_a_provider_include_without_a_record_is_permerror() -> None:
    """The provider's include has no SPF record (a provider mistake): permerror, not pass."""
    resolver = InMemoryZone({"bounce.example": f"v=spf1 include:{PROVIDER} -all"})
    found = analyze_spf(resolver, "bounce.example", PROVIDER)
    assert ("permerror", ["no-record"]) == (found.result.value, codes(found))
    assert found.provider_listed
    assert not found.authorizes_provider


# --- void lookups, the provider's own lookups, and what is not modelled ------------------


@pytest.mark.parametrize(("voids", "result"), [(2, "pass"), (3, "permerror")])
def test_void_lookups_before_the_provider(voids: int, result: str) -> None:
    """Names that do not exist, named by a, mx or exists before the provider's include:
    two are allowed, the third is permerror (RFC 7208 §4.6.4)."""
    terms = ["a:gone1.example", "mx:gone2.example", "exists:gone3.example"][:voids]
    found = analyze({"bounce.example": f"v=spf1 {' '.join(terms)} include:{PROVIDER} -all"})
    assert (result, voids) == (found.result.value, found.void_lookups)
    assert (result == "permerror") == ("too-many-void-lookups" in codes(found))


def test_names_that_exist_are_not_void() -> None:
    """A name that exists (a TXT record, or NODATA) is not seen as a void lookup."""
    found = analyze(
        {
            "bounce.example": (
                f"v=spf1 a:h1.example a:h2.example a:h3.example include:{PROVIDER} -all"
            ),
            "h1.example": "some text",
            "h2.example": "v=spf1 -all",
            "x.h3.example": "below h3, so h3 exists",
        }
    )
    assert ("pass", 0) == (found.result.value, found.void_lookups)


def test_void_lookups_after_the_provider_do_not_change_its_pass() -> None:
    """Void lookups after the provider's include are reported but its mail passed before."""
    tail = " ".join(f"a:gone{n}.example" for n in range(4))
    found = analyze({"bounce.example": f"v=spf1 include:{PROVIDER} {tail} -all"})
    assert ("pass", ["too-many-void-lookups"]) == (found.result.value, codes(found))


def test_lookups_inside_the_provider_record_count_only_to_its_match() -> None:
    """Nine lookups before the provider's include, whose record lists its hosts first and
    includes more after: a receiver matches at ip4 and counts 10, so the mail passes."""
    before = " ".join(["a"] * 9)
    records = {
        "bounce.example": f"v=spf1 {before} include:{PROVIDER} -all",
        PROVIDER: "v=spf1 ip4:192.0.2.0/24 include:more.example include:more2.example -all",
        "more.example": "v=spf1 ip4:198.51.100.0/24 -all",
        "more2.example": "v=spf1 ip4:203.0.113.0/24 -all",
    }
    found = analyze_spf(InMemoryZone(records), "bounce.example", PROVIDER)
    assert ("pass", 10) == (found.result.value, found.provider_lookups)
    assert found.lookups > MAX_SPF_LOOKUPS  # a sender matching nothing gets permerror
    assert any("first mechanism" in limit for limit in found.limits)


def test_provider_record_starting_with_include_counts_through_it() -> None:
    """The provider's first mechanism is an include: its hosts match inside, one level down."""
    before = " ".join(["a"] * 9)
    records = {
        "bounce.example": f"v=spf1 {before} include:{PROVIDER} -all",
        PROVIDER: "v=spf1 include:hosts.example -all",
        "hosts.example": "v=spf1 ip4:192.0.2.0/24 -all",
    }
    found = analyze_spf(InMemoryZone(records), "bounce.example", PROVIDER)
    assert ("permerror", MAX_SPF_LOOKUPS + 1) == (found.result.value, found.provider_lookups)


def test_limits_say_what_is_not_modelled_per_record() -> None:
    """mx, a, exists and macros: each record says where the analysis sees less."""
    found = analyze(
        {
            "bounce.example": f"v=spf1 mx exists:%{{i}}.rbl.example include:{PROVIDER} -all",
        }
    )
    limits = " | ".join(found.limits)
    assert "bounce.example: exists, mx taken not to match (no client IP)" in limits
    assert "limit of 10 MX names" in limits
    assert "expanded per message" in limits
    assert found.to_json()["limits"] == list(found.limits)


def test_the_provider_record_reached_twice_counts_to_its_match_each_time() -> None:
    """?include of the provider ends a record neutral, so a later include reaches it
    again: each visit stops at its first mechanism (found by the pyspf comparison)."""
    before = " ".join(["a"] * 5)
    records = {
        "bounce.example": f"v=spf1 {before} ?include:i.example include:{PROVIDER} -all",
        "i.example": f"v=spf1 ?include:{PROVIDER} -all",
        PROVIDER: "v=spf1 ip4:192.0.2.0/24 include:more1.example include:more2.example -all",
        "more1.example": "v=spf1 -all",
        "more2.example": "v=spf1 -all",
    }
    found = analyze_spf(InMemoryZone(records), "bounce.example", PROVIDER)
    assert ("pass", 8) == (found.result.value, found.provider_lookups)
