"""Type stub of the optional C accelerator (src/oxdkim/_speedups.c)."""

from collections.abc import Sequence
from typing import TypeVar, overload

_F = TypeVar("_F", bound=tuple[bytes, bytes])

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

def split_fields(block: bytes, field_type: type[_F], max_fields: int, /) -> list[_F] | None:
    """
    The header block's fields, each ``field_type(name, raw)``: the common case only
    (CRLF lines, ftext names); ``None`` for anything the Python parser must read.
    """

def parse_tags(
    data: bytes, utf8: bool, /
) -> tuple[dict[str, bytes], dict[str, tuple[int, int]]] | None:
    """
    An RFC 6376 tag list: values and the spans of the values with their whitespace;
    ``None`` for anything the Python parser refuses (it then says why).
    """
