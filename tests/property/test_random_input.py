"""
Only oxdkim's own exceptions come out of a public function fed random bytes.

Each property calls a function the way a caller would (right types, hostile content)
and lets any ``OxDkimError`` pass; anything else (ValueError, IndexError, a
UnicodeDecodeError, OverflowError, ...) fails the test. The atheris fuzz targets in
fuzz/ run the parsers the same way for much longer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import itertools
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxdkim import (
    Algorithm,
    AsyncVerifier,
    Canonicalization,
    DefaultGenericPolicy,
    DomainOwnership,
    FileKeyStore,
    KeyRing,
    OxDkimError,
    Signer,
    SigningKey,
    Verifier,
)
from oxdkim._dkim.address import parse_from_domain
from oxdkim._dkim.keyrecord import parse_key_record
from oxdkim._dkim.message import parse_message
from oxdkim._dkim.tags import parse_tag_list
from oxdkim._dmarc.record import DmarcRecord
from oxdkim.cli import main
from oxdkim.resolvers import InMemoryZone

T = TypeVar("T")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = SigningKey.from_ed25519_seed(bytes(range(32)))
SIGNER = Signer(DefaultGenericPolicy("random.example", "s", KEY), clock=lambda: NOW)
ZONE = InMemoryZone(
    {
        "s._domainkey.random.example": KEY.txt_record(),
        "bad._domainkey.random.example": "v=DKIM1; k=ed25519; p=!!",
    }
)
VERIFIER = Verifier(ZONE, clock=lambda: NOW)
MANY = settings(max_examples=400, deadline=None)
FEW = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

TAGGY = st.lists(
    st.one_of(
        st.sampled_from([b";", b"=", b" ", b"\r\n ", b"\r\n", b"v", b"p", b"k", b"DKIM1", b"a"]),
        st.binary(min_size=1, max_size=6),
    ),
    max_size=40,
).map(b"".join)
"""Bytes dense in tag-list syntax, so the parsers get past their first check."""

anything = st.one_of(st.binary(max_size=400), TAGGY)


def typed(call: Callable[[], T]) -> T | OxDkimError:
    """Run ``call``; an oxdkim error is a result, every other exception propagates."""
    try:
        return call()
    except OxDkimError as exc:
        return exc


@MANY
@given(data=anything)
def test_message_parser(data: bytes):
    """parse_message (strict and lenient) and from_domain raise only oxdkim errors."""
    for lenient in (False, True):
        parsed = typed(lambda lenient=lenient: parse_message(data, lenient=lenient))
        if not isinstance(parsed, OxDkimError):
            typed(parsed.from_domain)


@MANY
@given(data=anything)
def test_from_parser(data: bytes):
    """The From parser raises only FromHeaderError, also behind 'From: '."""
    typed(lambda: parse_from_domain(data))
    typed(lambda: parse_message(b"From:" + data + b"\r\n\r\n").from_domain())


@MANY
@given(data=anything, utf8=st.booleans())
def test_tag_list_parser(data: bytes, utf8: bool):
    """The tag-list parser raises only RecordSyntaxError; spans lie inside the input."""
    tags = typed(lambda: parse_tag_list(data, utf8=utf8))
    if not isinstance(tags, OxDkimError):
        for name in tags:
            start, end = tags.value_span(name)
            assert 0 <= start <= end <= len(data)


@MANY
@given(data=anything)
def test_key_record_parser(data: bytes):
    """The key-record parser raises only RecordSyntaxError, also after 'v=DKIM1; '."""
    typed(lambda: parse_key_record(data))
    typed(lambda: parse_key_record(b"v=DKIM1; k=ed25519; " + data))
    typed(lambda: parse_key_record(b"v=DKIM1; p=" + base64.b64encode(data)))


@MANY
@given(data=anything, text=st.text(max_size=200))
def test_dmarc_record_parser(data: bytes, text: str):
    """DMARC record parsing (strict, lenient; bytes and text) raises only oxdkim errors."""
    for record in (data, text, b"v=DMARC1; " + data, "v=DMARC1;" + text):
        typed(lambda record=record: DmarcRecord.parse(record))
        typed(lambda record=record: DmarcRecord.parse_lenient(record))


@MANY
@given(text=st.text(max_size=40))
def test_configuration_parsers(text: str):
    """Canonicalization.parse, Algorithm.parse and policy/ownership building refuse typed."""
    typed(lambda: Canonicalization.parse(text))
    typed(lambda: Algorithm.parse(text))
    typed(lambda: DefaultGenericPolicy(text, text, KEY))
    typed(lambda: DomainOwnership.from_tenants({text: [text]}))


@MANY
@given(data=anything)
def test_private_key_loader(data: bytes):
    """SigningKey.from_pem raises only KeyLoadError for random bytes and random 'PEM'."""
    typed(lambda: SigningKey.from_pem(data))
    pem = (
        b"-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(data) + b"-----END PRIVATE KEY-----\n"
    )
    typed(lambda: SigningKey.from_pem(pem))
    typed(lambda: SigningKey.from_pem(pem, password=b"x"))


@st.composite
def cuts(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    data = draw(anything)
    points = sorted(draw(st.lists(st.integers(0, len(data)), max_size=5)))
    edges = [0, *points, len(data)]
    return data, [data[a:b] for a, b in itertools.pairwise(edges)]


@MANY
@given(data=cuts())
def test_signer(data: tuple[bytes, list[bytes]]):
    """
    Signer.sign, sign_chunks, signed_message and decide raise only oxdkim errors, and
    sign_chunks signs exactly when sign does (with the same result). A message with two
    faults may be refused for a different one of them: the chunked path decides on the
    header before it reads the body.
    """
    message, chunks = data
    prefix = b"From: a@random.example\r\n"
    for raw, pieces in ((message, chunks), (prefix + message, [prefix, *chunks])):
        whole = typed(lambda raw=raw: SIGNER.sign(raw))
        typed(lambda raw=raw: SIGNER.signed_message(raw))
        typed(lambda raw=raw: SIGNER.decide(raw))
        chunked = typed(lambda pieces=pieces: SIGNER.sign_chunks(pieces))
        if isinstance(whole, OxDkimError):
            assert isinstance(chunked, OxDkimError)
        else:
            assert whole == chunked


@MANY
@given(data=anything, value=anything)
def test_verifier(data: bytes, value: bytes):
    """Verifier.verify raises only oxdkim errors, for random messages and signature fields."""
    typed(lambda: VERIFIER.verify(data))
    field = b"DKIM-Signature:" + value.replace(b"\n", b"\r\n ") + b"\r\n"
    results = typed(lambda: VERIFIER.verify(field + b"From: a@random.example\r\n\r\nbody\r\n"))
    if not isinstance(results, OxDkimError):
        assert 1 == len(results)


TAG_VALUES = st.one_of(
    st.binary(max_size=30),
    st.sampled_from(
        [b"1", b"ed25519-sha256", b"rsa-sha256", b"rsa-sha1", b"random.example", b"s", b"bad",
         b"x", b"from", b"from:subject", b"relaxed/simple", b"simple", b"AAAA", b"99999999999",
         b"9" * 80, b"dns/txt", b"@random.example", b"a=3D@random.example", b"=ZZ", b""]
    ),
)  # fmt: skip


@MANY
@given(
    tags=st.lists(
        st.tuples(
            st.sampled_from(
                ["v", "a", "b", "bh", "d", "s", "h", "c", "i", "l", "t", "x", "q", "z"]
            ),
            TAG_VALUES,
        ),
        max_size=12,
    )
)
def test_verifier_with_plausible_signature_fields(tags: list[tuple[str, bytes]]):
    """Signature fields built from real tag names and plausible values: one typed result."""
    value = b"; ".join(name.encode() + b"=" + tag for name, tag in tags)
    field = b"DKIM-Signature: " + value.replace(b"\n", b"\r\n ") + b"\r\n"
    results = typed(lambda: VERIFIER.verify(field + b"From: a@random.example\r\n\r\nbody\r\n"))
    if not isinstance(results, OxDkimError):
        assert 1 == len(results)
        assert results[0].reason is not None  # no random field is a valid signature


@settings(max_examples=100, deadline=None)
@given(value=anything)
def test_async_verifier(value: bytes):
    """AsyncVerifier.verify raises only oxdkim errors for random signature fields."""
    verifier = AsyncVerifier(ZONE.as_async(), clock=lambda: NOW)
    field = b"DKIM-Signature:" + value.replace(b"\n", b"\r\n ") + b"\r\n"
    typed(lambda: asyncio.run(verifier.verify(field + b"From: a@random.example\r\n\r\nb\r\n")))


@settings(max_examples=150, deadline=None)
@given(record=anything)
def test_key_record_from_dns_for_verifier_and_confirm(record: bytes):
    """A random key record in DNS: the verifier returns a result; confirm refuses typed."""
    zone = InMemoryZone({"s._domainkey.random.example": record})
    signed = SIGNER.signed_message(b"From: a@random.example\r\n\r\nbody\r\n")
    [result] = Verifier(zone, clock=lambda: NOW).verify(signed)
    assert result.reason is not None
    ring = KeyRing.from_keys(
        {"s": SigningKey.from_ed25519_seed(bytes(32)), "t": KEY},
        active="s",
        key_host="random.example",
    )
    ring.stage(SigningKey.from_ed25519_seed(bytes([7]) * 32), selector="t", now=NOW, replace=True)
    typed(lambda: ring.confirm("t", zone, now=NOW))


@MANY
@given(text=st.text(max_size=200))
def test_zone_text(text: str):
    """Zone-file text that dnspython cannot read is a ConfigurationError."""
    typed(lambda: InMemoryZone(zone_text=text))
    typed(lambda: InMemoryZone(zone_text="$ORIGIN example.\n" + text))


# -- key store and CLI: random files ---------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
STATE_PATHS = [
    (),
    ("timings",),
    ("timings", "retention"),
    ("slots",),
    ("slots", 0),
    ("slots", 0, "state"),
    ("slots", 0, "since"),
    ("slots", 0, "key_file"),
    ("slots", 1, "selector"),
    ("generation",),
    ("algorithm",),
    ("key_host",),
]


@pytest.fixture(scope="module")
def stored_ring(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    """A valid ring directory and its ring.json content."""
    directory = tmp_path_factory.mktemp("store") / "ring"
    FileKeyStore.create(
        directory, KeyRing.generate("ed25519-sha256", key_host="k.example").snapshot()
    )
    return directory, json.loads((directory / "ring.json").read_text())


@FEW
@given(where=st.sampled_from(STATE_PATHS), value=JSON, raw=st.binary(max_size=50))
def test_key_store_with_damaged_state(
    stored_ring: tuple[Path, dict[str, object]],
    where: tuple[object, ...],
    value: object,
    raw: bytes,
):
    """A ring.json with any value in any place (or random bytes) is a KeyStoreError."""
    directory, good = stored_ring
    state: object = json.loads(json.dumps(good))
    if where:
        parent: object = state
        for part in where[:-1]:
            parent = parent[part]  # type: ignore[index]
        parent[where[-1]] = value  # type: ignore[index]
    else:
        state = value
    for content in (json.dumps(state).encode(), raw):
        (directory / "ring.json").write_bytes(content)
        typed(lambda: FileKeyStore(directory).load())
    (directory / "ring.json").write_text(json.dumps(good))


@contextlib.contextmanager
def captured_output() -> Iterator[None]:
    """Swap stdout and stderr for byte-backed text streams (the CLI writes bytes too)."""
    saved = sys.stdout, sys.stderr
    sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def cli(argv: list[str]) -> int:
    """Run the CLI in-process; it must return an exit code, never raise."""
    with captured_output():
        return main(argv)


@FEW
@given(message=anything, zone=st.binary(max_size=200), key=anything)
def test_cli_with_random_files(message: bytes, zone: bytes, key: bytes):
    """sign, verify and records return exit codes 0-2 for random message, zone and key files."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "m.eml").write_bytes(message)
        (tmp / "zone").write_bytes(zone)
        (tmp / "key.pem").write_bytes(key)
        (tmp / "good.pem").write_bytes(KEY.private_pem())
        (tmp / "ring").mkdir()
        (tmp / "ring" / "ring.json").write_bytes(message)
        sign = ["sign", str(tmp / "m.eml"), "--domain", "random.example", "--selector", "s"]
        codes = [
            cli([*sign, "--key", str(tmp / "good.pem"), "--timestamp", "1700000000"]),
            cli([*sign, "--key", str(tmp / "key.pem")]),
            cli(["verify", str(tmp / "m.eml"), "--zone", str(tmp / "zone"), "--at", "1700000000"]),
            cli(["records", "--ring", str(tmp / "ring")]),
            cli(["ring", "status", str(tmp / "ring")]),
        ]
    assert set(codes) <= {0, 1, 2}


