"""
The verifier (oxdkim._verify.verifier): each failure reason, produced by a crafted
message or key record; then the async verifier, which shares the sync verifier's logic
(same results, same queries).
"""

from __future__ import annotations

import asyncio
import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization

from oxdkim import DnsTempError, MessageLimits, SigningKey
from oxdkim._base.answers import CnameAnswer, TxtAnswer
from oxdkim._verify.verifier import AsyncVerifier, DkimReason, DkimResult, Verifier, VerifyResult
from oxdkim.resolvers import InMemoryZone

from .support import (
    DOMAIN,
    KEY_NAME,
    MESSAGE,
    NOW,
    base_tags,
    craft,
    fixed_clock,
    key_zone,
    public_b64,
    rsa512_private,
    zone,
)


def _verify(message: bytes, resolver: InMemoryZone, **options: object) -> VerifyResult:
    results = Verifier(resolver, clock=fixed_clock(), **options).verify(message)  # type: ignore[arg-type]
    assert 1 == len(results)
    return results[0]


def _queries(resolver: InMemoryZone) -> int:
    return sum(resolver.queries.values())


def test_crafted_signature_is_real(any_key: SigningKey) -> None:
    """The crafter's plain signature passes with oxdkim and with dkimpy."""
    signed = craft(MESSAGE, any_key, base_tags(any_key))
    record = any_key.txt_record().encode()
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: record)
    assert DkimResult.PASS == _verify(signed, key_zone(any_key)).result


def test_b_tag_in_the_middle_is_removed_exactly(any_key: SigningKey) -> None:
    """b= not last, folded, with whitespace around: the §3.7 removal still matches."""
    record = any_key.txt_record().encode()
    for canon in ("simple/simple", "relaxed/relaxed"):
        signed = craft(MESSAGE, any_key, base_tags(any_key, c=canon), b_position=2)
        assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: record)
        assert DkimResult.PASS == _verify(signed, key_zone(any_key)).result


def test_whitespace_around_and_inside_b_is_removed_too(any_key: SigningKey) -> None:
    """
    Whitespace before, inside and after the b= value does not change the hash.

    RFC 6376 §3.7 removes the value "including all surrounding whitespace"; go-msgauth
    and Stalwart remove up to the ';'. dkimpy keeps whitespace between the value and
    the ';' (its regex only eats whitespace followed by base64), so it is the
    independent check only for the leading and inner whitespace.
    """
    record = any_key.txt_record().encode()
    for canon in ("simple/simple", "relaxed/relaxed"):
        signed = craft(MESSAGE, any_key, base_tags(any_key, c=canon), b_position=3)
        start = signed.index(b"\tb=") + 3
        end = signed.index(b";", start)
        value = signed[start:end]
        inner = signed[:start] + b" " + value[:10] + b"\r\n  " + value[10:] + signed[end:]
        trailing = signed[:start] + value + b" \t" + signed[end:]
        assert dkim.verify(inner, dnsfunc=lambda name, timeout=5: record)
        assert DkimResult.PASS == _verify(inner, key_zone(any_key)).result
        assert DkimResult.PASS == _verify(trailing, key_zone(any_key)).result


# -- checks on the signature alone: no DNS query ---------------------------------------


