"""
The optional C accelerator gives exactly the bytes of the pure-Python reference.

A cross-cutting test of the whole package: it stays at the top of tests/ (the
folders below mirror src/oxdkim, one per package).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxdkim._dkim import canon as _canon

speedups = (
    pytest.importorskip("oxdkim._speedups")
    if not os.environ.get("OXDKIM_REQUIRE_SPEEDUPS")
    else __import__("oxdkim._speedups", fromlist=["relax_body"])
)

WSP_RICH = st.lists(
    st.sampled_from([b" ", b"\t", b"\r", b"\n", b"\r\n", b"a", b"\x00", b"\xff", b"  x"]),
    max_size=40,
).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200), WSP_RICH))
def test_relax_body_equals_the_python_reference(data: bytes) -> None:
    """C and Python relaxed passes agree on arbitrary bytes."""
    assert _canon._relax_python(data) == speedups.relax_body(data)


# Long text-like runs: the C pass skips eight bytes at a time where nothing changes, so
# every rule must be met at every offset within a word, and next to the end of the data.
TEXT_LIKE = st.lists(
    st.sampled_from(
        [b"word", b"ab", b"x", b" ", b"  ", b"\t", b"\r\n", b"\n", b" \r\n", b"\r", b"\x00"]
    ),
    max_size=400,
).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(TEXT_LIKE)
def test_relax_body_equals_the_reference_on_long_text(data: bytes) -> None:
    """The word-at-a-time skip finds every change, at any offset; a view gives the same."""
    expected = _canon._relax_python(data)
    assert expected == speedups.relax_body(data)
    assert expected == bytes(speedups.relax_body(memoryview(data)))


def test_unchanged_text_is_returned_without_a_copy() -> None:
    """Most text needs no change: the input object itself comes back, and is hashed
    where it lies (a bytearray, which the caller may change later, is copied)."""
    text = b"Hello world, a line.\r\nAnd a second one.\r\n" * 100
    assert speedups.relax_body(text) is text
    view = memoryview(text)
    assert speedups.relax_body(view) is view
    buffer = bytearray(text)
    copied = speedups.relax_body(buffer)
    assert copied == text
    assert copied is not buffer


def test_relax_body_takes_any_buffer_and_leaves_it_alone() -> None:
    """bytearray and memoryview inputs work and are not modified."""
    data = bytearray(b"a \t b  \r\nc\n")
    before = bytes(data)
    assert b"a b\r\nc\r\n" == speedups.relax_body(data)
    assert b"a b\r\nc\r\n" == speedups.relax_body(memoryview(data))
    assert before == data
    assert b"" == speedups.relax_body(b"")


def test_the_canonicalizer_uses_the_accelerator_when_built() -> None:
    """ACCELERATED says whether the C pass is in use (unless OXDKIM_PURE_PYTHON is set)."""
    assert (not os.environ.get("OXDKIM_PURE_PYTHON")) == _canon.ACCELERATED


FIELD_BYTES = st.lists(
    st.sampled_from(
        [b" ", b"\t", b"\r", b"\n", b"\r\n", b"\r\n ", b"A", b"z", b":", b"\x00", b"\xff"]
    ),
    max_size=30,
).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.binary(max_size=12), FIELD_BYTES), FIELD_BYTES), max_size=6))
def test_relax_headers_equals_the_python_reference(parts: list[tuple[bytes, bytes]]) -> None:
    """C and Python relaxed header passes agree on any fields (any name and value bytes)."""
    fields = [name.replace(b":", b"") + b":" + value for name, value in parts]
    assert _canon._relax_headers_python(fields) == speedups.relax_headers(fields)


def test_relax_headers_refuses_a_field_without_a_colon() -> None:
    """Like the reference, a field without a colon is an error (never a silent result)."""
    with pytest.raises(ValueError, match="colon"):
        speedups.relax_headers([b"no colon\r\n"])
    assert b"" == speedups.relax_headers([])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200), WSP_RICH))
def test_body_flaws_equals_the_python_reference(data: bytes) -> None:
    """C and Python body checks find the same NUL, bare CR and final CR."""
    assert _canon._body_flaws_python(data) == speedups.body_flaws(data)


HEADER_PIECES = st.lists(
    st.sampled_from(
        [b"From", b"x-A", b":", b" ", b"\t", b"\r\n", b"\r\n ", b"\n", b"\r", b"v", b"\xff", b"@"]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(HEADER_PIECES, st.integers(min_value=1, max_value=6))
def test_split_fields_equals_the_python_reference(block: bytes, max_fields: int) -> None:
    """Where the C splitter answers, it gives exactly the Python reference's fields."""
    from oxdkim._dkim.message import HeaderField, MessageLimits, _split_fields_python

    fast = speedups.split_fields(block, HeaderField, max_fields)
    if fast is not None:
        assert fast == _split_fields_python(block, MessageLimits(max_header_fields=max_fields))
        assert all(type(field) is HeaderField for field in fast)


def test_split_fields_answers_the_common_case() -> None:
    """A usual header block is split in C (None would only mean the slow path)."""
    from oxdkim._dkim.message import HeaderField

    block = b"From: a@example.com\r\nSubject: two\r\n lines\r\nTo : b@example.org\r\n"
    fields = speedups.split_fields(block, HeaderField, 10)
    assert fields == [
        HeaderField(b"From", b"From: a@example.com\r\n"),
        HeaderField(b"Subject", b"Subject: two\r\n lines\r\n"),
        HeaderField(b"To", b"To : b@example.org\r\n"),
    ]
    assert speedups.split_fields(block, HeaderField, 2) is None  # over the limit


TAG_PIECES = st.lists(
    st.sampled_from(
        [b"a", b"bh", b"x_1", b"1", b"=", b";", b" ", b"\t", b"\r\n ", b"\r\n", b"\r", b"v",
         b"rsa-sha256", b"\xc3\xa9", b"\xff", b":", b"\x7f", b"abc/+="]
    ),
    max_size=30,
).map(b"".join)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(TAG_PIECES, st.booleans())
def test_parse_tags_equals_the_python_reference(data: bytes, utf8: bool) -> None:
    """Where the C tag parser answers, the reference gives the same values and spans; where
    it does not, the reference refuses the list (and says why)."""
    from oxdkim._dkim.tags import _parse_tag_list_python
    from oxdkim.exceptions import RecordSyntaxError

    fast = speedups.parse_tags(data, utf8)
    try:
        reference = _parse_tag_list_python(data, utf8, "test")
    except RecordSyntaxError:
        assert fast is None
        return
    assert fast is not None
    values, spans = fast
    assert values == dict(reference)
    assert spans == {name: reference.value_span(name) for name in reference}
