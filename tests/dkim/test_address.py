"""The From field reader: exactly one plain mailbox, its domain as a lowercase A-label."""

from __future__ import annotations

import pytest

from oxdkim import FromHeaderError, MessageProblem
from oxdkim._dkim.address import parse_from_domain, parse_from_domains

P = MessageProblem


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        pytest.param("a@example.com", "example.com", id="bare"),
        pytest.param("<a@example.com>", "example.com", id="angle"),
        pytest.param("Joe Q. Public <a@example.com>", "example.com", id="display-name"),
        pytest.param('"Joe, the Sender" <a@example.com>', "example.com", id="quoted-comma"),
        pytest.param('"a@x.example" <b@y.example>', "y.example", id="quoted-address-in-name"),
        pytest.param('"<a@x.example>" <b@y.example>', "y.example", id="quoted-angle-in-name"),
        pytest.param("=?utf-8?q?J=C3=B6rg?= <a@example.com>", "example.com", id="encoded-name"),
        pytest.param("a@Example.COM", "example.com", id="lowercased"),
        pytest.param("a@example.com.", "example.com", id="trailing-dot"),
        pytest.param("Joe <a@example.com.>", "example.com", id="trailing-dot-angle"),
        pytest.param("a@example.com (Joe)", "example.com", id="trailing-comment"),
        pytest.param("(Joe) a@example.com", "example.com", id="leading-comment"),
        pytest.param("Joe <a@example.com> (<b@evil.example>)", "example.com", id="comment-address"),
        pytest.param('"quoted local"@example.com', "example.com", id="quoted-local"),
        pytest.param("Jörg <jörg@müller.example>", "xn--mller-kva.example", id="idn"),
        pytest.param("a@MÜLLER.example", "xn--mller-kva.example", id="idn-upper"),
        pytest.param("a@xn--mller-kva.example", "xn--mller-kva.example", id="a-label"),
        pytest.param("a@bücher.例え.jp", "xn--bcher-kva.xn--r8jz45g.jp", id="idn-two-labels"),
        pytest.param("Jo\u200be <a@example.com>", "example.com", id="invisible-in-name-only"),
        pytest.param("Joe\t<a@example.com>\t", "example.com", id="tabs"),
    ],
)
def test_accepted(value: str, domain: str):
    """A single plain mailbox gives its domain, normalized."""
    assert domain == parse_from_domain(value.encode())


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param("a@x.example(<b@y.example>", P.BAD_ADDRESS, id="unclosed-comment-trick"),
        pytest.param("a@x.example\\, <b@y.example>", P.BAD_ADDRESS, id="backslash-comma-trick"),
        pytest.param("a@x.example <b@y.example>", P.BAD_ADDRESS, id="unquoted-address-in-name"),
        pytest.param("Joe <a@x.example> <b@y.example>", P.BAD_ADDRESS, id="two-angles"),
        pytest.param("Joe <a@x.example", P.BAD_ADDRESS, id="unclosed-angle"),
        pytest.param("a@x.example>", P.BAD_ADDRESS, id="stray-close-angle"),
        pytest.param("Joe <a@x.example> trailing", P.BAD_ADDRESS, id="text-after-angle"),
        pytest.param('"unterminated <a@x.example>', P.BAD_ADDRESS, id="unterminated-quote"),
        pytest.param("a@x.example)", P.BAD_ADDRESS, id="unbalanced-paren"),
        pytest.param("a@@x.example", P.BAD_ADDRESS, id="double-at"),
        pytest.param("a@x.example\x7f", P.BAD_ADDRESS, id="control-char"),
        pytest.param("a@x.example, b@y.example", P.MULTIPLE_ADDRESSES, id="two"),
        pytest.param("Joe <a@x.example>,", P.MULTIPLE_ADDRESSES, id="trailing-comma"),
        pytest.param("Team: a@x.example;", P.GROUP, id="group"),
        pytest.param("Team:;", P.GROUP, id="empty-group"),
        pytest.param("<@relay.example:a@x.example>", P.ROUTE, id="route"),
        pytest.param("<@r1.example,@r2.example:a@x.example>", P.ROUTE, id="route-two"),
        pytest.param("=?utf-8?b?YQ==?=@x.example", P.ENCODED_WORD, id="encoded-local"),
        pytest.param("a@=?utf-8?q?x?=.example", P.ENCODED_WORD, id="encoded-domain"),
        pytest.param("a@x.example..", P.BAD_DOMAIN, id="two-trailing-dots"),
        pytest.param("a@x..example", P.BAD_DOMAIN, id="empty-label"),
        pytest.param("a@.x.example", P.BAD_DOMAIN, id="leading-dot"),
        pytest.param("a@x", P.BAD_DOMAIN, id="single-label"),
        pytest.param("a@192.0.2.1", P.BAD_DOMAIN, id="ip-address"),
        pytest.param("a@-x.example", P.BAD_DOMAIN, id="hyphen-start"),
        pytest.param("a@x_y.example", P.BAD_DOMAIN, id="underscore"),
        pytest.param("a@x .example", P.BAD_DOMAIN, id="space-in-domain"),
        pytest.param("a@x(c).example", P.BAD_DOMAIN, id="comment-in-domain"),
        pytest.param("a@ex\u200bample.com", P.BAD_DOMAIN, id="zero-width-space"),
        pytest.param("a@\u200bexample.com", P.BAD_DOMAIN, id="zero-width-space-start"),
        pytest.param("a@exam\u00adple.com", P.BAD_DOMAIN, id="soft-hyphen"),
        pytest.param("a@example.com\u2060", P.BAD_DOMAIN, id="word-joiner"),
        pytest.param("a@ex\ufeffample.com", P.BAD_DOMAIN, id="bom"),
        pytest.param("a@exa\u200dmple.com", P.BAD_DOMAIN, id="zero-width-joiner"),
        pytest.param("a@example.com\u00a0", P.BAD_DOMAIN, id="nbsp"),
        pytest.param("a@\uff45xample.com", P.BAD_DOMAIN, id="fullwidth-letter"),
        pytest.param("a@[192.0.2.1]", P.DOMAIN_LITERAL, id="domain-literal"),
        pytest.param("", P.NO_ADDRESS, id="empty"),
        pytest.param("Joe", P.NO_ADDRESS, id="name-only"),
        pytest.param("<>", P.NO_ADDRESS, id="null"),
    ],
)
def test_refused(value: str, problem: MessageProblem):
    """Anything a receiver could read as another or no single mailbox is refused, typed."""
    with pytest.raises(FromHeaderError) as info:
        parse_from_domain(value.encode())
    assert problem == info.value.problem


