"""
Every public parser on pathological input: time per KB at 64 KB, 256 KB and 1 MB.

A parser that is linear in its input spends the same time per KB at every size, so the
ratio of the 1 MB figure to the 64 KB figure stays near 1; a quadratic one doubles it
with every doubling of the size (16x from 64 KB to 1 MB). Each input repeats one short
unit (runs of spaces, tabs, folds, quotes, parentheses, angle brackets, commas,
backslashes, ...) up to the size, then ends in a letter, where the regular expressions
that backtrack are made to fail.

``tests/hostile/test_linear_time.py`` feeds the same inputs, at 1 MB, to every parser
under a hang guard; this script reports the figures (``python benchmarks/parsers.py``).
Answers are whatever the parser gives: a result or an oxdkim error, never a hang.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from oxdkim import (
    DefaultGenericPolicy,
    DmarcRecord,
    MessageLimits,
    OxDkimError,
    Signer,
    SigningKey,
    Verifier,
)
from oxdkim.audit import parse_domain_list
from oxdkim.cli._dmarc import _from_domains, _return_path
from oxdkim.dmarc import SpfRecord
from oxdkim.resolvers import InMemoryZone, ZoneFileResolver

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = SigningKey.from_ed25519_seed(bytes(32))
LIMITS = MessageLimits(max_header_bytes=4 << 20)  # the 1 MB inputs must reach the parsers
SIGNER = Signer(DefaultGenericPolicy("dkim.example", "s", KEY), clock=lambda: NOW, limits=LIMITS)
FROM = b"From: a@example.com\r\n"
SIG = b"DKIM-Signature: v=1; a=ed25519-sha256; d=example.com; s=s; t=1; bh=AAAA; b=AAAA; "
SIZES = {"64KB": 64 << 10, "256KB": 256 << 10, "1MB": 1 << 20}

PATTERNS: dict[str, bytes] = {
    "spaces": b" ",
    "tabs": b"\t",
    "folds": b"\r\n ",
    "quotes": b'"',
    "open-parens": b"(",
    "close-parens": b")",
    "paren-space": b"( ",
    "angle-open": b"<",
    "angle-close": b">",
    "commas": b",",
    "backslashes": b"\\",
    "escaped-parens": b"\\(",
    "word-space": b"a ",
    "dots": b"a.",
    "ats": b"a@",
    "semicolons": b";",
    "equals": b"=",
    "colons": b"a:",
    "tag-pairs": b"a=b;",
    "encoded-word": b"=?",
}


def pathological(unit: bytes, size: int) -> bytes:
    """``unit`` repeated to ``size`` bytes, then one letter (where backtracking fails)."""
    return unit * (size // len(unit)) + b"x"


def _verify(message: bytes, zone: InMemoryZone | None = None) -> object:
    return Verifier(zone or InMemoryZone({}), clock=lambda: NOW, limits=LIMITS).verify(message)


def _key_record(data: bytes) -> object:
    """A signature whose key record is ``data`` (the verifier parses the TXT)."""
    message = SIG.replace(b"b=AAAA; ", b"b=AAAA; h=from") + b"\r\n" + FROM + b"\r\nx\r\n"
    zone = InMemoryZone({"s._domainkey.example.com": data.decode("latin-1")})
    return _verify(message, zone)


def _zone_file(data: bytes) -> object:
    return ZoneFileResolver.from_text("$ORIGIN example.\n@ 300 IN TXT " + data.decode("latin-1"))


PARSERS: dict[str, Callable[[bytes], object]] = {
    "From (sign)": lambda d: SIGNER.sign(b"From: " + d + b"\r\n\r\nbody\r\n"),
    "header block (sign)": lambda d: SIGNER.sign(FROM + b"X-Junk: " + d + b"\r\n\r\nbody\r\n"),
    "header block (verify)": lambda d: _verify(b"X-Junk: " + d + b"\r\n" + FROM + b"\r\nx\r\n"),
    "header names (verify)": lambda d: _verify(FROM + d + b"\r\n\r\nx\r\n"),
    "DKIM-Signature tags": lambda d: _verify(b"DKIM-Signature: " + d + b"\r\n" + FROM + b"\r\n"),
    "DKIM-Signature h=": lambda d: _verify(SIG + b"h=" + d + b"\r\n" + FROM + b"\r\n"),
    "DKIM-Signature i=": lambda d: _verify(SIG + b"h=from; i=" + d + b"\r\n" + FROM + b"\r\n"),
    "DKIM-Signature d=": lambda d: _verify(
        SIG.replace(b"d=example.com", b"d=" + d) + b"h=from\r\n" + FROM + b"\r\n"
    ),
    "key record": _key_record,
    "relaxed body (sign)": lambda d: SIGNER.sign(FROM + b"\r\n" + d),
    "DMARC record": lambda d: DmarcRecord.parse_lenient(d.decode("latin-1")),
    "SPF record": lambda d: SpfRecord.parse(b"v=spf1 " + d),
    "zone file": _zone_file,
    "domain list": lambda d: parse_domain_list(d.decode("latin-1").splitlines()),
    "From, every author (oxdkim dmarc)": lambda d: _from_domains(
        b"From: a@example.com, " + d + b"\r\n\r\nbody\r\n"
    ),
    "Return-Path (oxdkim dmarc)": lambda d: _return_path(
        FROM + b"Return-Path: " + d + b"\r\n\r\nbody\r\n"
    ),
}


def answer(parser: Callable[[bytes], object], data: bytes) -> str:
    """Run one parser; its answer in a word: ``ok`` or the oxdkim error's class name."""
    try:
        parser(data)
    except OxDkimError as exc:
        return type(exc).__name__
    return "ok"


