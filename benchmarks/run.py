"""
Speed of oxdkim against dkimpy and the raw OpenSSL floor, in one run (issue 2, section 6).

Builds a deterministic corpus (1 KB, 10 KB, 100 KB, 1 MB messages with whitespace that
relaxed canonicalization must work on), signs every message with

* ``oxdkim``: a :class:`~oxdkim.Signer` with a :class:`~oxdkim.DefaultGenericPolicy`,
  the key parsed once before timing;
* ``dkimpy``: ``dkim.sign(...)`` as its users call it, parsing the key on every call;
* ``floor``: SHA-256 of the whole message plus one OpenSSL signature with a key object
  parsed in advance, nothing else;

for RSA-2048 and Ed25519, relaxed/relaxed, and reports messages per second, the median of
the per-round ratios, relaxed canonicalize-and-hash throughput on the 1 MB body, and
verification rates (DNS answered from memory). Every signature made is first checked
with dkimpy, so a fast wrong answer cannot look good.

Run ``python benchmarks/run.py --help``; ``nox -s bench`` runs it with the bench extra.
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import importlib
import importlib.metadata
import json
import math
import os
import platform
import random
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dkim
import dkim.canonicalization
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, utils

import oxdkim
from oxdkim._canon import Canon, body_hash
from oxdkim._message import find_body_start

SCHEMA = 1
SEED = 6376
DOMAIN = "bench.example"
SELECTORS = {"rsa-sha256": "rsa2048", "ed25519-sha256": "ed25519"}
ALGORITHMS = ("rsa-sha256", "ed25519-sha256")
IMPLEMENTATIONS = ("oxdkim", "dkimpy", "floor")
SIZES = {"1KB": 1 << 10, "10KB": 10 << 10, "100KB": 100 << 10, "1MB": 1 << 20}
MB = 1_000_000  # throughput is reported in MB/s = 10**6 bytes per second
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"

Fn = Callable[[bytes], object]

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


def signers(keys: Keys, algorithm: str) -> dict[str, Fn]:
    """``{implementation: message -> signature}`` for one algorithm."""
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

    return {"oxdkim": ox, "dkimpy": dkimpy, "floor": floor}


def check_signatures(
    keys: Keys, corpus: dict[str, bytes]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, dict[str, bytes]]]]:
    """
    Sign every message once with every implementation and check the result.

    DKIM signatures (oxdkim, dkimpy) are verified by dkimpy with DNS from memory; the
    floor's raw signature is verified with the public key. oxdkim's verifier, when present,
    checks the DKIM signatures too (recorded, not required). Returns the check rows and the
    signed messages ``{size: {algorithm: {implementation: signed message}}}``.
    """
    dnsfunc = dkimpy_dns(keys.txt_records())
    ox_verify, _ = load_oxdkim_verifier(keys.txt_records())
    rows: list[dict[str, Any]] = []
    signed: dict[str, dict[str, dict[str, bytes]]] = {}
    for algorithm in ALGORITHMS:
        fns = signers(keys, algorithm)
        for label, message in corpus.items():
            for impl, fn in fns.items():
                out = fn(message)
                assert isinstance(out, bytes)
                ox_ok = None
                if impl == "floor":
                    digest = hashlib.sha256(message).digest()
                    ok = _verify_raw(keys, algorithm, out, digest)
                    header = base64.b64encode(out).decode("ascii")
                else:
                    full = out + message
                    ok = bool(dkim.verify(full, dnsfunc=dnsfunc))
                    if ox_verify is not None:
                        ox_ok = bool(ox_verify(full))
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
                        "signature": header,
                    }
                )
    return rows, signed


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


def bench_sign(timer: Timer, keys: Keys, corpus: dict[str, bytes]) -> list[dict[str, Any]]:
    """Messages per second for every (size, algorithm, implementation)."""
    rows = []
    for label, message in corpus.items():
        for algorithm in ALGORITHMS:
            rates = timer.rates(signers(keys, algorithm), message)
            rows.append(
                {
                    "size": label,
                    "bytes": len(message),
                    "algorithm": algorithm,
                    "rates": {impl: summarize(r) for impl, r in rates.items()},
                    "ratios": {
                        "oxdkim/dkimpy": ratio(rates["oxdkim"], rates["dkimpy"]),
                        "oxdkim/floor": ratio(rates["oxdkim"], rates["floor"]),
                    },
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

    ``oxdkim._verifier.Verifier(resolver).verify(message)`` returns one result per
    DKIM-Signature. If the module or the class is missing (an old checkout), this returns
    ``(None, why)`` and the verification table shows dkimpy and the floor only.
    """
    try:
        module = importlib.import_module("oxdkim._verifier")
        verifier = module.Verifier(MemoryResolver(records))
    except (ImportError, AttributeError) as exc:
        return None, f"oxdkim verifier not available ({exc})"

    def verify(message: bytes) -> bool:
        results = verifier.verify(message)
        return bool(results) and all(r.passed for r in results)

    return verify, "oxdkim._verifier.Verifier"


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
    timer: Timer, keys: Keys, signed: dict[str, dict[str, dict[str, bytes]]]
) -> dict[str, Any]:
    """Verification rates of oxdkim-signed messages, DNS answered from memory."""
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
            contenders["floor"] = _verify_floor(keys, algorithm)
            rates = timer.rates(contenders, message)
            row: dict[str, Any] = {
                "size": label,
                "bytes": len(message),
                "algorithm": algorithm,
                "rates": {impl: summarize(r) for impl, r in rates.items()},
                "ratios": {},
            }
            if "oxdkim" in rates:
                row["ratios"] = {
                    "oxdkim/dkimpy": ratio(rates["oxdkim"], rates["dkimpy"]),
                    "oxdkim/floor": ratio(rates["oxdkim"], rates["floor"]),
                }
            rows.append(row)
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
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Run every benchmark and return the report (what the JSON file holds)."""
    started = time.perf_counter()
    timer = Timer(rounds, min_time)
    log("building corpus and keys")
    corpus = build_corpus(sizes)
    keys = Keys()
    log("checking every implementation's signatures with dkimpy")
    checks, signed = check_signatures(keys, corpus)
    bad = [c for c in checks if not c["verified"]]
    if bad:
        raise RuntimeError(f"signatures that do not verify: {bad}")
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
        "checks": checks,
    }
    log("signing")
    report["sign"] = bench_sign(timer, keys, corpus)
    canon_label = "1MB" if "1MB" in corpus else max(corpus, key=lambda k: SIZES[k])
    log(f"canonicalize-and-hash ({canon_label} body)")
    report["canon"] = bench_canon(timer, canon_label, corpus[canon_label])
    if verify:
        log("verifying")
        report["verify"] = bench_verify(timer, keys, signed)
    else:
        report["verify"] = {"oxdkim": "skipped", "status": "--no-verify", "rows": []}
    report["targets"] = evaluate_targets(report)
    report["elapsed_seconds"] = round(time.perf_counter() - started, 2)
    return report


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def format_report(report: dict[str, Any]) -> str:
    """The human-readable tables."""
    m = report["machine"]
    cfg = report["config"]
    v = m["versions"]
    out = [
        f"machine: {m['cpu']}, {m['cores']} cores; {m['python']}; {m['openssl_cryptography']}",
        f"versions: oxdkim {v['oxdkim']}, dkimpy {v['dkimpy']}, cryptography {v['cryptography']}"
        f", pynacl {v['pynacl']}; commit {m['git_commit']}",
        f"rounds: {cfg['rounds']} x >= {cfg['min_round_seconds']} s each; "
        "rates are medians, ratios the median of per-round ratios",
        "",
        "SIGN (messages/s, one core, relaxed/relaxed)",
    ]
    head = f"{'size':>6} {'algorithm':<15}{'oxdkim':>10}{'dkimpy':>10}{'floor':>10}"
    head += f"{'ox/dkimpy':>11}{'ox/floor':>10}"
    out += [head, "-" * len(head)]
    for row in report["sign"]:
        r = row["rates"]
        out.append(
            f"{row['size']:>6} {row['algorithm']:<15}"
            f"{_rate(r['oxdkim']['median']):>10}{_rate(r['dkimpy']['median']):>10}"
            f"{_rate(r['floor']['median']):>10}"
            f"{row['ratios']['oxdkim/dkimpy']:>10.1f}x{row['ratios']['oxdkim/floor']:>10.2f}"
        )
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
        head = f"{'size':>6} {'algorithm':<15}{'oxdkim':>10}{'dkimpy':>10}{'floor':>10}"
        head += f"{'ox/dkimpy':>11}{'ox/floor':>10}"
        out += [head, "-" * len(head)]
        for row in ver["rows"]:
            r = row["rates"]
            ox = _rate(r["oxdkim"]["median"]) if "oxdkim" in r else "-"
            rd = row["ratios"]
            ratio_text = (
                f"{rd['oxdkim/dkimpy']:>10.1f}x{rd['oxdkim/floor']:>10.2f}"
                if rd
                else f"{'-':>11}{'-':>10}"
            )
            out.append(
                f"{row['size']:>6} {row['algorithm']:<15}{ox:>10}"
                f"{_rate(r['dkimpy']['median']):>10}{_rate(r['floor']['median']):>10}{ratio_text}"
            )
    out += ["", "TARGETS"]
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
        f"(DKIM ones by dkimpy); run took {report['elapsed_seconds']} s"
    )
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


def plot(report: dict[str, Any], path: Path) -> bool:
    """Write a PNG bar chart of signing rates; False (with a note) without matplotlib."""
    try:
        import matplotlib  # type: ignore[import-not-found]  # noqa: PLC0415 (only for --plot)

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:
        print(f"note: matplotlib is not installed; no plot written to {path}", file=sys.stderr)
        return False
    rows = report["sign"]
    fig, axes = plt.subplots(1, len(ALGORITHMS), figsize=(12, 4.5), squeeze=False)
    width = 0.27
    for ax, algorithm in zip(axes[0], ALGORITHMS, strict=True):
        mine = [r for r in rows if r["algorithm"] == algorithm]
        xs = range(len(mine))
        for i, impl in enumerate(IMPLEMENTATIONS):
            values = [r["rates"][impl]["median"] for r in mine]
            ax.bar([x + (i - 1) * width for x in xs], values, width, label=impl)
        ax.set_xticks(list(xs), [r["size"] for r in mine])
        ax.set_yscale("log")
        ax.set_title(f"sign {algorithm}, relaxed/relaxed")
        ax.set_ylabel("messages / s (log)")
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"oxdkim vs dkimpy vs raw floor - {report['machine']['cpu']}")
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
    parser.add_argument("--strict", action="store_true", help="exit 1 when a measured target FAILs")
    args = parser.parse_args(argv)
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or not sizes:
        parser.error(f"unknown size(s) {unknown}; choose from {', '.join(SIZES)}")
    args.sizes = list(dict.fromkeys(sizes))
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

    def log(message: str) -> None:
        print(f"... {message}", file=sys.stderr, flush=True)

    report = run(args.sizes, args.rounds, args.min_time, verify=not args.no_verify, log=log)
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
