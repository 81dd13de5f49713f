"""
Regression tests for crashes that fuzzing and the random-input properties found.

Each test names the input that once made a non-oxdkim exception escape, and asserts the
typed result it gives now.
"""

from __future__ import annotations

import contextlib
import json
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from oxdkim import (
    ConfigurationError,
    DefaultGenericPolicy,
    DkimResult,
    FileKeyStore,
    KeyRing,
    KeyStoreError,
    RecordSyntaxError,
    SignatureOptions,
    Signer,
    SigningKey,
    Verifier,
)
from oxdkim._dkim import canon as _canon
from oxdkim._dkim.tags import parse_tag_list
from oxdkim._dmarc.record import DmarcRecord
from oxdkim._signing.results import MAX_EXPIRES_IN
from oxdkim.resolvers import InMemoryZone

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_dmarc_ri_with_thousands_of_digits_is_a_problem_not_a_crash():
    """
    ``ri=`` with more than 4300 digits is a record problem, not Python's int() ValueError.

    Found by the random-input property: ``int()`` refuses such strings (CVE-2020-10735
    guard) and the ValueError escaped ``DmarcRecord.parse_lenient``.
    """
    record = DmarcRecord.parse_lenient("v=DMARC1; p=reject; ri=" + "9" * 5000)
    assert ["ri"] == [problem.tag for problem in record.problems]
    assert 86400 == record.ri


def test_dmarc_ri_leading_zeros_do_not_count():
    """Leading zeros are digits like any other: ``ri=`` 6000 zeros then 5 is 5."""
    assert 5 == DmarcRecord.parse_lenient("v=DMARC1; p=none; ri=" + "0" * 6000 + "5").ri
    assert 4294967295 == DmarcRecord.parse_lenient("v=DMARC1; p=none; ri=04294967295").ri


# -- key store: a hand-edited or corrupted ring.json ------------------------------------


def _stored_ring(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    directory = tmp_path / "ring"
    ring = KeyRing.generate("ed25519-sha256", key_host="keys.brand.example")
    FileKeyStore.create(directory, ring.snapshot())
    return directory, json.loads((directory / "ring.json").read_text())


@pytest.mark.parametrize(
    ("where", "value"),
    [
        pytest.param("slots.0", None, id="slot-is-null"),
        pytest.param("slots.0", [], id="slot-is-a-list"),
        pytest.param("timings", None, id="timings-is-null"),
        pytest.param("timings.retention", 1e300, id="duration-overflows-timedelta"),
        pytest.param("key_host", [], id="key-host-is-a-list"),
    ],
)
def test_ring_state_of_the_wrong_shape_is_a_key_store_error(
    tmp_path: Path, where: str, value: object
):
    """
    A ring.json whose values have the wrong JSON type is a KeyStoreError.

    Found by the random-input property: AttributeError (``None.get``, ``[].endswith``)
    and OverflowError (``timedelta(seconds=1e300)``) escaped ``FileKeyStore.load``.
    """
    directory, state = _stored_ring(tmp_path)
    parent: Any = state
    *path, last = where.split(".")
    for part in path:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    if isinstance(parent, list):
        parent[int(last)] = value
    else:
        parent[last] = value
    (directory / "ring.json").write_text(json.dumps(state))
    with pytest.raises(KeyStoreError):
        FileKeyStore(directory).load()


@pytest.mark.parametrize(
    "key_file",
    ["/etc/passwd", "../outside.pem", "keys/../../outside.pem", "keys/sub/x.pem", "ring.json"],
)
def test_ring_state_cannot_name_a_key_file_outside_keys(tmp_path: Path, key_file: str):
    """A key_file that leaves the ring's keys/ directory is refused before it is opened."""
    directory, state = _stored_ring(tmp_path)
    (tmp_path / "outside.pem").write_bytes(b"not read")
    state["slots"][0]["key_file"] = key_file
    (directory / "ring.json").write_text(json.dumps(state))
    with pytest.raises(KeyStoreError, match="key_file"):
        FileKeyStore(directory).load()


def test_ring_directory_that_is_a_file_is_a_key_store_error(tmp_path: Path):
    """
    A ring "directory" that is a regular file is a KeyStoreError.

    Found by running ``oxdkim records --ring FILE``: NotADirectoryError escaped.
    """
    path = tmp_path / "not-a-directory"
    path.write_bytes(b"\x00random")
    with pytest.raises(KeyStoreError):
        FileKeyStore(path).load()


# -- signing options -------------------------------------------------------------------


def test_expiry_longer_than_a_century_is_refused():
    """
    ``expires_in`` beyond MAX_EXPIRES_IN is a ConfigurationError.

    Found by running ``oxdkim sign --expire 99999999999999999999999``: the signer wrote
    an ``x=`` of 23 digits, which oxdkim's own verifier (like others, RFC 6376 §3.5 allows
    12 digits) refuses as malformed.
    """
    with pytest.raises(ConfigurationError):
        SignatureOptions(expires_in=MAX_EXPIRES_IN + 1)


def test_longest_expiry_still_verifies():
    """A signature made with the longest allowed ``expires_in`` verifies with oxdkim's Verifier."""
    key = SigningKey.from_ed25519_seed(bytes(range(32)))
    options = SignatureOptions(expires_in=MAX_EXPIRES_IN)
    signer = Signer(DefaultGenericPolicy("example.com", "s", key, options), clock=lambda: NOW)
    message = b"From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n"
    signed = signer.signed_message(message)
    zone = InMemoryZone({"s._domainkey.example.com": key.txt_record()})
    [result] = Verifier(zone, clock=lambda: NOW).verify(signed)
    assert DkimResult.PASS == result.result


# -- regular-expression memory: possessive repeats --------------------------------------

MEMORY_BUDGET = 32 << 20
"""Peak Python allocation allowed to parse one 1 MB input (docs/security.md)."""


def _peak(function: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        with contextlib.suppress(RecordSyntaxError):
            function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"a=" + b"x " * 500_000 + b"x", id="many-words"),
        pytest.param(b"a=" + b"x " * 500_000 + b"\x01", id="many-words-then-a-bad-byte"),
        pytest.param(b"a=" + b"x\r\n " * 250_000 + b"x", id="many-folds"),
        pytest.param(b" " * 1_000_000 + b"a=b", id="long-leading-whitespace"),
        pytest.param(b" " * 1_000_000 + b"a b", id="long-whitespace-then-no-tag"),
    ],
)
def test_tag_list_of_one_megabyte_parses_in_bounded_memory(data: bytes):
    """
    A 1 MB tag list (the most a DKIM-Signature field can hold under the default header
    limit) parses, or is refused, within the memory budget.

    Found measuring the limits: the tag-spec pattern's plain ``*`` over (FWS, word)
    groups made the regex engine keep backtracking state per repetition, about 250 MB
    for a 1 MB field of "x x x ...".
    """
    assert MEMORY_BUDGET > _peak(lambda: parse_tag_list(data, utf8=True))


