"""
Fuzz target: the DKIM key-record parser (RFC 6376 §3.6.1, RFC 8463).

Invariants: only RecordSyntaxError; a parsed record's ``p=`` is valid base64 of the key
it holds; the canonical record built from a parsed key parses to the same key; the
cached parser agrees with the plain one.
"""

from __future__ import annotations

import base64

import atheris

with atheris.instrument_imports(include=["oxdkim"]):
    from oxdkim import OxDkimError
    from oxdkim._dkim.keyrecord import parse_key_record, parse_key_record_cached

from _harness import run


def test_one_input(data: bytes) -> None:
    """Parse ``data`` as a key record and check what came out."""
    try:
        record = parse_key_record(data)
    except OxDkimError:
        return
    assert record == parse_key_record_cached(data)
    der = base64.b64decode(record.p, validate=True)
    assert record.revoked == (not der)
    if record.public_key is None:
        return
    assert record.bits is not None
    canonical = f"v=DKIM1; k={record.key_type}; p={record.p}".encode()
    again = parse_key_record(canonical)
    assert (record.key_type, record.p, record.bits) == (again.key_type, again.p, again.bits)


if __name__ == "__main__":
    run(test_one_input)
