"""Message parsing: header/body split, header fields, limits, and every refused input."""

from __future__ import annotations

import pytest

from keyfiles import fixed_clock
from oxdkim import (
    DefaultGenericPolicy,
    FromHeaderError,
    MessageFormatError,
    MessageLimitError,
    MessageLimits,
    MessageProblem,
    Signer,
    SigningKey,
)
from oxdkim._dkim.message import parse_message
from oxdkim.exceptions import ConfigurationError

P = MessageProblem


def test_crlf_message_split():
    """A CRLF message splits at the first empty line; the body is the bytes after it."""
    parsed = parse_message(b"From: a@example.com\r\nSubject: hi\r\n\r\nline 1\r\n\r\nline 2\r\n")
    assert [(b"From", b"From: a@example.com\r\n"), (b"Subject", b"Subject: hi\r\n")] == [
        (f.name, f.raw) for f in parsed.fields
    ]
    assert b"line 1\r\n\r\nline 2\r\n" == parsed.body
    assert b"\r\n" == parsed.linesep


def test_bare_lf_message_split():
    """A bare-LF message splits the same way; fields are stored with CRLF, linesep is LF."""
    parsed = parse_message(b"From: a@example.com\nSubject: hi\n\nline 1\n\nline 2\n")
    assert [b"From: a@example.com\r\n", b"Subject: hi\r\n"] == [f.raw for f in parsed.fields]
    assert b"line 1\n\nline 2\n" == parsed.body
    assert b"\n" == parsed.linesep
    assert "example.com" == parsed.from_domain()


def test_body_is_untouched():
    """The body keeps its bytes exactly: trailing spaces, bare CR, mixed endings, blank tail."""
    body = b"a  \t\r\nb\rc\nd\r\n\r\n\r\n"
    assert body == parse_message(b"From: a@example.com\r\n\r\n" + body).body


def test_empty_line_inside_body_is_not_a_second_split():
    """Only the first empty line ends the header block; later ones belong to the body."""
    parsed = parse_message(b"From: a@example.com\r\n\r\nX: not a header\r\n\r\nmore\r\n")
    assert 1 == len(parsed.fields)
    assert b"X: not a header\r\n\r\nmore\r\n" == parsed.body


def test_folded_header_kept_whole():
    """A folded field is one field whose raw bytes keep the folds; value unfolds."""
    parsed = parse_message(b"From: a@example.com\r\nSubject: one\r\n two\r\n\tthree\r\n\r\nx")
    subject = parsed.get_all("subject")[0]
    assert b"Subject: one\r\n two\r\n\tthree\r\n" == subject.raw
    assert b" one two\tthree" == subject.value


def test_folded_from_field():
    """A From field folded across lines still yields its domain."""
    parsed = parse_message(b"From: Joe\r\n <joe@Example.COM>\r\n\r\n")
    assert "example.com" == parsed.from_domain()


def test_raw_utf8_headers_accepted():
    """Raw UTF-8 in header fields is accepted (RFC 6532), bytes kept as they are."""
    raw_subject = "Subject: Grüße aus Köln 🎉\r\n".encode()
    message = 'From: "Jörg Müller" <jörg@müller.example>\r\n'.encode() + raw_subject + b"\r\nhi"
    parsed = parse_message(message)
    assert raw_subject == parsed.get_all("subject")[0].raw
    assert "xn--mller-kva.example" == parsed.from_domain()


@pytest.mark.parametrize("sep", [b" ", b"\t", b" \t "])
def test_whitespace_before_colon_accepted(sep: bytes):
    """Whitespace between field name and colon (obsolete syntax) is accepted and trimmed."""
    parsed = parse_message(b"From" + sep + b": a@example.com\r\nSubject" + sep + b": x\r\n\r\n")
    assert [b"From", b"Subject"] == [f.name for f in parsed.fields]
    assert b"From" + sep + b": a@example.com\r\n" == parsed.fields[0].raw
    assert "example.com" == parsed.from_domain()


