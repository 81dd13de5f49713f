"""
A strict reader of the From field: exactly one mailbox, and its domain.

It tokenizes per RFC 5322 §3.2 (comments nest, quoted-pairs only inside quotes and
comments) and refuses anything a receiver could read differently: several addresses,
groups, source routes, encoded words or whitespace inside the address, an ``@`` in an
unquoted display name, domain literals, unterminated quotes or comments. Raw UTF-8 is
accepted (RFC 6532) and the domain comes back as a lowercase A-label.
"""

from __future__ import annotations

import enum
import functools
import re

from .._base.domains import DomainSyntaxError, normalize_domain
from ..exceptions import FromHeaderError, MessageProblem


class _Kind(enum.Enum):
    ATOM = enum.auto()
    QUOTED = enum.auto()
    LITERAL = enum.auto()
    SPECIAL = enum.auto()


# RFC 5322 specials that end an atom; "." is handled as a special too (dot-atom parts).
_SPECIALS = frozenset(b'()<>[]:;@\\,."')
_WSP = frozenset(b" \t\r\n")


class _Token:
    __slots__ = ("kind", "spaced", "text")

    def __init__(self, kind: _Kind, text: bytes, spaced: bool) -> None:
        self.kind = kind
        self.text = text
        self.spaced = spaced  # whitespace or a comment came right before it

    def is_special(self, char: bytes) -> bool:
        return self.kind is _Kind.SPECIAL and self.text == char


def _fail(reason: str, problem: MessageProblem = MessageProblem.BAD_ADDRESS) -> FromHeaderError:
    return FromHeaderError(f"From: {reason}", problem=problem)


def _skip_comment(value: bytes, pos: int) -> int:
    """Return the index after the comment that opens at ``pos``."""
    depth = 0
    end = len(value)
    while pos < end:
        char = value[pos]
        if char == 0x5C:  # quoted-pair
            pos += 2
            continue
        if char == 0x28:
            depth += 1
        elif char == 0x29:
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    raise _fail("unterminated comment")


def _read_delimited(value: bytes, pos: int, close: int, what: str) -> tuple[bytes, int]:
    """Read a quoted string or domain literal opening at ``pos``; return (content, next)."""
    out = bytearray()
    pos += 1
    end = len(value)
    while pos < end:
        char = value[pos]
        if char == 0x5C and pos + 1 < end:
            out.append(value[pos + 1])
            pos += 2
            continue
        if char == close:
            return bytes(out), pos + 1
        out.append(char)
        pos += 1
    raise _fail(f"unterminated {what}")


def _tokenize(value: bytes) -> list[_Token]:
    tokens: list[_Token] = []
    pos, end, spaced = 0, len(value), False
    while pos < end:
        char = value[pos]
        if char in _WSP:
            pos += 1
            spaced = True
        elif char == 0x28:
            pos = _skip_comment(value, pos)
            spaced = True
        elif char == 0x29:
            raise _fail("unbalanced ')'")
        elif char == 0x22:
            text, pos = _read_delimited(value, pos, 0x22, "quoted string")
            tokens.append(_Token(_Kind.QUOTED, text, spaced))
            spaced = False
        elif char == 0x5B:
            text, pos = _read_delimited(value, pos, 0x5D, "domain literal")
            tokens.append(_Token(_Kind.LITERAL, text, spaced))
            spaced = False
        elif char == 0x5C:
            raise _fail("backslash outside a quoted string")
        elif char in _SPECIALS:
            tokens.append(_Token(_Kind.SPECIAL, value[pos : pos + 1], spaced))
            pos += 1
            spaced = False
        else:
            start = pos
            while pos < end and value[pos] not in _SPECIALS and value[pos] not in _WSP:
                if value[pos] < 0x20 or value[pos] == 0x7F:
                    raise _fail("control character in the address")
                pos += 1
            tokens.append(_Token(_Kind.ATOM, value[start:pos], spaced))
            spaced = False
    return tokens


