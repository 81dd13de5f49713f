"""
The Signer, checked with dkimpy as the independent verifier. DNS is answered from the
TXT records oxdkim itself renders (``SigningKey.txt_record()``).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import dkim
import pytest

import oxdkim._signing.signer as signer_module
from oxdkim import (
    Algorithm,
    Canon,
    Canonicalization,
    ConfigurationError,
    DefaultGenericPolicy,
    RefusePolicy,
    SignatureOptions,
    SignatureSpec,
    Signer,
    SigningKey,
    SigningRefusedError,
)
from oxdkim._dkim.canon import BodyHasher
from oxdkim._dkim.message import parse_message

from .helpers import (
    FIXED_TIME,
    RFC8463,
    StaticPolicy,
    dkimpy_verify,
    dkimpy_verify_all,
    fixed_clock,
    h_list,
    records_for,
    tags,
)

DOMAIN = "signer.example"
MESSAGE = (
    b"Received: from mx.example by relay.example; Mon, 6 May 2024 07:00:00 +0000\r\n"
    b'From: "Ann Example" <ann@signer.example>\r\n'
    b"To: bob@rcpt.example,\r\n"
    b"  carol@rcpt.example\r\n"
    b"Subject:   Quarterly   report \t \r\n"
    b"Date: Mon, 6 May 2024 07:08:09 +0000\r\n"
    b"Message-ID: <abc.123@signer.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"X-Mailer: test\r\n"
    b"\r\n"
    b"Hello Bob,  \r\n"
    b"\r\n"
    b"  the numbers\tare in.  \r\n"
    b"\r\n"
    b"\r\n"
)
CANONS = [Canonicalization(h, b) for h, b in itertools.product(Canon, Canon)]


def sign_with(
    key: SigningKey,
    message: bytes = MESSAGE,
    *,
    selector: str = "sel",
    options: SignatureOptions | None = None,
    clock: datetime = FIXED_TIME,
) -> tuple[bytes, bytes]:
    """Sign ``message`` generically as DOMAIN; return (signature header, signed message)."""
    policy = DefaultGenericPolicy(DOMAIN, selector, key, options or SignatureOptions())
    signer = Signer(policy, clock=fixed_clock(clock))
    [result] = signer.sign(message)
    return result.header, signer.signed_message(message)


@pytest.mark.parametrize("canon", CANONS, ids=str)
def test_sign_verify_all_canonicalizations(any_key: SigningKey, canon: Canonicalization):
    """Both algorithms and all four canonicalization pairs verify with dkimpy."""
    header, signed = sign_with(any_key, options=SignatureOptions(canonicalization=canon))
    found = tags(header)
    assert any_key.algorithm.value == found["a"]
    assert str(canon) == found["c"]
    assert [True] == dkimpy_verify_all(signed, records_for((DOMAIN, "sel", any_key)))


def test_sign_verify_rsa_2048(rsa2048_key: SigningKey):
    """A default-size (2048-bit) RSA key signs and verifies."""
    _, signed = sign_with(rsa2048_key)
    assert dkimpy_verify(signed, records_for((DOMAIN, "sel", rsa2048_key)))


def test_verification_needs_the_right_key(ed_key: SigningKey, ed_key2: SigningKey):
    """The harness can fail: a record with another key does not verify (guards the oracle)."""
    _, signed = sign_with(ed_key)
    assert not dkimpy_verify(signed, records_for((DOMAIN, "sel", ed_key2)))


def test_tampered_body_fails(any_key: SigningKey):
    """A changed body fails dkimpy verification (body hash mismatch)."""
    _, signed = sign_with(any_key)
    with pytest.raises(dkim.ValidationError, match="body hash mismatch"):
        dkimpy_verify(signed.replace(b"numbers", b"Numbers"), records_for((DOMAIN, "sel", any_key)))


# -- tags -----------------------------------------------------------------------------


def test_tag_values(ed_key: SigningKey):
    """v=1, d=, s=, t= from the clock, bh= and b= present; no l=, no x= by default."""
    header, _ = sign_with(ed_key, selector="Gen1")
    found = tags(header)
    assert "1" == found["v"]
    assert DOMAIN == found["d"]
    assert "gen1" == found["s"]
    assert str(int(FIXED_TIME.timestamp())) == found["t"]
    assert {"v", "a", "c", "d", "s", "t", "h", "bh", "b"} == set(found)


def test_expiry_only_when_configured(ed_key: SigningKey):
    """x= is t= plus expires_in when configured, and the signature verifies before then."""
    now = datetime.now(UTC).replace(microsecond=0)
    header, signed = sign_with(ed_key, options=SignatureOptions(expires_in=3600), clock=now)
    found = tags(header)
    assert str(int(now.timestamp()) + 3600) == found["x"]
    assert dkimpy_verify(signed, records_for((DOMAIN, "sel", ed_key)))


def test_expired_signature_fails(ed_key: SigningKey):
    """dkimpy refuses the x= we wrote once it has passed (the tag is really checked)."""
    past = datetime(2020, 1, 1, tzinfo=UTC)
    _, signed = sign_with(ed_key, options=SignatureOptions(expires_in=60), clock=past)
    with pytest.raises(dkim.ValidationError, match="x= value is past"):
        dkimpy_verify(signed, records_for((DOMAIN, "sel", ed_key)))


@pytest.mark.parametrize("seconds", [0, -5])
def test_expiry_must_be_positive(seconds: int):
    """A non-positive expires_in is a ConfigurationError when the options are built."""
    with pytest.raises(ConfigurationError):
        SignatureOptions(expires_in=seconds)


def test_rsa_sha1_is_not_an_algorithm():
    """rsa-sha1 cannot be asked for (RFC 8301)."""
    with pytest.raises(ConfigurationError):
        Algorithm.parse("rsa-sha1")
    assert {"rsa-sha256", "ed25519-sha256"} == {a.value for a in Algorithm}


def test_never_length_tag(any_key: SigningKey):
    """No signature carries l= (whatever the canonicalization)."""
    for canon in CANONS:
        header, _ = sign_with(any_key, options=SignatureOptions(canonicalization=canon))
        assert "l" not in tags(header)


# -- header list and oversigning -------------------------------------------------------


def test_oversigning_counts(ed_key: SigningKey):
    """Each protected field is in h= exactly once more than it occurs in the message."""
    message = b"From: a@signer.example\r\nTo: x@y.example\r\nTo: z@y.example\r\nSubject: s\r\n\r\nb"
    header, signed = sign_with(ed_key, message)
    names = h_list(header)
    parsed = parse_message(message)
    for name in SignatureOptions().headers:
        assert len(parsed.get_all(name)) + 1 == names.count(name), name
    assert 3 == names.count("to")
    assert dkimpy_verify(signed, records_for((DOMAIN, "sel", ed_key)))


@pytest.mark.parametrize(
    "added",
    [
        pytest.param(lambda m: b"Subject: urgent!\r\n" + m, id="prepended-subject"),
        pytest.param(
            lambda m: m.replace(b"\r\n\r\n", b"\r\nSubject: x\r\n\r\n", 1), id="appended-subject"
        ),
        pytest.param(lambda m: b"Reply-To: evil@attacker.example\r\n" + m, id="new-reply-to"),
        pytest.param(lambda m: b"From: evil@attacker.example\r\n" + m, id="second-from"),
    ],
)
def test_added_protected_field_breaks_signature(any_key: SigningKey, added):
    """Oversigning: adding a protected field anywhere makes dkimpy verification fail."""
    header, _ = sign_with(any_key)
    records = records_for((DOMAIN, "sel", any_key))
    assert dkimpy_verify(header + MESSAGE, records)
    assert not dkimpy_verify(header + added(MESSAGE), records)


def test_unprotected_field_may_be_added(ed_key: SigningKey):
    """A field not in h= (a new Received) may be added in transit without breaking it."""
    header, _ = sign_with(ed_key)
    relayed = b"Received: from relay2.example\r\n" + header + MESSAGE
    assert dkimpy_verify(relayed, records_for((DOMAIN, "sel", ed_key)))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # A custom list, oversign off: h= names each listed field as often as it occurs.
        pytest.param(
            SignatureOptions(headers=("Subject", "FROM", "date", "x-absent"), oversign=False),
            ["subject", "from", "date"],
            id="without-oversigning",
        ),
        # A custom list, oversign on: absent listed fields are named once (so none can be
        # added).
        pytest.param(
            SignatureOptions(headers=("from", "x-absent", "to")),
            ["from", "from", "x-absent", "to", "to"],
            id="with-oversigning",
        ),
    ],
)
def test_custom_header_list(ed_key: SigningKey, options: SignatureOptions, expected: list[str]):
    """h= lists the configured fields as the oversign setting says; dkimpy verifies."""
    header, signed = sign_with(ed_key, options=options)
    assert expected == h_list(header)
    assert dkimpy_verify(signed, records_for((DOMAIN, "sel", ed_key)))


def test_custom_header_list_duplicates_collapse():
    """Naming a field twice in the configuration lists it once (order of first mention)."""
    assert ("from", "subject") == SignatureOptions(
        headers=("from", "Subject", "FROM", "subject")
    ).headers


def test_header_list_requires_from():
    """A header list without From is a ConfigurationError (RFC 6376 §5.4)."""
    with pytest.raises(ConfigurationError):
        SignatureOptions(headers=("subject", "date"))


@pytest.mark.parametrize(
    "name", ["x bad", "subject:", "", " ", "x\x00y", "sübject", "x\ty", "a\nb"]
)
def test_header_names_validated(name: str):
    """A header name with whitespace, a colon, NUL or non-ASCII is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        SignatureOptions(headers=("from", name))