@pytest.mark.parametrize(
    ("extra", "reason", "result"),
    [
        ({"h": "to:subject:date"}, DkimReason.FROM_NOT_SIGNED, DkimResult.PERMERROR),
        ({"a": "rsa-sha1"}, DkimReason.RSA_SHA1, DkimResult.PERMERROR),
        ({"a": "rsa-sha512"}, DkimReason.UNKNOWN_ALGORITHM, DkimResult.PERMERROR),
        ({"i": "@other.example"}, DkimReason.AUID_OUTSIDE_DOMAIN, DkimResult.PERMERROR),
        ({"i": "joe@notexample.com"}, DkimReason.AUID_OUTSIDE_DOMAIN, DkimResult.PERMERROR),
        ({"t": str(NOW - 7200), "x": str(NOW - 3600)}, DkimReason.EXPIRED, DkimResult.FAIL),
        ({"t": str(NOW - 7200), "x": str(NOW - 301)}, DkimReason.EXPIRED, DkimResult.FAIL),
        ({"x": str(NOW - 100)}, DkimReason.EXPIRY_BEFORE_TIMESTAMP, DkimResult.PERMERROR),
        ({"x": str(NOW)}, DkimReason.EXPIRY_BEFORE_TIMESTAMP, DkimResult.PERMERROR),
        ({"t": str(NOW + 3600)}, DkimReason.TIMESTAMP_IN_FUTURE, DkimResult.POLICY),
        ({"v": "2"}, DkimReason.UNSUPPORTED_VERSION, DkimResult.PERMERROR),
        ({"q": "http/well-known"}, DkimReason.UNSUPPORTED_QUERY_METHOD, DkimResult.PERMERROR),
        ({"c": "relaxed/fancy"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
        ({"h": "from::to"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
        ({"h": "from:to:"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
        ({"h": "fr om:to"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
        ({"bh": "not*base64"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
        ({"l": "12a"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
        ({"t": "-5"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
        ({"t": "1234567890123"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
        ({"i": "joe=4"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
        ({"i": "joe=0D=0A@example.com"}, DkimReason.MALFORMED_SIGNATURE, DkimResult.PERMERROR),
    ],
)
def test_signature_checks_need_no_dns(
    rsa_key: SigningKey, extra: dict[str, str], reason: DkimReason, result: DkimResult
) -> None:
    """Each signature-level defect gives its reason and result, before any DNS query."""
    resolver = key_zone(rsa_key)
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, **extra))
    verdict = _verify(signed, resolver)
    assert (result, reason) == (verdict.result, verdict.reason)
    assert not verdict.passed
    assert 0 == _queries(resolver)


def test_results_name_domain_and_selector_when_valid(rsa_key: SigningKey) -> None:
    """A signature refused for another reason still reports its valid d= and s=."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, h="to:subject"))
    verdict = _verify(signed, key_zone(rsa_key))
    assert ("example.com", "sel", "rsa-sha256") == (
        verdict.domain,
        verdict.selector,
        verdict.algorithm,
    )


def test_quoted_printable_identity_is_decoded(rsa_key: SigningKey) -> None:
    """i= is dkim-quoted-printable: =3D decodes to '=' in the AUID."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, i="a=3Db@mail.example.com"))
    verdict = _verify(signed, key_zone(rsa_key))
    assert DkimResult.PASS == verdict.result
    assert "a=b@mail.example.com" == verdict.auid


def test_timestamp_within_clock_skew_passes(rsa_key: SigningKey) -> None:
    """t= a minute ahead and x= a minute past are within the default 5-minute skew."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, t=str(NOW - 3600), x=str(NOW - 60)))
    ahead = craft(MESSAGE, rsa_key, base_tags(rsa_key, t=str(NOW + 60)))
    assert DkimResult.PASS == _verify(signed, key_zone(rsa_key)).result
    assert DkimResult.PASS == _verify(ahead, key_zone(rsa_key)).result


def test_clock_skew_is_configurable(rsa_key: SigningKey) -> None:
    """With no skew allowed, a t= one minute ahead is policy / timestamp-in-future."""
    from datetime import timedelta

    ahead = craft(MESSAGE, rsa_key, base_tags(rsa_key, t=str(NOW + 60)))
    verdict = _verify(ahead, key_zone(rsa_key), clock_skew=timedelta(0))
    assert DkimReason.TIMESTAMP_IN_FUTURE == verdict.reason


def test_missing_c_means_simple_simple(any_key: SigningKey) -> None:
    """Without c=, both canonicalizations are simple (RFC 6376 §3.5)."""
    tags = base_tags(any_key)
    del tags["c"]
    signed = craft(MESSAGE, any_key, tags)
    record = any_key.txt_record().encode()
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: record)
    assert DkimResult.PASS == _verify(signed, key_zone(any_key)).result
    refolded = signed.replace(b"Subject: The quarterly   report", b"Subject: The quarterly report")
    assert DkimReason.BAD_SIGNATURE == _verify(refolded, key_zone(any_key)).reason


def test_empty_b_is_malformed(rsa_key: SigningKey) -> None:
    """A b= with no value is permerror / malformed-signature, with no query."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    start = signed.index(b"\tb=") + 3
    empty = signed[:start] + signed[signed.index(b"\r\n", start) :]
    resolver = key_zone(rsa_key)
    verdict = _verify(empty, resolver)
    assert (DkimResult.PERMERROR, DkimReason.MALFORMED_SIGNATURE) == (
        verdict.result,
        verdict.reason,
    )
    assert "b= is empty" in verdict.message
    assert 0 == _queries(resolver)


def test_identity_with_invalid_domain_is_malformed(rsa_key: SigningKey) -> None:
    """An i= whose domain is not a domain is malformed, not 'outside d='."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, i="joe@exa_mple.com"))
    assert DkimReason.MALFORMED_SIGNATURE == _verify(signed, key_zone(rsa_key)).reason


def test_negative_clock_skew_is_refused(rsa_key: SigningKey) -> None:
    """clock_skew must not be negative."""
    from datetime import timedelta

    from oxdkim import ConfigurationError

    with pytest.raises(ConfigurationError, match="clock_skew"):
        Verifier(key_zone(rsa_key), clock_skew=timedelta(seconds=-1))


@pytest.mark.parametrize("missing", ["v", "a", "b", "bh", "d", "h", "s"])
def test_missing_required_tag(rsa_key: SigningKey, missing: str) -> None:
    """Each required tag (RFC 6376 §3.5) missing gives missing-tag, with no query."""
    tags = base_tags(rsa_key)
    resolver = key_zone(rsa_key)
    if missing == "b":
        signed = craft(MESSAGE, rsa_key, tags).replace(b"\tb=", b"\tz=", 1)
    elif missing == "bh":
        signed = craft(MESSAGE, rsa_key, tags).replace(b"\tbh=", b"\tzz=", 1)
    else:
        del tags[missing]
        signed = craft(MESSAGE, rsa_key, tags)
    verdict = _verify(signed, resolver)
    assert (DkimResult.PERMERROR, DkimReason.MISSING_TAG) == (verdict.result, verdict.reason)
    assert f"{missing}=" in verdict.message
    assert 0 == _queries(resolver)


@pytest.mark.parametrize(
    "field",
    [
        b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; d=example.com; s=sel\r\n",
        b"DKIM-Signature: v=1;; a=rsa-sha256\r\n",
        b"DKIM-Signature: v=1; a=rsa-sha256; 9d=example.com\r\n",
        b"DKIM-Signature: v=1; a=rsa-sha256; d=exa\x01mple.com\r\n",
        b"DKIM-Signature: v=1; a=rsa-sha256; b=ab!cd\r\n",
        b"DKIM-Signature:\r\n",
    ],
)
def test_malformed_tag_list(field: bytes) -> None:
    """A DKIM-Signature that is not a valid tag list is permerror / malformed-signature."""
    resolver = zone()
    verdict = _verify(field + MESSAGE, resolver)
    assert (DkimResult.PERMERROR, DkimReason.MALFORMED_SIGNATURE) == (
        verdict.result,
        verdict.reason,
    )
    assert 0 == _queries(resolver)


@pytest.mark.parametrize(
    ("d", "s", "reason"),
    [
        ("exa_mple.com", "sel", DkimReason.INVALID_DOMAIN),
        ("example..com", "sel", DkimReason.INVALID_DOMAIN),
        ("ex!ample.com", "sel", DkimReason.INVALID_DOMAIN),
        ("localhost", "sel", DkimReason.INVALID_DOMAIN),
        ("192.0.2.1", "sel", DkimReason.INVALID_DOMAIN),
        ("example.com.evil(x)", "sel", DkimReason.INVALID_DOMAIN),
        ("example.com\r\n\tX-Injected:yes", "sel", DkimReason.INVALID_DOMAIN),
        ("example.com", "se/l", DkimReason.INVALID_SELECTOR),
        ("example.com", "s*", DkimReason.INVALID_SELECTOR),
        ("example.com", "a..b", DkimReason.INVALID_SELECTOR),
        ("example.com", "x" * 64, DkimReason.INVALID_SELECTOR),
        ("example.com", "sel\r\n ection", DkimReason.INVALID_SELECTOR),
        ("example.com", "sel._domainkey.evil.example.", DkimReason.INVALID_SELECTOR),
    ],
)
def test_illegal_domain_or_selector_causes_no_dns_query(
    rsa_key: SigningKey, d: str, s: str, reason: DkimReason
) -> None:
    """Illegal characters or shapes in d= or s= are refused before any DNS query."""
    resolver = key_zone(rsa_key)
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, d=d, s=s))
    verdict = _verify(signed, resolver)
    assert (DkimResult.PERMERROR, reason) == (verdict.result, verdict.reason)
    assert 0 == _queries(resolver)


def test_overlong_key_name_is_refused_before_dns(rsa_key: SigningKey) -> None:
    """A selector and domain whose key name exceeds 253 characters is refused unasked."""
    selector = ".".join(["s" * 60] * 2)
    domain = ".".join(["d" * 60] * 2) + ".example"
    resolver = key_zone(rsa_key)
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, d=domain, s=selector))
    verdict = _verify(signed, resolver)
    assert DkimReason.INVALID_SELECTOR == verdict.reason
    assert 0 == _queries(resolver)


# -- DNS answers and key records -------------------------------------------------------


def test_no_key_record_is_permerror(rsa_key: SigningKey) -> None:
    """NXDOMAIN at the key name is permerror / no-key."""
    resolver = zone({"other._domainkey.example.com": rsa_key.txt_record()})
    verdict = _verify(craft(MESSAGE, rsa_key, base_tags(rsa_key)), resolver)
    assert (DkimResult.PERMERROR, DkimReason.NO_KEY) == (verdict.result, verdict.reason)
    assert 1 == _queries(resolver)


@pytest.mark.parametrize(
    ("resolver", "reason"),
    [
        # A key name that exists without TXT (NODATA) is permerror / no-key too.
        pytest.param(InMemoryZone({}, other=[(KEY_NAME, "A")]), DkimReason.NO_KEY, id="nodata"),
        # A CNAME loop at the key name is a permanent DNS error.
        pytest.param(
            InMemoryZone({}, cname={KEY_NAME: "loop.example.net", "loop.example.net": KEY_NAME}),
            DkimReason.DNS_PERMANENT,
            id="cname-loop",
        ),
        # An empty p= gives permerror / key-revoked.
        pytest.param(
            zone({KEY_NAME: "v=DKIM1; k=rsa; p="}), DkimReason.KEY_REVOKED, id="revoked-key"
        ),
    ],
)
def test_key_lookup_permerror(
    rsa_key: SigningKey, resolver: InMemoryZone, reason: DkimReason
) -> None:
    """What the key name answers makes the signature permerror, for this reason."""
    verdict = _verify(craft(MESSAGE, rsa_key, base_tags(rsa_key)), resolver)
    assert (DkimResult.PERMERROR, reason) == (verdict.result, verdict.reason)


def test_dns_temporary_failure_is_temperror_never_fail(rsa_key: SigningKey) -> None:
    """A temporary DNS failure is temperror; the same message with DNS up passes."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    down = key_zone(rsa_key, failing=[KEY_NAME])
    verdict = _verify(signed, down)
    assert (DkimResult.TEMPERROR, DkimReason.DNS_TEMPORARY) == (verdict.result, verdict.reason)
    down.recover()
    assert DkimResult.PASS == _verify(signed, down).result


def test_temperror_and_permerror_are_told_apart(rsa_key: SigningKey) -> None:
    """Missing key and unreachable key give different results for the same message."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    missing = _verify(signed, zone())
    unreachable = _verify(signed, zone(failing=[KEY_NAME]))
    assert DkimResult.PERMERROR == missing.result
    assert DkimResult.TEMPERROR == unreachable.result


def test_key_through_cname_passes(rsa_key: SigningKey) -> None:
    """The brand delegation: the key name is a CNAME to the provider's record."""
    target = "sel._domainkey.keys.brand.example"
    resolver = InMemoryZone({target: rsa_key.txt_record()}, cname={KEY_NAME: target})
    assert DkimResult.PASS == _verify(craft(MESSAGE, rsa_key, base_tags(rsa_key)), resolver).result


def test_several_key_records_is_permerror_whatever_their_order(rsa_key: SigningKey) -> None:
    """Two TXT records at the key name: permerror, even when one holds the right key."""
    other = SigningKey.generate("ed25519-sha256")
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    for records in (
        [rsa_key.txt_record(), other.txt_record()],
        [other.txt_record(), rsa_key.txt_record()],
    ):
        verdict = _verify(signed, zone({KEY_NAME: records}))
        assert (DkimResult.PERMERROR, DkimReason.MULTIPLE_KEYS) == (
            verdict.result,
            verdict.reason,
        )


@pytest.mark.parametrize(
    "record",
    [
        "k=rsa; v=DKIM1; p=MIIB",
        "v=DKIM1; k=rsa; p=not*base64",
        "v=DKIM1; k=rsa",
        "v=DKIM1; k=rsa; p=QUJDREVG",
        "just some text",
    ],
)
def test_malformed_key_record(rsa_key: SigningKey, record: str) -> None:
    """A key record that does not parse is permerror / malformed-key-record."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    verdict = _verify(signed, zone({KEY_NAME: record}))
    assert (DkimResult.PERMERROR, DkimReason.MALFORMED_KEY) == (verdict.result, verdict.reason)


def test_only_a_non_dkim_txt_is_no_key(rsa_key: SigningKey) -> None:
    """A key name that serves only v=spf1 has no key record: permerror / no-key."""
    verdict = _verify(craft(MESSAGE, rsa_key, base_tags(rsa_key)), zone({KEY_NAME: "v=spf1 -all"}))
    assert (DkimResult.PERMERROR, DkimReason.NO_KEY) == (verdict.result, verdict.reason)
    assert "only non-DKIM TXT" in verdict.message


def test_ed25519_spki_key_record_is_malformed_with_reason(ed_key: SigningKey) -> None:
    """An SPKI-wrapped Ed25519 p= is malformed, and the message says why."""
    spki = ed_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = "v=DKIM1; k=ed25519; p=" + base64.b64encode(spki).decode()
    verdict = _verify(craft(MESSAGE, ed_key, base_tags(ed_key)), zone({KEY_NAME: record}))
    assert DkimReason.MALFORMED_KEY == verdict.reason
    assert "SubjectPublicKeyInfo" in verdict.message


@pytest.mark.parametrize(
    ("record_tags", "reason"),
    [
        ("h=sha1;", DkimReason.KEY_HASH_MISMATCH),
        ("h=sha512:sha1;", DkimReason.KEY_HASH_MISMATCH),
        ("s=tlsrpt;", DkimReason.KEY_SERVICE_MISMATCH),
    ],
)
def test_key_record_restrictions(rsa_key: SigningKey, record_tags: str, reason: DkimReason) -> None:
    """Key h= without sha256, or s= without email, is permerror."""
    record = f"v=DKIM1; {record_tags} k=rsa; p={rsa_key.public_key_b64}"
    verdict = _verify(craft(MESSAGE, rsa_key, base_tags(rsa_key)), zone({KEY_NAME: record}))
    assert (DkimResult.PERMERROR, reason) == (verdict.result, verdict.reason)


def test_key_record_allowing_sha256_passes(rsa_key: SigningKey) -> None:
    """Key h=sha1:sha256 and s=email are fine for an rsa-sha256 signature."""
    record = f"v=DKIM1; h=sha1:sha256; s=email; k=rsa; p={rsa_key.public_key_b64}"
    verdict = _verify(craft(MESSAGE, rsa_key, base_tags(rsa_key)), zone({KEY_NAME: record}))
    assert DkimResult.PASS == verdict.result


def test_key_type_mismatch(rsa_key: SigningKey, ed_key: SigningKey) -> None:
    """An rsa-sha256 signature with an Ed25519 key record (and the reverse) is permerror."""
    rsa_signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    ed_signed = craft(MESSAGE, ed_key, base_tags(ed_key))
    one = _verify(rsa_signed, zone({KEY_NAME: ed_key.txt_record()}))
    two = _verify(ed_signed, zone({KEY_NAME: rsa_key.txt_record()}))
    unknown = _verify(rsa_signed, zone({KEY_NAME: "v=DKIM1; k=dsa; p=QUJD"}))
    for verdict in (one, two, unknown):
        assert (DkimResult.PERMERROR, DkimReason.KEY_TYPE_MISMATCH) == (
            verdict.result,
            verdict.reason,
        )


def test_key_strict_flag(rsa_key: SigningKey) -> None:
    """Key t=s: i= in a subdomain of d= is permerror; i= in d= itself passes."""
    record = f"v=DKIM1; t=s; p={rsa_key.public_key_b64}"
    sub = craft(MESSAGE, rsa_key, base_tags(rsa_key, i="joe@mail.example.com"))
    same = craft(MESSAGE, rsa_key, base_tags(rsa_key, i="joe@example.com"))
    verdict = _verify(sub, zone({KEY_NAME: record}))
    assert (DkimResult.PERMERROR, DkimReason.KEY_STRICT_AUID) == (verdict.result, verdict.reason)
    assert DkimResult.PASS == _verify(same, zone({KEY_NAME: record})).result


def test_key_testing_flag_is_reported(rsa_key: SigningKey) -> None:
    """Key t=y: the signature still passes, and the result says the key is in testing."""
    record = f"v=DKIM1; t=y; p={rsa_key.public_key_b64}"
    verdict = _verify(craft(MESSAGE, rsa_key, base_tags(rsa_key)), zone({KEY_NAME: record}))
    assert DkimResult.PASS == verdict.result
    assert verdict.testing


def test_key_too_small_default_minimum() -> None:
    """A 512-bit RSA key (below RFC 8301's 1024) gives policy / key-too-small."""
    private = rsa512_private()
    key_tags = {
        "v": "1",
        "a": "rsa-sha256",
        "c": "relaxed/relaxed",
        "d": DOMAIN,
        "s": "sel",
        "h": "from:subject",
    }
    signed = craft(MESSAGE, private, key_tags)
    verdict = _verify(signed, zone({KEY_NAME: f"v=DKIM1; p={public_b64(private)}"}))
    assert (DkimResult.POLICY, DkimReason.KEY_TOO_SMALL) == (verdict.result, verdict.reason)
    assert 512 == verdict.key_bits


def test_key_too_small_configured_minimum(rsa1024_key: SigningKey) -> None:
    """min_rsa_bits=2048 refuses a 1024-bit key that passes by default."""
    signed = craft(MESSAGE, rsa1024_key, base_tags(rsa1024_key))
    resolver = key_zone(rsa1024_key)
    assert DkimResult.PASS == _verify(signed, resolver).result
    strict = _verify(signed, resolver, min_rsa_bits=2048)
    assert (DkimResult.POLICY, DkimReason.KEY_TOO_SMALL) == (strict.result, strict.reason)


def test_minimum_below_rfc8301_is_refused(rsa_key: SigningKey) -> None:
    """A verifier cannot be configured to accept keys below 1024 bits."""
    from oxdkim import ConfigurationError

    with pytest.raises(ConfigurationError, match="1024"):
        Verifier(key_zone(rsa_key), min_rsa_bits=512)


# -- body and header hashing -----------------------------------------------------------


def test_body_hash_mismatch(any_key: SigningKey) -> None:
    """A changed body is fail / body-hash-mismatch."""
    signed = craft(MESSAGE, any_key, base_tags(any_key))
    verdict = _verify(signed.replace(b"numbers", b"letters"), key_zone(any_key))
    assert (DkimResult.FAIL, DkimReason.BODY_HASH_MISMATCH) == (verdict.result, verdict.reason)


def test_bad_signature(any_key: SigningKey) -> None:
    """A changed signed header is fail / bad-signature."""
    signed = craft(MESSAGE, any_key, base_tags(any_key))
    verdict = _verify(signed.replace(b"Bob <bob", b"Eve <bob"), key_zone(any_key))
    assert (DkimResult.FAIL, DkimReason.BAD_SIGNATURE) == (verdict.result, verdict.reason)


def test_signature_by_another_key_is_bad_signature(rsa_key: SigningKey) -> None:
    """A signature made with a different key than the published one fails."""
    other = SigningKey.generate("rsa-sha256", bits=1024)
    signed = craft(MESSAGE, other, base_tags(other))
    verdict = _verify(signed, key_zone(rsa_key))
    assert DkimReason.BAD_SIGNATURE == verdict.reason


def test_body_length_tag(rsa_key: SigningKey) -> None:
    """l= present: policy by default, pass when allowed; l= beyond the body fails."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, l="10"))
    resolver = key_zone(rsa_key)
    default = _verify(signed, resolver)
    assert (DkimResult.POLICY, DkimReason.BODY_LENGTH) == (default.result, default.reason)
    assert 10 == default.body_length
    assert DkimResult.PASS == _verify(signed, resolver, allow_body_length=True).result
    too_long = craft(MESSAGE, rsa_key, base_tags(rsa_key, l="100000"), fold=True)
    verdict = _verify(too_long, resolver, allow_body_length=True)
    assert (DkimResult.FAIL, DkimReason.BODY_HASH_MISMATCH) == (verdict.result, verdict.reason)


def test_oversigned_field_added_later_breaks_the_signature(rsa_key: SigningKey) -> None:
    """h= naming a field the message lacks protects it: adding one fails."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, h="from:subject:reply-to"))
    resolver = key_zone(rsa_key)
    assert DkimResult.PASS == _verify(signed, resolver).result
    tampered = signed.replace(b"MIME-Version", b"Reply-To: eve@evil.example\r\nMIME-Version")
    assert DkimReason.BAD_SIGNATURE == _verify(tampered, resolver).reason


def _count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[object]:
    """Record the canonicalization of every call to the verifier's ``name`` (body, canon)."""
    import oxdkim._verify.verifier as verifier_module

    calls: list[object] = []
    real = getattr(verifier_module, name)

    def counting(body: bytes, canon: object) -> bytes:
        calls.append(canon)
        return real(body, canon)  # type: ignore[no-any-return]

    monkeypatch.setattr(verifier_module, name, counting)
    return calls


def test_body_is_hashed_once_per_canonicalization_and_length(
    rsa_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three signatures sharing (c=, l=) pairs hash each body form once."""
    calls = _count_calls(monkeypatch, "body_hash")
    signed = MESSAGE
    for canon in ("relaxed/relaxed", "relaxed/relaxed", "simple/simple", "relaxed/relaxed"):
        signed = craft(signed, rsa_key, base_tags(rsa_key, c=canon))
    results = Verifier(key_zone(rsa_key), clock=fixed_clock()).verify(signed)
    assert [True] * 4 == [r.passed for r in results]
    assert 2 == len(calls)


def test_body_lengths_share_one_canonical_body(
    rsa_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two l= values with the same c= hash two prefixes of one canonical body."""
    calls = _count_calls(monkeypatch, "canonicalize_body")
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, l="5"))
    signed = craft(signed, rsa_key, base_tags(rsa_key, l="20"))
    results = Verifier(key_zone(rsa_key), clock=fixed_clock(), allow_body_length=True).verify(
        signed
    )
    assert [True, True] == [r.passed for r in results]
    assert [20, 5] == [r.body_length for r in results]
    assert 1 == len(calls)


def test_same_key_name_is_queried_once(rsa_key: SigningKey) -> None:
    """Several signatures with the same d= and s= make one DNS query."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    signed = craft(signed, rsa_key, base_tags(rsa_key, c="simple/simple"))
    resolver = key_zone(rsa_key)
    results = Verifier(resolver, clock=fixed_clock()).verify(signed)
    assert [True, True] == [r.passed for r in results]
    assert 1 == _queries(resolver)


# -- the signature bound and odd messages ----------------------------------------------


def test_signature_count_is_bounded(rsa_key: SigningKey) -> None:
    """Past max_signatures, signatures are neutral / not-evaluated, with no query."""
    signed = MESSAGE
    for n in range(12):
        signed = craft(signed, rsa_key, base_tags(rsa_key, s=f"s{n}"))
    records = {f"s{n}._domainkey.example.com": rsa_key.txt_record() for n in range(12)}
    resolver = zone(records)
    results = Verifier(resolver, clock=fixed_clock()).verify(signed)
    assert 12 == len(results)
    assert [DkimResult.PASS] * 10 + [DkimResult.NEUTRAL] * 2 == [r.result for r in results]
    assert [DkimReason.NOT_EVALUATED] * 2 == [r.reason for r in results[10:]]
    assert 10 == _queries(resolver)
    assert list(range(12)) == [r.index for r in results]


def test_signature_bound_is_configurable(rsa_key: SigningKey) -> None:
    """max_signatures=1 evaluates only the topmost signature."""
    signed = craft(craft(MESSAGE, rsa_key, base_tags(rsa_key)), rsa_key, base_tags(rsa_key))
    results = Verifier(key_zone(rsa_key), clock=fixed_clock(), max_signatures=1).verify(signed)
    assert [DkimResult.PASS, DkimResult.NEUTRAL] == [r.result for r in results]


def test_every_signature_is_evaluated_not_just_the_first(rsa_key: SigningKey) -> None:
    """A broken first signature does not hide a good second one, nor the reverse."""
    good = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    both = b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com\r\n" + good
    results = Verifier(key_zone(rsa_key), clock=fixed_clock()).verify(both)
    assert [DkimReason.MISSING_TAG, None] == [r.reason for r in results]


def test_unsigned_message_has_no_results() -> None:
    """A message without DKIM-Signature gives an empty tuple (dkim=none)."""
    assert () == Verifier(zone(), clock=fixed_clock()).verify(MESSAGE)


def test_mbox_separator_line_is_skipped(rsa_key: SigningKey) -> None:
    """A message read from an mbox, with its 'From ' line first, still verifies."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    mbox = b"From alice@example.com Mon May  6 07:08:09 2024\r\n" + signed
    assert DkimResult.PASS == _verify(mbox, key_zone(rsa_key)).result


def test_bare_cr_in_an_unsigned_header_is_tolerated(rsa_key: SigningKey) -> None:
    """Inbound mail with a bare CR in some header field is still verified."""
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    odd = signed.replace(b"Received: from relay", b"Received: from\rrelay")
    assert DkimResult.PASS == _verify(odd, key_zone(rsa_key)).result


@pytest.mark.parametrize("empty", [b"", b"\r\n\r\n", b" \t\n"])
def test_an_empty_message_has_no_results(empty: bytes) -> None:
    """Nothing but whitespace: no signature, no result (dkim=none), no exception."""
    assert () == Verifier(zone(), clock=fixed_clock()).verify(empty)


@pytest.mark.parametrize(
    "junk",
    [
        b"no colon here\r\n\r\nbody",
        b" leading continuation\r\nFrom: a@example.com\r\n\r\n",
        b"From: a\0@example.com\r\nDKIM-Signature: v=1\r\n\r\n",
        b"Bad Name: x\r\n\r\n",
        b"\x00",
    ],
)
def test_an_unreadable_header_block_is_one_permerror(junk: bytes) -> None:
    """A header block that cannot be read gives permerror/malformed-message, not an error."""
    [verdict] = Verifier(zone(), clock=fixed_clock()).verify(junk)
    assert (DkimResult.PERMERROR, DkimReason.MALFORMED_MESSAGE) == (
        verdict.result,
        verdict.reason,
    )
    assert verdict.domain is None


def test_a_header_block_over_the_limits_is_one_policy_result() -> None:
    """More header fields than the verifier's limits: policy/message-too-large."""
    verifier = Verifier(zone(), clock=fixed_clock(), limits=MessageLimits(max_header_fields=3))
    [verdict] = verifier.verify(b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\nbody\r\n")
    assert (DkimResult.POLICY, DkimReason.MESSAGE_TOO_LARGE) == (verdict.result, verdict.reason)


def test_callers_bytes_are_not_modified(rsa_key: SigningKey) -> None:
    """Verification leaves a bytearray message exactly as it was."""
    signed = bytearray(craft(MESSAGE, rsa_key, base_tags(rsa_key)))
    before = bytes(signed)
    assert DkimResult.PASS == _verify(signed, key_zone(rsa_key)).result  # type: ignore[arg-type]
    assert before == bytes(signed)


def test_huge_h_list_is_handled(rsa_key: SigningKey) -> None:
    """An h= of 100,000 names (a 600 KB field) verifies like any other signature."""
    names = "from:" + ":".join(["x-none"] * 100_000)
    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key, h=names))
    verdict = _verify(signed, key_zone(rsa_key))
    assert DkimResult.PASS == verdict.result


# -- the async verifier: same results, same queries ---------------------------------


class _SlowAsync:
    """An async resolver that really awaits, so queries overlap in the event loop."""

    def __init__(self, inner: InMemoryZone) -> None:
        self.inner = inner
        self.in_flight = 0
        self.most_in_flight = 0

    async def txt(self, name: str) -> TxtAnswer:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            return self.inner.txt(name)
        finally:
            self.in_flight -= 1

    async def cname(self, name: str) -> CnameAnswer:
        return self.inner.cname(name)


def _messages(rsa_key: SigningKey, ed_key: SigningKey) -> list[bytes]:
    good = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    return [
        MESSAGE,
        good,
        good.replace(b"numbers", b"letters"),
        craft(good, ed_key, base_tags(ed_key, s="ed")),
        craft(MESSAGE, rsa_key, base_tags(rsa_key, s="down")),
        craft(MESSAGE, rsa_key, base_tags(rsa_key, s="missing")),
        craft(MESSAGE, rsa_key, base_tags(rsa_key, d="bad_domain.example")),
    ]


def test_async_results_equal_sync_results(rsa_key: SigningKey, ed_key: SigningKey) -> None:
    """For pass, fail, temperror, permerror and unsigned mail, both verifiers agree."""
    resolver = zone(
        {KEY_NAME: rsa_key.txt_record(), "ed._domainkey.example.com": ed_key.txt_record()},
        failing=["down._domainkey.example.com"],
    )
    sync = Verifier(resolver, clock=fixed_clock())
    async_ = AsyncVerifier(resolver.as_async(), clock=fixed_clock())
    seen = set()
    for message in _messages(rsa_key, ed_key):
        expected = sync.verify(message)
        assert expected == asyncio.run(async_.verify(message))
        seen.update(r.result for r in expected)
    assert {
        DkimResult.PASS,
        DkimResult.FAIL,
        DkimResult.TEMPERROR,
        DkimResult.PERMERROR,
    } == seen


def test_async_queries_distinct_names_concurrently(rsa_key: SigningKey) -> None:
    """Three signatures with three selectors: their key queries overlap."""
    signed = MESSAGE
    records = {}
    for n in range(3):
        signed = craft(signed, rsa_key, base_tags(rsa_key, s=f"s{n}"))
        records[f"s{n}._domainkey.example.com"] = rsa_key.txt_record()
    slow = _SlowAsync(zone(records))
    results = asyncio.run(AsyncVerifier(slow, clock=fixed_clock()).verify(signed))
    assert [True, True, True] == [r.passed for r in results]
    assert 3 == slow.most_in_flight


def test_async_temporary_failure_is_temperror(rsa_key: SigningKey) -> None:
    """A DnsTempError raised by an async resolver becomes temperror, not an exception."""

    class Down:
        async def txt(self, name: str) -> TxtAnswer:
            raise DnsTempError("timeout", name=name)

        async def cname(self, name: str) -> CnameAnswer:
            raise DnsTempError("timeout", name=name)

    signed = craft(MESSAGE, rsa_key, base_tags(rsa_key))
    (result,) = asyncio.run(AsyncVerifier(Down(), clock=fixed_clock()).verify(signed))
    assert (DkimResult.TEMPERROR, DkimReason.DNS_TEMPORARY) == (result.result, result.reason)


def test_async_options_are_validated() -> None:
    """The async verifier refuses the same bad options as the sync one."""
    from oxdkim import ConfigurationError

    with pytest.raises(ConfigurationError):
        AsyncVerifier(zone().as_async(), max_signatures=0)


class _OneBroken:
    """An async resolver whose lookup of one name raises a non-DNS error at once."""

    def __init__(self, inner: InMemoryZone) -> None:
        self.inner = inner
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cancelled: list[str] = []

    async def txt(self, name: str) -> TxtAnswer:
        self.started.append(name)
        if name.startswith("broken."):
            raise RuntimeError("resolver bug")
        try:
            await asyncio.sleep(0.5)
        except asyncio.CancelledError:
            self.cancelled.append(name)
            raise
        self.finished.append(name)
        return self.inner.txt(name)

    async def cname(self, name: str) -> CnameAnswer:
        return self.inner.cname(name)


def test_a_failing_lookup_cancels_its_siblings(rsa_key: SigningKey) -> None:
    """
    A resolver that raises something other than a DnsError: verify raises it, and the
    sibling lookups of the same message are cancelled, not left running unowned.
    """
    signed = MESSAGE
    for selector in ("broken", "slow1", "slow2"):
        signed = craft(signed, rsa_key, base_tags(rsa_key, s=selector))
    resolver = _OneBroken(zone({}))

    async def scenario() -> None:
        with pytest.raises(RuntimeError, match="resolver bug"):
            await AsyncVerifier(resolver, clock=fixed_clock()).verify(signed)
        assert [] == [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    asyncio.run(scenario())
    assert 3 == len(resolver.started)
    assert sorted(resolver.cancelled) == sorted(n for n in resolver.started if "slow" in n)
    assert [] == resolver.finished
