"""
Verdicts an attacker cannot bend: one regression test per class of error found by the
differential review, through the public API (``DmarcAlignment``, the readiness preview,
``oxdkim dmarc``), and the adversarial cases found while fixing them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from oxdkim.cli import main
from oxdkim.dmarc import (
    AlignmentReason,
    AsyncDmarcAlignment,
    ComparingFinder,
    DmarcAlignment,
    DmarcReason,
    DmarcVerdict,
    Policy,
    PolicySource,
    PslFinder,
    SpfCheck,
    TreeWalkFinder,
)
from oxdkim.resolvers import InMemoryZone

from .helpers import PSL_SNAPSHOT, as_async, recording, zone

PSL = PslFinder(PSL_SNAPSHOT)
BANK = {"_dmarc.bank.example": "v=DMARC1; p=reject"}


# --- 1. an identifier that cannot align never turns fail into temperror -----------------


@pytest.mark.parametrize(
    "failing",
    [
        ["_dmarc.evil.example"],
        ["_dmarc.mail.evil.example", "_dmarc.evil.example"],
    ],
)
def test_attacker_dns_failure_keeps_reject(failing: list[str]) -> None:
    """d=evil.example with SERVFAIL at evil.example's names: fail and reject, not temperror."""
    resolver = recording(BANK, failing=failing)
    result = DmarcAlignment(resolver).evaluate(
        "bank.example",
        dkim=["evil.example", "mail.evil.example"],
        spf=SpfCheck("pass", "evil.example"),
    )
    assert (DmarcVerdict.FAIL, Policy.REJECT) == (result.verdict, result.disposition)
    assert "dmarc=fail header.from=bank.example policy.dmarc=reject" == (
        result.authentication_results()
    )
    assert not any("evil" in name for name in resolver.names)


@pytest.mark.parametrize(
    "evil",
    [
        {"cname": {"_dmarc.evil.example": "_dmarc.evil.example"}},  # a CNAME loop: permerror
        {"txt": {"_dmarc.evil.example": ["v=DMARC1; p=none; psd=n"] * 2}},
        {"txt": {"_dmarc.evil.example": "v=DMARC1; p=none; psd=y"}},
    ],
    ids=["cname-loop", "duplicates", "claims-psd"],
)
def test_attacker_answers_of_any_kind_keep_reject(evil: dict[str, Any]) -> None:
    """Whatever evil.example's DNS answers (a loop, duplicates, psd claims), bank.example's
    mail signed d=evil.example fails and is rejected."""
    txt = {**BANK, **evil.get("txt", {})}
    resolver = zone(txt, cname=evil.get("cname"), failing=evil.get("failing", ()))
    result = DmarcAlignment(resolver).evaluate(
        "bank.example",
        dkim=["evil.example", "x.evil.example"],
        spf=SpfCheck("pass", "evil.example"),
    )
    assert (DmarcVerdict.FAIL, Policy.REJECT) == (result.verdict, result.disposition)


def test_a_top_level_record_without_psd_makes_one_organization() -> None:
    """A record at _dmarc.example without psd=y makes example the organizational domain of
    everything below it (RFC 9989 §4.10.2, fewest labels): evil.example then aligns with
    bank.example outright, so its failing DNS deciding the verdict gives nothing away."""
    records = {**BANK, "_dmarc.example": "v=DMARC1; p=none"}
    dmarc = DmarcAlignment(zone(records))
    assert DmarcVerdict.PASS is dmarc.evaluate("bank.example", dkim=["evil.example"]).verdict
    failing = DmarcAlignment(zone(records, failing=["_dmarc.evil.example"]))
    assert DmarcVerdict.TEMPERROR is failing.evaluate("bank.example", dkim=["evil.example"]).verdict


