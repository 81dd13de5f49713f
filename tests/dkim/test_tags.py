"""The RFC 6376 §3.2 tag=value list parser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oxdkim import RecordSyntaxError
from oxdkim._dkim.tags import compact, parse_tag_list, split_list


def test_tags_in_order_with_whitespace_around_names_and_values() -> None:
    """FWS may surround names, '=' and values; the values come back without it."""
    tags = parse_tag_list(b" v = 1 ;\r\n\ta=rsa-sha256;d=example.com\t;  s=sel")
    assert ["v", "a", "d", "s"] == list(tags)
    assert {"v": b"1", "a": b"rsa-sha256", "d": b"example.com", "s": b"sel"} == dict(tags)


def test_folded_value_keeps_its_inner_whitespace() -> None:
    """A value may contain folded whitespace between its characters; it is kept."""
    tags = parse_tag_list(b"b=abc\r\n def ghi; bh=x")
    assert b"abc\r\n def ghi" == tags["b"]
    assert b"abcdefghi" == compact(tags["b"])


def test_trailing_semicolon_and_empty_value() -> None:
    """A final ';' (and whitespace after it) is allowed; a value may be empty."""
    tags = parse_tag_list(b"a=1; b=;  \r\n ")
    assert {"a": b"1", "b": b""} == dict(tags)


def test_value_span_covers_the_whitespace_around_the_value() -> None:
    """The span runs from after '=' to the ';', which is what RFC 6376 §3.7 removes."""
    data = b"a=1; b= abc\r\n def ; c=2"
    tags = parse_tag_list(data)
    start, end = tags.value_span("b")
    assert b" abc\r\n def " == data[start:end]
    assert b"a=1; b=; c=2" == data[:start] + data[end:]


def test_repr_shows_the_tags() -> None:
    """The repr lists names and values, for debugging."""
    assert "TagList({'a': b'1'})" == repr(parse_tag_list(b"a=1"))


def test_tag_names_are_case_sensitive() -> None:
    """'V' and 'v' are different tags (RFC 6376 §3.2)."""
    assert {"V": b"1", "v": b"2"} == dict(parse_tag_list(b"V=1; v=2"))


def test_duplicate_tag_is_an_error_naming_the_tag() -> None:
    """A tag that appears twice makes the whole list invalid."""
    with pytest.raises(RecordSyntaxError, match="more than once") as info:
        parse_tag_list(b"a=1; d=x; a=2")
    assert "a" == info.value.tag


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"a=1;;b=2",
        b";a=1",
        b"1a=2",
        b"_a=2",
        b"a-b=2",
        b"a",
        b"=1",
        b"a b=1",
    ],
)
def test_malformed_lists_are_refused(data: bytes) -> None:
    """Empty lists or tag-specs, bad tag names and missing '=' are syntax errors."""
    with pytest.raises(RecordSyntaxError):
        parse_tag_list(data)


@pytest.mark.parametrize(
    ("data", "tag"),
    [
        (b"a=1; d=ex\x00ample", "d"),
        (b"a=1; d=ex\x7fample", "d"),
        (b"a=1; d=exa\xc3\xa9mple", "d"),
        (b"d=a\nb", "d"),
        (b"d=a\rb", "d"),
        (b"d=a\r\nb", "d"),
    ],
)
def test_forbidden_bytes_in_values_name_the_tag(data: bytes, tag: str) -> None:
    """Control bytes, 8-bit bytes (by default) and bare line breaks are refused."""
    with pytest.raises(RecordSyntaxError) as info:
        parse_tag_list(data)
    assert tag == info.value.tag


def test_utf8_values_allowed_on_request() -> None:
    """RFC 8616 §4 allows UTF-8 in signature values when asked for."""
    assert "é".encode() == parse_tag_list("n=é".encode(), utf8=True)["n"]


def test_split_list_strips_whitespace_around_items() -> None:
    """Colon lists lose the FWS around items but keep whitespace inside one."""
    assert [b"from", b"to", b"sub ject"] == split_list(b" from :\r\n to: sub ject")


_NAMES = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,5}\Z")
_TVAL = st.from_regex(rb"\A[\x21-\x3a\x3c-\x7e]{1,6}\Z")
_FWS = st.sampled_from([b"", b" ", b"\t", b"\r\n ", b" \r\n\t "])


@given(
    st.dictionaries(_NAMES, st.lists(_TVAL, max_size=3), min_size=1, max_size=6),
    st.data(),
)
def test_any_well_formed_list_parses_back(
    spec: dict[str, list[bytes]], data: st.DataObject
) -> None:
    """Joining names and values with arbitrary legal FWS parses back to the same tags."""
    parts = []
    expected = {}
    for name, tvals in spec.items():
        inner = [data.draw(st.sampled_from([b" ", b"\r\n\t", b"  "])) for _ in tvals]
        value = b"".join(t + (inner[i] if i < len(tvals) - 1 else b"") for i, t in enumerate(tvals))
        expected[name] = value
        parts.append(
            data.draw(_FWS)
            + name.encode()
            + data.draw(_FWS)
            + b"="
            + data.draw(_FWS)
            + value
            + data.draw(_FWS)
        )
    text = b";".join(parts) + data.draw(st.sampled_from([b"", b";", b"; "]))
    assert expected == dict(parse_tag_list(text))
