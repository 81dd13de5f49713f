"""
Chunk boundaries never change a body hash or a signature, for any bytes and any cuts
(tests/signing covers small alphabets; here the bytes are arbitrary and chunks may be
empty, single bytes, bytearrays or memoryviews).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from oracles import attempt
from oxdkim import (
    Canon,
    Canonicalization,
    DefaultGenericPolicy,
    SignatureOptions,
    Signer,
    SigningKey,
)
from oxdkim._dkim.canon import BodyHasher, body_hash

from .strategies import FAST, SLOW, bodies, messages

KINDS = st.sampled_from([bytes, bytearray, memoryview])
KEY = SigningKey.from_ed25519_seed(bytes(32))
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@st.composite
def cut(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` cut at arbitrary points (repeated points give empty chunks)."""
    points = sorted(draw(st.lists(st.integers(0, len(data)), max_size=20)))
    return [data[a:b] for a, b in itertools.pairwise([0, *points, len(data)])]


@st.composite
def chunked_bodies(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    body = draw(bodies)
    return body, draw(cut(body))


@FAST
@given(data=chunked_bodies(), canon=st.sampled_from(Canon), kind=KINDS, pending=st.integers(1, 64))
def test_body_hash_independent_of_chunking(
    data: tuple[bytes, list[bytes]], canon: Canon, kind: type, pending: int
):
    """BodyHasher fed any cut of any body, in any buffer type, gives body_hash's digest."""
    body, chunks = data
    hasher = BodyHasher(canon, max_pending=pending)
    for chunk in chunks:
        hasher.update(kind(chunk))
    assert body_hash(body, canon) == hasher.digest()


@FAST
@given(data=chunked_bodies(), canon=st.sampled_from(Canon))
def test_byte_by_byte_equals_whole(data: tuple[bytes, list[bytes]], canon: Canon):
    """The extreme cut, one byte per chunk, changes nothing either."""
    body, _ = data
    hasher = BodyHasher(canon, max_pending=1)
    for index in range(len(body)):
        hasher.update(body[index : index + 1])
    assert body_hash(body, canon) == hasher.digest()


@st.composite
def chunked_messages(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    message = draw(messages("chunks.example"))
    return message, draw(cut(message))


@SLOW
@given(
    data=chunked_messages(),
    header=st.sampled_from(Canon),
    body=st.sampled_from(Canon),
    kind=KINDS,
)
def test_sign_chunks_equals_sign(
    data: tuple[bytes, list[bytes]], header: Canon, body: Canon, kind: type
):
    """sign_chunks gives the same signature fields as sign, wherever the cuts fall."""
    message, chunks = data
    options = SignatureOptions(canonicalization=Canonicalization(header, body))
    signer = Signer(DefaultGenericPolicy("chunks.example", "s", KEY, options), clock=lambda: NOW)
    whole = attempt(signer.sign, message)
    assert whole == attempt(signer.sign_chunks, [kind(chunk) for chunk in chunks])
