"""
Speed of oxdkim against dkimpy, OpenDKIM and the raw OpenSSL floor, in one run (issues 2, 16).

Builds a deterministic corpus (1 KB, 10 KB, 100 KB, 1 MB messages with whitespace that
relaxed canonicalization must work on), signs every message with

* ``oxdkim``: a :class:`~oxdkim.Signer` with a :class:`~oxdkim.DefaultGenericPolicy`,
  the key parsed once before timing;
* ``dkimpy``: ``dkim.sign(...)`` as its users call it, parsing the key on every call;
* ``opendkim``: libopendkim (Debian's ``libopendkim-dev``) through a small C shim built at
  run time (``opendkim_peer.c``) and called by ctypes, one call per message;
* ``floor``: SHA-256 of the whole message plus one OpenSSL signature with a key object
  parsed in advance, nothing else;

for RSA-2048 and Ed25519, relaxed/relaxed, and reports messages per second, the median of
the per-round ratios, relaxed canonicalize-and-hash throughput on the 1 MB body,
verification rates (DNS answered from memory), the ratio table of issue 16, signing with
threads and processes, and peak memory of streaming signing. Every signature made is first
checked (dkimpy, oxdkim and OpenDKIM verify each other's), so a fast wrong answer cannot
look good.

Run ``python benchmarks/run.py --help``; ``nox -s bench`` runs it with the bench extra.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import math
import multiprocessing
import os
import platform
import random
import re
import resource
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import dkim
import dkim.canonicalization
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils

import oxdkim
from oxdkim._dkim.canon import Canon, body_hash
from oxdkim._dkim.message import find_body_start

SCHEMA = 2
SEED = 6376
DOMAIN = "bench.example"
SELECTORS = {"rsa-sha256": "rsa2048", "ed25519-sha256": "ed25519"}
ALGORITHMS = ("rsa-sha256", "ed25519-sha256")
IMPLEMENTATIONS = ("oxdkim", "dkimpy", "opendkim", "floor")
SIZES = {"1KB": 1 << 10, "10KB": 10 << 10, "100KB": 100 << 10, "1MB": 1 << 20}
MB = 1_000_000  # throughput is reported in MB/s = 10**6 bytes per second
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"

Fn = Callable[[bytes], object]


def _sibling(name: str) -> ModuleType:
    """A module next to this script (run.py is also imported by path, not as a package)."""
    full = f"oxdkim_bench_{name}"
    if full in sys.modules:
        return sys.modules[full]
    spec = importlib.util.spec_from_file_location(
        full, Path(__file__).resolve().parent / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    spec.loader.exec_module(module)
    return module


opendkim_peer = _sibling("opendkim_peer")

# --------------------------------------------------------------------------- corpus

_TEXT = (
    "the quarterly report shows revenue growth across all regions and the team "
    "thanks everyone for their work on the migration project please review the "
    "attached figures before our meeting on thursday invoice account balance "
    "shipping order delivery customer support newsletter update schedule "
    "agenda minutes action items deadline budget forecast summary"
)
_WORDS = _TEXT.split()


def _received(rng: random.Random, hop: int) -> str:
    ip = f"192.0.2.{rng.randrange(1, 255)}"
    queue = "".join(rng.choice("0123456789ABCDEF") for _ in range(10))
    return (
        f"Received: from mx{hop}.relay.example (mx{hop}.relay.example [{ip}])\r\n"
        f"\tby smtp{hop}.bench.example (Postfix) with ESMTPS id {queue}\r\n"
        f"\tfor <bob@recipient.example>; Tue, 4 Nov 2025 10:0{hop}:1{hop} +0000\r\n"
    )


def _headers(rng: random.Random, size: int) -> bytes:
    msgid = "".join(rng.choice("0123456789abcdef") for _ in range(24))
    lines = [_received(rng, hop) for hop in range(3)]
    lines += [
        'From: "Alice Example" <alice@customer.example>\r\n',
        "To: Bob Recipient <bob@recipient.example>,\r\n\tcarol@recipient.example\r\n",
        f"Subject:  Quarterly   report\t({size} bytes)  \r\n",
        "Date: Tue, 04 Nov 2025 10:00:00 +0000\r\n",
        f"Message-ID: <{msgid}@customer.example>\r\n",
        "MIME-Version: 1.0\r\n",
        'Content-Type: text/plain; charset="us-ascii"; format=flowed\r\n',
        "Content-Transfer-Encoding: 7bit\r\n",
    ]
    return "".join(lines).encode("ascii")


def _body_line(rng: random.Random) -> str:
    """One line of text; many carry the whitespace relaxed canonicalization rewrites."""
    roll = rng.random()
    if roll < 0.08:
        return ""  # paragraph break
    if roll < 0.11:
        return rng.choice((" ", "\t", "  \t "))  # a line of whitespace only
    words = [rng.choice(_WORDS) for _ in range(rng.randrange(4, 13))]
    text = ""
    for word in words:
        gap = rng.random()
        if not text:
            sep = ""
        elif gap < 0.75:
            sep = " "
        elif gap < 0.9:
            sep = " " * rng.randrange(2, 6)  # a run of spaces
        else:
            sep = rng.choice(("\t", " \t", "\t\t "))
        text += sep + word
    if rng.random() < 0.35:
        text += rng.choice((" ", "  ", "\t", " \t  ", "    "))  # trailing whitespace
    return text


def build_message(size: int, seed: int = SEED) -> bytes:
    """
    One message of exactly ``size`` bytes, CRLF line endings, deterministic for a seed.

    The body ends with three empty lines (relaxed and simple both drop them).
    """
    rng = random.Random(seed * 1_000_003 + size)
    head = _headers(rng, size) + b"\r\n"
    tail = b"\r\n" * 3
    budget = size - len(head) - len(tail)
    if budget < 8:
        raise ValueError(f"{size} bytes is too small for the headers ({len(head)} bytes)")
    lines: list[bytes] = []
    used = 0
    while True:
        line = _body_line(rng).encode("ascii") + b"\r\n"
        if used + len(line) > budget:
            break
        lines.append(line)
        used += len(line)
    rest = budget - used
    if rest >= 3:
        lines.append(b"x" * (rest - 2) + b"\r\n")
    elif rest:  # widen a run of spaces inside the last line
        last = lines[-1]
        cut = last.find(b" ")
        cut = cut if cut > 0 else 0
        lines[-1] = last[:cut] + b" " * rest + last[cut:]
    message = head + b"".join(lines) + tail
    assert len(message) == size, (len(message), size)
    return message


def build_corpus(sizes: Sequence[str] = tuple(SIZES), seed: int = SEED) -> dict[str, bytes]:
    """The benchmark messages by size label (``"1KB"`` ... ``"1MB"``)."""
    return {label: build_message(SIZES[label], seed) for label in sizes}


def split_body(message: bytes) -> bytes:
    """The body bytes of ``message`` (after the empty line)."""
    return message[find_body_start(message)[1] :]


# --------------------------------------------------------------------------- keys


class Keys:
    """The benchmark keys in every form the three implementations want, made once."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.oxdkim = {
            "rsa-sha256": oxdkim.SigningKey.from_private_key(self.rsa),
            "ed25519-sha256": oxdkim.SigningKey.from_private_key(self.ed),
        }
        seed = self.ed.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        # dkimpy reads a PKCS#1 PEM for RSA and the base64 raw seed for Ed25519.
        self.dkimpy = {
            "rsa-sha256": self.rsa.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ),
            "ed25519-sha256": base64.b64encode(seed),
        }
        # libopendkim reads PEM (or base64 DER) text and parses it for every message.
        self.opendkim = {
            "rsa-sha256": self.dkimpy["rsa-sha256"],
            "ed25519-sha256": self.ed.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        }

    def txt_records(self) -> dict[str, str]:
        """``{algorithm: TXT value}`` as oxdkim renders them."""
        return {alg: key.txt_record() for alg, key in self.oxdkim.items()}


