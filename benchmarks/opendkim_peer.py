"""
OpenDKIM (libopendkim) as a benchmark peer: build ``opendkim_peer.c``, drive it by ctypes.

The C file is compiled at run time with the system C compiler (``$CC``, else ``cc``) into a
shared library in a cache directory (``$OXDKIM_BENCH_CACHE``, else
``$XDG_CACHE_HOME/oxdkim-bench`` or ``~/.cache/oxdkim-bench``, else a temporary directory),
named after a digest of the source, the compiler and the flags, so it is built once per
change and never committed. One ctypes call per message: the driver's own cost is measured
(:meth:`Peer.driver_overhead`) and reported.

When the compiler, the header or the library is absent, :func:`load` returns a
:class:`Missing` that says why; the harness reports the peer as missing.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parent / "opendkim_peer.c"
ALGORITHM_CODES = {"rsa-sha256": 1, "ed25519-sha256": 2}
OUT_BYTES = 8192


class PeerError(RuntimeError):
    """libopendkim answered an error status (the value is its DKIM_STAT code)."""


@dataclass(frozen=True)
class Missing:
    """The peer could not be built or loaded on this machine, and why."""

    reason: str

    def as_json(self) -> dict[str, Any]:
        """The report's ``opendkim`` section for a missing peer."""
        return {"status": "missing", "reason": self.reason}


def _cache_dir() -> Path:
    path = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "oxdkim-bench"
    if os.environ.get("OXDKIM_BENCH_CACHE"):
        path = Path(os.environ["OXDKIM_BENCH_CACHE"])
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError:
        path = Path(tempfile.mkdtemp(prefix="oxdkim-bench-"))
    return path


def _flags() -> tuple[list[str], list[str]]:
    """Compiler and linker flags from pkg-config, or Debian's layout."""
    pkg = shutil.which("pkg-config")
    if pkg is not None:
        got = subprocess.run(
            [pkg, "--cflags", "--libs", "opendkim"], capture_output=True, text=True, check=False
        )
        if got.returncode == 0 and got.stdout.strip():
            words = shlex.split(got.stdout)
            return [w for w in words if not w.startswith("-l")], [
                w for w in words if w.startswith("-l")
            ]
    return ["-I/usr/include/opendkim"], ["-lopendkim"]


def build(cc: str | None = None) -> Path | Missing:
    """The shared library built from ``opendkim_peer.c`` (cached), or why it cannot be."""
    compiler = cc or os.environ.get("CC") or "cc"
    exe = shutil.which(compiler) or (shutil.which("gcc") if compiler == "cc" else None)
    if exe is None:
        return Missing(f"no C compiler ({compiler!r} not found); install gcc")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    cflags, libs = _flags()
    source = SOURCE.read_bytes()
    key = hashlib.sha256(
        source + version.stdout.encode() + " ".join(cflags + libs).encode()
    ).hexdigest()[:16]
    target = _cache_dir() / f"libopendkim_peer-{key}.so"
    if target.exists():
        return target
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    cmd = [exe, "-O2", "-shared", "-fPIC", *cflags, str(SOURCE), "-o", str(tmp), *libs]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        first = next((line for line in done.stderr.splitlines() if "error" in line), "")
        hint = "install libopendkim-dev" if "dkim" in done.stderr else "see the compiler output"
        return Missing(
            f"building {SOURCE.name} failed ({first.strip() or done.returncode}); {hint}"
        )
    tmp.replace(target)  # atomic: a concurrent run sees the whole file or none
    return target


