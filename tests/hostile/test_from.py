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


# -- no From, several From fields, several addresses -----------------------------------


def test_no_from_field():
    """A message without From is refused (no-from)."""
    assert_refused(message("Subject: hi", "To: x@y.example"), FromHeaderError, P.NO_FROM)


def test_from_only_in_the_body():
    """A From line after the empty line is body text: still no From field."""
    raw = b"Subject: hi\r\n\r\nFrom: a@alice.example\r\n"
    assert_refused(raw, FromHeaderError, P.NO_FROM)


def test_two_from_fields_own_domain_first():
    """Two From fields are refused even when the first names the tenant's own domain."""
    raw = message(f"From: a@{ALICE_DOMAIN}", f"From: b@{BOB_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.MULTIPLE_FROM)


def test_two_from_fields_other_case():
    """``from:`` in another case is the same field: two From fields."""
    raw = message(f"From: a@{ALICE_DOMAIN}", f"fROM: b@{BOB_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.MULTIPLE_FROM)


def test_second_from_with_space_before_colon():
    """``From :`` (obsolete syntax, WSP before the colon) counts as a second From field."""
    raw = message(f"From: a@{ALICE_DOMAIN}", f"From : b@{BOB_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.MULTIPLE_FROM)


def test_second_from_with_tab_before_colon():
    """``From<TAB>:`` is a From field too."""
    raw = message(f"From: a@{ALICE_DOMAIN}", f"From\t: b@{BOB_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.MULTIPLE_FROM)


def test_several_addresses():
    """A From with two mailboxes is refused (multiple-addresses)."""
    raw = message(f"From: a@{ALICE_DOMAIN}, b@{BOB_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.MULTIPLE_ADDRESSES)


def test_several_addresses_folded():
    """The second mailbox on a continuation line is still a second mailbox."""
    raw = message(f"From: a@{ALICE_DOMAIN},", f" b@{BOB_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.MULTIPLE_ADDRESSES)


def test_group_of_one():
    """Group syntax is not a single mailbox, even with one member."""
    raw = message(f"From: Team: a@{ALICE_DOMAIN};")
    assert_refused(raw, FromHeaderError, P.GROUP)


# -- "From :" and leading-space variants ----------------------------------------------


def test_only_from_field_with_space_before_colon_is_signed():
    """A single ``From :`` field is the From field: it is signed as its domain."""
    assert_signed_as(message(f"From : a@{ALICE_DOMAIN}", "Subject: x"), ALICE_DOMAIN)


def test_leading_space_first_line():
    """`` From: ...`` as the first header line is a continuation of nothing: refused."""
    raw = message(f" From: b@{BOB_DOMAIN}", f"From: a@{ALICE_DOMAIN}")
    assert_refused(raw, MessageFormatError, P.LEADING_CONTINUATION)


def test_indented_from_is_part_of_the_field_above():
    """
    An indented ``From:`` line continues the Subject above it (as every receiver reads
    it); the one real From field decides.
    """
    raw = message("Subject: hello", f"  From: b@{BOB_DOMAIN}", f"From: a@{ALICE_DOMAIN}")
    assert_signed_as(raw, ALICE_DOMAIN)


def test_indented_foreign_from_only():
    """With the foreign address only on a continuation line there is no From field."""
    raw = message("Subject: hello", f"\tFrom: b@{BOB_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.NO_FROM)


def test_resent_from_and_sender_do_not_count():
    """Resent-From and Sender naming another tenant change nothing: From decides."""
    raw = message(
        f"Resent-From: r@{BOB_DOMAIN}", f"Sender: s@{BOB_DOMAIN}", f"From: a@{ALICE_DOMAIN}"
    )
    assert_signed_as(raw, ALICE_DOMAIN)


# -- routes, quoted pairs, comments -----------------------------------------------------


def test_route_to_own_domain():
    """A source route is refused whichever way it points."""
    raw = message(f"From: <@{ALICE_DOMAIN}:b@{BOB_DOMAIN}>")
    assert_refused(raw, FromHeaderError, P.ROUTE)


def test_route_from_own_domain():
    """A source route via another tenant's host is refused too."""
    raw = message(f"From: Alice <@{BOB_DOMAIN}:a@{ALICE_DOMAIN}>")
    assert_refused(raw, FromHeaderError, P.ROUTE)


def test_unclosed_comment_hides_an_address():
    """``a@x(<b@y>``: the stdlib reads an address out of it; oxdkim refuses."""
    raw = message(f"From: a@{ALICE_DOMAIN}(<b@{BOB_DOMAIN}>")
    assert_refused(raw, FromHeaderError, P.BAD_ADDRESS)


def test_backslash_comma_outside_quotes():
    """``a@x\\, <b@y>``: a quoted-pair outside quotes is refused."""
    raw = message(f"From: a@{ALICE_DOMAIN}\\, <b@{BOB_DOMAIN}>")
    assert_refused(raw, FromHeaderError, P.BAD_ADDRESS)


def test_unquoted_address_as_display_name():
    """``a@x <b@y>``: an unquoted '@' in the display name is refused."""
    raw = message(f"From: a@{ALICE_DOMAIN} <b@{BOB_DOMAIN}>")
    assert_refused(raw, FromHeaderError, P.BAD_ADDRESS)


def test_quoted_own_address_as_display_name():
    """
    ``"a@alice.example" <b@bob.example>``: the mailbox is bob's; the quoted name does
    not make it alice's. No aligned signature for alice.
    """
    raw = message(f'From: "a@{ALICE_DOMAIN}" <b@{BOB_DOMAIN}>')
    assert_not_aligned(raw)


def test_escaped_quotes_in_display_name():
    """Escaped quotes keep the display name one token; the angle address decides."""
    raw = message(f'From: "x\\" <b@{BOB_DOMAIN}> \\"" <a@{ALICE_DOMAIN}>')
    assert_signed_as(raw, ALICE_DOMAIN)


def test_own_address_in_a_trailing_comment():
    """``b@bob.example (a@alice.example)``: the comment is not the address."""
    raw = message(f"From: b@{BOB_DOMAIN} (a@{ALICE_DOMAIN})")
    assert_not_aligned(raw)


def test_foreign_address_in_a_leading_comment():
    """``(b@bob.example) a@alice.example``: a comment naming bob changes nothing."""
    assert_signed_as(message(f"From: (b@{BOB_DOMAIN}) a@{ALICE_DOMAIN}"), ALICE_DOMAIN)


def test_comment_inside_the_domain():
    """A comment between the domain's labels is refused (bad-domain)."""
    raw = message("From: a@alice(b@bob.example).example")
    assert_refused(raw, FromHeaderError, P.BAD_DOMAIN)


def test_nested_comment_with_angle_address():
    """Nested comments holding an angle address are skipped whole."""
    raw = message(f"From: Alice <a@{ALICE_DOMAIN}> (x (<b@{BOB_DOMAIN}>) y)")
    assert_signed_as(raw, ALICE_DOMAIN)


def test_quoted_string_in_the_domain():
    """A quoted string in the domain part is refused."""
    raw = message('From: a@"bob.example"')
    assert_refused(raw, FromHeaderError, P.BAD_DOMAIN)


# -- encoded words ----------------------------------------------------------------------


def test_encoded_word_as_local_part():
    """An RFC 2047 encoded word inside the addr-spec is refused (encoded-word)."""
    raw = message(f"From: =?utf-8?q?b=40{BOB_DOMAIN}?=@{ALICE_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.ENCODED_WORD)


def test_encoded_word_as_domain():
    """An encoded word as the domain is refused, not decoded."""
    raw = message("From: a@=?utf-8?b?Ym9iLmV4YW1wbGU=?=")
    assert_refused(raw, FromHeaderError, P.ENCODED_WORD)


def test_encoded_word_in_angle_address():
    """An encoded word inside the angle brackets is refused."""
    raw = message(f"From: Alice <=?utf-8?q?a?=@{ALICE_DOMAIN}>")
    assert_refused(raw, FromHeaderError, P.ENCODED_WORD)


def test_encoded_foreign_address_as_display_name():
    """An encoded word in the display name is only a name; the address decides."""
    raw = message(f"From: =?utf-8?q?b=40{BOB_DOMAIN}?= <a@{ALICE_DOMAIN}>")
    assert_signed_as(raw, ALICE_DOMAIN)


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


def test_idn_domain_signed_as_its_a_label():
    """A tenant's own IDN domain in UTF-8 is signed as its A-label."""
    assert_signed_as(message("From: Jörg <j@bücher.example>"), "xn--bcher-kva.example")


def test_a_label_of_another_tenants_idn():
    """The A-label spelling of alice's IDN submitted by bob is still alice's domain."""
    raw = message("From: j@XN--BCHER-KVA.example")
    outcome = sign_unchanged(SIGNER, raw, tenant=BOB)
    assert isinstance(outcome.error, SigningRefusedError)


# -- trailing dots, case, subdomains and other tenants ----------------------------------


def test_trailing_dot_names_the_same_domain():
    """``a@alice.example.`` (absolute form) is alice.example."""
    assert_signed_as(message(f"From: a@{ALICE_DOMAIN}."), ALICE_DOMAIN)


def test_two_trailing_dots():
    """Two trailing dots are an empty label: refused."""
    raw = message(f"From: a@{ALICE_DOMAIN}..")
    assert_refused(raw, FromHeaderError, P.BAD_DOMAIN)


def test_leading_dot():
    """A leading dot is an empty label: refused."""
    raw = message(f"From: a@.{ALICE_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.BAD_DOMAIN)


def test_upper_case_domain_is_the_same_domain():
    """Case does not make another domain."""
    assert_signed_as(message("From: A@ALICE.Example"), ALICE_DOMAIN)


def test_other_tenants_domain():
    """bob's domain submitted by alice: no aligned signature."""
    assert_not_aligned(message(f"From: b@{BOB_DOMAIN}"))


def test_other_tenants_domain_in_upper_case():
    """bob's domain in capitals submitted by alice: still bob's."""
    assert_not_aligned(message("From: b@BOB.EXAMPLE"))


def test_subdomain_of_other_tenant():
    """A subdomain of bob's domain that nobody listed is nobody's: not aligned."""
    assert_not_aligned(message(f"From: x@deep.{BOB_DOMAIN}"))


def test_listed_subdomain_of_other_tenant():
    """bob's listed subdomain submitted by alice: not aligned."""
    assert_not_aligned(message("From: x@news.bob.example"))


def test_subdomain_of_own_domain_is_not_granted():
    """Owning alice.example does not grant mail.alice.example (exact match)."""
    assert_not_aligned(message(f"From: x@mail.{ALICE_DOMAIN}"))


def test_no_tenant_given():
    """Without a tenant nothing is signed aligned."""
    outcome = sign_unchanged(SIGNER, message(f"From: a@{ALICE_DOMAIN}"), tenant=None)
    assert isinstance(outcome.error, SigningRefusedError)


def test_bob_gets_his_own_domain():
    """The same brand signs bob's own domain for bob (the isolation is not a blanket no)."""
    outcome = sign_unchanged(SIGNER, message(f"From: b@{BOB_DOMAIN}"), tenant=BOB)
    assert [BOB_DOMAIN] == domains(outcome.signatures)


# -- mbox lines, control characters -----------------------------------------------------


def test_mbox_from_line_first():
    """An mbox ``From `` separator as the first line is not a header field: refused."""
    raw = message(f"From b@{BOB_DOMAIN} Sat Jan  3 01:05:34 1996", f"From: a@{ALICE_DOMAIN}")
    assert_refused(raw, MessageFormatError, P.BAD_FIELD_NAME)


def test_mbox_from_line_among_the_headers():
    """An mbox ``From `` line between fields is refused, not taken as a From field."""
    raw = message(
        "Subject: x", f"From b@{BOB_DOMAIN} Sat Jan  3 01:05:34 1996", f"From: a@{ALICE_DOMAIN}"
    )
    assert_refused(raw, MessageFormatError, P.BAD_FIELD_NAME)


def test_escaped_mbox_from_line():
    """``>From `` (an escaped mbox line) is no field: its "name" runs to the time's colon."""
    raw = message(f">From b@{BOB_DOMAIN} Sat Jan  3 01:05:34 1996", f"From: a@{ALICE_DOMAIN}")
    assert_refused(raw, MessageFormatError, P.BAD_FIELD_NAME)


def test_bare_cr_splits_a_second_from():
    """A bare CR that some readers take as a line end, hiding a second From: refused."""
    raw = f"From: a@{ALICE_DOMAIN}\rFrom: b@{BOB_DOMAIN}\r\n".encode() + BODY
    assert_refused(raw, MessageFormatError, P.BARE_CR)


def test_nul_hides_the_rest_of_the_from():
    """A NUL that C readers stop at is refused."""
    raw = f"From: a@{ALICE_DOMAIN}\0, b@{BOB_DOMAIN}\r\n".encode() + BODY
    assert_refused(raw, MessageFormatError, P.NUL_BYTE)


def test_control_character_in_the_address():
    """A control character inside the address is refused."""
    raw = message(f"From: a\x01b@{ALICE_DOMAIN}")
    assert_refused(raw, FromHeaderError, P.BAD_ADDRESS)


def test_ip_literal_domain():
    """A domain literal cannot be signed for."""
    raw = message("From: a@[192.0.2.1]")
    assert_refused(raw, FromHeaderError, P.DOMAIN_LITERAL)
