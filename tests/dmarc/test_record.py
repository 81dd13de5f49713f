"""DMARC record parsing (RFC 9989 §4.7-4.8, RFC 7489 §6.3) and discovery of _dmarc records."""

from __future__ import annotations

import asyncio

import pytest

from oxdkim import DnsStatus, DnsTempError, RecordSyntaxError
from oxdkim._dmarc.orgdomain import lookup_dmarc, lookup_dmarc_async
from oxdkim._dmarc.record import (
    AlignmentMode,
    DmarcLookup,
    DmarcRecord,
    FailureOption,
    LookupStatus,
    Policy,
    PsdFlag,
    is_dmarc_record,
)

from .helpers import as_async, zone


class TestDefaults:
    def test_minimal_record_has_every_default(self) -> None:
        """v=DMARC1 alone gets the defaults of RFC 9989 §4.7 and RFC 7489 §6.3."""
        record = DmarcRecord.parse("v=DMARC1")
        assert (Policy.NONE, None, None) == (record.p, record.sp, record.np)
        assert (AlignmentMode.RELAXED, AlignmentMode.RELAXED) == (record.adkim, record.aspf)
        assert PsdFlag.UNKNOWN is record.psd
        assert record.t is False
        assert ((), ()) == (record.rua, record.ruf)
        assert (FailureOption.ALL_FAIL,) == record.fo
        assert (100, ("afrf",), 86400) == (record.pct, record.rf, record.ri)
        assert record.usable
        assert () == record.problems

    def test_every_tag(self) -> None:
        """Every RFC 9989 tag and the three retired RFC 7489 tags are read."""
        record = DmarcRecord.parse(
            "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=s; psd=n; t=y; "
            "rua=mailto:agg@example.com,mailto:agg@other.example!10m; "
            "ruf=mailto:fail@example.com; fo=1:d:s; pct=50; rf=afrf; ri=3600"
        )
        assert Policy.REJECT is record.p
        assert Policy.QUARANTINE is record.sp
        assert Policy.REJECT is record.np
        assert (AlignmentMode.STRICT, AlignmentMode.STRICT) == (record.adkim, record.aspf)
        assert PsdFlag.NO is record.psd
        assert record.t is True
        assert ("mailto:agg@example.com", "mailto:agg@other.example") == record.rua
        assert ("mailto:fail@example.com",) == record.ruf
        assert (FailureOption.ANY_FAIL, FailureOption.DKIM, FailureOption.SPF) == record.fo
        assert (50, ("afrf",), 3600) == (record.pct, record.rf, record.ri)

    def test_whitespace_case_and_trailing_separator(self) -> None:
        """Spaces around = and ;, upper-case tokens and a trailing ; are accepted (§4.8)."""
        record = DmarcRecord.parse("v = DMARC1 ;P = REJECT ; ADKIM=S;  ")
        assert (Policy.REJECT, AlignmentMode.STRICT) == (record.p, record.adkim)

    def test_bytes_and_text_are_kept(self) -> None:
        """TXT bytes are parsed; the text is kept for display but not compared."""
        record = DmarcRecord.parse(b"v=DMARC1; p=quarantine")
        assert Policy.QUARANTINE is record.p
        assert "v=DMARC1; p=quarantine" == record.text
        assert DmarcRecord.parse("v=DMARC1;p=quarantine") == record

    def test_unknown_tags_are_ignored(self) -> None:
        """Unknown tags MUST be ignored (RFC 9989 §4.7), even in strict parsing."""
        record = DmarcRecord.parse("v=DMARC1; p=reject; xyz=whatever; future=1")
        assert Policy.REJECT is record.p


class TestPolicyFor:
    @pytest.mark.parametrize(
        ("text", "subdomain", "exists", "expected"),
        [
            ("v=DMARC1; p=reject; sp=none; np=quarantine", False, False, ("p", Policy.REJECT)),
            ("v=DMARC1; p=reject; sp=none; np=quarantine", True, True, ("sp", Policy.NONE)),
            ("v=DMARC1; p=reject; sp=none; np=quarantine", True, False, ("np", Policy.QUARANTINE)),
            ("v=DMARC1; p=reject; sp=none", True, False, ("sp", Policy.NONE)),
            ("v=DMARC1; p=reject", True, False, ("p", Policy.REJECT)),
            ("v=DMARC1; p=reject; np=none", True, True, ("p", Policy.REJECT)),
        ],
    )
    def test_fallbacks(
        self, text: str, subdomain: bool, exists: bool, expected: tuple[str, Policy]
    ) -> None:
        """np falls back to sp, then p; sp falls back to p (RFC 9989 §4.7, §4.10.1)."""
        assert expected == DmarcRecord.parse(text).policy_for(subdomain=subdomain, exists=exists)

    def test_t_relaxes_one_step(self) -> None:
        """t=y asks for the next milder policy (RFC 9989 §4.7 t)."""
        assert [Policy.QUARANTINE, Policy.NONE, Policy.NONE] == [
            p.relaxed_one_step() for p in (Policy.REJECT, Policy.QUARANTINE, Policy.NONE)
        ]


