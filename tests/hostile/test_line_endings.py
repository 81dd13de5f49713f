"""
Line endings: bare CR, bare LF, mixed, no final CRLF, empty body, only headers.

Each message is signed whole and chunked (bytes and bytearray, unchanged afterwards),
then verified by oxdkim's Verifier and by dkimpy, the independent implementation, after
what an MTA does to it (final CRLF added, line ends made CRLF): a signature that only
oxdkim accepts, or that only holds before transport, would fail at receivers. A bare CR
in the body is refused, since MTAs differ on it. The parser's split rules
are tested in tests/dkim/test_message.py and the canonicalization tables in
tests/dkim/test_canon.py; here the question is end to end.
"""

from __future__ import annotations

import dkim
import pytest

from oxdkim import (
    Canon,
    Canonicalization,
    DefaultGenericPolicy,
    DkimResult,
    MessageFormatError,
    MessageProblem,
    SignatureOptions,
    Signer,
)
from oxdkim.testing import transport

from .support import (
    GENERIC_DOMAIN,
    GENERIC_KEY,
    brand_zone,
    clock,
    run_unchanged,
    sign_unchanged,
    verifier,
)

P = MessageProblem
CANONS = [Canonicalization(h, b) for h in Canon for b in Canon]


def signer_for(canon: Canonicalization) -> Signer:
    """A generic signer with ``canon``."""
    options = SignatureOptions(canonicalization=canon)
    return Signer(DefaultGenericPolicy(GENERIC_DOMAIN, "gen1", GENERIC_KEY, options), clock=clock)


def dkimpy_passes(signed: bytes) -> bool:
    """dkimpy's verdict, DNS answered from the brand zone."""
    zone = brand_zone()

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        records = zone.txt(name.decode("ascii").rstrip(".")).records
        return records[0] if records else None

    return bool(dkim.DKIM(signed).verify(dnsfunc=dnsfunc))


