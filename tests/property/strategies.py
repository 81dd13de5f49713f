"""
Hypothesis strategies for the property tests: arbitrary bytes, and messages built from
arbitrary bytes that a signer can accept.

tests/signing/test_signer_properties.py draws from small alphabets of words; these draw from the
whole byte range, so 8-bit data, control characters, stray CRs and odd folding all occur.
"""

from __future__ import annotations

import re

from hypothesis import settings
from hypothesis import strategies as st

FAST = settings(max_examples=300, deadline=None)
"""For cheap pure functions."""

SLOW = settings(max_examples=60, deadline=None)
"""For calls that sign or verify (RSA, dkimpy)."""

WSP_CR_LF = st.sampled_from([b" ", b"\t", b"\r", b"\n", b"\r\n", b"  ", b"\r\r\n", b"\n\r"])

bodies = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(WSP_CR_LF, st.binary(min_size=1, max_size=4)), max_size=60).map(b"".join),
)
"""Any bytes, and bytes dense in SP, HTAB, CR and LF (where canonicalization differs)."""

MB = 1 << 20

large_bodies = st.tuples(
    bodies, st.one_of(st.integers(1, 64), st.integers(1 << 12, 1 << 16)), bodies
).map(lambda parts: (parts[0] * parts[1])[:MB] + parts[2])
"""Bodies up to 1 MB (a drawn piece repeated, then a drawn tail): slice boundaries,
long runs of whitespace and long lines all occur."""


# A field-name: printable US-ASCII without colon (RFC 5322 ftext).
field_names = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters=":"),
    min_size=1,
    max_size=12,
).map(str.encode)

# A header line's content: any byte but NUL, CR and LF (the signer refuses those).
_LINE = st.binary(max_size=40).map(lambda b: b.translate(None, b"\0\r\n"))


@st.composite
def field_values(draw: st.DrawFn, eol: bytes = b"\r\n") -> bytes:
    """A field value: arbitrary line contents, folded with WSP after each line break."""
    lines = [draw(_LINE)]
    for _ in range(draw(st.integers(0, 3))):
        lines.append(draw(st.sampled_from([b" ", b"\t", b"  "])) + draw(_LINE))
    return eol.join(lines)


@st.composite
def messages(draw: st.DrawFn, domain: str, *, obsolete: bool = True, bare_cr: bool = True) -> bytes:
    """
    A message whose one From names a mailbox at ``domain``, with arbitrary other fields
    (names from the whole ftext range, values of arbitrary bytes, folded) and an
    arbitrary body without NUL. ``obsolete`` allows WSP before a field's colon (RFC
    5322 §4.5.2), which dkimpy's parser refuses; without ``bare_cr`` the body has no CR
    that is not followed by LF (the signer refuses those).
    """
    eol = draw(st.sampled_from([b"\r\n", b"\n"]))
    fields = []
    for _ in range(draw(st.integers(0, 6))):
        name = draw(field_names)
        if name.lower() == b"from":
            name = b"X-" + name
        gap = draw(st.sampled_from([b"", b"", b" ", b"\t"])) if obsolete else b""
        fields.append(name + gap + b":" + draw(field_values(eol)))
    display = draw(st.sampled_from([b"", b"Ann ", b'"A, B" ', "Jörg ".encode(), b"=?utf-8?q?x?= "]))
    fields.insert(
        draw(st.integers(0, len(fields))), b"From: " + display + b"<a@" + domain.encode() + b">"
    )
    body = draw(bodies).replace(b"\0", b"")
    if not bare_cr:
        body = re.sub(rb"\r(?!\n)", b"", body)
    header = eol.join(fields) + eol
    if draw(st.booleans()) or body:
        return header + eol + body
    return header