class TestNotDmarc:
    @pytest.mark.parametrize(
        "text",
        [
            "v=spf1 -all",
            "p=reject; v=DMARC1",
            "v=DMARC2; p=reject",
            "v=dmarc1; p=reject",
            "v=DMARC1x; p=reject",
            "",
            "google-site-verification=abc",
        ],
    )
    def test_not_starting_with_version_is_not_a_record(self, text: str) -> None:
        """Only records starting with v=DMARC1 (case-sensitive value) are DMARC records."""
        assert not is_dmarc_record(text)
        with pytest.raises(RecordSyntaxError) as info:
            DmarcRecord.parse_lenient(text)
        assert "v" == info.value.tag

    def test_version_variants_that_are_records(self) -> None:
        """The v tag with spaces, a trailing ; or nothing else is a DMARC record."""
        assert all(is_dmarc_record(t) for t in ("v=DMARC1", "v = DMARC1;", "V=DMARC1; p=none"))


class TestMalformed:
    @pytest.mark.parametrize(
        ("text", "tag"),
        [
            ("v=DMARC1; p=block", "p"),
            ("v=DMARC1; p=none; sp=maybe", "sp"),
            ("v=DMARC1; p=none; np=0", "np"),
            ("v=DMARC1; p=none; adkim=x", "adkim"),
            ("v=DMARC1; p=none; aspf=relaxed", "aspf"),
            ("v=DMARC1; p=none; psd=yes", "psd"),
            ("v=DMARC1; p=none; t=1", "t"),
            ("v=DMARC1; p=none; rua=not a uri", "rua"),
            ("v=DMARC1; p=none; rua=mailto:a@example.com,", "rua"),
            ("v=DMARC1; p=none; ruf=mailto:a@example.com,@@", "ruf"),
            ("v=DMARC1; p=none; fo=0:1", "fo"),
            ("v=DMARC1; p=none; fo=d:d", "fo"),
            ("v=DMARC1; p=none; fo=x", "fo"),
            ("v=DMARC1; p=none; pct=101", "pct"),
            ("v=DMARC1; p=none; pct=-1", "pct"),
            ("v=DMARC1; p=none; ri=4294967296", "ri"),
            ("v=DMARC1; p=none; rf=afrf:", "rf"),
            ("v=DMARC1; p=none; p=reject", "p"),
            ("v=DMARC1; p=", "p"),
            ("v=DMARC1; v=DMARC1; p=none", "v"),
            ("v=DMARC1; p=none; garbage", None),
        ],
    )
    def test_strict_parse_names_the_tag(self, text: str, tag: str | None) -> None:
        """A malformed, empty or repeated tag is a RecordSyntaxError naming that tag."""
        with pytest.raises(RecordSyntaxError) as info:
            DmarcRecord.parse(text)
        assert tag == info.value.tag
        assert isinstance(info.value, ValueError)

    def test_lenient_parse_falls_back_to_defaults(self) -> None:
        """Invalid non-policy tags fall back to defaults and are listed (RFC 9989 §4.8)."""
        record = DmarcRecord.parse_lenient("v=DMARC1; p=reject; adkim=x; pct=500; fo=0:1")
        assert Policy.REJECT is record.p
        assert AlignmentMode.RELAXED is record.adkim
        assert 100 == record.pct
        assert (FailureOption.ALL_FAIL,) == record.fo
        assert ["adkim", "pct", "fo"] == [p.tag for p in record.problems]
        assert record.usable

    def test_bad_policy_with_rua_acts_as_p_none(self) -> None:
        """A bad p with a valid rua URI is read as p=none (RFC 9989 §4.10.1)."""
        record = DmarcRecord.parse_lenient("v=DMARC1; p=reject; sp=bogus; rua=mailto:r@example.com")
        assert (Policy.NONE, None) == (record.p, record.sp)
        assert record.usable

    def test_bad_policy_without_rua_is_unusable(self) -> None:
        """A bad p with no valid rua means no DMARC processing (RFC 9989 §4.10.1)."""
        record = DmarcRecord.parse_lenient("v=DMARC1; p=bogus; rua=nonsense")
        assert not record.usable
        assert {"p", "rua"} == {p.tag for p in record.problems}

    def test_partly_valid_uri_list_keeps_the_valid_uris(self) -> None:
        """Lenient parsing keeps the valid URIs of a list and reports the others."""
        record = DmarcRecord.parse_lenient("v=DMARC1; rua=mailto:a@example.com, bad uri")
        assert ("mailto:a@example.com",) == record.rua
        assert ["rua"] == [p.tag for p in record.problems]

    def test_missing_p_is_p_none_and_valid(self) -> None:
        """A record without p is treated as p=none and is not a problem (RFC 9989 §4.7)."""
        record = DmarcRecord.parse("v=DMARC1; rua=mailto:a@example.com")
        assert Policy.NONE is record.p

    def test_control_characters_are_refused(self) -> None:
        """A tag value with a control or non-ASCII character is malformed."""
        with pytest.raises(RecordSyntaxError) as info:
            DmarcRecord.parse("v=DMARC1; p=none; rua=mailto:a@exa\x00mple.com")
        assert "rua" == info.value.tag