def key_name(algorithm: str) -> str:
    """The DNS name of the key record for ``algorithm``."""
    return f"{SELECTORS[algorithm]}._domainkey.{DOMAIN}"


def dkimpy_dns(records: dict[str, str]) -> Callable[..., bytes | None]:
    """A dkimpy ``dnsfunc`` answering from memory."""
    table = {key_name(alg).encode("ascii"): txt.encode("ascii") for alg, txt in records.items()}

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        return table.get(name.rstrip(b"."))

    return dnsfunc


# --------------------------------------------------------------------------- signers

_PKCS1V15 = padding.PKCS1v15()
_PREHASHED = utils.Prehashed(hashes.SHA256())


def signers(keys: Keys, algorithm: str, peer: Any = None) -> dict[str, Fn]:
    """``{implementation: message -> signature}`` for one algorithm (OpenDKIM if loaded)."""
    policy = oxdkim.DefaultGenericPolicy(DOMAIN, SELECTORS[algorithm], keys.oxdkim[algorithm])
    signer = oxdkim.Signer(policy)
    pem = keys.dkimpy[algorithm]
    selector = SELECTORS[algorithm].encode("ascii")
    domain = DOMAIN.encode("ascii")
    alg = algorithm.encode("ascii")
    relaxed = (b"relaxed", b"relaxed")
    sha256 = hashlib.sha256

    def ox(message: bytes) -> bytes:
        return signer.sign(message)[0].header

    def dkimpy(message: bytes) -> bytes:
        out: bytes = dkim.sign(
            message, selector, domain, pem, canonicalize=relaxed, signature_algorithm=alg
        )
        return out

    if algorithm == "rsa-sha256":
        rsa_key = keys.rsa

        def floor(message: bytes) -> bytes:
            return rsa_key.sign(sha256(message).digest(), _PKCS1V15, _PREHASHED)

    else:
        ed_key = keys.ed

        def floor(message: bytes) -> bytes:
            return ed_key.sign(sha256(message).digest())

    out: dict[str, Fn] = {"oxdkim": ox, "dkimpy": dkimpy}
    if peer_supports(peer, algorithm):
        out["opendkim"] = peer.signer(
            algorithm, keys.opendkim[algorithm], SELECTORS[algorithm], DOMAIN
        )
    out["floor"] = floor
    return out


def peer_supports(peer: Any, algorithm: str) -> bool:
    """Whether the OpenDKIM peer is loaded and can do ``algorithm``."""
    if peer is None or isinstance(peer, opendkim_peer.Missing):
        return False
    return algorithm != "ed25519-sha256" or bool(peer.has_ed25519)


def load_peer(keys: Keys, sample: bytes) -> Any:
    """
    The OpenDKIM peer, set up to sign the same fields oxdkim signs, or a ``Missing``.

    oxdkim's ``h=`` on ``sample`` lists every field it signs, present ones twice (the second
    copy forbids adding one) and absent ones once; OpenDKIM's SignHeaders plus
    OversignHeaders with the same names give the same list.
    """
    names = oxdkim_signed_names(keys, sample)
    distinct = list(dict.fromkeys(names))
    peer = opendkim_peer.load(distinct, distinct)
    if isinstance(peer, opendkim_peer.Missing):
        return peer
    for algorithm, record in keys.txt_records().items():
        peer.add_key(SELECTORS[algorithm], DOMAIN, record)
    return peer


def oxdkim_signed_names(keys: Keys, message: bytes) -> list[str]:
    """The ``h=`` list of oxdkim's signature on ``message``, lower case, in order."""
    header = signers(keys, "rsa-sha256")["oxdkim"](message)
    assert isinstance(header, bytes)
    return h_tag(header.decode("ascii"))


def h_tag(header: str) -> list[str]:
    """The field names of a DKIM-Signature's ``h=`` tag, lower case, in order."""
    unfolded = re.sub(r"\r\n[ \t]+", " ", header)
    found = re.search(r";\s*h=([^;]*)", unfolded)
    return [] if found is None else [n.strip().lower() for n in found.group(1).split(":")]


def check_signatures(
    keys: Keys, corpus: dict[str, bytes], peer: Any = None
) -> tuple[list[dict[str, Any]], dict[str, dict[str, dict[str, bytes]]]]:
    """
    Sign every message once with every implementation and check the result.

    DKIM signatures (oxdkim, dkimpy, OpenDKIM) are verified by dkimpy with DNS from memory,
    and also by oxdkim's verifier and by OpenDKIM (recorded in each row); the floor's raw
    signature is verified with the public key. Returns the check rows and the signed
    messages ``{size: {algorithm: {implementation: signed message}}}``.
    """
    dnsfunc = dkimpy_dns(keys.txt_records())
    ox_verify, _ = load_oxdkim_verifier(keys.txt_records())
    rows: list[dict[str, Any]] = []
    signed: dict[str, dict[str, dict[str, bytes]]] = {}
    for algorithm in ALGORITHMS:
        fns = signers(keys, algorithm, peer)
        odk_verify = peer.verifier() if peer_supports(peer, algorithm) else None
        for label, message in corpus.items():
            for impl, fn in fns.items():
                out = fn(message)
                assert isinstance(out, bytes)
                ox_ok = None
                odk_ok = None
                if impl == "floor":
                    digest = hashlib.sha256(message).digest()
                    ok = _verify_raw(keys, algorithm, out, digest)
                    header = base64.b64encode(out).decode("ascii")
                else:
                    full = out + message
                    ok = bool(dkim.verify(full, dnsfunc=dnsfunc))
                    if ox_verify is not None:
                        ox_ok = bool(ox_verify(full))
                    if odk_verify is not None:
                        odk_ok = bool(odk_verify(full))
                    signed.setdefault(label, {}).setdefault(algorithm, {})[impl] = full
                    header = out.decode("ascii")
                rows.append(
                    {
                        "size": label,
                        "algorithm": algorithm,
                        "implementation": impl,
                        "verified_by": "cryptography" if impl == "floor" else "dkimpy",
                        "verified": ok,
                        "oxdkim_verifier_passed": ox_ok,
                        "opendkim_verifier_passed": odk_ok,
                        "signature": header,
                    }
                )
    return rows, signed


def interop_failures(checks: list[dict[str, Any]]) -> list[str]:
    """Every cross-verification that failed: who signed, who rejected it."""
    bad = []
    for c in checks:
        if c["implementation"] == "floor":
            continue
        where = f"{c['size']} {c['algorithm']} signed by {c['implementation']}"
        if not c["verified"]:
            bad.append(f"{where}: dkimpy rejects it")
        if c["oxdkim_verifier_passed"] is False:
            bad.append(f"{where}: oxdkim rejects it")
        if c.get("opendkim_verifier_passed") is False:
            bad.append(f"{where}: OpenDKIM rejects it")
    return bad


def _verify_raw(keys: Keys, algorithm: str, signature: bytes, digest: bytes) -> bool:
    try:
        if algorithm == "rsa-sha256":
            keys.rsa.public_key().verify(signature, digest, _PKCS1V15, _PREHASHED)
        else:
            keys.ed.public_key().verify(signature, digest)
    except Exception:
        return False
    return True