def test_cli_records_with_a_domains_file_that_is_not_utf8(tmp_path: Path):
    """records --domains-file with bytes that are not UTF-8 is a usage error (exit 2)."""
    (tmp_path / "domains").write_bytes(b"\xff\xfe alice.example\n")
    (tmp_path / "k.pem").write_bytes(KEY.private_pem())
    argv = ["records", "--generic", f"g.example:s:{tmp_path / 'k.pem'}"]
    assert 2 == cli([*argv, "--domains-file", str(tmp_path / "domains")])


@pytest.mark.parametrize("option", ["sign", "verify"])
def test_cli_time_options_out_of_range(tmp_path: Path, option: str):
    """An out-of-range --timestamp or --at is a usage error (exit 2), not a traceback."""
    (tmp_path / "m.eml").write_bytes(b"From: a@random.example\r\n\r\nbody\r\n")
    (tmp_path / "k.pem").write_bytes(KEY.private_pem())
    (tmp_path / "zone").write_text("$ORIGIN .\n")
    if option == "sign":
        argv = ["sign", str(tmp_path / "m.eml"), "--key", str(tmp_path / "k.pem")]
        argv += ["--domain", "random.example", "--selector", "s", "--timestamp", "9" * 20]
    else:
        argv = [
            "verify",
            str(tmp_path / "m.eml"),
            "--zone",
            str(tmp_path / "zone"),
            "--at",
            "9" * 20,
        ]
    assert 2 == cli(argv)