@pytest.mark.parametrize(
    "message",
    [
        b"From: a@example.com\r\nSubject: x\r\n",
        b"From: a@example.com\r\nSubject: x",
        b"From: a@example.com\nSubject: x\n",
        b"From: a@example.com\nSubject: x",
        b"From: a@example.com\r\nSubject: x\r\n\r\n",
    ],
)
def test_headers_only_message(message: bytes):
    """A message with headers only (with or without a final newline) has an empty body."""
    parsed = parse_message(message)
    assert [b"From", b"Subject"] == [f.name for f in parsed.fields]
    assert b"" == parsed.body
    assert b"Subject: x\r\n" == parsed.fields[1].raw


def test_duplicate_names_matched_case_insensitively():
    """get_all finds fields whatever the case of their names, in message order."""
    parsed = parse_message(b"From: a@example.com\r\nTO: x@y.example\r\nto: z@y.example\r\n\r\n")
    assert [b"TO: x@y.example\r\n", b"to: z@y.example\r\n"] == [f.raw for f in parsed.get_all("To")]


@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_parse_accepts_bytes_like(kind: type):
    """bytes, bytearray and memoryview inputs parse the same."""
    message = b"From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n"
    parsed = parse_message(kind(message))
    assert parse_message(message) == parsed


def test_parse_rejects_str():
    """A str is not a message (TypeError: a programming error, not bad mail)."""
    with pytest.raises(TypeError):
        parse_message("From: a@example.com\r\n\r\n")  # type: ignore[arg-type]


def test_caller_bytearray_not_modified():
    """Parsing and signing never change the caller's bytearray."""
    original = b"From: a@example.com\nSubject:  x \n\nbody  \n\n"
    buffer = bytearray(original)
    parse_message(buffer)
    signer = Signer(
        DefaultGenericPolicy("example.com", "s", SigningKey.from_ed25519_seed(bytes(32))),
        clock=fixed_clock(),
    )
    signer.sign(buffer)
    signed = signer.signed_message(buffer)
    signer.sign_chunks([buffer[:7], memoryview(buffer)[7:]])
    assert original == bytes(buffer)
    assert signed.endswith(original)


# -- refused inputs -------------------------------------------------------------------

