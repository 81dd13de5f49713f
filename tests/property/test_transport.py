"""
Signatures survive transport, on bodies and header fields up to 1 MB.

The property of a signer: whatever oxdkim signs still verifies, at oxdkim and at dkimpy,
after the message went through what an MTA does (:func:`oxdkim.testing.transport`: the
final CRLF added, bare CR and bare LF made CRLF, header lines kept); and what it will not
sign (a bare CR in the body) it refuses with ``bare-cr`` for every input form.

The three implementations of the relaxed body pass (pure Python, the C accelerator and
the streaming hasher) give the same bytes, and dkimpy agrees with them on what arrives.
"""

from __future__ import annotations

import array
import hashlib
import io

import dkim
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracles import attempt, dkimpy_body, dkimpy_is_an_oracle_for, has_bare_cr
from oxdkim import (
    Canon,
    Canonicalization,
    DefaultGenericPolicy,
    DkimResult,
    MessageProblem,
    SignatureOptions,
    Signer,
    SigningKey,
    Verifier,
)
from oxdkim._dkim import canon as _canon
from oxdkim._dkim.canon import BodyHasher, body_hash
from oxdkim.resolvers import InMemoryZone
from oxdkim.testing import transport

from .strategies import field_values, large_bodies, messages

try:
    from oxdkim._speedups import relax_body as c_relax
except ImportError:  # pragma: no cover - built in CI (OXDKIM_REQUIRE_SPEEDUPS)
    c_relax = None

DOMAIN = "transport.example"
KEY = SigningKey.from_ed25519_seed(bytes(range(32)))
ZONE = InMemoryZone({f"s._domainkey.{DOMAIN}": KEY.txt_record()})
CANONS = st.builds(Canonicalization, st.sampled_from(Canon), st.sampled_from(Canon))
LARGE = settings(max_examples=20, deadline=None)
HEAD = f"From: a@{DOMAIN}\r\nSubject: transport\r\n".encode()


def signer(canon: Canonicalization) -> Signer:
    """A generic signer at DOMAIN with ``canon``."""
    options = SignatureOptions(canonicalization=canon)
    return Signer(DefaultGenericPolicy(DOMAIN, "s", KEY, options))


def dkimpy_passes(message: bytes) -> bool:
    """dkimpy's verdict on the first signature, DNS from ZONE."""
    record = KEY.txt_record().encode()
    return bool(dkim.DKIM(message).verify(dnsfunc=lambda name, timeout=5: record))


def assert_survives(signed: bytes) -> None:
    """oxdkim passes the message as sent and as delivered; dkimpy as delivered."""
    delivered = transport(signed)
    for arrived in (signed, delivered):
        [verdict] = Verifier(ZONE).verify(arrived)
        assert DkimResult.PASS == verdict.result, verdict.message
    assert dkimpy_passes(delivered) or not dkimpy_is_an_oracle_for(delivered)


@LARGE
@given(body=large_bodies, canon=CANONS)
def test_large_bodies_survive_transport(body: bytes, canon: Canonicalization):
    """A body up to 1 MB: refused for a bare CR, or verified after transport by both."""
    message = HEAD + b"\r\n" + body.replace(b"\0", b"")
    outcome = attempt(signer(canon).signed_message, message)
    if isinstance(outcome, MessageProblem):
        assert (MessageProblem.BARE_CR, True) == (outcome, has_bare_cr(message))
        return
    assert_survives(outcome)


@settings(max_examples=60, deadline=None)
@given(message=messages(DOMAIN, obsolete=False), canon=CANONS)
def test_messages_survive_transport(message: bytes, canon: Canonicalization):
    """Any message with arbitrary fields and body: refused for a bare CR, or it survives."""
    outcome = attempt(signer(canon).signed_message, message)
    if isinstance(outcome, MessageProblem):
        assert (MessageProblem.BARE_CR, True) == (outcome, has_bare_cr(message))
        return
    assert_survives(outcome)


@LARGE
@given(value=field_values(), repeat=st.integers(1, 20_000), canon=CANONS)
def test_large_header_fields_survive_transport(value: bytes, repeat: int, canon: Canonicalization):
    """A signed field folded and repeated up to about 1 MB verifies after transport."""
    big = (value + b"\r\n ") * repeat + b"end"
    message = HEAD + b"X-Large:" + big[: 1 << 20] + b"\r\n\r\nbody\r\n"
    options = SignatureOptions(canonicalization=canon, headers=("from", "subject", "x-large"))
    policy = DefaultGenericPolicy(DOMAIN, "s", KEY, options)
    assert_survives(Signer(policy).signed_message(message))