# --------------------------------------------------------------------------- timing


def _time_calls(fn: Fn, arg: bytes, calls: int) -> float:
    perf = time.perf_counter
    start = perf()
    for _ in range(calls):
        fn(arg)
    return perf() - start


def calibrate(fn: Fn, arg: bytes, min_time: float) -> int:
    """How many calls make one round last at least ``min_time`` seconds (at least 1)."""
    fn(arg)  # warm up: first-use costs (e.g. a fresh RSA key's blinding) are not steady state
    calls = 1
    while True:
        elapsed = _time_calls(fn, arg, calls)
        if elapsed >= min_time:
            return calls
        if elapsed >= min_time / 10:
            return max(calls + 1, math.ceil(calls * min_time * 1.1 / elapsed))
        calls *= 10 if elapsed < min_time / 100 else 2


class Timer:
    """Interleaved rounds: every contender runs once per round, so drift hits all alike."""

    def __init__(self, rounds: int, min_time: float) -> None:
        self.rounds = rounds
        self.min_time = min_time

    def rates(self, contenders: dict[str, Fn], arg: bytes) -> dict[str, list[float]]:
        """Calls per second, one value per round, for each contender."""
        calls = {name: calibrate(fn, arg, self.min_time) for name, fn in contenders.items()}
        out: dict[str, list[float]] = {name: [] for name in contenders}
        enabled = gc.isenabled()
        gc.collect()
        gc.disable()  # as timeit does: a collection should not land in one round only
        try:
            for _ in range(self.rounds):
                for name, fn in contenders.items():
                    out[name].append(calls[name] / _time_calls(fn, arg, calls[name]))
        finally:
            if enabled:
                gc.enable()
        return out


def summarize(rounds: list[float]) -> dict[str, Any]:
    """Median, min and max of per-round rates."""
    return {
        "median": statistics.median(rounds),
        "min": min(rounds),
        "max": max(rounds),
        "rounds": rounds,
    }


def ratio(num: list[float], den: list[float]) -> float:
    """Median of the per-round ratios (the target definition in issue 2)."""
    return statistics.median(a / b for a, b in zip(num, den, strict=True))


# --------------------------------------------------------------------------- benchmarks


def _row_ratios(rates: dict[str, list[float]]) -> tuple[dict[str, float], dict[str, float]]:
    """oxdkim against each other contender, and every contender against the floor."""
    ratios = {
        f"oxdkim/{other}": ratio(rates["oxdkim"], rates[other])
        for other in ("dkimpy", "opendkim", "floor")
        if "oxdkim" in rates and other in rates
    }
    to_floor = {impl: ratio(r, rates["floor"]) for impl, r in rates.items() if impl != "floor"}
    return ratios, to_floor


def _own_us(rates: dict[str, list[float]]) -> float | None:
    """µs per message of oxdkim's own work: oxdkim's time minus the floor's, median of rounds."""
    if "oxdkim" not in rates:
        return None
    return statistics.median(
        1e6 / a - 1e6 / b for a, b in zip(rates["oxdkim"], rates["floor"], strict=True)
    )


def bench_sign(
    timer: Timer,
    keys: Keys,
    corpus: dict[str, bytes],
    peer: Any = None,
    peer_rejects: frozenset[tuple[str, str]] = frozenset(),
) -> list[dict[str, Any]]:
    """
    Messages per second for every (size, algorithm, implementation).

    OpenDKIM is left out of a (size, algorithm) in ``peer_rejects``: its signature there
    did not verify, and a wrong answer is not timed.
    """
    rows = []
    for label, message in corpus.items():
        for algorithm in ALGORITHMS:
            contenders = signers(keys, algorithm, peer)
            if (label, algorithm) in peer_rejects:
                contenders.pop("opendkim", None)
            rates = timer.rates(contenders, message)
            ratios, to_floor = _row_ratios(rates)
            rows.append(
                {
                    "size": label,
                    "bytes": len(message),
                    "algorithm": algorithm,
                    "rates": {impl: summarize(r) for impl, r in rates.items()},
                    "ratios": ratios,
                    "to_floor": to_floor,
                    "oxdkim_own_us": _own_us(rates),
                }
            )
    return rows


def bench_canon(timer: Timer, label: str, message: bytes) -> dict[str, Any]:
    """Relaxed body canonicalize-and-hash throughput, MB/s, against dkimpy and bare SHA-256."""
    body = split_body(message)
    relaxed = dkim.canonicalization.Relaxed.canonicalize_body
    sha256 = hashlib.sha256

    def ox(data: bytes) -> bytes:
        return body_hash(data, Canon.RELAXED)

    def dkimpy(data: bytes) -> bytes:
        return sha256(relaxed(data)).digest()

    def sha_only(data: bytes) -> bytes:
        return sha256(data).digest()

    same = ox(body) == dkimpy(body)
    rates = timer.rates({"oxdkim": ox, "dkimpy": dkimpy, "sha256": sha_only}, body)
    mb_s = {name: [r * len(body) / MB for r in values] for name, values in rates.items()}
    return {
        "size": label,
        "body_bytes": len(body),
        "canonicalization": "relaxed",
        "same_digest_as_dkimpy": same,
        "mb_per_s": {name: summarize(values) for name, values in mb_s.items()},
        "ratios": {
            "oxdkim/dkimpy": ratio(mb_s["oxdkim"], mb_s["dkimpy"]),
            "oxdkim/sha256": ratio(mb_s["oxdkim"], mb_s["sha256"]),
        },
    }


def load_oxdkim_verifier(records: dict[str, str]) -> tuple[Fn | None, str]:
    """
    A ``signed message -> every signature passed`` callable from oxdkim's verifier.

    ``oxdkim._verify.verifier.Verifier(resolver).verify(message)`` returns one result per
    DKIM-Signature. If the module or the class is missing (an old checkout), this returns
    ``(None, why)`` and the verification table shows dkimpy and the floor only.
    """
    try:
        module = importlib.import_module("oxdkim._verify.verifier")
        verifier = module.Verifier(MemoryResolver(records))
    except (ImportError, AttributeError) as exc:
        return None, f"oxdkim verifier not available ({exc})"

    def verify(message: bytes) -> bool:
        results = verifier.verify(message)
        return bool(results) and all(r.passed for r in results)

    return verify, "oxdkim._verify.verifier.Verifier"


class MemoryResolver:
    """An :class:`oxdkim.Resolver` answering the benchmark's key records from memory."""

    def __init__(self, records: dict[str, str]) -> None:
        self._table = {key_name(alg): txt.encode("ascii") for alg, txt in records.items()}

    def txt(self, name: str) -> oxdkim.TxtAnswer:
        """The key record, or NXDOMAIN."""
        name = name.lower().rstrip(".")
        record = self._table.get(name)
        if record is None:
            return oxdkim.TxtAnswer(name, oxdkim.DnsStatus.NXDOMAIN)
        return oxdkim.TxtAnswer(name, oxdkim.DnsStatus.NOERROR, (record,), 3600)

    def cname(self, name: str) -> oxdkim.CnameAnswer:
        """No CNAMEs here."""
        return oxdkim.CnameAnswer(name.lower().rstrip("."), oxdkim.DnsStatus.NODATA)


