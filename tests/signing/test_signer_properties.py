"""
Property tests over generated messages: sign-then-verify with dkimpy, chunked equals
whole, and the caller's bytes never change.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracles import attempt, has_bare_cr
from oxdkim import (
    Canon,
    Canonicalization,
    MessageProblem,
    SignatureOptions,
    SignatureSpec,
    Signer,
    SigningKey,
)
from oxdkim.testing import transport

from .helpers import (
    StaticPolicy,
    dkimpy_verify_all,
    fixed_clock,
    records_for,
    rfc8463_ed25519,
    rfc8463_rsa,
)

DOMAIN = "prop.example"
ED = rfc8463_ed25519()
RSA = rfc8463_rsa()
RECORDS = records_for((DOMAIN, "ed", ED), (DOMAIN, "rsa", RSA))
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = st.sampled_from(
    [
        "Subject", "SUBJECT", "To", "to", "Cc", "Date", "Message-ID", "Reply-To", "Sender",
        "MIME-Version", "Content-Type", "List-Id", "List-Unsubscribe", "X-Custom", "Received",
        "In-Reply-To", "References", "Keywords",
    ]
)  # fmt: skip
WORDS = st.sampled_from(
    [
        "a",
        "Report",
        "x@y.example",
        "<id@z.example>",
        "=?utf-8?q?x?=",
        "Grüße",
        "🎉",
        ";",
        ":",
        ",",
        "(c)",
    ]
)
SPACES = st.sampled_from([" ", "  ", "\t", " \t ", ""])
CANONS = st.builds(Canonicalization, st.sampled_from(Canon), st.sampled_from(Canon))


@st.composite
def header_value(draw: st.DrawFn, fold: str) -> str:
    """A field value: words, runs of WSP, folds (line break + WSP), trailing WSP."""
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        parts.append(draw(SPACES))
        parts.append(draw(WORDS))
        if draw(st.integers(0, 4)) == 0:
            parts.append(fold + draw(st.sampled_from([" ", "\t", "  "])))
    parts.append(draw(SPACES))
    return " " + "".join(parts)


@st.composite
def messages(draw: st.DrawFn, spaced_colon: bool = False) -> bytes:
    """A message with one From, generated other fields, and a generated body."""
    eol = draw(st.sampled_from(["\r\n", "\n"]))
    display = draw(
        st.sampled_from(["", "Ann ", '"Ann, Sales" ', "Jörg ", "=?utf-8?q?J=C3=B6rg?= "])
    )
    from_field = f"From: {display}<ann@{DOMAIN}>"
    fields = [
        f"{draw(NAMES)}{draw(st.sampled_from([' ', '']) if spaced_colon else st.just(''))}:"
        f"{draw(header_value(eol))}"
        for _ in range(draw(st.integers(0, 8)))
    ]
    fields.insert(draw(st.integers(0, len(fields))), from_field)
    body = draw(
        st.lists(
            st.sampled_from([" ", "\t", "  ", "\r\n", "\n", "\r", "line", "é", ".", "\r\n\r\n"]),
            max_size=30,
        )
    )
    header = eol.join(fields)
    if draw(st.booleans()) or body:
        return (header + eol + eol + "".join(body)).encode()
    return (header + draw(st.sampled_from([eol, ""]))).encode()


def signer_for(ed_canon: Canonicalization, rsa_canon: Canonicalization, oversign: bool) -> Signer:
    """Two signatures per message: Ed25519 and RSA, each with its own canonicalization."""
    specs = (
        SignatureSpec(
            DOMAIN, "ed", ED, SignatureOptions(canonicalization=ed_canon, oversign=oversign)
        ),
        SignatureSpec(
            DOMAIN, "rsa", RSA, SignatureOptions(canonicalization=rsa_canon, oversign=oversign)
        ),
    )
    return Signer(StaticPolicy(specs), clock=fixed_clock())


@SETTINGS
@given(message=messages(), ed_canon=CANONS, rsa_canon=CANONS, oversign=st.booleans())
def test_sign_then_verify(
    message: bytes, ed_canon: Canonicalization, rsa_canon: Canonicalization, oversign: bool
):
    """
    Every generated message signs, unless its body has a bare CR (refused), and dkimpy
    verifies both signatures after the message went through an MTA.
    """
    outcome = attempt(signer_for(ed_canon, rsa_canon, oversign).signed_message, message)
    if isinstance(outcome, MessageProblem):
        assert (MessageProblem.BARE_CR, True) == (outcome, has_bare_cr(message))
        return
    assert [True, True] == dkimpy_verify_all(transport(outcome), RECORDS)


@st.composite
def chunkings(draw: st.DrawFn, spaced_colon: bool = True) -> tuple[bytes, list[bytes]]:
    message = draw(messages(spaced_colon=spaced_colon))
    cuts = sorted(draw(st.lists(st.integers(0, len(message)), max_size=15)))
    bounds = [0, *cuts, len(message)]
    return message, [message[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=chunkings(), ed_canon=CANONS, rsa_canon=CANONS)
def test_chunked_equals_whole(
    data: tuple[bytes, list[bytes]], ed_canon: Canonicalization, rsa_canon: Canonicalization
):
    """sign_chunks gives byte-identical signature fields to sign, for any chunking."""
    message, chunks = data
    signer = signer_for(ed_canon, rsa_canon, True)
    assert attempt(signer.sign, message) == attempt(signer.sign_chunks, chunks)


@SETTINGS
@given(data=chunkings(), canon=CANONS)
def test_input_never_changed(data: tuple[bytes, list[bytes]], canon: Canonicalization):
    """Signing never modifies the caller's bytearrays, whole or chunked."""
    message, chunks = data
    whole = bytearray(message)
    pieces = [bytearray(chunk) for chunk in chunks]
    signer = signer_for(canon, canon, True)
    signed = attempt(signer.signed_message, whole)
    attempt(signer.sign_chunks, pieces)
    assert message == bytes(whole)
    assert chunks == [bytes(piece) for piece in pieces]
    assert isinstance(signed, MessageProblem) or signed.endswith(message)


def test_property_keys_are_the_example_keys():
    """The generated-message tests sign with the RFC 8463 keys (one per algorithm)."""
    assert {"ed25519-sha256", "rsa-sha256"} == {ED.algorithm.value, RSA.algorithm.value}
    assert isinstance(ED, SigningKey)