def test_a_failing_shared_top_level_record_does_decide() -> None:
    """_dmarc.example (above bank.example, not the attacker's) failing is different: a
    psd=n record there would make all of .example one organization (RFC 9989 §4.10.2)."""
    resolver = zone(BANK, failing=["_dmarc.evil.example", "_dmarc.example"])
    result = DmarcAlignment(resolver).evaluate("bank.example", dkim=["evil.example"])
    assert DmarcVerdict.TEMPERROR is result.verdict
    fine = DmarcAlignment(zone(BANK, failing=["_dmarc.example"])).evaluate(
        "bank.example", dkim=["bank.example"]
    )
    assert DmarcVerdict.PASS is fine.verdict


def test_attacker_cannot_slow_or_fail_the_psl_mode_either() -> None:
    """With the Public Suffix List finder the same evaluation is fail, reject."""
    resolver = zone(BANK, failing=["_dmarc.evil.example"])
    result = DmarcAlignment(resolver, PSL).evaluate("bank.example", dkim=["evil.example"])
    assert (DmarcVerdict.FAIL, Policy.REJECT) == (result.verdict, result.disposition)


def test_attacker_failure_in_compare_mode_is_fail() -> None:
    """In comparing mode the other method's view is still asked, and its failure ignored."""
    resolver = zone(BANK, failing=["_dmarc.evil.example"])
    finder = ComparingFinder(TreeWalkFinder(resolver), PSL)
    result = DmarcAlignment(resolver, finder).evaluate("bank.example", dkim=["evil.example"])
    assert (DmarcVerdict.FAIL, Policy.REJECT) == (result.verdict, result.disposition)
    assert None is result.dkim[0].alternative_aligned


def test_attacker_subdomain_of_a_public_suffix_sibling() -> None:
    """d=bank.example.evil.example (the author's name as a prefix) is still outside it."""
    resolver = zone(BANK, failing=["_dmarc.bank.example.evil.example"])
    result = DmarcAlignment(resolver).evaluate(
        "bank.example", dkim=["bank.example.evil.example", "xbank.example"]
    )
    assert DmarcVerdict.FAIL is result.verdict
    assert [AlignmentReason.OUTSIDE_ORGANIZATIONAL_DOMAIN] * 2 == [i.reason for i in result.dkim]


def test_async_attacker_failure_is_fail() -> None:
    """The asynchronous evaluation gives the same fail."""
    resolver = as_async(zone(BANK, failing=["_dmarc.evil.example"]))
    result = asyncio.run(
        AsyncDmarcAlignment(resolver).evaluate("bank.example", dkim=["evil.example"])
    )
    assert (DmarcVerdict.FAIL, Policy.REJECT) == (result.verdict, result.disposition)


# --- 2. a failure above the Author Domain decides only what depends on it ---------------


@pytest.mark.parametrize(
    ("records", "dkim"),
    [
        ({"_dmarc.example.com": "v=DMARC1; p=reject"}, ["example.com"]),
        ({"_dmarc.example.com": "v=DMARC1; p=reject; adkim=s"}, ["mail.example.com"]),
    ],
    ids=["identical", "strict"],
)
def test_failure_above_the_author_record(records: dict[str, str], dkim: list[str]) -> None:
    """_dmarc.com SERVFAIL: the record at the Author Domain applies, and identical or strict
    alignment needs no organizational domain (RFC 9989 §4.10.1, §4.10.2)."""
    resolver = recording(records, failing=["_dmarc.com"])
    result = DmarcAlignment(resolver).evaluate("example.com", dkim=dkim)
    expected = DmarcVerdict.PASS if dkim == ["example.com"] else DmarcVerdict.FAIL
    assert expected is result.verdict
    assert ("example.com", PolicySource.P) == (result.policy_domain, result.policy_source)
    assert "_dmarc.com" not in resolver.names


def test_subdomain_identifier_aligns_when_only_a_shared_ancestor_fails() -> None:
    """d=mail.example.com for example.com with _dmarc.com failing: every answer there gives
    both one organizational domain, so it aligns."""
    resolver = zone({"_dmarc.example.com": "v=DMARC1; p=reject"}, failing=["_dmarc.com"])
    result = DmarcAlignment(resolver).evaluate("example.com", dkim=["mail.example.com"])
    assert DmarcVerdict.PASS is result.verdict
    assert AlignmentReason.SAME_ORGANIZATIONAL_DOMAIN is result.dkim[0].reason


