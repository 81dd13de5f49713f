"""
From tricks against a two-tenant brand: never a signature for a domain the From does not
plainly name, never one for another tenant's domain.

Tenant ``alice`` owns alice.example and bücher.example; tenant ``bob`` owns bob.example
and news.bob.example. Every message is submitted by ``alice``. Each case is signed whole
(``bytes`` and ``bytearray``) and chunked; the caller's bytes must come back unchanged.
The From parser's own table of accepted and refused values is tests/dkim/test_address.py;
these cases go through the whole Signer and its policy, and each signature made is
checked by oxdkim's Verifier as a receiver would.
"""

from __future__ import annotations

import pytest

from oxdkim import (
    DkimResult,
    FromHeaderError,
    MessageFormatError,
    MessageProblem,
    SigningRefusedError,
)

from .support import (
    ALICE_DOMAIN,
    BOB,
    BOB_DOMAIN,
    GENERIC_DOMAIN,
    brand_signer,
    domains,
    sign_unchanged,
    verifier,
)

P = MessageProblem
BODY = b"\r\nHello.\r\n"
SIGNER = brand_signer()
FALLBACK_SIGNER = brand_signer(fallback=True)


def message(*fields: str) -> bytes:
    """Header fields (CRLF-joined, UTF-8), an empty line and a short body."""
    return "".join(f"{field}\r\n" for field in fields).encode() + BODY


def assert_refused(raw: bytes, error: type[Exception], problem: MessageProblem) -> None:
    """Signing raises ``error`` with ``problem``, with or without a fallback policy."""
    for signer in (SIGNER, FALLBACK_SIGNER):
        outcome = sign_unchanged(signer, raw)
        assert type(outcome.error) is error, outcome
        assert problem == outcome.error.problem  # type: ignore[attr-defined]


def assert_signed_as(raw: bytes, domain: str) -> None:
    """Signing gives one signature for ``domain``, and a receiver verifies it as such."""
    outcome = sign_unchanged(SIGNER, raw)
    assert [domain] == domains(outcome.signatures)
    signed = outcome.signatures[0].header + raw
    [result] = verifier().verify(signed)
    assert DkimResult.PASS == result.result
    assert domain == result.domain


def assert_not_aligned(raw: bytes) -> None:
    """No aligned signature: refused outright, and only the generic one with a fallback."""
    outcome = sign_unchanged(SIGNER, raw)
    assert isinstance(outcome.error, SigningRefusedError), outcome
    assert [] == list(outcome.error.decision.signatures)
    fallback = sign_unchanged(FALLBACK_SIGNER, raw)
    assert [GENERIC_DOMAIN] == domains(fallback.signatures)


# -- invisible and look-alike characters ------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    [
        pytest.param("alice\u200b.example", id="zero-width-space"),
        pytest.param("al\u00adice.example", id="soft-hyphen"),
        pytest.param("alice.example\u200d", id="zero-width-joiner"),
        pytest.param("\ufeffalice.example", id="byte-order-mark"),
        pytest.param("alice.examp\u200ele", id="left-to-right-mark"),
        pytest.param("\uff41lice.example", id="fullwidth-a"),
        pytest.param("alice\u3002example", id="ideographic-full-stop"),
        pytest.param("alice\uff0eexample", id="fullwidth-full-stop"),
        pytest.param("alice\uff61example", id="halfwidth-ideographic-full-stop"),
    ],
)
def test_invisible_or_mapped_characters_in_the_domain_are_refused(domain: str):
    """
    Invisible code points, fullwidth letters and non-ASCII dots in the domain are
    refused (bad-domain): IDNA 2008 without UTS #46 mapping, never silently made into
    alice.example.
    """
    raw = message(f"From: a@{domain}")
    assert_refused(raw, FromHeaderError, P.BAD_DOMAIN)


@pytest.mark.parametrize(
    ("domain", "a_label"),
    [
        pytest.param("\u0430lice.example", "xn--lice-43d.example", id="cyrillic-a"),
        pytest.param(
            "\u0430l\u0456\u0441\u0435.example", "xn--l-7sbq1c3f.example", id="cyrillic-mix"
        ),
        pytest.param("b\u043eb.example", "xn--bb-fmc.example", id="cyrillic-o-in-bob"),
    ],
)
def test_homoglyph_domain_is_a_distinct_punycode_domain(domain: str, a_label: str):
    """
    A Cyrillic look-alike of a tenant domain is a different domain (its own A-label),
    which no tenant owns: no aligned signature, for alice.example or bob.example.
    """
    raw = message(f"From: a@{domain}")
    assert_not_aligned(raw)
    decision = SIGNER.decide(raw, tenant=BOB)
    assert a_label in decision.reason
    assert not decision.signs


