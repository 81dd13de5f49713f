"""
Fuzz target: body canonicalization (RFC 6376 §3.4.3-4), including the optional C code.

Invariants: the canonical body equals dkimpy's on the body as it arrives (with the final
CRLF SMTP adds); the C accelerator (when built) equals
the pure-Python reference byte for byte; streaming in any two chunks gives the same
digest as hashing the whole body.
"""

from __future__ import annotations

import hashlib
import re

import atheris

with atheris.instrument_imports(include=["oxdkim"]):
    from oxdkim import Canon
    from oxdkim._dkim.canon import BodyHasher, _relax_python, body_hash, canonicalize_body

from _harness import run
from dkim.canonicalization import Relaxed, Simple

try:
    from oxdkim._speedups import relax_body
except ImportError:  # not built: only the Python reference runs
    relax_body = None

DKIMPY = {Canon.SIMPLE: Simple, Canon.RELAXED: Relaxed}


def test_one_input(data: bytes) -> None:
    """Canonicalize ``data`` every way and compare."""
    if relax_body is not None:
        assert _relax_python(data) == relax_body(data)
    cut = data[0] % (len(data) + 1) if data else 0
    for canon in Canon:
        canonical = canonicalize_body(data, canon)
        # dkimpy is the oracle on the body as it arrives: SMTP ends it with CRLF.
        arrived = data if not data or data.endswith(b"\n") else data + b"\r\n"
        normalized = b"\r\n".join(re.split(b"\r?\n", arrived))
        assert bytes(DKIMPY[canon].canonicalize_body(normalized)) == canonical
        digest = body_hash(data, canon)
        assert hashlib.sha256(canonical).digest() == digest
        hasher = BodyHasher(canon, max_pending=16)
        hasher.update(data[:cut])
        hasher.update(data[cut:])
        assert digest == hasher.digest()


if __name__ == "__main__":
    run(test_one_input)