@pytest.mark.parametrize("name", ["Received", "return-path", "DKIM-Signature", "bcc"])
def test_trace_fields_refused(name: str):
    """Trace and private fields that relays change cannot be signed."""
    with pytest.raises(ConfigurationError):
        SignatureOptions(headers=("from", name))


# -- identity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "written"),
    [
        ("@signer.example", "@signer.example"),
        ("ann@signer.example", "ann@signer.example"),
        ("ann@news.signer.example", "ann@news.signer.example"),
        ("ann@Signer.Example.", "ann@signer.example"),
    ],
)
def test_identity_inside_domain(ed_key: SigningKey, identity: str, written: str):
    """i= within d= is written normalized and verifies."""
    spec = SignatureSpec(DOMAIN, "sel", ed_key, identity=identity)
    signer = Signer(StaticPolicy((spec,)), clock=fixed_clock())
    signed = signer.signed_message(MESSAGE)
    assert written == tags(signer.sign(MESSAGE)[0].header)["i"]
    assert dkimpy_verify(signed, records_for((DOMAIN, "sel", ed_key)))


@pytest.mark.parametrize(
    "identity",
    [
        "ann@other.example",
        "ann@evilsigner.example",
        "ann@example",
        "ann",
        "a b@signer.example",
        "a;b@signer.example",
        "a=b@signer.example",
        "a@b@signer.example",
        "jörg@signer.example",
        "ann@signer.example\0",
    ],
)
def test_identity_outside_or_malformed_refused(ed_key: SigningKey, identity: str):
    """i= outside d=, or not a plain ASCII address, is a ConfigurationError at build time."""
    with pytest.raises(ConfigurationError):
        SignatureSpec(DOMAIN, "sel", ed_key, identity=identity)


