"""
verify(sign(m)) passes with oxdkim's own Verifier for generated messages, and the
verdict tracks the message: relaxed signatures survive what relays do to whitespace;
any change to the body or a signed field's content fails.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import assume, given
from hypothesis import strategies as st

from oxdkim import (
    Canon,
    Canonicalization,
    DkimReason,
    DkimResult,
    KeyRing,
    LegacyBrandPolicy,
    SignatureOptions,
    Signer,
    SigningKey,
    Verifier,
)
from oxdkim.resolvers import InMemoryZone
from oxdkim.testing import transport

from .strategies import SLOW, messages

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DOMAIN = "tenant.example"
KEY_HOST = "keys.brand.example"
ED = [SigningKey.from_ed25519_seed(bytes([i]) * 32) for i in (1, 2)]
RSA = [SigningKey.generate("rsa-sha256", bits=1024) for _ in range(2)]
SIGNABLE = messages(DOMAIN, bare_cr=False)
CANONS = st.builds(Canonicalization, st.sampled_from(Canon), st.sampled_from(Canon))


def brand(
    keys: list[SigningKey], canon: Canonicalization, oversign: bool
) -> tuple[Signer, Verifier]:
    """Aligned brand signing through CNAME delegation, and a receiver's verifier."""
    ring = KeyRing.from_keys({"mail1": keys[0], "mail2": keys[1]}, active="mail1")
    options = SignatureOptions(canonicalization=canon, oversign=oversign)
    policy = LegacyBrandPolicy(ring, {"t": [DOMAIN]}, options=options)
    zone = InMemoryZone(
        {
            f"{s}._domainkey.{KEY_HOST}": k.txt_record()
            for s, k in zip(("mail1", "mail2"), keys, strict=True)
        },
        cname={
            f"{s}._domainkey.{DOMAIN}": f"{s}._domainkey.{KEY_HOST}" for s in ("mail1", "mail2")
        },
    )
    return Signer(policy, clock=lambda: NOW), Verifier(zone, clock=lambda: NOW)


@SLOW
@given(message=SIGNABLE, canon=CANONS, oversign=st.booleans(), rsa=st.booleans())
def test_verify_of_sign_passes(message: bytes, canon: Canonicalization, oversign: bool, rsa: bool):
    """Every generated message, signed aligned through the brand's CNAMEs, verifies."""
    signer, verifier = brand(RSA if rsa else ED, canon, oversign)
    signed = signer.signed_message(message, tenant="t")
    for arrived in (signed, transport(signed)):
        [result] = verifier.verify(arrived)
        assert (DkimResult.PASS, DOMAIN) == (result.result, result.domain), result.message


@SLOW
@given(message=SIGNABLE, canon=CANONS, cut=st.integers(0, 10_000))
def test_chunked_signature_verifies_too(message: bytes, canon: Canonicalization, cut: int):
    """The signature made from chunks verifies like the whole one (and is the same)."""
    signer, verifier = brand(ED, canon, True)
    cut %= len(message) + 1
    [whole] = signer.sign(message, tenant="t")
    [chunked] = signer.sign_chunks([message[:cut], message[cut:]], tenant="t")
    assert whole == chunked
    [result] = verifier.verify(chunked.header + message)
    assert DkimResult.PASS == result.result


def refold(message: bytes) -> bytes:
    """What a relay may do under relaxed rules: widen every WSP run and strip line-end WSP."""
    split = message.find(b"\r\n\r\n")
    head, body = (message, b"") if split < 0 else (message[: split + 2], message[split + 2 :])
    head = head.replace(b": ", b":  \t")
    body = body.replace(b" ", b"\t ").replace(b" \r\n", b"\r\n")
    return head + body


@SLOW
@given(message=messages(DOMAIN, obsolete=False, bare_cr=False))
def test_relaxed_survives_whitespace_changes(message: bytes):
    """relaxed/relaxed still verifies after a relay widens whitespace in fields and body."""
    assume(b"\r\n" in message and b"\n" not in message.replace(b"\r\n", b""))
    signer, verifier = brand(ED, Canonicalization(), True)
    [signature] = signer.sign(message, tenant="t")
    changed = refold(signature.header + message)
    [result] = verifier.verify(changed)
    assert DkimResult.PASS == result.result, result.message


@SLOW
@given(message=SIGNABLE, canon=CANONS, extra=st.binary(min_size=1, max_size=20))
def test_appended_body_content_fails(message: bytes, canon: Canonicalization, extra: bytes):
    """Content appended to the body (not just empty lines) makes the body hash fail."""
    extra = extra.replace(b"\0", b"x")
    assume(extra.strip(b" \t\r\n"))
    signer, verifier = brand(ED, canon, True)
    [signature] = signer.sign(message, tenant="t")
    sep = b"\n" if message.endswith(b"\n") and not message.endswith(b"\r\n") else b"\r\n"
    if b"\n\n" not in message and b"\r\n\r\n" not in message:
        message += sep  # a headers-only message gets its empty line first
    [result] = verifier.verify(signature.header + message + sep + extra + sep)
    assert DkimReason.BODY_HASH_MISMATCH == result.reason


@SLOW
@given(
    message=SIGNABLE,
    canon=CANONS,
    word=st.sampled_from([b"X", b"evil", b"0"]),
)
def test_changed_subject_fails(message: bytes, canon: Canonicalization, word: bytes):
    """Adding a Subject (signed, and oversigned) after signing breaks the signature."""
    signer, verifier = brand(ED, canon, True)
    [signature] = signer.sign(message, tenant="t")
    tampered = signature.header + b"Subject: " + word + b"\r\n" + message
    [result] = verifier.verify(tampered)
    assert DkimReason.BAD_SIGNATURE == result.reason


def test_keys_of_the_property_tests():
    """Both algorithms are exercised (Ed25519 and RSA keys differ)."""
    algorithms = {key.algorithm.value for key in itertools.chain(ED, RSA)}
    assert {"ed25519-sha256", "rsa-sha256"} == algorithms
