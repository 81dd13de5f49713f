"""
InMemoryZone and ZoneFileResolver: construction, checks, simulated failures, vectors.

Their answers are covered by the shared behaviour table; these tests cover what is
particular to building them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import dns.zone
import pytest

from oxdkim import CnameAnswer, DnsPermError, DnsStatus, DnsTempError, TxtAnswer
from oxdkim._dns.zonefile import split_long_strings
from oxdkim.exceptions import ConfigurationError
from oxdkim.resolvers import InMemoryZone, ZoneFileResolver
from oxdkim.typing import AsyncResolver, Resolver


def test_long_string_is_split_and_joined_back() -> None:
    """A 600-byte value is stored as 255-byte strings and comes back as given."""
    value = "v=DKIM1; p=" + "A" * 589
    zone = InMemoryZone({"k.example.com": value})
    rrset = zone.store.rrset("k.example.com", "TXT")
    assert rrset is not None
    assert [255, 255, 90] == [len(s) for s in rrset.rdatas[0]]
    assert (value.encode(),) == zone.txt("k.example.com").records


def test_bytes_values_and_explicit_strings() -> None:
    """Bytes values are kept as bytes; a tuple is one record of several strings."""
    zone = InMemoryZone({"k.example.com": [b"\xff\x00raw", ("a", b"b", "c")]})
    assert (b"abc", b"\xff\x00raw") == zone.txt("k.example.com").records


def test_empty_txt_string() -> None:
    """An empty TXT value is one record holding one empty string."""
    assert (b"",) == InMemoryZone({"e.example.com": ""}).txt("e.example.com").records


def test_several_records_come_back_sorted() -> None:
    """Several TXT records at a name are all returned, in a deterministic (sorted) order."""
    zone = InMemoryZone({"k.example.com": ["v=DKIM1; p=b", "v=DKIM1; p=a", "other"]})
    assert (b"other", b"v=DKIM1; p=a", b"v=DKIM1; p=b") == zone.txt("k.example.com").records


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"txt": {"a.example.com": "x"}, "cname": {"a.example.com": "b.example.com"}}, "CNAME"),
        ({"txt": {"bad name.example.com": "x"}}, "owner"),
        ({"txt": {"a..example.com": "x"}}, "owner"),
        ({"cname": {"a.example.com": "bad target."}}, "target"),
        ({"txt": {"a.example.com": [("x" * 256,)]}}, "255"),
        ({"txt": {"a.example.com": [()]}}, "255"),
        ({"ttl": -1, "txt": {"a.example.com": "x"}}, "TTL"),
        ({"max_hops": -1}, "max_hops"),
    ],
)
def test_bad_records_are_refused(kwargs: dict[str, object], match: str) -> None:
    """Bad names, CNAME beside data, over-long strings, bad TTLs: ConfigurationError."""
    with pytest.raises(ConfigurationError, match=match):
        InMemoryZone(**kwargs)  # type: ignore[arg-type]


def test_simulated_temporary_failure_and_recovery() -> None:
    """fail() makes lookups reaching a name raise DnsTempError; recover() undoes it."""
    zone = InMemoryZone(
        {"key.keys.example": "v=DKIM1; p=k"}, cname={"sel.customer.example": "key.keys.example"}
    )
    zone.fail("key.keys.example")
    with pytest.raises(DnsTempError) as caught:
        zone.txt("sel.customer.example")  # the failure is met along the chain
    assert "key.keys.example" == caught.value.name
    assert "key.keys.example" == zone.cname("sel.customer.example").target
    zone.recover("key.keys.example")
    assert (b"v=DKIM1; p=k",) == zone.txt("sel.customer.example").records


def test_failing_names_given_at_construction() -> None:
    """failing= makes those names fail from the start, for TXT and CNAME lookups."""
    zone = InMemoryZone({"a.example.com": "x"}, failing=["a.example.com."])
    with pytest.raises(DnsTempError):
        zone.txt("a.example.com")
    with pytest.raises(DnsTempError):
        zone.cname("A.example.com")


def test_queries_are_counted() -> None:
    """queries counts each question by (type, name), including chain targets."""
    zone = InMemoryZone({"t.example.com": "x"}, cname={"a.example.com": "t.example.com"})
    zone.txt("a.example.com")
    zone.cname("a.example.com")
    assert {("TXT", "a.example.com"): 1, ("TXT", "t.example.com"): 1,
            ("CNAME", "a.example.com"): 1} == dict(zone.queries)  # fmt: skip


def test_hop_limit_is_configurable() -> None:
    """max_hops=0 refuses to follow any CNAME; 1 follows exactly one."""
    cnames = {"a.example.com": "b.example.com", "b.example.com": "t.example.com"}
    data = {"t.example.com": "x"}
    with pytest.raises(DnsPermError, match="more than 0"):
        InMemoryZone(data, cname=cnames, max_hops=0).txt("b.example.com")
    assert ("t.example.com",) == InMemoryZone(data, cname=cnames, max_hops=1).txt(
        "b.example.com"
    ).chain
    with pytest.raises(DnsPermError, match="more than 1"):
        InMemoryZone(data, cname=cnames, max_hops=1).txt("a.example.com")


@pytest.mark.parametrize(
    "name", ["", ".", "a..example.com", "x" * 64 + ".example.com", "é.example.com", "a b.example"]
)
def test_unusable_names_are_permanent_errors(name: str) -> None:
    """A name DNS cannot carry is a DnsPermError, before any lookup."""
    zone = InMemoryZone()
    with pytest.raises(DnsPermError):
        zone.txt(name)
    with pytest.raises(DnsPermError):
        zone.cname(name)
    assert 0 == sum(zone.queries.values())


def test_name_of_253_characters_is_accepted_and_254_refused() -> None:
    """RFC 1035 §2.3.4: 253 characters (255 octets on the wire) is the longest name."""
    longest = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
    assert 253 == len(longest)
    assert DnsStatus.NXDOMAIN == InMemoryZone().txt(longest).status
    with pytest.raises(DnsPermError):
        InMemoryZone().txt("e" + longest)


def test_in_memory_zone_is_a_resolver_and_its_async_twin_an_async_resolver() -> None:
    """InMemoryZone satisfies Resolver; as_async() satisfies AsyncResolver, same answers."""
    zone = InMemoryZone({"a.example.com": "x"}, cname={"c.example.com": "a.example.com"})
    assert isinstance(zone, Resolver)
    twin = zone.as_async()
    assert isinstance(twin, AsyncResolver)
    assert zone.txt("c.example.com") == asyncio.run(twin.txt("c.example.com"))
    assert zone.cname("c.example.com") == asyncio.run(twin.cname("c.example.com"))


def test_zone_text_and_dict_combine() -> None:
    """Dict records and zone-file text can be given together."""
    zone = InMemoryZone(
        {"a.example.com": "from dict"},
        zone_text='b.example.com. 60 TXT "from text"\n',
    )
    assert (b"from dict",) == zone.txt("a.example.com").records
    assert TxtAnswer("b.example.com", DnsStatus.NOERROR, (b"from text",), 60) == zone.txt(
        "b.example.com"
    )


def test_soa_gives_negative_ttl_per_zone() -> None:
    """Each zone's SOA gives min(SOA TTL, MINIMUM) to negative answers below its apex."""
    text_a = "$ORIGIN a.test.\n$TTL 300\n@ 50 SOA ns hm 1 2 3 4 90\n"
    text_b = "$ORIGIN b.test.\n$TTL 300\n@ SOA ns hm 1 2 3 4 20\n"
    resolver = ZoneFileResolver.from_text(text_a, text_b, negative_ttl=7)
    assert 50 == resolver.txt("x.a.test").ttl
    assert 20 == resolver.txt("x.b.test").ttl
    assert 7 == resolver.txt("x.c.test").ttl