def test_invalid_utf8_domain_refused():
    """A domain that is not valid UTF-8 is refused, not decoded with replacement."""
    with pytest.raises(FromHeaderError) as info:
        parse_from_domain(b"a@\xffexample.com")
    assert P.BAD_DOMAIN == info.value.problem


def test_stdlib_parseaddr_disagrees_on_a_trick():
    """
    The trick inputs are ones where the stdlib picks an address; we refuse instead of
    guessing (a regression guard against ever delegating to ``email.utils``).
    """
    from email.utils import parseaddr

    trick = "a@x.example(<b@y.example>"
    assert "" != parseaddr(trick)[1]
    with pytest.raises(FromHeaderError):
        parse_from_domain(trick.encode())


@pytest.mark.parametrize(
    ("value", "domains"),
    [
        (b"a@x.example", ["x.example"]),
        (b"a@x.example, B <b@Y.example>", ["x.example", "y.example"]),
        (b'"c, d" <c@x.example>, e@x.example (f, g)', ["x.example", "x.example"]),
        (b"a@x.example, @evil.example:b@x.example", ["x.example", "@evil.example:b@x.example"]),
        (b"a@x.example, b", ["x.example", "b"]),
        (b"G: a@x.example, b@y.example;", ["G:a@x.example", "b@y.example;"]),
    ],
)
def test_every_author_domain_of_a_mailbox_list(value: bytes, domains: list[str]):
    """
    A receiver's reading of a From with several mailboxes: each domain once per mailbox;
    a mailbox that is not plain comes back as its text, which can never align.
    """
    assert domains == parse_from_domains(value)


@pytest.mark.parametrize(
    "value", [b"", b"a@x.example,", b", a@x.example", b"a@x.example, (", b"x" * 9000 + b"@a.b"]
)
def test_a_mailbox_list_that_cannot_be_read(value: bytes):
    """No address, an empty one, an unterminated comment, or over 8 KB: refused."""
    with pytest.raises(FromHeaderError):
        parse_from_domains(value)


def test_nested_comments_in_a_mailbox_list_need_no_recursion():
    """4,000 nested comments (email.utils recursed once per level, past Python's limit)."""
    value = b"a@x.example, b@x.example " + b"(" * 4000 + b")" * 4000
    assert ["x.example", "x.example"] == parse_from_domains(value)