def bench_verify(
    timer: Timer,
    keys: Keys,
    signed: dict[str, dict[str, dict[str, bytes]]],
    peer: Any = None,
    peer_rejects: frozenset[tuple[str, str]] = frozenset(),
) -> dict[str, Any]:
    """
    Verification rates of oxdkim-signed messages, DNS answered from memory.

    OpenDKIM is timed where it loaded and passed the message in the checks
    (``peer_rejects`` lists the (size, algorithm) it did not).
    """
    records = keys.txt_records()
    ox, status = load_oxdkim_verifier(records)
    dnsfunc = dkimpy_dns(records)
    rows = []
    for label, by_alg in signed.items():
        for algorithm, by_impl in by_alg.items():
            message = by_impl["oxdkim"]
            contenders: dict[str, Fn] = {}
            if ox is not None:
                if not ox(message):
                    status = f"{status}: did NOT pass a message dkimpy verifies; not timed"
                    ox = None
                else:
                    contenders["oxdkim"] = ox
            contenders["dkimpy"] = lambda m: dkim.verify(m, dnsfunc=dnsfunc)
            if peer_supports(peer, algorithm) and (label, algorithm) not in peer_rejects:
                contenders["opendkim"] = peer.verifier()
            contenders["floor"] = _verify_floor(keys, algorithm)
            rates = timer.rates(contenders, message)
            ratios, to_floor = _row_ratios(rates)
            rows.append(
                {
                    "size": label,
                    "bytes": len(message),
                    "algorithm": algorithm,
                    "rates": {impl: summarize(r) for impl, r in rates.items()},
                    "ratios": ratios,
                    "to_floor": to_floor,
                    "oxdkim_own_us": _own_us(rates),
                }
            )
    return {"oxdkim": "measured" if ox is not None else "skipped", "status": status, "rows": rows}


def _verify_floor(keys: Keys, algorithm: str) -> Fn:
    """SHA-256 of the message plus one OpenSSL verification with a parsed public key."""
    sha256 = hashlib.sha256
    if algorithm == "rsa-sha256":
        public = keys.rsa.public_key()
        sig = keys.rsa.sign(b"x" * 32, _PKCS1V15, _PREHASHED)

        def floor_rsa(message: bytes) -> None:
            sha256(message).digest()
            public.verify(sig, b"x" * 32, _PKCS1V15, _PREHASHED)

        return floor_rsa
    ed_public = keys.ed.public_key()
    ed_sig = keys.ed.sign(b"x" * 32)

    def floor_ed(message: bytes) -> None:
        sha256(message).digest()
        ed_public.verify(ed_sig, b"x" * 32)

    return floor_ed


# --------------------------------------------------------------------------- issue 16

# (path, section, size, algorithm, goal for oxdkim/floor, goal for oxdkim/OpenDKIM)
ISSUE16_PATHS: tuple[tuple[str, str, str, str, float | None, float | None], ...] = (
    ("RSA-2048 sign 10 KB", "sign", "10KB", "rsa-sha256", 0.85, None),
    ("Ed25519 sign 10 KB", "sign", "10KB", "ed25519-sha256", 0.60, None),
    ("RSA-2048 verify 10 KB", "verify", "10KB", "rsa-sha256", 0.50, 3.0),
    ("Ed25519 verify 10 KB", "verify", "10KB", "ed25519-sha256", 0.70, 1.5),
    ("RSA-2048 sign 1 MB", "sign", "1MB", "rsa-sha256", 0.60, None),
    ("Ed25519 sign 1 MB", "sign", "1MB", "ed25519-sha256", 0.60, None),
    ("RSA-2048 verify 1 MB", "verify", "1MB", "rsa-sha256", 0.60, None),
    ("Ed25519 verify 1 MB", "verify", "1MB", "ed25519-sha256", 0.60, None),
)


def _status(measured: float | None, goal: float | None) -> str | None:
    if goal is None:
        return None
    if measured is None:
        return "NOT MEASURED"
    return "PASS" if measured >= goal else "FAIL"


def issue16_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """
    The table of issue 16: per path, oxdkim/floor and oxdkim/OpenDKIM (median of per-round
    rate ratios), oxdkim's own µs per message, and each goal with PASS/FAIL.

    ``oxdkim/opendkim`` is None with ``opendkim`` saying why when OpenDKIM was not timed.
    """
    peer = report["opendkim"]
    out = []
    for name, section, size, algorithm, goal_floor, goal_odk in ISSUE16_PATHS:
        rows = report["sign"] if section == "sign" else report["verify"]["rows"]
        row = _find(rows, size, algorithm)
        floor = odk = own = None
        odk_note = "-"  # this size was not in the run
        if row is not None:
            floor = row["ratios"].get("oxdkim/floor")
            odk = row["ratios"].get("oxdkim/opendkim")
            own = row.get("oxdkim_own_us")
            odk_note = "measured" if odk is not None else "not timed"
            if peer["status"] == "missing":
                odk_note = "missing"
        out.append(
            {
                "path": name,
                "section": section,
                "size": size,
                "algorithm": algorithm,
                "oxdkim/floor": floor,
                "oxdkim/opendkim": odk,
                "opendkim": odk_note,
                "oxdkim_own_us": own,
                "goal_floor": goal_floor,
                "status_floor": _status(floor, goal_floor),
                "goal_opendkim": goal_odk,
                "status_opendkim": "MISSING PEER"
                if goal_odk is not None and peer["status"] == "missing"
                else _status(odk, goal_odk),
            }
        )
    return out


def per_message_costs(report: dict[str, Any], size: str = "1KB") -> list[dict[str, Any]]:
    """µs per message at ``size``: floor, oxdkim, oxdkim's own work, OpenDKIM, dkimpy."""
    out = []
    for section in ("sign", "verify"):
        rows = report["sign"] if section == "sign" else report["verify"]["rows"]
        for algorithm in ALGORITHMS:
            row = _find(rows, size, algorithm)
            if row is None:
                continue
            us = {impl: 1e6 / r["median"] for impl, r in row["rates"].items()}
            out.append(
                {
                    "section": section,
                    "size": size,
                    "algorithm": algorithm,
                    "us_per_message": us,
                    "oxdkim_own_us": row.get("oxdkim_own_us"),
                }
            )
    return out


# --------------------------------------------------------------------------- threads


def _threaded_rate(fn: Fn, message: bytes, threads: int, calls: int) -> float:
    """Messages per second of ``threads`` threads each making ``calls`` calls at once."""
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(calls):
            fn(message)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    return threads * calls / (time.perf_counter() - start)


def _process_rate(fn: Fn, message: bytes, processes: int, calls: int) -> float:
    """
    Messages per second of ``processes`` forked workers each making ``calls`` calls.

    The workers are forked (they inherit the signer, key included, without pickling) and
    start together after a barrier, so process creation is not in the time.
    """
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(processes + 1)
    done = ctx.Queue()

    def work() -> None:
        barrier.wait()
        for _ in range(calls):
            fn(message)
        done.put(1)

    pool = [ctx.Process(target=work) for _ in range(processes)]
    for proc in pool:
        proc.start()
    barrier.wait()
    start = time.perf_counter()
    for _ in pool:
        done.get(timeout=600)
    elapsed = time.perf_counter() - start
    for proc in pool:
        proc.join()
    return processes * calls / elapsed


THREAD_CONFIGS = ("1 thread", "2 threads", "4 threads", "2 processes")