def test_names_outside_every_zone_are_nxdomain() -> None:
    """A ZoneFileResolver answers NXDOMAIN outside its zones (no REFUSED offline)."""
    resolver = ZoneFileResolver.from_text("$ORIGIN a.test.\n$TTL 1\n@ SOA ns hm 1 2 3 4 5\n")
    assert DnsStatus.NXDOMAIN == resolver.txt("other.example").status


def test_all_vector_zone_files_load_together(vectors_dir: Path) -> None:
    """Every tests/vectors *.zone.txt (absolute names, no TTL, long strings) loads."""
    files = sorted(vectors_dir.rglob("*zone.txt"))
    assert 10 <= len(files)
    resolver = ZoneFileResolver.from_vectors(*files)
    gmail = resolver.txt("20120113._domainkey.gmail.com").records
    assert 1 == len(gmail)
    assert gmail[0].startswith(b"k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1Kd87")
    assert gmail[0].endswith(b"/wIDAQAB")
    answer = resolver.txt("brisbane._domainkey.football.example.com")
    assert (b"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",) == (
        answer.records
    )
    assert 3600 == answer.ttl


def test_dnspython_zone_objects_are_accepted() -> None:
    """A zone parsed by dns.zone.from_text (relativized names) answers the same."""
    zone = dns.zone.from_text(
        '$TTL 60\n@ SOA ns hm 1 2 3 4 30\n@ NS ns\na CNAME b\nb TXT "hi"\n', origin="ex.test"
    )
    resolver = ZoneFileResolver(zone)
    assert TxtAnswer("a.ex.test", DnsStatus.NOERROR, (b"hi",), 60, ("b.ex.test",)) == (
        resolver.txt("a.ex.test")
    )
    assert CnameAnswer("a.ex.test", DnsStatus.NOERROR, "b.ex.test", 60) == resolver.cname(
        "a.ex.test"
    )
    assert 30 == resolver.txt("zz.ex.test").ttl


