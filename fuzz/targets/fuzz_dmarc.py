"""
Fuzz target: the DMARC record parser (RFC 9989 §4.7, RFC 7489 tags), strict and lenient.

Invariants: only RecordSyntaxError; a record the strict parser accepts has no problems
and equals the lenient parse; parsing the kept text again gives the same record; the
policy lookup always answers.
"""

from __future__ import annotations

import atheris

with atheris.instrument_imports(include=["oxdkim"]):
    from oxdkim import OxDkimError
    from oxdkim._dmarc.record import DmarcRecord, is_dmarc_record

from _harness import run


def test_one_input(data: bytes) -> None:
    """Parse ``data`` (as bytes and as text) and check the two parsers agree."""
    for record in (data, data.decode("utf-8", "replace")):
        try:
            lenient = DmarcRecord.parse_lenient(record)
        except OxDkimError:
            assert not is_dmarc_record(record)
            continue
        assert is_dmarc_record(record)
        assert lenient == DmarcRecord.parse_lenient(lenient.text)
        for subdomain in (False, True):
            for exists in (False, True):
                lenient.policy_for(subdomain=subdomain, exists=exists)
        try:
            strict = DmarcRecord.parse(record)
        except OxDkimError:
            assert lenient.problems
            continue
        assert not strict.problems
        assert strict == lenient


if __name__ == "__main__":
    run(test_one_input)