def time_one(parser: Callable[[bytes], object], data: bytes, rounds: int) -> float:
    """Median seconds of ``rounds`` calls."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        answer(parser, data)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(
    parsers: Sequence[str], patterns: Sequence[str], rounds: int
) -> list[dict[str, object]]:
    """µs per KB for every parser and pattern at every size, and the 1 MB / 64 KB ratio."""
    rows: list[dict[str, object]] = []
    for name in parsers:
        for pattern in patterns:
            per_kb = {}
            for label, size in SIZES.items():
                data = pathological(PATTERNS[pattern], size)
                per_kb[label] = time_one(PARSERS[name], data, rounds) / (size / 1024) * 1e6
            rows.append(
                {
                    "parser": name,
                    "pattern": pattern,
                    "us_per_kb": per_kb,
                    "ratio_1mb_to_64kb": per_kb["1MB"] / max(per_kb["64KB"], 1e-9),
                    "answer": answer(PARSERS[name], pathological(PATTERNS[pattern], 1 << 10)),
                }
            )
    return rows


def format_rows(rows: list[dict[str, object]]) -> str:
    """A text table, worst ratio first within each parser."""
    lines = [f"{'parser':<24} {'pattern':<15} {'64KB':>8} {'256KB':>8} {'1MB':>8} {'ratio':>6}"]
    for row in rows:
        per_kb = row["us_per_kb"]
        assert isinstance(per_kb, dict)
        lines.append(
            f"{row['parser']!s:<24} {row['pattern']!s:<15} {per_kb['64KB']:>8.2f} "
            f"{per_kb['256KB']:>8.2f} {per_kb['1MB']:>8.2f} {row['ratio_1mb_to_64kb']:>6.2f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print (and write JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--parser", action="append", choices=sorted(PARSERS), help="repeatable")
    parser.add_argument("--pattern", action="append", choices=sorted(PATTERNS), help="repeatable")
    parser.add_argument("--rounds", type=int, default=3, help="timed calls per cell (median)")
    parser.add_argument("--json", type=Path, help="write the rows as JSON")
    args = parser.parse_args(argv)
    rows = measure(args.parser or list(PARSERS), args.pattern or list(PATTERNS), args.rounds)
    print("µs per KB of input (median of rounds); ratio = 1 MB figure / 64 KB figure")
    print(format_rows(rows))
    worst = max(rows, key=lambda row: float(row["ratio_1mb_to_64kb"]))  # type: ignore[arg-type]
    print(f"worst ratio: {worst['ratio_1mb_to_64kb']:.2f} ({worst['parser']}, {worst['pattern']})")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