def _addr_spec_domain(tokens: list[_Token]) -> str:
    """The domain of an addr-spec given as tokens: local-part "@" domain."""
    ats = [i for i, t in enumerate(tokens) if t.is_special(b"@")]
    if not ats:
        raise _fail("no '@' in the address", MessageProblem.NO_ADDRESS)
    if len(ats) > 1:
        raise _fail("more than one '@' in the address")
    at = ats[0]
    local, domain = tokens[:at], tokens[at + 1 :]
    if not local:
        raise _fail("empty local part")
    for token in local:
        if token.kind is _Kind.LITERAL or (
            token.kind is _Kind.SPECIAL and not token.is_special(b".")
        ):
            raise _fail("unexpected character in the local part")
    for part in (local, domain):
        text = b"".join(t.text for t in part)
        opener = text.find(b"=?")
        if opener >= 0 and text.find(b"?=", opener + 2) >= 0:
            raise _fail("encoded word inside the address", MessageProblem.ENCODED_WORD)
    if not domain:
        raise _fail("empty domain", MessageProblem.BAD_DOMAIN)
    if any(t.kind is _Kind.LITERAL for t in domain):
        raise _fail("domain literals cannot be signed for", MessageProblem.DOMAIN_LITERAL)
    if tokens[at].spaced or any(t.spaced for t in domain):
        raise _fail("whitespace or a comment inside the domain", MessageProblem.BAD_DOMAIN)
    parts = []
    for token in domain:
        if token.kind is _Kind.QUOTED:
            raise _fail("quoted string in the domain", MessageProblem.BAD_DOMAIN)
        if token.kind is _Kind.SPECIAL and not token.is_special(b"."):
            raise _fail(f"unexpected {token.text!r} in the domain", MessageProblem.BAD_DOMAIN)
        parts.append(token.text)
    try:
        return normalize_domain(b"".join(parts))
    except DomainSyntaxError as exc:
        raise _fail(str(exc), MessageProblem.BAD_DOMAIN) from None


# The shapes almost every From field has, recognised by one regex: `local@domain`,
# `Name <local@domain>`, `"Name" <local@domain>`. The local part excludes "?" (no encoded
# word can hide in it) and the domain is ASCII LDH; anything else takes the full parser.
# Every repeat is possessive (``*+``, ``++``) and no two adjacent repeats share a
# character, so a failed match costs time linear in the value: with plain ``*`` the
# leading spaces, the phrase's spaces and the spaces before "<" could split a run of
# blanks in cubically many ways (4,000 spaces took 12 s).
_LOCAL = rb"[A-Za-z0-9!#$%&'*+/=^_`{|}~.-]++"
_DOMAIN = rb"([A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)++\.?+)"
_PHRASE = rb'(?:"[^"\\\r\n]*+"[ \t]*+|[A-Za-z0-9!#$%&\'*+/=?^_`{|}~. \t\x80-\xff-]*+)'
_PLAIN_FROM = re.compile(
    rb"[ \t]*+(?:" + _PHRASE + rb"<" + _LOCAL + rb"@" + _DOMAIN + rb">|"
    + _LOCAL + rb"@" + _DOMAIN + rb")[ \t]*+"
)  # fmt: skip


@functools.lru_cache(maxsize=4096)
def _plain_domain(domain: bytes) -> str | None:
    try:
        return normalize_domain(domain)
    except DomainSyntaxError:
        return None


MAX_FROM_BYTES = 8192
"""Longest From value read. One mailbox with a long encoded display name fits in 2 KB;
the full parser costs about 1 ms per KB of hostile input, so the bound keeps it at 8 ms."""


def parse_from_domain(value: bytes) -> str:
    """
    Return the domain of the one mailbox in a From field value (unfolded bytes), in time
    linear in its length.

    Raises:
        FromHeaderError: Not exactly one plain mailbox (``problem`` says why), or longer
            than :data:`MAX_FROM_BYTES` (``too-large``).
    """
    if len(value) > MAX_FROM_BYTES:
        raise _fail(
            f"the field is {len(value)} bytes long; at most {MAX_FROM_BYTES} are read",
            MessageProblem.TOO_LARGE,
        )
    plain = _PLAIN_FROM.fullmatch(value)
    if plain is not None:
        domain = _plain_domain(plain.group(1) or plain.group(2))
        if domain is not None:
            return domain
    return _parse_tokens(value)