def test_idn_identity_written_as_a_label(ed_key: SigningKey):
    """An IDN identity domain is written as an A-label, like d=."""
    spec = SignatureSpec("müller.example", "sel", ed_key, identity="info@müller.example")
    assert "xn--mller-kva.example" == spec.domain
    assert "info@xn--mller-kva.example" == spec.identity
    signer = Signer(StaticPolicy((spec,)), clock=fixed_clock())
    [result] = signer.sign(MESSAGE)
    assert "info@xn--mller-kva.example" == tags(result.header)["i"]


# -- several signatures ---------------------------------------------------------------


@pytest.fixture
def three_specs(ed_key: SigningKey, rsa_key: SigningKey) -> tuple[SignatureSpec, ...]:
    """Three signatures: two with a relaxed body, one with a simple body."""
    simple = SignatureOptions(canonicalization=Canonicalization(Canon.SIMPLE, Canon.SIMPLE))
    relaxed_simple_h = SignatureOptions(
        canonicalization=Canonicalization(Canon.SIMPLE, Canon.RELAXED)
    )
    return (
        SignatureSpec(DOMAIN, "ed", ed_key),
        SignatureSpec("other.example", "rsa", rsa_key, relaxed_simple_h),
        SignatureSpec(DOMAIN, "eds", ed_key, simple),
    )


def _records_three(ed_key: SigningKey, rsa_key: SigningKey) -> dict[str, str]:
    return records_for(
        (DOMAIN, "ed", ed_key), ("other.example", "rsa", rsa_key), (DOMAIN, "eds", ed_key)
    )


def test_several_signatures_share_body_hash(
    monkeypatch: pytest.MonkeyPatch, three_specs, ed_key: SigningKey, rsa_key: SigningKey
):
    """
    Several signatures in one call: the body is hashed once per body canonicalization
    (two here, for three signatures), bh= is shared, and every signature verifies.
    """
    calls: list[Canon] = []
    real = signer_module.body_hash

    def counting(body: bytes, canon: Canon) -> bytes:
        calls.append(canon)
        return real(body, canon)

    monkeypatch.setattr(signer_module, "body_hash", counting)
    signer = Signer(StaticPolicy(three_specs), clock=fixed_clock())
    results = signer.sign(MESSAGE)
    assert [Canon.RELAXED, Canon.SIMPLE] == sorted(calls, key=lambda c: c.value)
    assert ["ed", "rsa", "eds"] == [r.selector for r in results]
    assert results[0].body_hash == results[1].body_hash != results[2].body_hash
    signed = b"".join(r.header for r in results) + MESSAGE
    assert [True, True, True] == dkimpy_verify_all(signed, _records_three(ed_key, rsa_key))