def test_failure_that_decides_is_still_temperror() -> None:
    """A failure at a name that could make the identifier its own organization: temperror."""
    resolver = zone(BANK, failing=["_dmarc.mail.bank.example"])
    result = DmarcAlignment(resolver).evaluate("bank.example", dkim=["a.mail.bank.example"])
    assert DmarcVerdict.TEMPERROR is result.verdict
    assert "dmarc=temperror header.from=bank.example" == result.authentication_results()


def test_policy_unknown_without_an_own_record_is_temperror() -> None:
    """No record at the Author Domain and the walk above it fails: the policy is unknown."""
    resolver = zone({"_dmarc.example.com": "v=DMARC1; p=reject"}, failing=["_dmarc.example.com"])
    result = DmarcAlignment(resolver).evaluate("mail.example.com", dkim=["mail.example.com"])
    assert (DmarcVerdict.TEMPERROR, DmarcReason.DNS_TEMPORARY) == (result.verdict, result.reason)


def test_failures_at_every_level_of_the_walk() -> None:
    """Each single failure on an eight-label walk: a verdict given is the failure-free one."""
    author = "a.b.c.d.e.f.g.example.com"
    records = {"_dmarc.example.com": "v=DMARC1; p=quarantine; sp=reject"}
    clean = DmarcAlignment(zone(records)).evaluate(author, dkim=["x.example.com"])
    assert (DmarcVerdict.PASS, Policy.REJECT) == (clean.verdict, clean.policy)
    names = [f"_dmarc.{'.'.join(author.split('.')[i:])}" for i in range(len(author.split(".")))]
    for name in names:
        result = DmarcAlignment(zone(records, failing=[name])).evaluate(
            author, dkim=["x.example.com"]
        )
        assert result.verdict in (clean.verdict, DmarcVerdict.TEMPERROR), name


# --- 3. one domain in a multi-address From is one Author Domain -------------------------


@pytest.mark.parametrize(
    "authors",
    [
        ["example.com", "example.com"],
        ["example.com", "EXAMPLE.COM."],
        ["bücher.example", "xn--bcher-kva.example"],
    ],
)
def test_mailboxes_of_one_domain(authors: list[str]) -> None:
    """Mailboxes of one domain (any case, trailing dot, U- or A-label) pass with aligned DKIM."""
    domain = "xn--bcher-kva.example" if "example.com" not in authors[0] else "example.com"
    result = DmarcAlignment(zone({f"_dmarc.{domain}": "v=DMARC1; p=reject"})).evaluate(
        authors, dkim=[domain]
    )
    assert (DmarcVerdict.PASS, domain) == (result.verdict, result.author_domain)


def test_cli_message_with_two_mailboxes_of_one_domain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """oxdkim dmarc on a From of two example.com mailboxes, SPF aligned: pass, exit 0."""
    message = tmp_path / "two.eml"
    message.write_bytes(
        b"From: alice@example.com, bob@example.com\r\nSender: alice@example.com\r\n"
        b"Subject: two\r\n\r\nHi.\r\n"
    )
    zone_file = tmp_path / "example.zone"
    zone_file.write_text(
        "$ORIGIN example.com.\n"
        "@ 300 IN SOA ns hostmaster 1 300 300 300 300\n"
        '_dmarc 300 IN TXT "v=DMARC1; p=reject"\n'
    )
    args = ["dmarc", "--zone", str(zone_file), "--spf", "pass", "--mail-from", "example.com"]
    assert 0 == main([*args, str(message)])
    assert "dmarc: pass (aligned)" == capsys.readouterr().out.splitlines()[0]


# --- 4. Authentication-Results reports only a known policy -------------------------------


