"""
Fuzz target: the message parser and the From parser, then the signer and the verifier.

Invariants: only oxdkim errors; a parsed message keeps the body bytes exactly; the
signer signs whole and chunked alike; whatever the signer signs, oxdkim's own verifier
passes, as sent and after transport (final CRLF added, line ends made CRLF); and the
verifier answers every input without raising.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import atheris

with atheris.instrument_imports(include=["oxdkim"]):
    from oxdkim import DefaultGenericPolicy, DkimResult, OxDkimError, Signer, SigningKey, Verifier
    from oxdkim._dkim.address import parse_from_domain
    from oxdkim._dkim.message import find_body_start, parse_message
    from oxdkim.resolvers import InMemoryZone
    from oxdkim.testing import transport

from _harness import run

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = SigningKey.from_ed25519_seed(bytes(range(32)))
SIGNER = Signer(DefaultGenericPolicy("fuzz.example", "s", KEY), clock=lambda: NOW)
VERIFIER = Verifier(
    InMemoryZone({"s._domainkey.fuzz.example": KEY.txt_record()}), clock=lambda: NOW
)


def test_one_input(data: bytes) -> None:
    """Parse, sign and verify ``data``."""
    for lenient in (False, True):
        try:
            parsed = parse_message(data, lenient=lenient)
        except OxDkimError:
            continue
        _, body_start = find_body_start(data)
        assert data[body_start:] == parsed.body
        with contextlib.suppress(OxDkimError):
            parsed.from_domain()
    with contextlib.suppress(OxDkimError):
        parse_from_domain(data)
    try:
        results = SIGNER.sign(data)
    except OxDkimError:
        results = None
    cut = len(data) // 2
    try:
        chunked = SIGNER.sign_chunks([data[:cut], data[cut:]])
    except OxDkimError:
        chunked = None
    assert (results is None) == (chunked is None)
    assert results == chunked
    if results is not None:
        signed = results[0].header + data
        for arrived in (signed, transport(signed)):
            verdicts = VERIFIER.verify(arrived)
            assert verdicts[0].result == DkimResult.PASS, verdicts[0].message  # ours is on top
    VERIFIER.verify(data)  # never raises: every byte string gets results


if __name__ == "__main__":
    run(test_one_input)