class TestLookup:
    def test_found(self) -> None:
        """One DMARC record among other TXT records is found; the others are ignored."""
        resolver = zone({"_dmarc.example.com": ["v=DMARC1; p=reject", "v=spf1 -all"]})
        lookup = lookup_dmarc(resolver, "example.com")
        assert LookupStatus.FOUND is lookup.status
        assert lookup.record is not None
        assert Policy.REJECT is lookup.record.p
        assert (1, "_dmarc.example.com") == (lookup.ignored, lookup.name)

    def test_multiple_records_are_all_discarded(self) -> None:
        """Several DMARC records at one name count as none (RFC 9989 §4.10 step 2)."""
        resolver = zone({"_dmarc.example.com": ["v=DMARC1; p=reject", "v=DMARC1; p=none"]})
        lookup = lookup_dmarc(resolver, "example.com")
        assert (LookupStatus.MULTIPLE, None) == (lookup.status, lookup.record)

    def test_split_character_strings_are_joined(self) -> None:
        """A record split into several strings is joined before parsing (RFC 9989 §4.5)."""
        resolver = zone({"_dmarc.example.com": [("v=DMARC1; p=re", "ject")]})
        lookup = lookup_dmarc(resolver, "example.com")
        assert lookup.record is not None
        assert Policy.REJECT is lookup.record.p

    def test_nxdomain_and_non_dmarc(self) -> None:
        """NXDOMAIN and TXT records that are not DMARC records are both 'no record'."""
        resolver = zone({"_dmarc.example.com": "v=spf1 -all"})
        missing = lookup_dmarc(resolver, "other.example")
        other = lookup_dmarc(resolver, "example.com")
        assert (LookupStatus.NO_RECORD, DnsStatus.NXDOMAIN) == (missing.status, missing.dns_status)
        assert (LookupStatus.NO_RECORD, 1) == (other.status, other.ignored)

    def test_malformed_record_is_found_but_unusable(self) -> None:
        """A malformed record is still a record at that name, parsed leniently."""
        resolver = zone({"_dmarc.example.com": "v=DMARC1; p=bogus"})
        lookup = lookup_dmarc(resolver, "example.com")
        assert LookupStatus.FOUND is lookup.status
        assert lookup.record is not None
        assert not lookup.record.usable

    def test_temporary_failure_raises(self) -> None:
        """A temporary DNS failure is DnsTempError, never 'no record'."""
        resolver = zone({"_dmarc.example.com": "v=DMARC1"}, failing=["_dmarc.example.com"])
        with pytest.raises(DnsTempError):
            lookup_dmarc(resolver, "example.com")

    def test_async_lookup_matches_sync(self) -> None:
        """The async lookup returns the same value as the sync one."""
        resolver = zone({"_dmarc.example.com": "v=DMARC1; p=quarantine; psd=n"})
        expected = lookup_dmarc(resolver, "example.com")
        assert expected == asyncio.run(lookup_dmarc_async(as_async(resolver), "example.com"))
        assert isinstance(expected, DmarcLookup)