BAD_MESSAGES = [
    pytest.param(b"", MessageFormatError, P.EMPTY, id="empty"),
    pytest.param(b"\r\n", MessageFormatError, P.EMPTY, id="only-crlf"),
    pytest.param(b" \t \r\n", MessageFormatError, P.EMPTY, id="only-whitespace"),
    pytest.param(
        b"From: a@example.com\r\nX-Bad\r\n\r\nbody", MessageFormatError, P.NO_COLON, id="no-colon"
    ),
    pytest.param(
        b"Subject: x\r\nnot a header line\r\nFrom: a@example.com\r\n\r\n",
        MessageFormatError,
        P.NO_COLON,
        id="no-colon-middle",
    ),
    pytest.param(
        b"From: a@example.com\r\nSubject: a\0b\r\n\r\n",
        MessageFormatError,
        P.NUL_BYTE,
        id="nul-header",
    ),
    pytest.param(
        b"From: a@example.com\r\n\r\nbody\0\r\n", MessageFormatError, P.NUL_BYTE, id="nul-body"
    ),
    pytest.param(
        b"From: a@example.com\r\nSubject: a\rb\r\n\r\n", MessageFormatError, P.BARE_CR, id="bare-cr"
    ),
    pytest.param(
        b"From: a@example.com\rSubject: x\r\n\r\n", MessageFormatError, P.BARE_CR, id="bare-cr-eol"
    ),
    pytest.param(
        b"From sender@example.com Mon Jan  1 00:00:00 2024\r\nFrom: a@example.com\r\n\r\n",
        MessageFormatError,
        P.BAD_FIELD_NAME,
        id="mbox-from-line",
    ),
    pytest.param(
        b" folded\r\nFrom: a@example.com\r\n\r\n",
        MessageFormatError,
        P.LEADING_CONTINUATION,
        id="leading-continuation",
    ),
    pytest.param(
        b"\tfolded: x\nFrom: a@example.com\n\n",
        MessageFormatError,
        P.LEADING_CONTINUATION,
        id="leading-continuation-tab",
    ),
    pytest.param(
        b"From: a@example.com\r\nX\x7fY: z\r\n\r\n",
        MessageFormatError,
        P.BAD_FIELD_NAME,
        id="control-in-name",
    ),
    pytest.param(
        "From: a@example.com\r\nSübject: z\r\n\r\n".encode(),
        MessageFormatError,
        P.BAD_FIELD_NAME,
        id="utf8-in-name",
    ),
    pytest.param(
        b": x\r\nFrom: a@example.com\r\n\r\n", MessageFormatError, P.BAD_FIELD_NAME, id="empty-name"
    ),
    pytest.param(
        b"Subject: x\r\n\r\nFrom: a@example.com\r\n", FromHeaderError, P.NO_FROM, id="no-from"
    ),
    pytest.param(b"\r\nFrom: a@example.com\r\n", FromHeaderError, P.NO_FROM, id="no-header-block"),
    pytest.param(
        b"From: a@example.com\r\nfrom: a@example.com\r\n\r\n",
        FromHeaderError,
        P.MULTIPLE_FROM,
        id="two-from-fields",
    ),
    pytest.param(
        b"From: a@example.com\r\nSubject: x\r\nFROM : b@example.org\r\n\r\n",
        FromHeaderError,
        P.MULTIPLE_FROM,
        id="two-from-fields-spaced",
    ),
    pytest.param(
        b"From: a@example.com, b@example.org\r\n\r\n",
        FromHeaderError,
        P.MULTIPLE_ADDRESSES,
        id="two-addresses",
    ),
    pytest.param(
        b"From: Friends: a@example.com, b@example.org;\r\n\r\n",
        FromHeaderError,
        P.MULTIPLE_ADDRESSES,
        id="group-of-two",
    ),
    pytest.param(
        b"From: Friends: a@example.com;\r\n\r\n", FromHeaderError, P.GROUP, id="group-of-one"
    ),
    pytest.param(
        b"From: undisclosed-recipients:;\r\n\r\n", FromHeaderError, P.GROUP, id="empty-group"
    ),
    pytest.param(
        b"From: <@a.example,@b.example:x@y.example>\r\n\r\n",
        FromHeaderError,
        P.ROUTE,
        id="route-two-hops",
    ),
    pytest.param(
        b"From: Joe <@a.example:x@y.example>\r\n\r\n", FromHeaderError, P.ROUTE, id="route-one-hop"
    ),
    pytest.param(
        b"From: =?utf-8?q?joe?=@example.com\r\n\r\n",
        FromHeaderError,
        P.ENCODED_WORD,
        id="encoded-word-local",
    ),
    pytest.param(
        b"From: <joe@=?utf-8?q?example?=.com>\r\n\r\n",
        FromHeaderError,
        P.ENCODED_WORD,
        id="encoded-word-domain",
    ),
    pytest.param(b"From:\r\n\r\n", FromHeaderError, P.NO_ADDRESS, id="empty-from"),
    pytest.param(b"From: Joe\r\n\r\n", FromHeaderError, P.NO_ADDRESS, id="no-at"),
    pytest.param(b"From: <>\r\n\r\n", FromHeaderError, P.NO_ADDRESS, id="null-address"),
    pytest.param(b"From: a@[192.0.2.1]\r\n\r\n", FromHeaderError, P.DOMAIN_LITERAL, id="literal"),
]


@pytest.mark.parametrize(("message", "error", "problem"), BAD_MESSAGES)
def test_bad_message_parse_from(message: bytes, error: type[Exception], problem: MessageProblem):
    """Each bad message is a typed error with a stable problem code when parsed."""
    if b"body\0" in message:
        # The body is the caller's rule: parsed as it is, refused by the signer below.
        assert b"body\0\r\n" == parse_message(message).body
        return
    with pytest.raises(error) as info:
        parse_message(message).from_domain()
    assert type(info.value) is error
    assert problem == info.value.problem  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def signer() -> Signer:
    """A signer for the bad-input tests (the key is never reached)."""
    key = SigningKey.from_ed25519_seed(bytes(32))
    return Signer(DefaultGenericPolicy("example.com", "s", key), clock=fixed_clock())


