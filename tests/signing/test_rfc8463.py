"""
The RFC 8463 Appendix A example: its keys, DNS records and signed message.

The published signatures carry ``i=`` and ``q=dns/txt``, list ``h=`` with spaces around
the colons, and name From, Subject and Date a second time after Message-ID. The Signer
writes its own tag order (v a c d s t [x] [i] h bh b), never ``q=``, and lists each
configured field consecutively (duplicates in a custom list collapse), so it cannot
produce the published header field itself. What it can reproduce is checked here: the
body hash, signatures that verify against the published DNS records, and, from the
published tag list, the exact published ``b=`` of both signatures (both algorithms are
deterministic).
"""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from oxdkim import (
    Canon,
    Canonicalization,
    DefaultGenericPolicy,
    SignatureOptions,
    SignatureSpec,
    Signer,
    SigningKey,
)
from oxdkim._dkim.canon import canonicalize_header
from oxdkim._dkim.message import parse_message

from .helpers import (
    RFC8463,
    StaticPolicy,
    dkimpy_verify,
    dkimpy_verify_all,
    fixed_clock,
    h_list,
    read_zone,
    tags,
)

DOMAIN = "football.example.com"
PUBLISHED_T = 1528637909
UNSIGNED = (RFC8463 / "unsigned.eml").read_bytes()
SIGNED = (RFC8463 / "signed.eml").read_bytes()
ZONE = read_zone(RFC8463 / "zone.txt")
PUBLISHED_H = ["from", "to", "subject", "date", "message-id", "from", "subject", "date"]
SELECTORS = {"ed25519": "brisbane", "rsa": "test"}


def published_fields() -> list[bytes]:
    """The two published DKIM-Signature fields (Ed25519 first), raw with CRLF."""
    parsed = parse_message(SIGNED)
    return [f.raw for f in parsed.fields if f.key == b"dkim-signature"]


def key_and_selector(name: str, ed_key: SigningKey, rsa_key: SigningKey) -> tuple[SigningKey, str]:
    return (ed_key if name == "ed25519" else rsa_key), SELECTORS[name]


def test_published_message_verifies_with_published_records():
    """Harness check: dkimpy verifies both published signatures against zone.txt."""
    assert [True, True] == dkimpy_verify_all(SIGNED, ZONE)


def test_keys_match_published_records(ed_key: SigningKey, rsa_key: SigningKey):
    """Our TXT rendering of the example keys is exactly the published records."""
    assert ZONE[f"brisbane._domainkey.{DOMAIN}"] == ed_key.txt_record()
    assert ZONE[f"test._domainkey.{DOMAIN}"] == rsa_key.txt_record()


@pytest.mark.parametrize("name", ["ed25519", "rsa"])
def test_body_hash_reproduced(name: str, ed_key: SigningKey, rsa_key: SigningKey):
    """Signing the unsigned example relaxed/relaxed reproduces the published bh=."""
    key, selector = key_and_selector(name, ed_key, rsa_key)
    options = SignatureOptions(
        canonicalization=Canonicalization(Canon.RELAXED, Canon.RELAXED),
        headers=("from", "to", "subject", "date", "message-id"),
        oversign=False,
    )
    signer = Signer(DefaultGenericPolicy(DOMAIN, selector, key, options), clock=fixed_clock())
    [result] = signer.sign(UNSIGNED)
    published = [tags(field)["bh"] for field in published_fields()]
    assert [published[0]] * 2 == published
    assert published[0] == result.body_hash == tags(result.header)["bh"]


@pytest.mark.parametrize("name", ["ed25519", "rsa"])
@pytest.mark.parametrize("oversign", [False, True])
def test_our_signature_verifies_against_published_dns(
    name: str, oversign: bool, ed_key: SigningKey, rsa_key: SigningKey
):
    """A signature made with the example keys verifies against the published DNS records."""
    key, selector = key_and_selector(name, ed_key, rsa_key)
    options = SignatureOptions(
        headers=("from", "to", "subject", "date", "message-id"), oversign=oversign
    )
    spec = SignatureSpec(DOMAIN, selector, key, options, identity=f"@{DOMAIN}")
    signer = Signer(StaticPolicy((spec,)), clock=fixed_clock())
    signed = signer.signed_message(UNSIGNED)
    assert dkimpy_verify(signed, ZONE)


def test_both_example_signatures_in_one_call(ed_key: SigningKey, rsa_key: SigningKey):
    """Both example keys in one call, like the published message: both verify."""
    options = SignatureOptions(headers=("from", "to", "subject", "date", "message-id"))
    specs = (
        SignatureSpec(DOMAIN, "brisbane", ed_key, options),
        SignatureSpec(DOMAIN, "test", rsa_key, options),
    )
    signer = Signer(StaticPolicy(specs), clock=fixed_clock())
    assert [True, True] == dkimpy_verify_all(signer.signed_message(UNSIGNED), ZONE)


def test_h_list_ordering():
    """
    How h= is ordered: configured order, each name repeated in place (count + 1 when
    oversigning). The published interleaved list cannot be configured, because a name
    given twice collapses to one entry.
    """
    options = SignatureOptions(headers=tuple(PUBLISHED_H), oversign=False)
    assert ("from", "to", "subject", "date", "message-id") == options.headers
    key = SigningKey.from_ed25519_seed(bytes(32))
    for oversign, expected in [
        (False, ["from", "to", "subject", "date", "message-id"]),
        (
            True,
            [
                "from",
                "from",
                "to",
                "to",
                "subject",
                "subject",
                "date",
                "date",
                "message-id",
                "message-id",
            ],
        ),
    ]:
        opts = SignatureOptions(headers=tuple(PUBLISHED_H), oversign=oversign)
        [result] = Signer(DefaultGenericPolicy(DOMAIN, "s", key, opts), clock=fixed_clock()).sign(
            UNSIGNED
        )
        assert expected == h_list(result.header)
    assert PUBLISHED_H == h_list(published_fields()[0])


@pytest.mark.parametrize("index", [0, 1], ids=["ed25519", "rsa"])
def test_published_b_reproduced_from_published_tags(
    index: int, ed_key: SigningKey, rsa_key: SigningKey
):
    """
    Given the published tag list, oxdkim's relaxed header canonicalization and keys give
    exactly the published b= bytes (Ed25519 and RSA PKCS#1 v1.5 are deterministic).
    """
    key = (ed_key, rsa_key)[index]
    field = published_fields()[index]
    match = re.search(rb"\bb=([^;]*)$", field)
    assert match is not None
    published_b = re.sub(rb"\s+", b"", match[1]).decode("ascii")
    without_b = field[: match.start(1)] + field[match.end(1) :]

    parsed = parse_message(UNSIGNED)
    remaining: dict[bytes, list[bytes]] = {}
    for f in parsed.fields:
        remaining.setdefault(f.key, []).append(f.raw)
    hasher = hashlib.sha256()
    for name in h_list(field):
        stack = remaining.get(name.encode())
        if stack:
            hasher.update(canonicalize_header(stack.pop(), Canon.RELAXED))
    hasher.update(canonicalize_header(without_b, Canon.RELAXED)[:-2])
    assert published_b == base64.b64encode(key.sign_digest(hasher.digest())).decode()
    assert str(PUBLISHED_T) == tags(field)["t"]