def test_several_signatures_share_hasher_when_chunked(monkeypatch: pytest.MonkeyPatch, three_specs):
    """sign_chunks makes one BodyHasher per body canonicalization, and the same headers."""
    made: list[Canon] = []

    class CountingHasher(BodyHasher):
        def __init__(self, canon: Canon, **kwargs: int) -> None:
            made.append(canon)
            super().__init__(canon, **kwargs)

    monkeypatch.setattr(signer_module, "BodyHasher", CountingHasher)
    signer = Signer(StaticPolicy(three_specs), clock=fixed_clock())
    chunks = [MESSAGE[i : i + 7] for i in range(0, len(MESSAGE), 7)]
    assert signer.sign(MESSAGE) == signer.sign_chunks(chunks)
    assert 2 == len(made)
    assert {Canon.RELAXED, Canon.SIMPLE} == set(made)


# -- line endings, folding, output ----------------------------------------------------


def test_lf_message_gets_lf_header_and_verifies(any_key: SigningKey):
    """A bare-LF message gets an LF-terminated signature field, and still verifies."""
    lf_message = MESSAGE.replace(b"\r\n", b"\n")
    for canon in CANONS:
        header, signed = sign_with(
            any_key, lf_message, options=SignatureOptions(canonicalization=canon)
        )
        assert b"\r" not in header
        assert header.endswith(b"\n")
        assert signed == header + lf_message
        assert dkimpy_verify(signed, records_for((DOMAIN, "sel", any_key))), canon


def test_lf_and_crlf_give_the_same_signature(ed_key: SigningKey):
    """The same message with LF or CRLF endings gets the same signature (up to line ends)."""
    crlf, _ = sign_with(ed_key)
    lf, _ = sign_with(ed_key, MESSAGE.replace(b"\r\n", b"\n"))
    assert crlf == lf.replace(b"\n", b"\r\n")


def test_header_is_well_formed(any_key: SigningKey):
    """The field parses as one header field, lines stay within 78 columns, ends in CRLF."""
    header, _ = sign_with(any_key)
    assert header.startswith(b"DKIM-Signature: ")
    assert header.endswith(b"\r\n")
    assert all(len(line) <= 78 for line in header.split(b"\r\n"))
    [field] = parse_message(header).fields
    assert b"DKIM-Signature" == field.name
    assert header.isascii()


def test_folded_and_odd_headers_verify_simple(any_key: SigningKey):
    """simple/simple keeps folds, tabs and trailing spaces exactly; dkimpy agrees."""
    message = (
        b'From:\r\n "Folded Name"\r\n\t<f@signer.example>\r\n'
        b"Subject:\tTabbed \t \r\n  continued  \r\n"
        b"To: a@x.example\r\n\r\n"
        b"body with trailing space \r\n"
    )
    options = SignatureOptions(canonicalization=Canonicalization(Canon.SIMPLE, Canon.SIMPLE))
    _, signed = sign_with(any_key, message, options=options)
    assert dkimpy_verify(signed, records_for((DOMAIN, "sel", any_key)))


def test_utf8_headers_sign_and_verify(ed_key: SigningKey):
    """Raw UTF-8 header fields (RFC 6532) sign and verify, both header canonicalizations."""
    message = (
        'From: "Jörg Müller" <jörg@müller.example>\r\nSubject: Grüße 🎉\r\n\r\nHallo\r\n'
    ).encode()
    for canon in CANONS:
        _, signed = sign_with(ed_key, message, options=SignatureOptions(canonicalization=canon))
        assert dkimpy_verify(signed, records_for((DOMAIN, "sel", ed_key)))


def test_headers_only_message_verifies(ed_key: SigningKey):
    """A message with headers only (no final newline) signs and verifies."""
    message = b"From: a@signer.example\r\nSubject: no body"
    for canon in CANONS:
        _, signed = sign_with(ed_key, message, options=SignatureOptions(canonicalization=canon))
        assert dkimpy_verify(signed, records_for((DOMAIN, "sel", ed_key)))