NP = {
    "_dmarc.example.com": "v=DMARC1; p=none; sp=quarantine; np=reject",
}


def test_pass_with_np_and_a_failed_existence_check_reports_no_policy() -> None:
    """The existence check failed, so sp or np is unknown: no policy.dmarc on the pass."""
    resolver = zone(NP, failing=["maybe.example.com"])
    result = DmarcAlignment(resolver).evaluate("maybe.example.com", dkim=["example.com"])
    assert DmarcVerdict.PASS is result.verdict
    assert (None, None) == (result.policy, result.policy_source)
    assert "dmarc=pass header.from=maybe.example.com" == result.authentication_results()


def test_np_equal_to_sp_needs_no_existence_answer() -> None:
    """np equal to what sp gives: the failed existence check changes nothing."""
    records = {"_dmarc.example.com": "v=DMARC1; p=none; sp=reject; np=reject"}
    result = DmarcAlignment(zone(records, failing=["maybe.example.com"])).evaluate(
        "maybe.example.com"
    )
    assert (DmarcVerdict.FAIL, Policy.REJECT) == (result.verdict, result.disposition)


def test_temperror_has_no_policy_in_authentication_results() -> None:
    """A temperror verdict has no policy to apply, even when the record is known."""
    resolver = zone(BANK, failing=["_dmarc.mail.bank.example"])
    result = DmarcAlignment(resolver).evaluate("bank.example", dkim=["x.mail.bank.example"])
    assert (DmarcVerdict.TEMPERROR, Policy.REJECT) == (result.verdict, result.policy)
    assert "policy.dmarc" not in result.authentication_results()


# --- 6. RFC 7489 mode applies pct ---------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "psl", "disposition"),
    [
        ("v=DMARC1; p=quarantine; pct=0", True, Policy.NONE),
        ("v=DMARC1; p=reject; pct=0", True, Policy.QUARANTINE),
        ("v=DMARC1; p=reject; pct=50", True, Policy.REJECT),
        ("v=DMARC1; p=reject; t=y", True, Policy.REJECT),  # t is no RFC 7489 tag
        ("v=DMARC1; p=quarantine; pct=0", False, Policy.QUARANTINE),  # RFC 9989: no pct
        ("v=DMARC1; p=reject; t=y", False, Policy.QUARANTINE),
    ],
)
def test_pct_in_rfc7489_mode(record: str, psl: bool, disposition: Policy) -> None:
    """pct=0 gives the next milder policy in RFC 7489 mode (§6.6.4); RFC 9989 uses t."""
    result = DmarcAlignment(zone({"_dmarc.example.com": record}), PSL if psl else None).evaluate(
        "example.com"
    )
    assert (DmarcVerdict.FAIL, disposition) == (result.verdict, result.disposition)
    assert f"policy.dmarc={disposition.value}" in result.authentication_results()


def test_rfc7489_mode_has_no_np() -> None:
    """np is an RFC 9989 tag: in RFC 7489 mode a non-existent subdomain gets sp."""
    records = {"_dmarc.example.com": "v=DMARC1; p=none; sp=quarantine; np=reject"}
    tree = DmarcAlignment(zone(records)).evaluate("gone.example.com")
    psl = DmarcAlignment(zone(records), PSL).evaluate("gone.example.com")
    assert (Policy.REJECT, Policy.QUARANTINE) == (tree.disposition, psl.disposition)