@LARGE
@given(body=large_bodies, canon=st.sampled_from(Canon), slice_at=st.integers(1, 1 << 17))
def test_three_implementations_and_dkimpy_agree(body: bytes, canon: Canon, slice_at: int):
    """Pure Python, the C accelerator and the streaming hasher: one digest, dkimpy's."""
    expected = hashlib.sha256(dkimpy_body(body, canon)).digest()
    assert expected == body_hash(body, canon)
    hasher = BodyHasher(canon)
    for start in range(0, len(body), slice_at):
        hasher.update(memoryview(body)[start : start + slice_at])
    assert expected == hasher.digest()
    if canon is Canon.RELAXED and c_relax is not None:
        assert _canon._relax_python(body) == c_relax(body)


@pytest.mark.skipif(c_relax is None, reason="the C accelerator is not built")
def test_accelerated_and_pure_python_hashers_agree_on_a_large_body(
    monkeypatch: pytest.MonkeyPatch,
):
    """The whole streaming path with the pure-Python pass swapped in: the same digest."""
    body = (b"a  \t b \r\n\t\r\n x" * 70_000)[: 1 << 20] + b" \t"
    accelerated = body_hash(body, Canon.RELAXED)
    monkeypatch.setattr(_canon, "relax", _canon._relax_python)
    assert accelerated == body_hash(body, Canon.RELAXED)


def _forms(message: bytes) -> dict[str, object]:
    """The same bytes in every form the signer takes, whole and chunked."""
    words = array.array("B", message)
    return {
        "bytes": message,
        "bytearray": bytearray(message),
        "memoryview": memoryview(message),
        "memoryview-of-array": memoryview(words),
        "chunks-memoryview": [memoryview(message)[i : i + 7] for i in range(0, len(message), 7)],
        "chunks-bytearray": [bytearray(message[i : i + 3]) for i in range(0, len(message), 3)],
        "file": io.BytesIO(message),
    }


@settings(max_examples=80, deadline=None)
@given(
    message=messages(DOMAIN, obsolete=False),
    poison=st.sampled_from([b"", b"\0", b"\r", b"x\r", b"\0\r"]),
    where=st.floats(0, 1),
)
def test_every_input_form_gets_the_same_answer(message: bytes, poison: bytes, where: float):
    """bytes, bytearray, memoryviews, chunk iterators and files: one answer per message."""
    at = int(len(message) * where)
    message = message[:at] + poison + message[at:]
    one = signer(Canonicalization())
    answers = {}
    for name, form in _forms(message).items():
        sign = one.sign_chunks if name.startswith(("chunks", "file")) else one.sign
        answers[name] = attempt(sign, form)  # type: ignore[arg-type]
    assert 1 == len({repr(answer) for answer in answers.values()}), answers


def test_nul_in_memoryview_chunks_is_refused():
    """The reported case: a NUL in the body through sign_chunks of memoryviews."""
    message = HEAD + b"\r\nx\0y\r\n"
    one = signer(Canonicalization())
    assert MessageProblem.NUL_BYTE == attempt(one.sign, message)
    assert MessageProblem.NUL_BYTE == attempt(one.sign_chunks, [memoryview(message)])
    assert MessageProblem.NUL_BYTE == attempt(
        one.sign_chunks, [memoryview(message[:30]), memoryview(message[30:])]
    )


def test_last_line_with_trailing_whitespace_verifies_everywhere():
    """The reported case: 'Hello world \\t' without CRLF signs what receivers see."""
    for canon in ("relaxed/relaxed", "simple/relaxed", "simple/simple"):
        message = HEAD + b"\r\nHello world \t"
        assert_survives(signer(Canonicalization.parse(canon)).signed_message(message))


def test_bare_cr_is_refused_whole_and_chunked():
    """The reported case: a bare CR in the body is refused, never signed as a byte."""
    message = HEAD + b"\r\nHello\rworld\r\n"
    one = signer(Canonicalization())
    assert MessageProblem.BARE_CR == attempt(one.sign, message)
    cut = message.index(b"\rworld")
    chunks = [message[: cut + 1], message[cut + 1 :]]
    assert MessageProblem.BARE_CR == attempt(one.sign_chunks, chunks)
    assert MessageProblem.BARE_CR == attempt(one.sign_chunks, [message[:-1], b""])  # ends in CR


def test_the_transport_model():
    """transport() is what the property tests assume an MTA does."""
    assert b"a\r\nb\r\nc\r\n\r\nd\r\n" == transport(b"a\nb\rc\r\n\nd")
    assert b"" == transport(b"")