@pytest.mark.parametrize("canon", CANONS, ids=str)
def test_body_hash_equals_dkimpy(any_key: SigningKey, canon: Canonicalization):
    """bh= equals the bh= dkimpy writes when it signs the same message the same way."""
    header, _ = sign_with(any_key, options=SignatureOptions(canonicalization=canon))
    if any_key.algorithm is Algorithm.ED25519_SHA256:
        private = (RFC8463 / "ed25519.seed.b64").read_bytes().strip()
    else:
        private = (RFC8463 / "rsa.private.pem").read_bytes()
    theirs = dkim.sign(
        MESSAGE,
        b"sel",
        DOMAIN.encode(),
        private,
        signature_algorithm=any_key.algorithm.value.encode(),
        canonicalize=(canon.header.value.encode(), canon.body.value.encode()),
    )
    assert tags(theirs)["bh"] == tags(header)["bh"]


def test_sign_result_fields(ed_key: SigningKey):
    """The SignResult reports what was signed, by which policy, with which key."""
    options = SignatureOptions(expires_in=600)
    policy = DefaultGenericPolicy(DOMAIN, "sel", ed_key, options)
    [result] = Signer(policy, clock=fixed_clock()).sign(MESSAGE)
    timestamp = int(FIXED_TIME.timestamp())
    assert (DOMAIN, "sel", Algorithm.ED25519_SHA256) == (
        result.domain,
        result.selector,
        result.algorithm,
    )
    assert (timestamp, timestamp + 600) == (result.timestamp, result.expires)
    assert tuple(h_list(result.header)) == result.signed_headers
    assert tags(result.header)["bh"] == result.body_hash
    assert "default-generic" == result.policy
    assert DOMAIN in result.reason
    assert ed_key.fingerprint == result.key_fingerprint


def test_signed_message_prepends(ed_key: SigningKey):
    """signed_message is the signature fields followed by the untouched message."""
    policy = DefaultGenericPolicy(DOMAIN, "sel", ed_key)
    signer = Signer(policy, clock=fixed_clock())
    [result] = signer.sign(MESSAGE)
    assert result.header + MESSAGE == signer.signed_message(MESSAGE)


def test_refusal_raises_with_decision(ed_key: SigningKey):
    """A policy that refuses makes sign raise SigningRefusedError carrying the decision."""
    signer = Signer(RefusePolicy("domain suspended"), clock=fixed_clock())
    with pytest.raises(SigningRefusedError) as info:
        signer.sign(MESSAGE)
    assert ("refuse", "domain suspended") == (
        info.value.decision.policy,
        info.value.decision.reason,
    )
    assert not info.value.decision.signs
    with pytest.raises(SigningRefusedError):
        signer.sign_chunks([MESSAGE])


def test_decide_without_signing(ed_key: SigningKey):
    """Signer.decide returns the policy's decision for the message's From domain."""
    signer = Signer(DefaultGenericPolicy(DOMAIN, "sel", ed_key), clock=fixed_clock())
    decision = signer.decide(MESSAGE)
    assert "default-generic" == decision.policy
    assert (DOMAIN,) == tuple(spec.domain for spec in decision.signatures)


@pytest.mark.parametrize(
    "reading",
    [
        datetime(2026, 3, 1, 12, 0),  # naive: timestamp() would read it as local time
        datetime(1960, 1, 1, tzinfo=UTC),
        "2026-03-01T12:00:00Z",
        1_772_366_400,
    ],
    ids=["naive", "before-1970", "text", "number"],
)
def test_a_clock_that_returns_no_aware_time_is_refused(reading: object) -> None:
    """The signer's and verifier's clock readings are checked: a typed error, never a wrong t=."""
    from oxdkim import ConfigurationError, DefaultGenericPolicy, Signer, SigningKey, Verifier
    from oxdkim.resolvers import InMemoryZone

    key = SigningKey.from_ed25519_seed(bytes(32))
    signer = Signer(DefaultGenericPolicy("example.com", "s", key), clock=lambda: reading)  # type: ignore[arg-type,return-value]
    message = b"From: a@example.com\r\n\r\nbody\r\n"
    for call in (signer.sign, signer.decide, lambda m: signer.sign_chunks([m])):
        with pytest.raises(ConfigurationError, match="clock"):
            call(message)
    good = Signer(DefaultGenericPolicy("example.com", "s", key)).signed_message(message)
    verifier = Verifier(InMemoryZone({}), clock=lambda: reading)  # type: ignore[arg-type,return-value]
    with pytest.raises(ConfigurationError, match="clock"):
        verifier.verify(good)