@pytest.mark.parametrize(("message", "error", "problem"), BAD_MESSAGES)
def test_bad_message_sign(
    signer: Signer, message: bytes, error: type[Exception], problem: MessageProblem
):
    """Signer.sign raises the same typed error and problem as the parser."""
    with pytest.raises(error) as info:
        signer.sign(message)
    assert type(info.value) is error
    assert problem == info.value.problem  # type: ignore[attr-defined]


@pytest.mark.parametrize(("message", "error", "problem"), BAD_MESSAGES)
@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_bad_message_sign_chunks(
    signer: Signer, message: bytes, error: type[Exception], problem: MessageProblem, chunk: int
):
    """Signer.sign_chunks raises the same typed error and problem, however it is chunked."""
    chunks = [message[i : i + chunk] for i in range(0, len(message), chunk)] or [b""]
    with pytest.raises(error) as info:
        signer.sign_chunks(chunks)
    assert type(info.value) is error
    assert problem == info.value.problem  # type: ignore[attr-defined]


# -- limits ---------------------------------------------------------------------------


def test_header_bytes_limit():
    """A header block larger than max_header_bytes is a MessageLimitError (too-large)."""
    message = b"From: a@example.com\r\nSubject: " + b"x" * 200 + b"\r\n\r\nbody"
    with pytest.raises(MessageLimitError) as info:
        parse_message(message, MessageLimits(max_header_bytes=100))
    assert P.TOO_LARGE == info.value.problem


def test_header_bytes_limit_exact():
    """A header block of exactly max_header_bytes is accepted (the limit is inclusive)."""
    header = b"From: a@example.com\r\nSubject: x\r\n"
    parsed = parse_message(header + b"\r\nbody", MessageLimits(max_header_bytes=len(header)))
    assert 2 == len(parsed.fields)


def test_header_bytes_limit_headers_only():
    """A message without an empty line is all header: the limit applies to all of it."""
    message = b"From: a@example.com\r\n" + b"X-Pad: " + b"y" * 500 + b"\r\n"
    with pytest.raises(MessageLimitError):
        parse_message(message, MessageLimits(max_header_bytes=256))


def test_header_field_count_limit():
    """More fields than max_header_fields is a MessageLimitError; exactly that many is fine."""
    message = b"From: a@example.com\r\n" + b"X-A: 1\r\n" * 3 + b"\r\n"
    assert 4 == len(parse_message(message, MessageLimits(max_header_fields=4)).fields)
    with pytest.raises(MessageLimitError) as info:
        parse_message(message, MessageLimits(max_header_fields=3))
    assert P.TOO_LARGE == info.value.problem


def test_limits_through_signer():
    """The Signer applies its limits before signing, for whole and chunked input."""
    key = SigningKey.from_ed25519_seed(bytes(32))
    signer = Signer(
        DefaultGenericPolicy("example.com", "s", key),
        limits=MessageLimits(max_header_bytes=64),
    )
    message = b"From: a@example.com\r\nSubject: " + b"x" * 100 + b"\r\n\r\nbody\r\n"
    with pytest.raises(MessageLimitError):
        signer.sign(message)
    with pytest.raises(MessageLimitError):
        signer.sign_chunks([message[i : i + 10] for i in range(0, len(message), 10)])


def test_header_limit_chunk_boundary_inside_blank_line():
    """
    The chunked signer accepts what the whole-message signer accepts at the limit, even
    when a chunk boundary splits the empty line that ends a header of exactly the limit.
    """
    header = b"From: a@example.com\r\nSubject: x\r\n"
    key = SigningKey.from_ed25519_seed(bytes(32))
    signer = Signer(
        DefaultGenericPolicy("example.com", "s", key),
        clock=fixed_clock(),
        limits=MessageLimits(max_header_bytes=len(header)),
    )
    whole = signer.sign(header + b"\r\nbody\r\n")
    assert whole == signer.sign_chunks([header + b"\r", b"\nbody\r\n"])


@pytest.mark.parametrize("field", ["max_header_bytes", "max_header_fields"])
def test_limits_must_be_positive(field: str):
    """A zero limit is a ConfigurationError when the limits are built."""
    with pytest.raises(ConfigurationError):
        MessageLimits(**{field: 0})