def bench_threads(
    keys: Keys, message: bytes, rounds: int, min_time: float, label: str = "10KB"
) -> dict[str, Any]:
    """
    Signing throughput with 1, 2 and 4 threads sharing one Signer and with 2 forked
    processes, for oxdkim and (as the machine's own scaling) the floor; interleaved rounds.

    Each thread or process makes as many calls as one thread makes in ``min_time``, so a
    round of 4 threads does 4 times the work. Scaling is the median of per-round ratios to
    1 thread.
    """
    rows = []
    for algorithm in ALGORITHMS:
        fns = signers(keys, algorithm)
        contenders = {"oxdkim": fns["oxdkim"], "floor": fns["floor"]}
        calls = {impl: calibrate(fn, message, min_time) for impl, fn in contenders.items()}
        rates: dict[str, dict[str, list[float]]] = {
            impl: {c: [] for c in THREAD_CONFIGS} for impl in contenders
        }
        for _ in range(rounds):
            for impl, fn in contenders.items():
                n = calls[impl]
                rates[impl]["1 thread"].append(_threaded_rate(fn, message, 1, n))
                rates[impl]["2 threads"].append(_threaded_rate(fn, message, 2, n))
                rates[impl]["4 threads"].append(_threaded_rate(fn, message, 4, n))
                rates[impl]["2 processes"].append(_process_rate(fn, message, 2, n))
        rows.append(
            {
                "size": label,
                "algorithm": algorithm,
                "calls_per_worker": calls,
                "rates": {
                    impl: {c: summarize(r) for c, r in by.items()} for impl, by in rates.items()
                },
                "scaling": {
                    impl: {c: ratio(r, by["1 thread"]) for c, r in by.items() if c != "1 thread"}
                    for impl, by in rates.items()
                },
            }
        )
    return {"cores": os.cpu_count(), "rows": rows}


# --------------------------------------------------------------------------- memory

CHUNK_BYTES = 1 << 16


def _body_chunk() -> bytes:
    """64 KiB of corpus body lines (whitespace and all), ending in CRLF."""
    lines = split_body(build_message(SIZES["100KB"])).split(b"\r\n")
    out = b""
    for line in lines:
        if not line.strip() and len(out) > CHUNK_BYTES // 2:
            continue
        if len(out) + len(line) + 2 > CHUNK_BYTES - 8:
            break
        out += line + b"\r\n"
    out += b"x" * (CHUNK_BYTES - len(out) - 2) + b"\r\n"
    assert len(out) == CHUNK_BYTES
    return out


def stream_message(body_mb: int) -> Iterator[bytes]:
    """The corpus headers, then ``body_mb`` MiB of body as one 64 KiB chunk repeated."""
    message = build_message(SIZES["10KB"])
    yield message[: find_body_start(message)[1]]
    chunk = _body_chunk()
    for _ in range(body_mb * (1 << 20) // CHUNK_BYTES):
        yield chunk


def _status_bytes(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (``VmRSS``, ``VmHWM``) in bytes; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0), so VmHWM is the peak from now."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def memory_child(body_mb: int, mode: str) -> dict[str, Any]:
    """
    In a fresh process: sign ``body_mb`` MiB through ``Signer.sign_chunks`` and report
    ``mode`` = ``"rss"`` (peak RSS during signing minus RSS before it), ``"tracemalloc"``
    (peak bytes Python allocated during signing) or ``"joined"`` (the control: RSS growth of
    joining the chunks and calling ``sign()``, which shows the measure sees a whole body).
    """
    import tracemalloc  # noqa: PLC0415 (only in the child)

    key = oxdkim.SigningKey.from_private_key(
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    signer = oxdkim.Signer(oxdkim.DefaultGenericPolicy(DOMAIN, SELECTORS["rsa-sha256"], key))
    signer.sign_chunks(stream_message(1))  # first-use costs are not the body's
    gc.collect()
    if mode == "tracemalloc":
        tracemalloc.start()
        tracemalloc.reset_peak()
    reset = _reset_peak_rss()
    hwm_before = _status_bytes("VmHWM")
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    if mode == "joined":  # the control: the whole message in memory, then sign()
        header = signer.sign(b"".join(stream_message(body_mb)))[0].header
    else:
        header = signer.sign_chunks(stream_message(body_mb))[0].header
    elapsed = time.perf_counter() - start
    hwm_after = _status_bytes("VmHWM")
    maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = tracemalloc.get_traced_memory()[1] if mode == "tracemalloc" else None
    hwm_delta = None
    if reset and hwm_before is not None and hwm_after is not None:
        hwm_delta = hwm_after - hwm_before
    return {
        "body_mb": body_mb,
        "mode": mode,
        "peak_reset": reset,
        # Growth of the peak RSS while signing: VmHWM, the counter behind ru_maxrss, reset
        # just before. ru_maxrss also keeps the peak of the process that exec'd this one
        # (bench_memory starts this one through a small shell so that is not the harness).
        "peak_rss_delta_bytes": hwm_delta,
        "ru_maxrss_delta_bytes": maxrss_after - maxrss_before,
        "ru_maxrss_bytes": maxrss_after,
        "tracemalloc_peak_bytes": peak,
        "seconds": elapsed,
        "signature": header.decode("ascii"),
        "record": key.txt_record(),
    }


def bench_memory(sizes_mb: Sequence[int]) -> dict[str, Any]:
    """
    Peak memory of ``sign_chunks`` over bodies of ``sizes_mb`` MiB, each in a fresh Python
    (``run.py --memory-child``) so ru_maxrss starts clean; the smallest body's signature is
    checked by dkimpy.
    """
    rows = []
    for mb in sizes_mb:
        row: dict[str, Any] = {"body_mb": mb}
        for mode in ("rss", "tracemalloc", "joined"):
            cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", f"{mb}:{mode}"]
            if Path("/bin/sh").exists():
                # ru_maxrss keeps the peak of the process that exec'd Python: through a shell
                # that forks (not execs) Python, that is the small shell, not this harness.
                cmd = ["/bin/sh", "-c", '"$@"; exit $?', "sh", *cmd]
            done = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                check=False,
                timeout=900,
            )
            if done.returncode != 0:
                raise RuntimeError(f"memory child failed: {done.stderr[-2000:]}")
            got = json.loads(done.stdout)
            row[mode] = got
        rows.append(row)
    smallest = rows[0]["rss"]
    message = b"".join(stream_message(smallest["body_mb"]))
    dnsfunc = dkimpy_dns({"rsa-sha256": smallest["record"]})
    ok = bool(dkim.verify(smallest["signature"].encode("ascii") + message, dnsfunc=dnsfunc))
    del message
    summary = [
        {
            "body_mb": r["body_mb"],
            "peak_rss_delta_bytes": r["rss"]["peak_rss_delta_bytes"],
            "ru_maxrss_delta_bytes": r["rss"]["ru_maxrss_delta_bytes"],
            "tracemalloc_peak_bytes": r["tracemalloc"]["tracemalloc_peak_bytes"],
            "mb_per_s": r["body_mb"] * (1 << 20) / r["rss"]["seconds"] / MB,
            "joined_sign_peak_rss_delta_bytes": r["joined"]["peak_rss_delta_bytes"],
        }
        for r in rows
    ]
    return {
        "chunk_bytes": CHUNK_BYTES,
        "algorithm": "rsa-sha256",
        "rows": summary,
        "children": rows,
        "smallest_verified_by_dkimpy": ok,
    }


# --------------------------------------------------------------------------- targets


def _find(rows: list[dict[str, Any]], size: str, algorithm: str) -> dict[str, Any] | None:
    for row in rows:
        if row["size"] == size and row["algorithm"] == algorithm:
            return row
    return None


def evaluate_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 2's speed targets (and issue 4's verification target) with PASS/FAIL."""
    sign = report["sign"]
    canon = report.get("canon")
    verify = report.get("verify") or {"rows": []}
    targets: list[tuple[str, str, str, float | None, float]] = []

    def sign_ratio(alg: str, which: str) -> float | None:
        row = _find(sign, "10KB", alg)
        return None if row is None else row["ratios"][which]

    targets.append(
        (
            "rsa-10kb-vs-dkimpy",
            "RSA-2048, 10 KB: oxdkim signs >= 15x dkimpy (issue 2)",
            "x",
            sign_ratio("rsa-sha256", "oxdkim/dkimpy"),
            15.0,
        )
    )
    targets.append(
        (
            "rsa-10kb-vs-floor",
            "RSA-2048, 10 KB: oxdkim signs >= 0.75 of the raw floor (issue 2)",
            "x",
            sign_ratio("rsa-sha256", "oxdkim/floor"),
            0.75,
        )
    )
    targets.append(
        (
            "ed25519-10kb-vs-dkimpy",
            "Ed25519, 10 KB: oxdkim signs >= 5x dkimpy (issue 2)",
            "x",
            sign_ratio("ed25519-sha256", "oxdkim/dkimpy"),
            5.0,
        )
    )
    canon_value = None
    if canon is not None and canon["size"] == "1MB":
        canon_value = canon["mb_per_s"]["oxdkim"]["median"]
    targets.append(
        (
            "relaxed-1mb-canon-hash",
            "1 MB relaxed body: canonicalize-and-hash >= 150 MB/s (issue 2)",
            "MB/s",
            canon_value,
            150.0,
        )
    )
    vrow = _find(verify["rows"], "10KB", "rsa-sha256")
    targets.append(
        (
            "verify-rsa-10kb-vs-dkimpy",
            "RSA-2048, 10 KB: oxdkim verifies >= 6x dkimpy (issue 4)",
            "x",
            vrow["ratios"].get("oxdkim/dkimpy") if vrow else None,
            6.0,
        )
    )
    out = []
    for name, description, unit, measured, threshold in targets:
        status = "NOT MEASURED"
        if measured is not None:
            status = "PASS" if measured >= threshold else "FAIL"
        out.append(
            {
                "name": name,
                "description": description,
                "unit": unit,
                "measured": measured,
                "threshold": threshold,
                "status": status,
            }
        )
    return out


# --------------------------------------------------------------------------- machine


def machine_info() -> dict[str, Any]:
    """CPU, Python, OpenSSL and library versions, and the repository commit."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        backend = importlib.import_module("cryptography.hazmat.backends.openssl.backend")
        crypto_openssl = backend.backend.openssl_version_text()
    except Exception:  # pragma: no cover - backend layout differs across versions
        crypto_openssl = "unknown"
    versions: dict[str, str | None] = {}
    for dist in ("oxdkim", "dkimpy", "cryptography", "pynacl", "dnspython", "attrs"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    commit = None
    try:
        root = Path(__file__).resolve().parent.parent
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
        # The editable install runs the working tree: say when src/ differs from HEAD.
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
        if dirty:
            commit += "+dirty"
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "openssl_cryptography": crypto_openssl,
        "openssl_python_ssl": ssl.OPENSSL_VERSION,
        "versions": versions,
        "git_commit": commit,
    }