def _parse_tokens(value: bytes) -> str:
    """The full RFC 5322 reading, with a precise reason for every refusal."""
    tokens = _tokenize(value)
    if not tokens:
        raise _fail("no address", MessageProblem.NO_ADDRESS)
    _refuse_routes(tokens)
    if any(t.is_special(b",") for t in tokens):
        raise _fail("more than one address", MessageProblem.MULTIPLE_ADDRESSES)
    return _mailbox_domain(tokens)


def parse_from_domains(value: bytes) -> list[str]:
    """
    The Author Domains of a From field value (a mailbox-list, RFC 5322 §3.6.2), in
    order, for a receiver, which evaluates DMARC once per Author Domain; in time linear
    in the value.

    Each mailbox is read by the same strict rules as :func:`parse_from_domain`; one that
    is not plain (a route, a group, no domain, ...) is given as its own text, which no
    identifier can align with, so that it makes the From fail DMARC rather than vanish.

    Raises:
        FromHeaderError: The value cannot be tokenized (an unterminated quote or comment),
            holds no address or an empty one, or is longer than :data:`MAX_FROM_BYTES`.
    """
    if len(value) > MAX_FROM_BYTES:
        raise _fail(
            f"the field is {len(value)} bytes long; at most {MAX_FROM_BYTES} are read",
            MessageProblem.TOO_LARGE,
        )
    tokens = _tokenize(value)
    if not tokens:
        raise _fail("no address", MessageProblem.NO_ADDRESS)
    domains, start = [], 0
    for end in [*(i for i, t in enumerate(tokens) if t.is_special(b",")), len(tokens)]:
        if end == start:
            raise _fail("an empty address in the list", MessageProblem.NO_ADDRESS)
        part = tokens[start:end]
        try:
            domains.append(_mailbox_domain(part))
        except FromHeaderError:
            domains.append(b"".join(t.text for t in part).decode("utf-8", "replace"))
        start = end + 1
    return domains


def _refuse_routes(tokens: list[_Token]) -> None:
    opens = [i for i, t in enumerate(tokens) if t.is_special(b"<")]
    if any(i + 1 < len(tokens) and tokens[i + 1].is_special(b"@") for i in opens):
        raise _fail("source routes are not accepted", MessageProblem.ROUTE)


def _mailbox_domain(tokens: list[_Token]) -> str:
    """The domain of one mailbox given as tokens (no comma among them)."""
    opens = [i for i, t in enumerate(tokens) if t.is_special(b"<")]
    closes = [i for i, t in enumerate(tokens) if t.is_special(b">")]
    if not opens and not closes:
        if any(t.is_special(b":") or t.is_special(b";") for t in tokens):
            raise _fail("group syntax is not a single mailbox", MessageProblem.GROUP)
        return _addr_spec_domain(tokens)
    if len(opens) != 1 or len(closes) != 1 or closes[0] < opens[0]:
        raise _fail("unbalanced or repeated angle brackets")
    start, stop = opens[0], closes[0]
    if stop != len(tokens) - 1:
        raise _fail("text after the closing '>'")
    for token in tokens[:start]:
        if token.is_special(b"@"):
            raise _fail("'@' in an unquoted display name; quote the name")
        if token.is_special(b":") or token.is_special(b";"):
            raise _fail("group syntax is not a single mailbox", MessageProblem.GROUP)
        if token.kind is _Kind.SPECIAL and not token.is_special(b"."):
            raise _fail(f"unexpected {token.text!r} in the display name")
        if token.kind is _Kind.LITERAL:
            raise _fail("'[' in an unquoted display name")
    inner = tokens[start + 1 : stop]
    if any(t.is_special(b":") for t in inner):
        raise _fail("source routes are not accepted", MessageProblem.ROUTE)
    return _addr_spec_domain(inner)
