"""
Canonicalization (RFC 6376 §3.4): the go-msgauth tables, and differential tests against
dkimpy's implementation for generated bodies and headers.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from typing import Any

import pytest
from dkim.canonicalization import Relaxed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyfiles import VECTORS
from oracles import dkimpy_body
from oxdkim import Canon, Canonicalization, ConfigurationError
from oxdkim._dkim.canon import BodyHasher, body_hash, canonicalize_body, canonicalize_header

TABLE: list[dict[str, Any]] = json.loads(
    (VECTORS / "canonicalization" / "go-msgauth-canonical.json").read_text()
)["cases"]
BODY_ROWS = [row for row in TABLE if row["kind"].endswith("-body")]
HEADER_ROWS = [row for row in TABLE if row["kind"] == "relaxed-header"]
CHUNKED_ROWS = [row for row in BODY_ROWS if "written_in_chunks" in row]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _canon(row: dict[str, Any]) -> Canon:
    return Canon(row["kind"].split("-")[0])


def _b(text: str) -> bytes:
    return text.encode("utf-8")


def test_table_is_complete():
    """The vector file has the rows these tests expect (guards against an empty parametrize)."""
    assert (20, 4, 3) == (len(BODY_ROWS), len(HEADER_ROWS), len(CHUNKED_ROWS))


@pytest.mark.parametrize("row", BODY_ROWS, ids=lambda r: f"{r['kind']}:{r['input']!r}")
def test_body_table(row: dict[str, Any]):
    """Every go-msgauth body row: the canonical bytes and the published body hash."""
    canon = _canon(row)
    assert _b(row["expected"]) == canonicalize_body(_b(row["input"]), canon)
    assert (
        row["bh_sha256_expected"] == base64.b64encode(body_hash(_b(row["input"]), canon)).decode()
    )


@pytest.mark.parametrize("row", CHUNKED_ROWS, ids=lambda r: f"{r['kind']}:{r['input']!r}")
def test_body_table_streamed_in_published_chunks(row: dict[str, Any]):
    """Rows written in chunks give the published hash through BodyHasher, with those chunks."""
    hasher = BodyHasher(_canon(row))
    for chunk in row["written_in_chunks"]:
        hasher.update(_b(chunk))
    assert row["bh_sha256_expected"] == base64.b64encode(hasher.digest()).decode()


@pytest.mark.parametrize("row", BODY_ROWS, ids=lambda r: f"{r['kind']}:{r['input']!r}")
def test_body_table_streamed_byte_by_byte(row: dict[str, Any]):
    """Every body row gives the published hash when fed one byte at a time."""
    hasher = BodyHasher(_canon(row), max_pending=1)
    for byte in _b(row["input"]):
        hasher.update(bytes([byte]))
    assert row["bh_sha256_expected"] == base64.b64encode(hasher.digest()).decode()


@pytest.mark.parametrize("row", HEADER_ROWS, ids=lambda r: repr(r["input"]))
def test_header_table(row: dict[str, Any]):
    """Every go-msgauth relaxed-header row."""
    assert _b(row["expected"]) == canonicalize_header(_b(row["input"]), Canon.RELAXED)


def test_simple_header_is_identity():
    """Simple header canonicalization returns the field's bytes unchanged."""
    field = b"SubjeCT \t:  Kimi \t \r\n No\r\n"
    assert field == canonicalize_header(field, Canon.SIMPLE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("relaxed/relaxed", Canonicalization(Canon.RELAXED, Canon.RELAXED)),
        ("simple/relaxed", Canonicalization(Canon.SIMPLE, Canon.RELAXED)),
        ("Relaxed / Simple", Canonicalization(Canon.RELAXED, Canon.SIMPLE)),
        ("relaxed", Canonicalization(Canon.RELAXED, Canon.SIMPLE)),
        ("simple", Canonicalization(Canon.SIMPLE, Canon.SIMPLE)),
    ],
)
def test_canonicalization_parse(value: str, expected: Canonicalization):
    """c= values parse; a lone algorithm means that/simple (RFC 6376 §3.5)."""
    assert expected == Canonicalization.parse(value)


@pytest.mark.parametrize("value", ["", "relaxed/relaxed/relaxed", "nofws", "simple/loose", "/"])
def test_canonicalization_parse_refuses(value: str):
    """Anything else is a ConfigurationError."""
    with pytest.raises(ConfigurationError):
        Canonicalization.parse(value)