def test_cli_psl_mode_applies_pct(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """oxdkim dmarc --finder psl: p=quarantine; pct=0 asks for nothing (RFC 7489 §6.6.4)."""
    zone_file = tmp_path / "example.zone"
    zone_file.write_text(
        "$ORIGIN example.com.\n"
        "@ 300 IN SOA ns hostmaster 1 300 300 300 300\n"
        '_dmarc 300 IN TXT "v=DMARC1; p=quarantine; pct=0"\n'
    )
    args = ["dmarc", "--zone", str(zone_file), "--from", "example.com", "--finder", "psl"]
    assert 1 == main(args)
    out = capsys.readouterr().out
    assert "with pct=0: RFC 7489 receivers apply none instead" in out
    assert "policy.dmarc=none" in out


# --- odd inputs an attacker controls ------------------------------------------------------


@pytest.mark.parametrize(
    "d",
    ["bank.example.", "BANK.EXAMPLE", "bank..example", "*.bank.example", "bank.example\x00"],
)
def test_odd_identifier_spellings(d: str) -> None:
    """Case and a trailing dot still align; anything malformed never does and asks nothing."""
    resolver = recording(BANK, failing=["_dmarc.example"])
    result = DmarcAlignment(resolver).evaluate("bank.example", dkim=[d])
    aligned = d.lower().rstrip(".") == "bank.example"
    assert aligned == result.dkim[0].aligned
    assert (DmarcVerdict.PASS if aligned else DmarcVerdict.FAIL) is result.verdict


def test_in_memory_zone_is_the_one_served() -> None:
    """The helpers' zone answers like the resolvers do (a sanity check of the test rig)."""
    assert InMemoryZone(BANK).txt("_dmarc.bank.example").exists


@pytest.mark.parametrize(
    ("from_field", "passes"),
    [
        (b"a@bank.example, b@bank.example", True),
        (b"a@bank.example, b@BANK.EXAMPLE.", True),
        (b'"x@evil.example" <a@bank.example>, b@bank.example', True),  # a display name
        (b"a@bank.example (c@evil.example), b@bank.example", True),  # a comment
        (b"a@bank.example, b@evil.example", False),
        (b"a@bank.example, b", False),  # no domain: never read as one author domain
        (b"a@bank.example, @evil.example:b@bank.example", False),  # an obsolete route
        (b"a@bank.example, =?utf-8?q?b?= <b@evil.example>", False),
        (b"Group: a@bank.example, b@evil.example;", False),
    ],
)
def test_cli_odd_from_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], from_field: bytes, passes: bool
) -> None:
    """From fields an attacker writes: only mailboxes of bank.example alone can pass."""
    message = tmp_path / "m.eml"
    message.write_bytes(b"From: " + from_field + b"\r\nSubject: x\r\n\r\nbody\r\n")
    zone_file = tmp_path / "bank.zone"
    zone_file.write_text(
        "$ORIGIN bank.example.\n"
        "@ 300 IN SOA ns hostmaster 1 300 300 300 300\n"
        '_dmarc 300 IN TXT "v=DMARC1; p=reject"\n'
    )
    args = ["dmarc", "--zone", str(zone_file), "--spf", "pass", "--mail-from", "bank.example"]
    assert (0 if passes else 1) == main([*args, str(message)])
    first = capsys.readouterr().out.splitlines()[0]
    # Not passing is what matters: fail (several domains) or permerror (no readable domain).
    assert passes == (first == "dmarc: pass (aligned)"), first


def test_cli_shows_the_organizational_domain_it_did_not_need(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Identical alignment needs no walk; oxdkim dmarc still shows the organizational domain
    (asked afterwards), and leaves it out when that lookup fails."""
    zone_file = tmp_path / "bank.zone"
    zone_file.write_text(
        "$ORIGIN bank.example.\n"
        "@ 300 IN SOA ns hostmaster 1 300 300 300 300\n"
        '_dmarc 300 IN TXT "v=DMARC1; p=reject"\n'
        '_dmarc.mail 300 IN TXT "v=DMARC1; p=none"\n'
    )
    args = ["dmarc", "--zone", str(zone_file), "--from", "mail.bank.example"]
    assert 0 == main([*args, "--dkim-domain", "mail.bank.example", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert ("mail.bank.example", "bank.example") == (
        data["policy_domain"],
        data["organizational_domain"],
    )
    assert 0 == main([*args, "--dkim-domain", "mail.bank.example"])
    assert "from: mail.bank.example (organizational domain bank.example)" in capsys.readouterr().out
