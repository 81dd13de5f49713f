"""The optional C accelerator gives exactly the bytes of the pure-Python reference."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxdkim import _canon

speedups = (
    pytest.importorskip("oxdkim._speedups")
    if not os.environ.get("OXDKIM_REQUIRE_SPEEDUPS")
    else __import__("oxdkim._speedups", fromlist=["relax_body"])
)

WSP_RICH = st.lists(
    st.sampled_from([b" ", b"\t", b"\r", b"\n", b"\r\n", b"a", b"\x00", b"\xff", b"  x"]),
    max_size=40,
).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=200), WSP_RICH))
def test_relax_body_equals_the_python_reference(data: bytes) -> None:
    """C and Python relaxed passes agree on arbitrary bytes."""
    assert _canon._relax_python(data) == speedups.relax_body(data)


def test_relax_body_takes_any_buffer_and_leaves_it_alone() -> None:
    """bytearray and memoryview inputs work and are not modified."""
    data = bytearray(b"a \t b  \r\nc\n")
    before = bytes(data)
    assert b"a b\r\nc\r\n" == speedups.relax_body(data)
    assert b"a b\r\nc\r\n" == speedups.relax_body(memoryview(data))
    assert before == data
    assert b"" == speedups.relax_body(b"")


def test_the_canonicalizer_uses_the_accelerator_when_built() -> None:
    """ACCELERATED says whether the C pass is in use (unless OXDKIM_PURE_PYTHON is set)."""
    assert (not os.environ.get("OXDKIM_PURE_PYTHON")) == _canon.ACCELERATED
