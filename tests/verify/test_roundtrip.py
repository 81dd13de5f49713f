"""Signatures made by oxdkim's Signer and by dkimpy verify with oxdkim's Verifier."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from pathlib import Path

import dkim
import nacl.signing
import pytest

from oxdkim import (
    Canonicalization,
    DefaultGenericPolicy,
    SignatureOptions,
    Signer,
    SigningKey,
)
from oxdkim._verify.verifier import AsyncVerifier, DkimReason, DkimResult, Verifier

from .support import DOMAIN, KEY_NAME, MESSAGE, SELECTOR, VECTORS, fixed_clock, key_zone, zone

CANONICALIZATIONS = ["simple/simple", "simple/relaxed", "relaxed/simple", "relaxed/relaxed"]


def _signer(key: SigningKey, canon: str = "relaxed/relaxed", **options: object) -> Signer:
    opts = SignatureOptions(canonicalization=Canonicalization.parse(canon), **options)  # type: ignore[arg-type]
    return Signer(DefaultGenericPolicy(DOMAIN, SELECTOR, key, opts), clock=fixed_clock())


@pytest.mark.parametrize("canon", CANONICALIZATIONS)
def test_signer_round_trip(any_key: SigningKey, canon: str) -> None:
    """Every algorithm and canonicalization pair made by the Signer verifies as pass."""
    signed = _signer(any_key, canon).signed_message(MESSAGE)
    (result,) = Verifier(key_zone(any_key), clock=fixed_clock()).verify(signed)
    assert DkimResult.PASS == result.result
    assert result.reason is None
    assert (DOMAIN, SELECTOR, any_key.algorithm.value) == (
        result.domain,
        result.selector,
        result.algorithm,
    )
    assert f"@{DOMAIN}" == result.auid
    assert any_key.bits == result.key_bits
    assert not result.testing


@pytest.mark.parametrize("canon", CANONICALIZATIONS)
def test_signer_round_trip_async(any_key: SigningKey, canon: str) -> None:
    """The async verifier gives the same pass through an async resolver."""
    signed = _signer(any_key, canon).signed_message(MESSAGE)
    verifier = AsyncVerifier(key_zone(any_key).as_async(), clock=fixed_clock())
    (result,) = asyncio.run(verifier.verify(signed))
    assert DkimResult.PASS == result.result


def test_lf_message_round_trip(any_key: SigningKey) -> None:
    """A message with LF line endings, signed as it is, verifies (canonical CRLF)."""
    message = MESSAGE.replace(b"\r\n", b"\n")
    signed = _signer(any_key, "simple/simple").signed_message(message)
    assert b"\r" not in signed
    (result,) = Verifier(key_zone(any_key), clock=fixed_clock()).verify(signed)
    assert DkimResult.PASS == result.result


def test_changed_body_or_header_after_signing_fails(any_key: SigningKey) -> None:
    """The round trip is not vacuous: a changed body or Subject fails."""
    signed = _signer(any_key).signed_message(MESSAGE)
    verifier = Verifier(key_zone(any_key), clock=fixed_clock())
    (body,) = verifier.verify(signed.replace(b"attached", b"attacked"))
    (head,) = verifier.verify(signed.replace(b"quarterly", b"quarter"))
    assert (DkimResult.FAIL, DkimReason.BODY_HASH_MISMATCH) == (body.result, body.reason)
    assert (DkimResult.FAIL, DkimReason.BAD_SIGNATURE) == (head.result, head.reason)


def test_dual_signature_both_verified(rsa_key: SigningKey, ed_key: SigningKey) -> None:
    """Two signatures on one message (RSA and Ed25519) are both evaluated, in order."""
    signed = _signer(ed_key).signed_message(MESSAGE)
    signed = Signer(
        DefaultGenericPolicy("other.example", "s2", rsa_key), clock=fixed_clock()
    ).signed_message(signed)
    records = {KEY_NAME: ed_key.txt_record(), "s2._domainkey.other.example": rsa_key.txt_record()}
    results = Verifier(zone(records), clock=fixed_clock()).verify(signed)
    assert [("other.example", "rsa-sha256"), (DOMAIN, "ed25519-sha256")] == [
        (r.domain, r.algorithm) for r in results
    ]
    assert [True, True] == [r.passed for r in results]
    assert [0, 1] == [r.index for r in results]


def test_expiring_signature_from_signer(rsa_key: SigningKey) -> None:
    """x= written by the Signer passes before it and fails after it (injected clock)."""
    signed = _signer(rsa_key, expires_in=3600).signed_message(MESSAGE)
    start = fixed_clock()()
    before = Verifier(key_zone(rsa_key), clock=fixed_clock(start + timedelta(minutes=59)))
    after = Verifier(key_zone(rsa_key), clock=fixed_clock(start + timedelta(minutes=66)))
    assert DkimResult.PASS == before.verify(signed)[0].result
    assert DkimReason.EXPIRED == after.verify(signed)[0].reason


# -- dkimpy as the signer ---------------------------------------------------------------


def _dkimpy_sign(canon: str, private: bytes, message: bytes = MESSAGE, **kwargs: object) -> bytes:
    """``message`` signed by dkimpy with ``private`` (PEM, or a base64 Ed25519 seed)."""
    header_c, body_c = canon.encode().split(b"/")
    header = dkim.sign(
        message,
        SELECTOR.encode(),
        DOMAIN.encode(),
        private,
        canonicalize=(header_c, body_c),
        **kwargs,
    )
    return header + message


def _dkimpy_rsa(canon: str, key: SigningKey, **kwargs: object) -> bytes:
    return _dkimpy_sign(canon, key.private_pem(), **kwargs)


@pytest.mark.parametrize("canon", CANONICALIZATIONS)
def test_dkimpy_rsa_signatures_verify(rsa_key: SigningKey, canon: str) -> None:
    """dkim.sign with an RSA-2048 key, every canonicalization: oxdkim says pass."""
    signed = _dkimpy_rsa(canon, rsa_key)
    (result,) = Verifier(key_zone(rsa_key)).verify(signed)
    assert DkimResult.PASS == result.result


@pytest.mark.parametrize("canon", CANONICALIZATIONS)
def test_dkimpy_ed25519_signatures_verify(canon: str) -> None:
    """dkim.sign with an Ed25519 key made by PyNaCl: oxdkim says pass."""
    nacl_key = nacl.signing.SigningKey.generate()
    signed = _dkimpy_sign(
        canon, base64.b64encode(bytes(nacl_key)), signature_algorithm=b"ed25519-sha256"
    )
    p = base64.b64encode(bytes(nacl_key.verify_key)).decode()
    resolver = zone({KEY_NAME: f"v=DKIM1; k=ed25519; p={p}"})
    (result,) = Verifier(resolver).verify(signed)
    assert DkimResult.PASS == result.result
    assert "ed25519-sha256" == result.algorithm


def test_dkimpy_identity_is_reported(rsa_key: SigningKey) -> None:
    """An i= set by dkimpy comes back as the AUID."""
    signed = _dkimpy_rsa("relaxed/simple", rsa_key, identity=b"alice@mail.example.com")
    (result,) = Verifier(key_zone(rsa_key)).verify(signed)
    assert DkimResult.PASS == result.result
    assert "alice@mail.example.com" == result.auid


def test_dkimpy_body_length_is_policy_unless_allowed(rsa_key: SigningKey) -> None:
    """dkimpy's l= signature is 'policy' by default and passes when l= is allowed."""
    signed = _dkimpy_rsa("relaxed/relaxed", rsa_key, length=True)
    (default,) = Verifier(key_zone(rsa_key)).verify(signed)
    (allowed,) = Verifier(key_zone(rsa_key), allow_body_length=True).verify(signed)
    (appended,) = Verifier(key_zone(rsa_key), allow_body_length=True).verify(
        signed + b"Appended by someone else.\r\n"
    )
    assert (DkimResult.POLICY, DkimReason.BODY_LENGTH) == (default.result, default.reason)
    assert default.body_length is not None
    assert DkimResult.PASS == allowed.result
    assert DkimResult.PASS == appended.result