def test_relative_names_use_the_origin_argument(tmp_path: Path) -> None:
    """Names without a trailing dot are relative to origin= when the file sets none."""
    path = tmp_path / "z"
    path.write_text('sel._domainkey 120 TXT "k"\n')
    resolver = ZoneFileResolver(path, origin="brand.example")
    assert (b"k",) == resolver.txt("sel._domainkey.brand.example").records


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('a.example. TXT "no ttl"\n', "TTL"),
        ("$INCLUDE /etc/passwd\n", "INCLUDE"),
        ('a.example. 60 TXT "unterminated\n', "zone file"),
        ('a.example. 60 CNAME b.example.\na.example. 60 TXT "x"\n', "CNAME"),
        ("$ORIGIN a.test.\n$TTL 1\n@ SOA ns hm 1 2 3 4 5\nsub SOA ns hm 1 2 3 4 5\n", "SOA"),
    ],
)
def test_bad_zone_text_is_a_configuration_error(text: str, match: str) -> None:
    """Unparsable text, missing TTLs, $INCLUDE and CNAME beside data are refused."""
    with pytest.raises(ConfigurationError, match=match):
        ZoneFileResolver.from_text(text, default_ttl=None)


def test_unreadable_zone_file_is_a_configuration_error(tmp_path: Path) -> None:
    """A missing file is a ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match=r"missing\.zone"):
        ZoneFileResolver(tmp_path / "missing.zone")


def test_zone_file_error_names_the_file(tmp_path: Path) -> None:
    """The error for a bad file says which file and which line."""
    path = tmp_path / "bad.zone"
    path.write_text('a.example. 60 TXT "ok"\na.example. 60 BOGUS x\n')
    with pytest.raises(ConfigurationError, match=r"bad\.zone:2"):
        ZoneFileResolver(path)


def test_over_long_string_is_refused_unless_split(vectors_dir: Path) -> None:
    """A 400-byte quoted string is an error by default, with a hint; split it loads."""
    path = vectors_dir / "dkimpy" / "gmail-degenerate-folding.zone.txt"
    with pytest.raises(ConfigurationError, match="split_long_strings"):
        ZoneFileResolver(path)
    value = ZoneFileResolver(path, split_long_strings=True).txt("20120113._domainkey.gmail.com")
    assert 1 == len(value.records)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"short" ; a "comment" ' + '"x' * 10 + "\n", '"short" ; a "comment" ' + '"x' * 10 + "\n"),
        ('"' + "a" * 300 + '"', '"' + "a" * 255 + '" "' + "a" * 45 + '"'),
        ('"' + "\\065" * 256 + '"', '"' + "\\065" * 255 + '" "\\065"'),
        ('"' + '\\"' * 256 + '"', '"' + '\\"' * 255 + '" "\\""'),
        ('"' + "é" * 128 + '"', '"' + "é" * 127 + '" "é"'),
        ('"unterminated ' + "a" * 300, '"unterminated ' + "a" * 300),
    ],
)
def test_split_long_strings(text: str, expected: str) -> None:
    """Only strings over 255 bytes are split, counting escapes and UTF-8 as bytes."""
    assert expected == split_long_strings(text)