def test_dmarc_report_uri_of_64_kilobytes_parses_in_bounded_memory():
    """
    A ``rua=`` URI as long as a DNS answer can carry parses within the memory budget.

    Found measuring the limits: the URI pattern's plain ``+`` over an alternation kept
    backtracking state per character (8.5 MB for 64 KB).
    """
    record = "v=DMARC1; p=none; rua=mailto:" + "a" * 65_000 + "@example.com"
    assert MEMORY_BUDGET // 16 > _peak(lambda: DmarcRecord.parse_lenient(record))


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"x y  z\t\r\n" * (8 * 1024 * 1024 // 9), id="double-spaces-every-line"),
        pytest.param(b"a   " * (2 * 1024 * 1024), id="triple-spaces-everywhere"),
        pytest.param((b"a" * 31 + b"  ") * (256 * 1024), id="sparse-pairs"),
        pytest.param(b" " * (8 * 1024 * 1024), id="one-long-run"),
    ],
)
def test_pure_python_relaxed_body_in_linear_memory(body: bytes):
    """
    The pure-Python relaxed pass (the reference, used without the C accelerator) takes
    at most 4x the body in memory.

    Found measuring the limits with OXDKIM_PURE_PYTHON=1: ``re.sub`` over the whole body
    held about 270 bytes per run of spaces until it joined them, 26x the body for "x y  z"
    lines and 45x for "a   a   ..." (905 MB to sign a 32 MB message).
    """
    assert _canon._relax_lines(body) == _reference_relax(body)
    assert 4 * len(body) > _peak(lambda: _canon._relax_python(body))


def _reference_relax(data: bytes) -> bytes:
    """
    The relaxed line rules written the slow, obvious way (data has CRLF line ends; the
    end of the data ends a line, as transport will make it).
    """
    data = data.replace(b"\t", b" ")
    while b"  " in data:
        data = data.replace(b"  ", b" ")
    data = data.replace(b" \r\n", b"\r\n")
    return data.removesuffix(b" ")
