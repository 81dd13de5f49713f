"""
Differential tests against dkimpy on arbitrary bytes: canonical bodies, body hashes,
relaxed header fields, and whole signatures.

dkimpy is the independent implementation most receivers' behaviour is checked against;
tests/core/test_canon.py compares the two over small alphabets, these over any bytes.
"""

from __future__ import annotations

import hashlib
import re

import dkim
from dkim.canonicalization import Relaxed, Simple
from hypothesis import given
from hypothesis import strategies as st

from oxdkim import (
    Canon,
    Canonicalization,
    DefaultGenericPolicy,
    SignatureOptions,
    Signer,
    SigningKey,
)
from oxdkim._canon import body_hash, canonicalize_body, canonicalize_header

from .strategies import FAST, SLOW, bodies, field_names, field_values, messages

DKIMPY = {Canon.SIMPLE: Simple, Canon.RELAXED: Relaxed}
CANONS = st.builds(Canonicalization, st.sampled_from(Canon), st.sampled_from(Canon))
DOMAIN = "diff.example"
ED = SigningKey.from_ed25519_seed(bytes(range(32)))
RSA = SigningKey.generate("rsa-sha256", bits=1024)  # 1024 bits: fast enough for many examples
RECORDS = {
    f"ed._domainkey.{DOMAIN}.".encode(): ED.txt_record().encode(),
    f"rsa._domainkey.{DOMAIN}.".encode(): RSA.txt_record().encode(),
}


def dkimpy_body(body: bytes, canon: Canon) -> bytes:
    """dkimpy's canonical body, after its message parser's line-ending normalization."""
    normalized = b"\r\n".join(re.split(b"\r?\n", body))
    return bytes(DKIMPY[canon].canonicalize_body(normalized))


@FAST
@given(body=bodies, canon=st.sampled_from(Canon))
def test_canonical_body_equals_dkimpy(body: bytes, canon: Canon):
    """The canonical body equals dkimpy's for any bytes."""
    assert dkimpy_body(body, canon) == canonicalize_body(body, canon)


@FAST
@given(body=bodies, canon=st.sampled_from(Canon))
def test_body_hash_equals_dkimpy(body: bytes, canon: Canon):
    """The ``bh=`` digest equals SHA-256 of dkimpy's canonical body for any bytes."""
    assert hashlib.sha256(dkimpy_body(body, canon)).digest() == body_hash(body, canon)


@FAST
@given(name=field_names, gap=st.sampled_from([b"", b" ", b"\t "]), value=field_values())
def test_relaxed_header_equals_dkimpy(name: bytes, gap: bytes, value: bytes):
    """A relaxed header field equals dkimpy's for any name and any (folded) value bytes."""
    raw = name + gap + b":" + value + b"\r\n"
    colon = raw.index(b":")
    [(dk_name, dk_value)] = Relaxed.canonicalize_headers([(raw[:colon], raw[colon + 1 :])])
    assert dk_name + b":" + dk_value == canonicalize_header(raw, Canon.RELAXED)


@SLOW
@given(message=messages(DOMAIN, obsolete=False), canon=CANONS, oversign=st.booleans())
def test_dkimpy_verifies_what_oxdkim_signs(message: bytes, canon: Canonicalization, oversign: bool):
    """For any signable message, dkimpy verifies oxdkim's Ed25519 and RSA signatures."""
    options = SignatureOptions(canonicalization=canon, oversign=oversign)
    signed = message
    for selector, key in (("ed", ED), ("rsa", RSA)):
        policy = DefaultGenericPolicy(DOMAIN, selector, key, options)
        signed = Signer(policy).signed_message(signed)

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return RECORDS.get(name)

    for index in range(2):
        assert dkim.DKIM(signed, minkey=1024).verify(idx=index, dnsfunc=dnsfunc), index