def test_default_canonicalization_is_relaxed_relaxed():
    """The default pair is relaxed/relaxed, rendered as its c= value."""
    assert "relaxed/relaxed" == str(Canonicalization())


# -- differential tests against dkimpy ------------------------------------------------

BODY_ALPHABET = st.sampled_from(
    [b" ", b"\t", b"\r", b"\n", b"\r\n", b"a", b"b", b"\xc3\xa9", b"  "]
)
bodies = st.lists(BODY_ALPHABET, max_size=40).map(b"".join)


@SETTINGS
@given(body=bodies, canon=st.sampled_from(Canon))
def test_body_equals_dkimpy(body: bytes, canon: Canon):
    """canonicalize_body equals dkimpy's for any body over SP, HTAB, CR, LF and letters."""
    assert dkimpy_body(body, canon) == canonicalize_body(body, canon)


@st.composite
def chunked(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    body = draw(bodies)
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=12)))
    bounds = [0, *cuts, len(body)]
    return body, [body[a:b] for a, b in itertools.pairwise(bounds)]


@SETTINGS
@given(data=chunked(), canon=st.sampled_from(Canon), max_pending=st.integers(1, 8))
def test_body_hasher_any_chunking(data: tuple[bytes, list[bytes]], canon: Canon, max_pending: int):
    """BodyHasher gives the whole-bytes digest for any chunking, even with tiny max_pending."""
    body, chunks = data
    hasher = BodyHasher(canon, max_pending=max_pending)
    for chunk in chunks:
        hasher.update(chunk)
    assert hashlib.sha256(dkimpy_body(body, canon)).digest() == hasher.digest()


@pytest.mark.parametrize("kind", [bytearray, memoryview])
def test_body_hasher_accepts_bytes_like(kind: type):
    """BodyHasher takes bytearray and memoryview chunks and gives the same digest."""
    body = b"line one  \r\nline\ttwo\r\n\r\npartial"
    hasher = BodyHasher(Canon.RELAXED)
    for start in range(0, len(body), 5):
        hasher.update(kind(body[start : start + 5]))
    assert body_hash(body, Canon.RELAXED) == hasher.digest()


def test_body_hasher_does_not_keep_caller_buffer():
    """A caller that reuses its read buffer after update() does not change the hash."""
    buffer = bytearray(b"no line end yet")
    hasher = BodyHasher(Canon.SIMPLE)
    hasher.update(buffer)
    buffer[:] = b"XXXXXXXXXXXXXXX"
    hasher.update(b"\r\n")
    assert body_hash(b"no line end yet\r\n", Canon.SIMPLE) == hasher.digest()


def test_body_hasher_bounded_memory():
    """A long line without a line ending is hashed in pieces; pending stays near max_pending."""
    hasher = BodyHasher(Canon.RELAXED, max_pending=64)
    piece = b"word  \t " * 100
    for _ in range(50):
        hasher.update(piece)
        assert len(hasher._pending) <= 64 + len(piece)
    assert body_hash(piece * 50, Canon.RELAXED) == hasher.digest()


HEADER_NAMES = st.sampled_from(["Subject", "SUBJECT", "X-Test", "to", "Content-Type", "x_y.z"])
VALUE_TEXT = st.lists(
    st.sampled_from([" ", "\t", "  ", "a", "b", "Ü", ";", "=", ":", "\r\n ", "\r\n\t", "\r\n  \t"]),
    max_size=20,
).map("".join)


@SETTINGS
@given(name=HEADER_NAMES, gap=st.sampled_from(["", " ", "\t", " \t"]), value=VALUE_TEXT)
def test_relaxed_header_equals_dkimpy(name: str, gap: str, value: str):
    """Relaxed header canonicalization equals dkimpy's for generated (folded) fields."""
    if value.startswith("\r\n"):
        value = "x" + value
    raw = f"{name}{gap}:{value}\r\n".encode()
    colon = raw.index(b":")
    [(dk_name, dk_value)] = Relaxed.canonicalize_headers([(raw[:colon], raw[colon + 1 :])])
    assert dk_name + b":" + dk_value == canonicalize_header(raw, Canon.RELAXED)


def test_bare_lf_body_same_as_crlf():
    """A bare-LF body canonicalizes like its CRLF twin (both algorithms)."""
    for canon in Canon:
        assert canonicalize_body(b"a \r\nb\r\n\r\n", canon) == canonicalize_body(
            b"a \nb\n\n", canon
        )
