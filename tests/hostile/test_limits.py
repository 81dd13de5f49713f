"""
Resource limits: each hostile size is refused with a clear error, or finishes within a
stated time and memory budget.

Budgets are deliberately generous (docs/security.md lists them): they exist to catch a
hang or a quadratic blow-up, not to measure speed. Time is ``time.perf_counter``, memory
the ``tracemalloc`` peak of Python allocations during the call.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oxdkim import (
    Canon,
    Canonicalization,
    DefaultGenericPolicy,
    DkimReason,
    DkimResult,
    FromHeaderError,
    MessageFormatError,
    MessageLimitError,
    MessageLimits,
    MessageProblem,
    SignatureOptions,
    Signer,
    SigningKey,
)
from oxdkim.resolvers import InMemoryZone

from .support import (
    ALICE,
    ALICE_DOMAIN,
    GENERIC_DOMAIN,
    GENERIC_KEY,
    MB,
    brand_signer,
    clock,
    measure,
    run_unchanged,
    sign_unchanged,
    verifier,
    within,
)

HEADER = f"From: a@{ALICE_DOMAIN}\r\nSubject: limits\r\n\r\n".encode()
BODY_MB = 32
CHUNK = 64 * 1024
SIGNER = brand_signer()


def streamed(piece: bytes, total: int = BODY_MB * MB) -> Iterator[bytes]:
    """The header, then ``piece`` repeated until ``total`` body bytes were given."""
    yield HEADER
    for _ in range(total // len(piece)):
        yield piece


def relaxed_and_simple_signer() -> Signer:
    """One signature per body canonicalization, so both streaming paths run."""
    generic = DefaultGenericPolicy(
        GENERIC_DOMAIN,
        "gen1",
        GENERIC_KEY,
        SignatureOptions(canonicalization=Canonicalization(Canon.RELAXED, Canon.SIMPLE)),
    )
    return Signer(generic, clock=clock)


# -- huge bodies ------------------------------------------------------------------------


def test_huge_body_streamed_in_bounded_memory():
    """32 MB of text lines through sign_chunks: ≤ 10 s, ≤ 8 MB (the body is never held)."""
    piece = (b"hello  world \t x\r\n" * 4000)[:CHUNK]
    result, cost = measure(lambda: SIGNER.sign_chunks(streamed(piece), tenant=ALICE))
    assert [ALICE_DOMAIN] == [r.domain for r in result]  # type: ignore[union-attr]
    assert within(cost, seconds=10, megabytes=8), cost


def test_huge_body_one_line_without_line_end_streamed():
    """
    One 32 MB line with no line ending (relaxed and simple): ≤ 10 s, ≤ 8 MB. The
    hasher flushes a long line in pieces instead of waiting for its end.
    """
    piece = b"word  \t " * (CHUNK // 8)
    result, cost = measure(lambda: relaxed_and_simple_signer().sign_chunks(streamed(piece)))
    assert 1 == len(result)  # type: ignore[arg-type]
    assert within(cost, seconds=10, megabytes=8), cost


def test_huge_body_of_empty_lines_streamed():
    """32 MB of CRLFs (all dropped by canonicalization, so all held back): ≤ 10 s, ≤ 8 MB."""
    result, cost = measure(
        lambda: SIGNER.sign_chunks(streamed(b"\r\n" * (CHUNK // 2)), tenant=ALICE)
    )
    assert 1 == len(result)  # type: ignore[arg-type]
    assert within(cost, seconds=10, megabytes=8), cost


def test_huge_body_of_spaces_and_crlf_cut_between_cr_and_lf_streamed():
    """
    32 MB of spaces whose line ends are cut between CR and LF at every chunk boundary
    (bytes held back while their meaning is open): signed as the whole body, bounded.
    """
    chunk = b"\n" + b" " * (CHUNK - 2) + b"\r"
    count = BODY_MB * MB // CHUNK
    signer = relaxed_and_simple_signer()
    result, cost = measure(
        lambda: signer.sign_chunks(itertools.chain([HEADER, b"x\r"], [chunk] * count, [b"\n"]))
    )
    whole = signer.sign(HEADER + b"x\r" + chunk * count + b"\n")
    assert [r.body_hash for r in whole] == [r.body_hash for r in result]  # type: ignore[union-attr]
    assert within(cost, seconds=10, megabytes=8), cost


def test_huge_body_of_spaces_and_bare_crs_streamed_is_refused_at_once():
    """32 MB of spaces and bare CRs: refused at the first bare CR, without reading on."""
    seen = []

    def counted() -> Iterator[bytes]:
        for piece in streamed(b" \r" * (CHUNK // 2)):
            seen.append(len(piece))
            yield piece

    error, cost = measure(lambda: relaxed_and_simple_signer().sign_chunks(counted()))
    assert isinstance(error, MessageFormatError)
    assert MessageProblem.BARE_CR == error.problem
    assert 2 == len(seen)  # the header and the first body chunk
    assert within(cost, seconds=1, megabytes=8), cost


def test_huge_whole_message_signed_and_verified_within_budget():
    """
    A 32 MB message signed whole and verified: ≤ 10 s and ≤ 6 × its size each (the
    canonical body is built in memory; use sign_chunks to avoid that).
    """
    raw = HEADER + b"x y  z\t\r\n" * (BODY_MB * MB // 9)
    results, cost = measure(lambda: SIGNER.sign(raw, tenant=ALICE))
    assert within(cost, seconds=10, megabytes=6 * BODY_MB), cost
    signed = results[0].header + raw  # type: ignore[index]
    verdicts, cost = measure(lambda: verifier().verify(signed))
    assert DkimResult.PASS == verdicts[0].result  # type: ignore[index]
    assert within(cost, seconds=10, megabytes=6 * BODY_MB), cost


# -- header size and field count --------------------------------------------------------


def test_endless_header_stream_is_cut_off():
    """
    A header block that never ends (an endless generator of fields) is refused once it
    passes max_header_bytes (1 MiB by default): the stream is not read forever.
    """
    endless = itertools.chain([b"From: a@alice.example\r\n"], itertools.repeat(b"X-A: 1\r\n"))
    error, cost = measure(lambda: SIGNER.sign_chunks(endless, tenant=ALICE))
    assert isinstance(error, MessageLimitError)
    assert MessageProblem.TOO_LARGE == error.problem
    assert within(cost, seconds=10, megabytes=16), cost


def test_header_block_over_the_byte_limit():
    """A 2 MiB header block is a MessageLimitError, whole and chunked."""
    raw = HEADER[:-2] + b"X-Pad: " + b"p" * (2 * MB) + b"\r\n\r\nbody\r\n"
    outcome = sign_unchanged(SIGNER, raw, chunk=CHUNK)
    assert isinstance(outcome.error, MessageLimitError)


def test_hundred_thousand_header_fields_refused():
    """100,000 fields exceed max_header_fields (5,000): refused in ≤ 5 s, ≤ 64 MB."""
    raw = HEADER[:-2] + b"X-A: 1\r\n" * 100_000 + b"\r\nbody\r\n"
    error, cost = measure(lambda: SIGNER.sign(raw, tenant=ALICE))
    assert isinstance(error, MessageLimitError)
    assert within(cost, seconds=5, megabytes=64), cost
    [verdict] = run_unchanged(verifier().verify, raw).value  # type: ignore[misc]
    assert DkimReason.MESSAGE_TOO_LARGE == verdict.reason


def test_hundred_thousand_header_fields_when_allowed():
    """With the limits raised, 100,000 fields sign and verify in ≤ 20 s, ≤ 256 MB each."""
    limits = MessageLimits(max_header_fields=200_000, max_header_bytes=4 * MB)
    signer = Signer(SIGNER.policy, clock=clock, limits=limits)
    raw = HEADER[:-2] + b"Received: x\r\n" * 100_000 + b"\r\nbody\r\n"
    results, cost = measure(lambda: signer.sign(raw, tenant=ALICE))
    assert within(cost, seconds=20, megabytes=256), cost
    signed = results[0].header + raw  # type: ignore[index]
    verdicts, cost = measure(lambda: verifier(limits=limits).verify(signed))
    assert DkimResult.PASS == verdicts[0].result  # type: ignore[index]
    assert within(cost, seconds=20, megabytes=256), cost


# -- one field folded 100,000 times -----------------------------------------------------


def test_subject_folded_hundred_thousand_times():
    """A Subject of 100,000 folded lines signs and verifies: ≤ 10 s, ≤ 128 MB each."""
    raw = HEADER[:-2].replace(b"limits", b"x" + b"\r\n y" * 100_000) + b"\r\nbody\r\n"
    for canon in (Canonicalization(), Canonicalization(Canon.SIMPLE, Canon.SIMPLE)):
        options = SignatureOptions(canonicalization=canon)
        signer = Signer(
            DefaultGenericPolicy(GENERIC_DOMAIN, "gen1", GENERIC_KEY, options), clock=clock
        )
        results, cost = measure(lambda s=signer: s.sign(raw))
        assert within(cost, seconds=10, megabytes=128), cost
        verdicts, cost = measure(lambda r=results: verifier().verify(r[0].header + raw))  # type: ignore[index]
        assert DkimResult.PASS == verdicts[0].result  # type: ignore[index]
        assert within(cost, seconds=10, megabytes=128), cost


def test_from_folded_thousands_of_times():
    """A From field folded 2,000 times (8 KB) still names one mailbox: signed, ≤ 1 s."""
    raw = b"From: Alice" + b"\r\n " * 2_000 + f"<a@{ALICE_DOMAIN}>\r\n\r\nbody\r\n".encode()
    results, cost = measure(lambda: SIGNER.sign(raw, tenant=ALICE))
    assert [ALICE_DOMAIN] == [r.domain for r in results]  # type: ignore[union-attr]
    assert within(cost, seconds=1, megabytes=16), cost


def test_from_with_thousands_of_nested_comments():
    """4,000 nested comments in From are skipped iteratively: signed, ≤ 1 s."""
    raw = f"From: a@{ALICE_DOMAIN} ".encode() + b"(" * 4_000 + b")" * 4_000 + b"\r\n\r\nx\r\n"
    results, cost = measure(lambda: SIGNER.sign(raw, tenant=ALICE))
    assert [ALICE_DOMAIN] == [r.domain for r in results]  # type: ignore[union-attr]
    assert within(cost, seconds=1, megabytes=16), cost


@pytest.mark.parametrize(
    "value",
    [
        b"Alice" + b"\r\n " * 100_000 + b"<a@alice.example>",
        b"a@alice.example " + b"(" * 100_000 + b")" * 100_000,
    ],
    ids=["folded-100k-times", "100k-nested-comments"],
)
def test_from_over_the_size_bound_is_refused_at_once(value: bytes):
    """A From value over 8 KB is refused (too-large) before it is parsed: ≤ 0.1 s."""
    raw = b"From: " + value + b"\r\n\r\nbody\r\n"
    error, cost = measure(lambda: SIGNER.sign(raw, tenant=ALICE))
    assert isinstance(error, FromHeaderError)
    assert MessageProblem.TOO_LARGE == error.problem
    assert within(cost, seconds=0.1, megabytes=16), cost


def test_signature_field_folded_hundred_thousand_times():
    """A DKIM-Signature whose h= is folded 100,000 times is judged in ≤ 10 s, ≤ 128 MB."""
    raw = HEADER + b"body\r\n"
    [signature] = SIGNER.sign(raw, tenant=ALICE)
    folded = signature.header.replace(b"h=from:", b"h=" + b"from:\r\n " * 100_000, 1)
    verdicts, cost = measure(lambda: verifier().verify(folded + raw))
    assert DkimReason.BAD_SIGNATURE == verdicts[0].reason  # type: ignore[index]
    assert within(cost, seconds=10, megabytes=128), cost


# -- many signatures for the verifier ---------------------------------------------------


def hundred_signatures(distinct_selectors: bool) -> tuple[bytes, InMemoryZone]:
    """A message with 100 valid DKIM-Signature fields and the zone with their keys."""
    raw = HEADER + b"body\r\n"
    headers = []
    records = {}
    for index in range(100):
        selector = f"s{index}" if distinct_selectors else "s"
        policy = DefaultGenericPolicy(GENERIC_DOMAIN, selector, GENERIC_KEY)
        headers.append(Signer(policy, clock=clock).sign(raw)[0].header)
        records[f"{selector}._domainkey.{GENERIC_DOMAIN}"] = GENERIC_KEY.txt_record()
    return b"".join(headers) + raw, InMemoryZone(records)


def test_hundred_signatures_only_ten_evaluated():
    """
    100 DKIM-Signature fields: the first 10 are evaluated (pass), 90 are neutral
    not-evaluated, at most 10 DNS queries are made; ≤ 5 s, ≤ 32 MB.
    """
    signed, zone = hundred_signatures(distinct_selectors=True)
    results, cost = measure(lambda: verifier(zone).verify(signed))
    assert [DkimResult.PASS] * 10 + [DkimResult.NEUTRAL] * 90 == [r.result for r in results]  # type: ignore[union-attr]
    assert 10 == sum(zone.queries.values())
    assert within(cost, seconds=5, megabytes=32), cost


def test_hundred_signatures_all_evaluated_when_allowed():
    """With max_signatures=100 all pass; one key name is asked once; ≤ 10 s, ≤ 64 MB."""
    signed, zone = hundred_signatures(distinct_selectors=False)
    results, cost = measure(lambda: verifier(zone, max_signatures=100).verify(signed))
    assert [DkimResult.PASS] * 100 == [r.result for r in results]  # type: ignore[union-attr]
    assert 1 == sum(zone.queries.values())
    assert within(cost, seconds=10, megabytes=64), cost


# -- expensive keys ---------------------------------------------------------------------


def rsa_record(bits: int) -> str:
    """A key record with a random odd ``bits``-bit modulus (no private half exists)."""
    modulus = int.from_bytes(os.urandom(bits // 8), "big") | (1 << (bits - 1)) | 1
    public = rsa.RSAPublicNumbers(65537, modulus).public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode("ascii")


def rsa_signed(selectors: list[str], signature_bytes: int) -> bytes:
    """Signatures by an RSA key whose b= is replaced by random bytes of the given size."""
    key = SigningKey.generate("rsa-sha256", bits=1024)
    raw = HEADER + b"body\r\n"
    headers = []
    for selector in selectors:
        [result] = Signer(DefaultGenericPolicy(GENERIC_DOMAIN, selector, key), clock=clock).sign(
            raw
        )
        fake = base64.b64encode(os.urandom(signature_bytes))
        headers.append(re.sub(rb"b=[A-Za-z0-9+/=\r\n\t ]+$", b"b=" + fake + b"\r\n", result.header))
    return b"".join(headers) + raw


def test_ten_largest_rsa_keys():
    """
    Ten signatures, each naming its own 16,384-bit RSA key (the largest accepted) with a
    full-size b=: every one is judged bad-signature in ≤ 10 s, ≤ 64 MB.
    """
    selectors = [f"big{i}" for i in range(10)]
    zone = InMemoryZone({f"{s}._domainkey.{GENERIC_DOMAIN}": rsa_record(16384) for s in selectors})
    signed = rsa_signed(selectors, 16384 // 8)
    results, cost = measure(lambda: verifier(zone).verify(signed))
    assert [DkimReason.BAD_SIGNATURE] * 10 == [r.reason for r in results]  # type: ignore[union-attr]
    assert within(cost, seconds=10, megabytes=64), cost


def test_rsa_key_above_the_largest_is_malformed():
    """A key record with a 16,392-bit modulus is refused as malformed before any RSA work."""
    zone = InMemoryZone({f"huge._domainkey.{GENERIC_DOMAIN}": rsa_record(16392)})
    [result] = run_unchanged(verifier(zone).verify, rsa_signed(["huge"], 16392 // 8)).results
    assert DkimReason.MALFORMED_KEY == result.reason


def test_megabyte_signature_value():
    """A b= of 750 KB (decoded) is a bad signature, judged in ≤ 5 s, ≤ 64 MB."""
    zone = InMemoryZone({f"big._domainkey.{GENERIC_DOMAIN}": rsa_record(2048)})
    signed = rsa_signed(["big"], 750_000)
    results, cost = measure(lambda: verifier(zone).verify(signed))
    assert DkimReason.BAD_SIGNATURE == results[0].reason  # type: ignore[index]
    assert within(cost, seconds=5, megabytes=64), cost