def test_a_label_of_another_tenants_idn():
    """The A-label spelling of alice's IDN submitted by bob is still alice's domain."""
    raw = message("From: j@XN--BCHER-KVA.example")
    outcome = sign_unchanged(SIGNER, raw, tenant=BOB)
    assert isinstance(outcome.error, SigningRefusedError)


# -- trailing dots, case, subdomains and other tenants ----------------------------------


def test_no_tenant_given():
    """Without a tenant nothing is signed aligned."""
    outcome = sign_unchanged(SIGNER, message(f"From: a@{ALICE_DOMAIN}"), tenant=None)
    assert isinstance(outcome.error, SigningRefusedError)


def test_bob_gets_his_own_domain():
    """The same brand signs bob's own domain for bob (the isolation is not a blanket no)."""
    outcome = sign_unchanged(SIGNER, message(f"From: b@{BOB_DOMAIN}"), tenant=BOB)
    assert [BOB_DOMAIN] == domains(outcome.signatures)


# -- the cases that differ only in the message: one table per outcome ------------------


@pytest.mark.parametrize(
    ("raw", "error", "problem"),
    [
        # A message without From is refused (no-from).
        pytest.param(
            message("Subject: hi", "To: x@y.example"),
            FromHeaderError,
            P.NO_FROM,
            id="no-from-field",
        ),
        # A From line after the empty line is body text: still no From field.
        pytest.param(
            b"Subject: hi\r\n\r\nFrom: a@alice.example\r\n",
            FromHeaderError,
            P.NO_FROM,
            id="from-only-in-the-body",
        ),
        # Two From fields are refused even when the first names the tenant's own domain.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN}", f"From: b@{BOB_DOMAIN}"),
            FromHeaderError,
            P.MULTIPLE_FROM,
            id="two-from-fields-own-domain-first",
        ),
        # ``from:`` in another case is the same field: two From fields.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN}", f"fROM: b@{BOB_DOMAIN}"),
            FromHeaderError,
            P.MULTIPLE_FROM,
            id="two-from-fields-other-case",
        ),
        # ``From :`` (obsolete syntax, WSP before the colon) counts as a second From field.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN}", f"From : b@{BOB_DOMAIN}"),
            FromHeaderError,
            P.MULTIPLE_FROM,
            id="second-from-with-space-before-colon",
        ),
        # ``From<TAB>:`` is a From field too.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN}", f"From\t: b@{BOB_DOMAIN}"),
            FromHeaderError,
            P.MULTIPLE_FROM,
            id="second-from-with-tab-before-colon",
        ),
        # A From with two mailboxes is refused (multiple-addresses).
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN}, b@{BOB_DOMAIN}"),
            FromHeaderError,
            P.MULTIPLE_ADDRESSES,
            id="several-addresses",
        ),
        # The second mailbox on a continuation line is still a second mailbox.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN},", f" b@{BOB_DOMAIN}"),
            FromHeaderError,
            P.MULTIPLE_ADDRESSES,
            id="several-addresses-folded",
        ),
        # Group syntax is not a single mailbox, even with one member.
        pytest.param(
            message(f"From: Team: a@{ALICE_DOMAIN};"), FromHeaderError, P.GROUP, id="group-of-one"
        ),
        # `` From: ...`` as the first header line is a continuation of nothing: refused.
        pytest.param(
            message(f" From: b@{BOB_DOMAIN}", f"From: a@{ALICE_DOMAIN}"),
            MessageFormatError,
            P.LEADING_CONTINUATION,
            id="leading-space-first-line",
        ),
        # With the foreign address only on a continuation line there is no From field.
        pytest.param(
            message("Subject: hello", f"\tFrom: b@{BOB_DOMAIN}"),
            FromHeaderError,
            P.NO_FROM,
            id="indented-foreign-from-only",
        ),
        # A source route is refused whichever way it points.
        pytest.param(
            message(f"From: <@{ALICE_DOMAIN}:b@{BOB_DOMAIN}>"),
            FromHeaderError,
            P.ROUTE,
            id="route-to-own-domain",
        ),
        # A source route via another tenant's host is refused too.
        pytest.param(
            message(f"From: Alice <@{BOB_DOMAIN}:a@{ALICE_DOMAIN}>"),
            FromHeaderError,
            P.ROUTE,
            id="route-from-own-domain",
        ),
        # ``a@x(<b@y>``: the stdlib reads an address out of it; oxdkim refuses.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN}(<b@{BOB_DOMAIN}>"),
            FromHeaderError,
            P.BAD_ADDRESS,
            id="unclosed-comment-hides-an-address",
        ),
        # ``a@x\, <b@y>``: a quoted-pair outside quotes is refused.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN}\\, <b@{BOB_DOMAIN}>"),
            FromHeaderError,
            P.BAD_ADDRESS,
            id="backslash-comma-outside-quotes",
        ),
        # ``a@x <b@y>``: an unquoted '@' in the display name is refused.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN} <b@{BOB_DOMAIN}>"),
            FromHeaderError,
            P.BAD_ADDRESS,
            id="unquoted-address-as-display-name",
        ),
        # A comment between the domain's labels is refused (bad-domain).
        pytest.param(
            message("From: a@alice(b@bob.example).example"),
            FromHeaderError,
            P.BAD_DOMAIN,
            id="comment-inside-the-domain",
        ),
        # A quoted string in the domain part is refused.
        pytest.param(
            message('From: a@"bob.example"'),
            FromHeaderError,
            P.BAD_DOMAIN,
            id="quoted-string-in-the-domain",
        ),
        # An RFC 2047 encoded word inside the addr-spec is refused (encoded-word).
        pytest.param(
            message(f"From: =?utf-8?q?b=40{BOB_DOMAIN}?=@{ALICE_DOMAIN}"),
            FromHeaderError,
            P.ENCODED_WORD,
            id="encoded-word-as-local-part",
        ),
        # An encoded word as the domain is refused, not decoded.
        pytest.param(
            message("From: a@=?utf-8?b?Ym9iLmV4YW1wbGU=?="),
            FromHeaderError,
            P.ENCODED_WORD,
            id="encoded-word-as-domain",
        ),
        # An encoded word inside the angle brackets is refused.
        pytest.param(
            message(f"From: Alice <=?utf-8?q?a?=@{ALICE_DOMAIN}>"),
            FromHeaderError,
            P.ENCODED_WORD,
            id="encoded-word-in-angle-address",
        ),
        # Two trailing dots are an empty label: refused.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN}.."),
            FromHeaderError,
            P.BAD_DOMAIN,
            id="two-trailing-dots",
        ),
        # A leading dot is an empty label: refused.
        pytest.param(
            message(f"From: a@.{ALICE_DOMAIN}"), FromHeaderError, P.BAD_DOMAIN, id="leading-dot"
        ),
        # An mbox ``From `` separator as the first line is not a header field: refused.
        pytest.param(
            message(f"From b@{BOB_DOMAIN} Sat Jan  3 01:05:34 1996", f"From: a@{ALICE_DOMAIN}"),
            MessageFormatError,
            P.BAD_FIELD_NAME,
            id="mbox-from-line-first",
        ),
        # An mbox ``From `` line between fields is refused, not taken as a From field.
        pytest.param(
            message(
                "Subject: x",
                f"From b@{BOB_DOMAIN} Sat Jan  3 01:05:34 1996",
                f"From: a@{ALICE_DOMAIN}",
            ),
            MessageFormatError,
            P.BAD_FIELD_NAME,
            id="mbox-from-line-among-the-headers",
        ),
        # ``>From `` (an escaped mbox line) is no field: its "name" runs to the time's colon.
        pytest.param(
            message(f">From b@{BOB_DOMAIN} Sat Jan  3 01:05:34 1996", f"From: a@{ALICE_DOMAIN}"),
            MessageFormatError,
            P.BAD_FIELD_NAME,
            id="escaped-mbox-from-line",
        ),
        # A bare CR that some readers take as a line end, hiding a second From: refused.
        pytest.param(
            f"From: a@{ALICE_DOMAIN}\rFrom: b@{BOB_DOMAIN}\r\n".encode() + BODY,
            MessageFormatError,
            P.BARE_CR,
            id="bare-cr-splits-a-second-from",
        ),
        # A NUL that C readers stop at is refused.
        pytest.param(
            f"From: a@{ALICE_DOMAIN}\0, b@{BOB_DOMAIN}\r\n".encode() + BODY,
            MessageFormatError,
            P.NUL_BYTE,
            id="nul-hides-the-rest-of-the-from",
        ),
        # A control character inside the address is refused.
        pytest.param(
            message(f"From: a\x01b@{ALICE_DOMAIN}"),
            FromHeaderError,
            P.BAD_ADDRESS,
            id="control-character-in-the-address",
        ),
        # A domain literal cannot be signed for.
        pytest.param(
            message("From: a@[192.0.2.1]"),
            FromHeaderError,
            P.DOMAIN_LITERAL,
            id="ip-literal-domain",
        ),
    ],
)
def test_refused(raw: bytes, error: type[Exception], problem: MessageProblem):
    """The message is refused with this error and problem, with or without a fallback."""
    assert_refused(raw, error, problem)


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        # A single ``From :`` field is the From field: it is signed as its domain.
        pytest.param(
            message(f"From : a@{ALICE_DOMAIN}", "Subject: x"),
            ALICE_DOMAIN,
            id="only-from-field-with-space-before-colon-is-signed",
        ),
        # An indented ``From:`` line continues the Subject above it (as every receiver reads it);
        # the one real From field decides.
        pytest.param(
            message("Subject: hello", f"  From: b@{BOB_DOMAIN}", f"From: a@{ALICE_DOMAIN}"),
            ALICE_DOMAIN,
            id="indented-from-is-part-of-the-field-above",
        ),
        # Resent-From and Sender naming another tenant change nothing: From decides.
        pytest.param(
            message(
                f"Resent-From: r@{BOB_DOMAIN}", f"Sender: s@{BOB_DOMAIN}", f"From: a@{ALICE_DOMAIN}"
            ),
            ALICE_DOMAIN,
            id="resent-from-and-sender-do-not-count",
        ),
        # Escaped quotes keep the display name one token; the angle address decides.
        pytest.param(
            message(f'From: "x\\" <b@{BOB_DOMAIN}> \\"" <a@{ALICE_DOMAIN}>'),
            ALICE_DOMAIN,
            id="escaped-quotes-in-display-name",
        ),
        # ``(b@bob.example) a@alice.example``: a comment naming bob changes nothing.
        pytest.param(
            message(f"From: (b@{BOB_DOMAIN}) a@{ALICE_DOMAIN}"),
            ALICE_DOMAIN,
            id="foreign-address-in-a-leading-comment",
        ),
        # Nested comments holding an angle address are skipped whole.
        pytest.param(
            message(f"From: Alice <a@{ALICE_DOMAIN}> (x (<b@{BOB_DOMAIN}>) y)"),
            ALICE_DOMAIN,
            id="nested-comment-with-angle-address",
        ),
        # An encoded word in the display name is only a name; the address decides.
        pytest.param(
            message(f"From: =?utf-8?q?b=40{BOB_DOMAIN}?= <a@{ALICE_DOMAIN}>"),
            ALICE_DOMAIN,
            id="encoded-foreign-address-as-display-name",
        ),
        # A tenant's own IDN domain in UTF-8 is signed as its A-label.
        pytest.param(
            message("From: Jörg <j@bücher.example>"),
            "xn--bcher-kva.example",
            id="idn-domain-signed-as-its-a-label",
        ),
        # ``a@alice.example.`` (absolute form) is alice.example.
        pytest.param(
            message(f"From: a@{ALICE_DOMAIN}."),
            ALICE_DOMAIN,
            id="trailing-dot-names-the-same-domain",
        ),
        # Case does not make another domain.
        pytest.param(
            message("From: A@ALICE.Example"),
            ALICE_DOMAIN,
            id="upper-case-domain-is-the-same-domain",
        ),
    ],
)
def test_signed_as(raw: bytes, domain: str):
    """The message is signed for exactly this domain, and a receiver verifies it."""
    assert_signed_as(raw, domain)


