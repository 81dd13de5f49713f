"""Type stub of the optional C accelerator (src/oxdkim/_speedups.c)."""

def relax_body(data: bytes | bytearray | memoryview, /) -> bytes:
    """Relaxed body rules on every line: CRLF line ends, WSP runs collapsed or dropped."""
