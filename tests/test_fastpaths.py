"""
The fast paths give exactly what the careful parsers give, or defer to them.

A cross-cutting test of the whole package: it stays at the top of tests/ (the
folders below mirror src/oxdkim, one per package).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxdkim._dkim.address import _parse_tokens, parse_from_domain
from oxdkim._dkim.message import DEFAULT_LIMITS, _parse_lines, _split_fields
from oxdkim.exceptions import FromHeaderError, MessageFormatError

ATOM = st.text(alphabet="abcXYZ019.-_+=?'", min_size=1, max_size=6)
DOMAIN = st.lists(st.text(alphabet="abcz09-", min_size=1, max_size=5), min_size=1, max_size=3)
DISPLAY = st.one_of(
    st.just(""),
    st.text(alphabet='ab Z."=?é\t', max_size=8),
    st.text(alphabet="ab <>@,;:()\\", max_size=6).map(lambda t: f'"{t}"'),
)


@st.composite
def from_values(draw: st.DrawFn) -> bytes:
    local = draw(ATOM)
    domain = ".".join(draw(DOMAIN)) + draw(st.sampled_from(["", ".", ".example", ".Example."]))
    shape = draw(st.sampled_from(["bare", "angle", "junk"]))
    if shape == "bare":
        text = f"{local}@{domain}"
    elif shape == "angle":
        text = f"{draw(DISPLAY)} <{local}@{domain}>"
    else:
        text = draw(st.text(alphabet='ab@<>"(), \t=?.', max_size=16))
    pad = draw(st.sampled_from(["", " ", "\t "]))
    return (pad + text + pad).encode()


@settings(max_examples=600, deadline=None)
@given(from_values())
def test_the_from_fast_path_agrees_with_the_full_parser(value: bytes) -> None:
    """Same domain or the same typed refusal, whichever path runs."""
    try:
        expected: str | type = _parse_tokens(value)
    except FromHeaderError:
        expected = FromHeaderError
    try:
        got: str | type = parse_from_domain(value)
    except FromHeaderError:
        got = FromHeaderError
    assert expected == got


LINE = st.one_of(
    st.text(alphabet="abcXYZ-", min_size=1, max_size=6).map(lambda n: f"{n}: v a\tl"),
    st.text(alphabet="ab :\t", min_size=0, max_size=6),
    st.sampled_from([" folded", "\tmore", "From x@y Sat", "Sub ject: x", "X:", "X : y", "é: x"]),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=6), st.sampled_from(["\r\n", "\n"]), st.booleans())
def test_the_header_split_agrees_with_the_line_parser(
    lines: list[str], ending: str, final: bool
) -> None:
    """The C-speed split returns the line parser's fields, or None and lets it decide."""
    block = ending.join(lines).encode() + (ending.encode() if final else b"")
    fast = _split_fields(block, DEFAULT_LIMITS)
    try:
        careful = _parse_lines(block, DEFAULT_LIMITS, lenient=False)
    except MessageFormatError:
        assert fast is None
        return
    if fast is not None:
        assert careful == fast


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        (b"a@Example.COM", "example.com"),
        (b' "Joe" <joe@x.example>', "x.example"),
        (b"=?utf-8?q?J=C3=B6?= <j@example.de>", "example.de"),
        (b"J\xc3\xb6rg <j@example.org>", "example.org"),
        (b"a@x.example.", "x.example"),
    ],
)
def test_common_shapes(value: bytes, domain: str) -> None:
    """The shapes almost every From has."""
    assert domain == parse_from_domain(value)