def assert_round_trip(raw: bytes) -> None:
    """
    Every canonicalization signs ``raw``; oxdkim verifies it as sent and as an MTA
    delivers it (final CRLF added, line ends made CRLF), and dkimpy as delivered.
    """
    for canon in CANONS:
        outcome = sign_unchanged(signer_for(canon), raw, tenant=None)
        [signature] = outcome.signatures
        signed = signature.header + raw
        for arrived in (signed, transport(signed)):
            [result] = run_unchanged(verifier().verify, arrived).results
            assert DkimResult.PASS == result.result, (canon, result.message)
        assert dkimpy_passes(transport(signed)), canon


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"From: a@x.example\r\nSubject: s\r\n\r\nbody\r\n", id="crlf"),
        pytest.param(b"From: a@x.example\nSubject: s\n\nbody\n", id="bare-lf"),
        pytest.param(b"From: a@x.example\r\nSubject: s\r\n\r\nbody", id="no-final-crlf"),
        pytest.param(b"From: a@x.example\nSubject: s\n\nbody", id="bare-lf-no-final-lf"),
        pytest.param(b"From: a@x.example\r\nSubject: s\r\n\r\n", id="empty-body"),
        pytest.param(b"From: a@x.example\r\n\r\n\r\n\r\n\r\n", id="body-of-empty-lines"),
        pytest.param(b"From: a@x.example\r\nSubject: s\r\n", id="only-headers"),
        pytest.param(b"From: a@x.example", id="only-headers-no-line-end"),
        pytest.param(b"From: a@x.example\n", id="only-headers-bare-lf"),
        pytest.param(b"From: a@x.example\r\n\r\nline \t \r\n \t\r\n", id="trailing-whitespace"),
        pytest.param(b"From: a@x.example\r\n\r\nHello world \t", id="last-line-ends-in-wsp"),
        pytest.param(b"From: a@x.example\n\nHello\n \t", id="last-line-only-wsp-bare-lf"),
        pytest.param(b"From: a@x.example\r\n\r\n\r\n\r\n  ", id="blank-lines-then-wsp"),
        pytest.param(b"From: a@x.example\r\n\r\n \t", id="body-only-wsp"),
        pytest.param(b"From: a@x.example\r\nSubject: s\n\r\nbody\nmore\r\n", id="mixed-endings"),
        pytest.param(b"From: a@x.example\nSubject: folded\n\tline\n\nbody\n", id="bare-lf-folded"),
        pytest.param(b"From: a@x.example\r\n\r\n\x01\x7f\xff\xfe\r\n", id="binary-body"),
    ],
)
def test_line_endings_sign_and_verify(raw: bytes):
    """The message signs in every canonicalization; oxdkim and dkimpy verify it."""
    assert_round_trip(raw)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        pytest.param(b"From: a@x.example\rSubject: s\r\n\r\nbody", P.BARE_CR, id="bare-cr-eol"),
        pytest.param(b"From: a@x.example\r\nSubject: a\rb\r\n\r\n", P.BARE_CR, id="bare-cr-value"),
        pytest.param(b"From: a@x.example\r\r\n\r\nbody", P.BARE_CR, id="cr-cr-lf-header"),
        pytest.param(b"\r\n\r\n", P.EMPTY, id="only-line-ends"),
        pytest.param(b"", P.EMPTY, id="empty"),
        pytest.param(b"\r", P.EMPTY, id="only-cr"),
        pytest.param(b"From: a@x.example\r\n\r\nbody\0\r\n", P.NUL_BYTE, id="nul-in-body"),
        pytest.param(b"From: a@x.example\r\n\r\nx\ry\r\n", P.BARE_CR, id="bare-cr-in-body"),
        pytest.param(b"From: a@x.example\r\n\r\nx\r\r\n\r\r\n", P.BARE_CR, id="cr-cr-lf-in-body"),
        pytest.param(b"From: a@x.example\r\n\r\nx\n\ry\n\r", P.BARE_CR, id="lf-cr-in-body"),
        pytest.param(b"From: a@x.example\r\n\r\n\r", P.BARE_CR, id="body-only-cr"),
        pytest.param(b"From: a@x.example\r\n\r\nend\r", P.BARE_CR, id="body-ends-in-cr"),
    ],
)
def test_line_ending_refusals(raw: bytes, problem: MessageProblem):
    """What cannot be signed safely is refused with a stable problem code."""
    outcome = sign_unchanged(signer_for(Canonicalization()), raw, tenant=None)
    assert isinstance(outcome.error, MessageFormatError), outcome
    assert problem == outcome.error.problem


def test_body_starting_with_empty_line_only():
    """A message that starts with an empty line has no header: no From field."""
    outcome = sign_unchanged(signer_for(Canonicalization()), b"\r\nFrom: a@x.example\r\n")
    assert isinstance(outcome.error, MessageFormatError)
    assert P.NO_FROM == outcome.error.problem


def test_verifier_tolerates_bare_cr_in_unsigned_header():
    """
    The verifier reads inbound mail leniently: a bare CR in a header it need not sign
    does not make the whole message unreadable (see tests/verify/test_verifier.py).
    """
    raw = b"From: a@x.example\r\nSubject: s\r\n\r\nbody\r\n"
    [signature] = signer_for(Canonicalization()).sign(raw)
    signed = signature.header + b"X-Junk: a\rb\r\n" + raw
    [result] = run_unchanged(verifier().verify, signed).results
    assert DkimResult.PASS == result.result


def test_lf_message_gets_lf_signature_that_verifies():
    """A bare-LF message gets a bare-LF signature field (no mixed endings added)."""
    raw = b"From: a@x.example\nSubject: s\n\nbody\n"
    [signature] = signer_for(Canonicalization()).sign(raw)
    assert b"\r" not in signature.header
    [result] = verifier().verify(signature.header + raw)
    assert DkimResult.PASS == result.result
