"""Type stub of the optional C accelerator (src/oxdkim/_speedups.c)."""

from collections.abc import Sequence
from typing import overload

@overload
def relax_body(data: bytes | bytearray, /) -> bytes: ...
@overload
def relax_body(data: bytes | memoryview, /) -> bytes | memoryview:
    """
    Relaxed body rules on every line: CRLF line ends, WSP runs collapsed or dropped.
    When nothing changes, a ``bytes`` or ``memoryview`` argument is returned itself.
    """

def relax_headers(fields: Sequence[bytes | bytearray | memoryview], /) -> bytes:
    """The relaxed canonical form of each whole header field, joined (each ends CRLF)."""

def body_flaws(data: bytes | bytearray | memoryview, /) -> int:
    """Bits: 1 a NUL, 2 a CR followed by another byte than LF, 4 the last byte is a CR."""