class Peer:
    """libopendkim through ctypes: sign and verify one message per foreign call."""

    def __init__(self, path: Path, sign_headers: Sequence[str], oversign: Sequence[str]) -> None:
        lib = ctypes.CDLL(str(path))
        vp, cp, sz = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t
        sign_args: list[Any] = [vp, cp, cp, cp, ctypes.c_int, cp, sz, cp, sz]
        lib.peer_new.restype = vp
        lib.peer_new.argtypes = [cp, cp]
        lib.peer_free.argtypes = [vp]
        lib.peer_libversion.restype = ctypes.c_uint
        lib.peer_has_ed25519.argtypes = [vp]
        lib.peer_add_key.argtypes = [vp, cp, cp, cp]
        lib.peer_sign.restype = ctypes.c_long
        lib.peer_sign.argtypes = sign_args
        lib.peer_noop.restype = ctypes.c_long
        lib.peer_noop.argtypes = sign_args
        lib.peer_verify.restype = ctypes.c_int
        lib.peer_verify.argtypes = [vp, cp, sz]
        lib.peer_sign_loop.restype = ctypes.c_double
        lib.peer_sign_loop.argtypes = [vp, cp, cp, cp, ctypes.c_int, cp, sz, ctypes.c_long]
        lib.peer_verify_loop.restype = ctypes.c_double
        lib.peer_verify_loop.argtypes = [vp, cp, sz, ctypes.c_long]
        self._lib = lib
        self.path = path
        handle = lib.peer_new(
            ":".join(sign_headers).encode("ascii") if sign_headers else None,
            ":".join(oversign).encode("ascii") if oversign else None,
        )
        if not handle:
            raise PeerError("dkim_init or its options failed")
        self._handle: int = handle
        raw = lib.peer_libversion()
        self.version = f"{raw >> 24}.{(raw >> 16) & 0xFF}.{(raw >> 8) & 0xFF}"
        self.has_ed25519 = bool(lib.peer_has_ed25519(handle))

    def close(self) -> None:
        """Release the library handle."""
        if self._handle:
            self._lib.peer_free(self._handle)
            self._handle = 0

    def add_key(self, selector: str, domain: str, record: str) -> None:
        """Answer ``selector._domainkey.domain`` with ``record`` (from memory, no DNS)."""
        if self._lib.peer_add_key(
            self._handle, selector.encode(), domain.encode(), record.encode()
        ):
            raise PeerError("key table full or record too long")

    def signer(self, algorithm: str, key_pem: bytes, selector: str, domain: str) -> Any:
        """A ``message -> DKIM-Signature field`` callable (the field ends in CRLF)."""
        sign = self._lib.peer_sign
        handle = self._handle
        code = ALGORITHM_CODES[algorithm]
        sel, dom = selector.encode("ascii"), domain.encode("ascii")
        out = ctypes.create_string_buffer(OUT_BYTES)
        string_at = ctypes.string_at

        def opendkim_sign(message: bytes) -> bytes:
            n = sign(handle, key_pem, sel, dom, code, message, len(message), out, OUT_BYTES)
            if n < 0:
                raise PeerError(f"dkim sign failed: DKIM_STAT {-n - 1}")
            return string_at(out, n)

        return opendkim_sign

    def verifier(self) -> Any:
        """A ``signed message -> True/False`` callable (its first signature passed)."""
        verify = self._lib.peer_verify
        handle = self._handle

        def opendkim_verify(message: bytes) -> bool:
            status = verify(handle, message, len(message))
            if status < 0:
                raise PeerError(f"dkim verify failed: DKIM_STAT {-status - 1}")
            return bool(status == 1)

        return opendkim_verify

    def driver_overhead(
        self,
        algorithm: str,
        key_pem: bytes,
        selector: str,
        domain: str,
        message: bytes,
        signed: bytes,
        min_time: float,
        repeats: int = 5,
    ) -> dict[str, float]:
        """
        What driving libopendkim from Python costs, in µs per message.

        ``noop_us``: one ctypes call with the signing arguments that does nothing.
        ``sign_driven_us`` / ``sign_c_loop_us``: one signature driven from Python / repeated
        inside C (no driver); likewise for verification; medians of ``repeats`` interleaved
        measurements. ``sign_driver_us`` / ``verify_driver_us``: the median of the
        per-repeat differences, the driver's share of what the benchmark measures.
        """
        lib, handle = self._lib, self._handle
        code = ALGORITHM_CODES[algorithm]
        sel, dom = selector.encode("ascii"), domain.encode("ascii")
        out = ctypes.create_string_buffer(OUT_BYTES)
        noop = lib.peer_noop
        sign = self.signer(algorithm, key_pem, selector, domain)
        verify = self.verifier()

        def per_call(fn: Any, arg: bytes) -> float:
            fn(arg)
            n = 1
            while True:
                start = time.perf_counter()
                for _ in range(n):
                    fn(arg)
                elapsed = time.perf_counter() - start
                if elapsed >= min_time:
                    return elapsed / n * 1e6
                n *= 2 if elapsed > min_time / 10 else 10

        def noop_call(m: bytes) -> int:
            return int(noop(handle, key_pem, sel, dom, code, m, len(m), out, OUT_BYTES))

        def c_loop(fn: Any, *args: Any) -> float:
            n = 1
            while True:
                elapsed = float(fn(handle, *args, n))
                if elapsed < 0:
                    raise PeerError("the C loop failed")
                if elapsed >= min_time:
                    return elapsed / n * 1e6
                n *= 2 if elapsed > min_time / 10 else 10

        samples: dict[str, list[float]] = {
            "noop_us": [],
            "sign_driven_us": [],
            "sign_c_loop_us": [],
            "verify_driven_us": [],
            "verify_c_loop_us": [],
        }
        for _ in range(repeats):  # interleaved, so a busy moment hits driven and C alike
            samples["noop_us"].append(per_call(noop_call, message))
            samples["sign_driven_us"].append(per_call(sign, message))
            samples["sign_c_loop_us"].append(
                c_loop(lib.peer_sign_loop, key_pem, sel, dom, code, message, len(message))
            )
            samples["verify_driven_us"].append(per_call(verify, signed))
            samples["verify_c_loop_us"].append(c_loop(lib.peer_verify_loop, signed, len(signed)))
        result = {name: statistics.median(values) for name, values in samples.items()}
        for op in ("sign", "verify"):
            driven, in_c = samples[f"{op}_driven_us"], samples[f"{op}_c_loop_us"]
            result[f"{op}_driver_us"] = statistics.median(
                d - c for d, c in zip(driven, in_c, strict=True)
            )
        return result


def load(
    sign_headers: Sequence[str] = (), oversign: Sequence[str] = (), cc: str | None = None
) -> Peer | Missing:
    """Build (or reuse) and load the peer, or say why it is missing here."""
    built = build(cc)
    if isinstance(built, Missing):
        return built
    try:
        return Peer(built, sign_headers, oversign)
    except (OSError, PeerError) as exc:
        return Missing(f"loading {built.name} failed: {exc}")
