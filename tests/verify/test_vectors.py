"""
Every vector in tests/vectors/published.tsv gives its expected result.

Rows with time ``-`` are verified at the real current time: none of those signatures
has an ``x=`` except stalwart/005 (which must then be expired), and their ``t=`` are
years in the past, so the answer does not depend on when the suite runs.

The ``?`` rows are choices, asserted here and explained in the report:

* stalwart/002-pkcs1-key: ``pass``. A bare PKCS#1 RSAPublicKey in ``p=`` is accepted,
  as Stalwart, go-msgauth, dkimpy and mailauth do; refusing it would fail real mail
  for no security gain (the key is the same key).
* stalwart/004-facebook-t-future: ``policy`` / ``timestamp-in-future`` with the default
  5-minute clock skew (the signature is 5.3 hours ahead of the verifying clock; OpenDKIM
  with its default ClockDrift of 300 s also refuses it); with ``clock_skew`` of 10 hours
  (dkimpy's slop) it passes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from oxdkim._verify.verifier import DkimReason, DkimResult, Verifier
from oxdkim.resolvers import ZoneFileResolver

from .support import VECTORS, fixed_clock


@attrs.frozen
class Row:
    id: str
    message: Path
    zone: Path
    time: int | None
    expected: tuple[str, ...]
    note: str


def _rows() -> list[Row]:
    rows = []
    for line in (VECTORS / "published.tsv").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        id_, message, zone, time, expected, note = line.split("\t")
        rows.append(
            Row(
                id_,
                VECTORS / message,
                VECTORS / zone,
                None if time == "-" else int(time),
                tuple(expected.split(",")),
                note,
            )
        )
    return rows


ROWS = _rows()
DECIDED = [r for r in ROWS if "?" not in r.expected]


def zone_resolver(path: Path) -> ZoneFileResolver:
    """
    The vector's zone file through the real zone-file resolver.

    ``from_vectors`` accepts the one string over 255 bytes (dkimpy's gmail key), which a
    master file cannot hold (RFC 1035 §3.3), by splitting it; it joins back to the same
    record (RFC 6376 §3.6.2.2).
    """
    return ZoneFileResolver.from_vectors(path)


def _verifier(row: Row, **options: object) -> Verifier:
    clock = (lambda: datetime.now(UTC)) if row.time is None else fixed_clock(row.time)
    return Verifier(zone_resolver(row.zone), clock=clock, **options)  # type: ignore[arg-type]


def test_manifest_is_read() -> None:
    """The manifest has all its rows, two of them open choices."""
    assert 14 == len(ROWS)
    assert 2 == len(ROWS) - len(DECIDED)


@pytest.mark.parametrize("row", DECIDED, ids=[r.id for r in DECIDED])
def test_published_vector(row: Row) -> None:
    """The vector's signatures give PASS/FAIL in order, or no result for NONE."""
    results = _verifier(row).verify(row.message.read_bytes())
    if row.expected == ("NONE",):
        assert () == results
        return
    assert row.expected == tuple("PASS" if r.passed else "FAIL" for r in results)


def test_expired_vector_is_fail_signature_expired() -> None:
    """stalwart/005 verified now: x= is long past, so fail / signature-expired."""
    (row,) = [r for r in ROWS if r.id == "stalwart/005-topicbox-expired"]
    (result,) = _verifier(row).verify(row.message.read_bytes())
    assert (DkimResult.FAIL, DkimReason.EXPIRED) == (result.result, result.reason)


def test_1024_bit_key_with_strict_flag_passes() -> None:
    """stalwart/004 passes at its time: 1024 bits is allowed, t=s holds (no i=)."""
    (row,) = [r for r in ROWS if r.id == "stalwart/004-facebook-1024"]
    (result,) = _verifier(row).verify(row.message.read_bytes())
    assert (True, 1024, "facebookmail.com") == (result.passed, result.key_bits, result.domain)


def test_choice_pkcs1_key_passes() -> None:
    """Choice: stalwart/002's bare PKCS#1 p= is accepted and the signature passes."""
    (row,) = [r for r in ROWS if r.id == "stalwart/002-pkcs1-key"]
    (result,) = _verifier(row).verify(row.message.read_bytes())
    assert DkimResult.PASS == result.result
    assert "joe@football.example.com" == result.auid


def test_choice_future_timestamp_is_policy_with_default_skew() -> None:
    """Choice: t= 5.3 h ahead of the clock is policy / timestamp-in-future by default."""
    (row,) = [r for r in ROWS if r.id == "stalwart/004-facebook-t-future"]
    resolver = zone_resolver(row.zone)
    verifier = Verifier(resolver, clock=fixed_clock(row.time or 0))
    (result,) = verifier.verify(row.message.read_bytes())
    assert (DkimResult.POLICY, DkimReason.TIMESTAMP_IN_FUTURE) == (result.result, result.reason)
    assert 0 == sum(resolver.queries.values())


def test_choice_future_timestamp_passes_with_dkimpy_slop() -> None:
    """With dkimpy's 10-hour slop as clock_skew, the same row passes."""
    (row,) = [r for r in ROWS if r.id == "stalwart/004-facebook-t-future"]
    (result,) = _verifier(row, clock_skew=timedelta(hours=10)).verify(row.message.read_bytes())
    assert DkimResult.PASS == result.result