def test_dkimpy_rsa_sha1_is_never_a_pass(rsa_key: SigningKey) -> None:
    """A genuine rsa-sha1 signature from dkimpy is permerror (RFC 8301), with no query."""
    signed = _dkimpy_rsa("relaxed/relaxed", rsa_key, signature_algorithm=b"rsa-sha1")
    resolver = key_zone(rsa_key)
    (result,) = Verifier(resolver).verify(signed)
    assert (DkimResult.PERMERROR, DkimReason.RSA_SHA1) == (result.result, result.reason)
    assert "rsa-sha1" == result.algorithm
    assert 0 == sum(resolver.queries.values())


def test_header_fields_are_selected_bottom_up(rsa_key: SigningKey) -> None:
    """
    h= takes the last instance of a field first (RFC 6376 §5.4.2): a Subject added
    above the signed one changes nothing, one added below breaks the signature.
    """
    message = MESSAGE.replace(b"Subject:", b"Subject: first\r\nSubject:")
    header = dkim.sign(
        message,
        SELECTOR.encode(),
        DOMAIN.encode(),
        rsa_key.private_pem(),
        include_headers=[b"from", b"subject"],
    )
    verifier = Verifier(key_zone(rsa_key))
    above = header + b"Subject: added above\r\n" + message
    below = header + message.replace(b"MIME-Version", b"Subject: added below\r\nMIME-Version")
    assert DkimResult.PASS == verifier.verify(header + message)[0].result
    assert DkimResult.PASS == verifier.verify(above)[0].result
    assert DkimReason.BAD_SIGNATURE == verifier.verify(below)[0].reason


def test_oxdkim_signatures_verify_with_dkimpy_and_oxdkim_alike(any_key: SigningKey) -> None:
    """Both verifiers agree on the Signer's output, pass and fail."""
    signed = _signer(any_key).signed_message(MESSAGE)
    record = any_key.txt_record().encode()
    verifier = Verifier(key_zone(any_key), clock=fixed_clock())
    for message in (signed, signed.replace(b"Bob,", b"Rob,")):
        theirs = dkim.verify(message, dnsfunc=lambda name, timeout=5: record)
        ours = verifier.verify(message)[0].passed
        assert theirs == ours


DKIMPY_INPUTS = sorted(
    p for p in (VECTORS / "dkimpy" / "inputs").iterdir() if p.name != "test_nofrom.message"
)


@pytest.mark.parametrize("path", DKIMPY_INPUTS, ids=[p.name for p in DKIMPY_INPUTS])
@pytest.mark.parametrize("canon", CANONICALIZATIONS)
def test_dkimpy_signs_its_own_inputs_and_oxdkim_verifies(
    rsa_key: SigningKey, path: Path, canon: str
) -> None:
    """dkimpy's test inputs (LF endings, an mbox message) signed by dkimpy verify as pass."""
    signed = _dkimpy_sign(canon, rsa_key.private_pem(), path.read_bytes())
    # message.mbox carries a kitterman.com signature of its own (no key here): the new
    # one is on top.
    result, *older = Verifier(key_zone(rsa_key)).verify(signed)
    assert DkimResult.PASS == result.result, result.message
    assert [DkimReason.NO_KEY] * len(older) == [r.reason for r in older]