# --------------------------------------------------------------------------- driver


def run(
    sizes: Sequence[str] = tuple(SIZES),
    rounds: int = 5,
    min_time: float = 0.3,
    *,
    verify: bool = True,
    threads: bool = True,
    memory_mb: Sequence[int] = (5, 50),
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Run every benchmark and return the report (what the JSON file holds)."""
    started = time.perf_counter()
    timer = Timer(rounds, min_time)
    log("building corpus and keys")
    corpus = build_corpus(sizes)
    keys = Keys()
    log("building and loading the OpenDKIM peer")
    peer = load_peer(keys, next(iter(corpus.values())))
    log("checking every implementation's signatures (dkimpy, oxdkim and OpenDKIM verify)")
    checks, signed = check_signatures(keys, corpus, peer)
    bad = [c for c in checks if not c["verified"] and c["implementation"] != "opendkim"]
    if bad:
        raise RuntimeError(f"signatures that do not verify: {bad}")
    interop = interop_failures(checks)
    sign_rejects = frozenset(
        (c["size"], c["algorithm"])
        for c in checks
        if c["implementation"] == "opendkim" and not c["verified"]
    )
    verify_rejects = frozenset(
        (c["size"], c["algorithm"])
        for c in checks
        if c["implementation"] == "oxdkim" and c["opendkim_verifier_passed"] is False
    )
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {
            "sizes": list(sizes),
            "rounds": rounds,
            "min_round_seconds": min_time,
            "seed": SEED,
            "canonicalization": "relaxed/relaxed",
            "domain": DOMAIN,
            "selectors": SELECTORS,
            "mb": MB,
        },
        "corpus": [
            {"size": label, "bytes": len(m), "sha256": hashlib.sha256(m).hexdigest()}
            for label, m in corpus.items()
        ],
        "keys": keys.txt_records(),
        "opendkim": peer_report(peer, keys, corpus, signed, min_time),
        "checks": checks,
        "interop_failures": interop,
    }
    report["machine"]["versions"]["libopendkim"] = report["opendkim"].get("version")
    log("signing")
    report["sign"] = bench_sign(timer, keys, corpus, peer, sign_rejects)
    canon_label = "1MB" if "1MB" in corpus else max(corpus, key=lambda k: SIZES[k])
    log(f"canonicalize-and-hash ({canon_label} body)")
    report["canon"] = bench_canon(timer, canon_label, corpus[canon_label])
    if verify:
        log("verifying")
        report["verify"] = bench_verify(timer, keys, signed, peer, verify_rejects)
    else:
        report["verify"] = {"oxdkim": "skipped", "status": "--no-verify", "rows": []}
    if threads:
        label = "10KB" if "10KB" in corpus else min(corpus, key=lambda k: SIZES[k])
        log(f"threads and processes ({label})")
        report["threads"] = bench_threads(keys, corpus[label], rounds, min_time, label)
    else:
        report["threads"] = None
    if memory_mb:
        log(f"peak memory of sign_chunks ({', '.join(f'{m} MiB' for m in memory_mb)} bodies)")
        report["memory"] = bench_memory(memory_mb)
    else:
        report["memory"] = None
    if isinstance(peer, opendkim_peer.Peer):
        peer.close()
    report["targets"] = evaluate_targets(report)
    report["issue16"] = issue16_table(report)
    report["per_message"] = per_message_costs(report)
    report["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    return report


def peer_report(
    peer: Any,
    keys: Keys,
    corpus: dict[str, bytes],
    signed: dict[str, dict[str, dict[str, bytes]]],
    min_time: float,
) -> dict[str, Any]:
    """The ``opendkim`` section: missing and why, or the library, what it signs, its overhead."""
    if isinstance(peer, opendkim_peer.Missing):
        return dict(peer.as_json())
    label = min(corpus, key=lambda k: SIZES[k])
    overhead = {}
    for algorithm in ALGORITHMS:
        if peer_supports(peer, algorithm):
            overhead[algorithm] = peer.driver_overhead(
                algorithm,
                keys.opendkim[algorithm],
                SELECTORS[algorithm],
                DOMAIN,
                corpus[label],
                signed[label][algorithm]["oxdkim"],
                min(min_time, 0.05),
            )
    sample = signed[label]["rsa-sha256"]
    return {
        "status": "measured",
        "version": peer.version,
        "library": str(peer.path),
        "driver": "ctypes, one foreign call per message",
        "ed25519": peer.has_ed25519,
        "signs_same_fields_as_oxdkim": sorted(h_tag(sample["opendkim"].decode("ascii")))
        == sorted(h_tag(sample["oxdkim"].decode("ascii"))),
        "driver_overhead_size": label,
        "driver_overhead_us": overhead,
    }


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _ratio_text(value: float | None, width: int, digits: int = 2, suffix: str = "") -> str:
    return (
        f"{'-':>{width}}" if value is None else f"{value:>{width - len(suffix)}.{digits}f}{suffix}"
    )


def _rate_table(rows: list[dict[str, Any]]) -> list[str]:
    head = f"{'size':>6} {'algorithm':<15}"
    head += "".join(f"{impl:>10}" for impl in IMPLEMENTATIONS)
    head += f"{'ox/dkimpy':>11}{'ox/odkim':>10}{'ox/floor':>10}"
    out = [head, "-" * len(head)]
    for row in rows:
        r = row["rates"]
        rd = row["ratios"]
        line = f"{row['size']:>6} {row['algorithm']:<15}"
        line += "".join(
            f"{_rate(r[impl]['median']) if impl in r else '-':>10}" for impl in IMPLEMENTATIONS
        )
        line += _ratio_text(rd.get("oxdkim/dkimpy"), 11, 1, "x")
        line += _ratio_text(rd.get("oxdkim/opendkim"), 10, 2, "x")
        line += _ratio_text(rd.get("oxdkim/floor"), 10)
        out.append(line)
    return out


def format_report(report: dict[str, Any]) -> str:
    """The human-readable tables."""
    m = report["machine"]
    cfg = report["config"]
    v = m["versions"]
    odk = report["opendkim"]
    out = [
        f"machine: {m['cpu']}, {m['cores']} cores; {m['python']}; {m['openssl_cryptography']}",
        f"versions: oxdkim {v['oxdkim']}, dkimpy {v['dkimpy']}, cryptography {v['cryptography']}"
        f", pynacl {v['pynacl']}, libopendkim {v.get('libopendkim') or 'MISSING'}"
        f"; commit {m['git_commit']}",
        f"rounds: {cfg['rounds']} x >= {cfg['min_round_seconds']} s each; "
        "rates are medians, ratios the median of per-round ratios",
    ]
    if odk["status"] == "missing":
        out.append(f"OpenDKIM: MISSING on this machine ({odk['reason']})")
    else:
        parts = []
        for alg, o in odk["driver_overhead_us"].items():
            parts.append(
                f"{alg}: a no-op ctypes call {o['noop_us']:.2f} us; sign "
                f"{o['sign_driven_us']:.1f} us driven vs {o['sign_c_loop_us']:.1f} us in C "
                f"(driver {o['sign_driver_us']:+.1f} us), verify {o['verify_driven_us']:.1f} vs "
                f"{o['verify_c_loop_us']:.1f} us (driver {o['verify_driver_us']:+.1f} us)"
            )
        out.append(
            f"OpenDKIM: libopendkim {odk['version']} via ctypes; same fields signed as oxdkim: "
            f"{odk['signs_same_fields_as_oxdkim']}; driver overhead at "
            f"{odk['driver_overhead_size']}:"
        )
        out += [f"  {p}" for p in parts]
    out += ["", "SIGN (messages/s, one core, relaxed/relaxed)", *_rate_table(report["sign"])]
    c = report["canon"]
    mbs = c["mb_per_s"]
    out += [
        "",
        f"RELAXED BODY CANONICALIZE + SHA-256 ({c['size']} message, "
        f"{c['body_bytes']:,} body bytes)",
        f"  oxdkim {mbs['oxdkim']['median']:,.0f} MB/s   dkimpy {mbs['dkimpy']['median']:,.1f} MB/s"
        f"   bare sha256 {mbs['sha256']['median']:,.0f} MB/s   "
        f"ox/dkimpy {c['ratios']['oxdkim/dkimpy']:.1f}x   "
        f"same digest: {c['same_digest_as_dkimpy']}",
    ]
    ver = report["verify"]
    out += ["", f"VERIFY (messages/s, DNS from memory; oxdkim: {ver['status']})"]
    if ver["rows"]:
        out += _rate_table(ver["rows"])
    out += ["", "ISSUE 16: oxdkim / raw floor and oxdkim / OpenDKIM (median of per-round ratios)"]
    head = f"{'path':<23}{'ox/floor':>9}{'goal':>7} {'':<13}{'ox/OpenDKIM':>12}{'goal':>7} "
    head += f"{'':<13}{'own us/msg':>11}"
    out += [head, "-" * len(head)]
    for r in report["issue16"]:
        odk_text = (
            f"{r['oxdkim/opendkim']:>11.2f}x"
            if r["oxdkim/opendkim"] is not None
            else f"{r['opendkim']:>12}"
        )
        goal_f = f">={r['goal_floor']:.2f}" if r["goal_floor"] is not None else ""
        goal_o = f">={r['goal_opendkim']:.1f}x" if r["goal_opendkim"] is not None else ""
        own = r["oxdkim_own_us"]
        out.append(
            f"{r['path']:<23}{_ratio_text(r['oxdkim/floor'], 9)}{goal_f:>7} "
            f"{r['status_floor'] or '':<13}{odk_text}{goal_o:>7} {r['status_opendkim'] or '':<13}"
            f"{'-' if own is None else f'{own:,.1f}':>11}"
        )
    if report["per_message"]:
        size = report["per_message"][0]["size"]
        out += ["", f"PER-MESSAGE COST, {size} message (us per message; own = oxdkim - floor)"]
        head = f"{'':<7}{'algorithm':<15}" + "".join(f"{i:>10}" for i in IMPLEMENTATIONS)
        head += f"{'own':>10}"
        out += [head, "-" * len(head)]
        for r in report["per_message"]:
            us = r["us_per_message"]
            own = r["oxdkim_own_us"]
            out.append(
                f"{r['section']:<7}{r['algorithm']:<15}"
                + "".join(f"{us[i]:>10,.1f}" if i in us else f"{'-':>10}" for i in IMPLEMENTATIONS)
                + (f"{own:>10,.1f}" if own is not None else f"{'-':>10}")
            )
    thr = report.get("threads")
    if thr:
        out += [
            "",
            f"THREADS (sign {thr['rows'][0]['size']}, one shared Signer; messages/s and scaling "
            f"vs 1 thread; {thr['cores']} cores on this machine)",
        ]
        head = f"{'algorithm':<15}{'impl':<8}" + "".join(f"{c:>13}" for c in THREAD_CONFIGS)
        out += [head, "-" * len(head)]
        for row in thr["rows"]:
            for impl, by in row["rates"].items():
                cells = []
                for conf in THREAD_CONFIGS:
                    rate = _rate(by[conf]["median"])
                    scale = row["scaling"][impl].get(conf)
                    cells.append(f"{rate}" + (f" {scale:.2f}x" if scale is not None else ""))
                out.append(f"{row['algorithm']:<15}{impl:<8}" + "".join(f"{c:>13}" for c in cells))
        out.append("  (the floor's scaling is what the machine allowed: below 2x, cores were busy)")
    mem = report.get("memory")
    if mem:
        out += [
            "",
            f"PEAK MEMORY, Signer.sign_chunks ({mem['chunk_bytes'] // 1024} KiB chunks, "
            f"{mem['algorithm']}; a fresh process per figure)",
        ]

        def kib(value: int | None) -> str:
            return "n/a" if value is None else f"+{value / 1024:,.0f} KiB"

        for r in mem["rows"]:
            out.append(
                f"  {r['body_mb']:>4} MiB body: peak RSS {kib(r['peak_rss_delta_bytes'])}"
                f" (ru_maxrss {kib(r['ru_maxrss_delta_bytes'])}), tracemalloc peak "
                f"{r['tracemalloc_peak_bytes'] / 1024:,.0f} KiB, {r['mb_per_s']:,.0f} MB/s; "
                f"control sign(whole message): peak RSS "
                f"{kib(r['joined_sign_peak_rss_delta_bytes'])}"
            )
        out.append(
            f"  smallest body's signature verified by dkimpy: {mem['smallest_verified_by_dkimpy']}"
        )
    out += ["", "TARGETS (issues 2 and 4)"]
    for t in report["targets"]:
        measured = "-" if t["measured"] is None else f"{t['measured']:,.2f}{t['unit']}"
        out.append(f"  {t['status']:<12} {t['description']}: measured {measured}")
    noisy = _noisy_rows(report)
    if noisy:
        out.append(
            "\nnoisy (a contender's rounds differ by more than 20%; rerun on an idle machine): "
            + ", ".join(noisy)
        )
    checks = report["checks"]
    out.append(
        f"\nchecks: {sum(c['verified'] for c in checks)}/{len(checks)} signatures verified "
        f"(DKIM ones by dkimpy, and each also by oxdkim and OpenDKIM); "
        f"run took {report['elapsed_seconds']} s"
    )
    if report["interop_failures"]:
        out.append("INTEROP FAILURES:")
        out += [f"  {f}" for f in report["interop_failures"]]
    else:
        who = "dkimpy and oxdkim" if odk["status"] == "missing" else "dkimpy, oxdkim and OpenDKIM"
        out.append(f"interop: every DKIM signature passed {who}")
    return "\n".join(out)


def _noisy_rows(report: dict[str, Any], limit: float = 1.2) -> list[str]:
    """Rows where some contender's fastest round beat its slowest by more than ``limit``."""
    noisy = []
    for section in ("sign", "verify"):
        rows = report[section] if section == "sign" else report[section]["rows"]
        for row in rows:
            if any(r["max"] > limit * r["min"] for r in row["rates"].values()):
                noisy.append(f"{section} {row['size']} {row['algorithm']}")
    canon = report["canon"]["mb_per_s"]
    if any(r["max"] > limit * r["min"] for r in canon.values()):
        noisy.append("canon")
    return noisy


PLOTTED = ("oxdkim", "opendkim", "dkimpy")


def _to_floor(row: dict[str, Any], impl: str) -> float:
    """A row's rate of ``impl`` over the floor's (schema 1 JSON has rates only); NaN if none."""
    if "to_floor" in row:
        return float(row["to_floor"].get(impl, math.nan))
    rates = row["rates"]
    if impl not in rates:
        return math.nan
    return float(rates[impl]["median"] / rates["floor"]["median"])


def plot(report: dict[str, Any], path: Path) -> bool:
    """
    A PNG of every path as a ratio to the floor (1.0 = the raw crypto cost), oxdkim with
    OpenDKIM and dkimpy beside it; False (with a note) without matplotlib.
    """
    try:
        import matplotlib  # type: ignore[import-not-found]  # noqa: PLC0415 (only for --plot)

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:
        print(f"note: matplotlib is not installed; no plot written to {path}", file=sys.stderr)
        return False
    sections = [("sign", report["sign"]), ("verify", report["verify"]["rows"])]
    sections = [(name, rows) for name, rows in sections if rows]
    fig, axes = plt.subplots(1, len(sections), figsize=(7 * len(sections), 4.8), squeeze=False)
    width = 0.27
    short = {"rsa-sha256": "RSA", "ed25519-sha256": "Ed25519"}
    for ax, (name, rows) in zip(axes[0], sections, strict=True):
        ordered = sorted(rows, key=lambda r: (ALGORITHMS.index(r["algorithm"]), SIZES[r["size"]]))
        xs = list(range(len(ordered)))
        for i, impl in enumerate(PLOTTED):
            values = [_to_floor(r, impl) for r in ordered]
            label = impl
            if impl == "opendkim" and report.get("opendkim", {}).get("status") != "measured":
                label = "opendkim (missing)"
            ax.bar([x + (i - 1) * width for x in xs], values, width, label=label)
        ax.axhline(1.0, color="black", linewidth=1, linestyle="--", label="floor")
        ax.set_xticks(xs, [f"{short[r['algorithm']]}\n{r['size']}" for r in ordered])
        ax.set_yscale("log")
        ax.set_title(f"{name}, relaxed/relaxed: speed / raw floor")
        ax.set_ylabel("rate / floor rate (log; 1 = floor)")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"oxdkim, OpenDKIM and dkimpy against the raw floor - {report['machine']['cpu']}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="short rounds (3 x 0.02 s): a smoke test"
    )
    parser.add_argument(
        "--sizes",
        default=",".join(SIZES),
        help=f"comma-separated message sizes from {', '.join(SIZES)} (default: all)",
    )
    parser.add_argument("--rounds", type=int, help="timed rounds per contender (default 5)")
    parser.add_argument(
        "--min-time", type=float, help="seconds each round lasts at least (default 0.3)"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"default {DEFAULT_JSON}")
    parser.add_argument("--plot", type=Path, help="write a PNG bar chart (needs matplotlib)")
    parser.add_argument("--no-verify", action="store_true", help="skip the verification rates")
    parser.add_argument(
        "--no-threads", action="store_true", help="skip the threads and processes benchmark"
    )
    parser.add_argument(
        "--memory-mb",
        default="5,50",
        help="MiB bodies for the sign_chunks peak-memory figures (default 5,50; 0 skips)",
    )
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)  # internal: MIB:MODE
    parser.add_argument("--strict", action="store_true", help="exit 1 when a measured target FAILs")
    parser.add_argument(
        "--replot",
        type=Path,
        metavar="JSON",
        help="draw --plot from an earlier run's JSON instead of measuring",
    )
    args = parser.parse_args(argv)
    if args.replot is not None and args.plot is None:
        parser.error("--replot needs --plot PATH")
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        parser.error(f"unknown size(s) {unknown}; choose from {', '.join(SIZES)}")
    args.sizes = list(dict.fromkeys(sizes))
    try:
        args.memory_mb = [int(m) for m in args.memory_mb.split(",") if m.strip() and int(m)]
    except ValueError:
        parser.error("--memory-mb takes whole MiB, e.g. 5,50")
    if args.rounds is None:
        args.rounds = 3 if args.quick else 5
    if args.min_time is None:
        args.min_time = 0.02 if args.quick else 0.3
    if args.rounds < 1 or args.min_time <= 0:
        parser.error("--rounds must be >= 1 and --min-time > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the tables, write the JSON (and the plot)."""
    args = parse_args(argv)
    if args.memory_child:
        mb, mode = args.memory_child.split(":")
        print(json.dumps(memory_child(int(mb), mode)))
        return 0

    def log(message: str) -> None:
        print(f"... {message}", file=sys.stderr, flush=True)

    if args.replot is not None:
        report = json.loads(args.replot.read_text(encoding="utf-8"))
        return 0 if plot(report, args.plot) else 1
    report = run(
        args.sizes,
        args.rounds,
        args.min_time,
        verify=not args.no_verify,
        threads=not args.no_threads,
        memory_mb=args.memory_mb,
        log=log,
    )
    print(format_report(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON written to {args.json}")
    if args.plot is not None and plot(report, args.plot):
        print(f"plot written to {args.plot}")
    failed = [t for t in report["targets"] if t["status"] == "FAIL"]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