@pytest.mark.parametrize(
    "raw",
    [
        # ``"a@alice.example" <b@bob.example>``: the mailbox is bob's; the quoted name does not
        # make it alice's. No aligned signature for alice.
        pytest.param(
            message(f'From: "a@{ALICE_DOMAIN}" <b@{BOB_DOMAIN}>'),
            id="quoted-own-address-as-display-name",
        ),
        # ``b@bob.example (a@alice.example)``: the comment is not the address.
        pytest.param(
            message(f"From: b@{BOB_DOMAIN} (a@{ALICE_DOMAIN})"),
            id="own-address-in-a-trailing-comment",
        ),
        # bob's domain submitted by alice: no aligned signature.
        pytest.param(message(f"From: b@{BOB_DOMAIN}"), id="other-tenants-domain"),
        # bob's domain in capitals submitted by alice: still bob's.
        pytest.param(message("From: b@BOB.EXAMPLE"), id="other-tenants-domain-in-upper-case"),
        # A subdomain of bob's domain that nobody listed is nobody's: not aligned.
        pytest.param(message(f"From: x@deep.{BOB_DOMAIN}"), id="subdomain-of-other-tenant"),
        # bob's listed subdomain submitted by alice: not aligned.
        pytest.param(message("From: x@news.bob.example"), id="listed-subdomain-of-other-tenant"),
        # Owning alice.example does not grant mail.alice.example (exact match).
        pytest.param(
            message(f"From: x@mail.{ALICE_DOMAIN}"), id="subdomain-of-own-domain-is-not-granted"
        ),
    ],
)
def test_not_aligned(raw: bytes):
    """No aligned signature for the message: refused, or generic with a fallback."""
    assert_not_aligned(raw)
