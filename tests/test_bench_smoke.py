"""Smoke test for benchmarks/run.py, so the harness cannot rot: one tiny run, no timing."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import dkim
import pytest

RUN_PY = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """benchmarks/run.py imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("oxdkim_bench_run", RUN_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The JSON written by one very short run on the 1 KB message."""
    path = tmp_path_factory.mktemp("bench") / "out.json"
    argv = ["--sizes", "1KB", "--rounds", "1", "--min-time", "0.001", "--json", str(path)]
    assert bench.main(argv) == 0
    data: dict[str, object] = json.loads(path.read_text())
    return data


def test_corpus_is_exact_and_deterministic(bench: ModuleType) -> None:
    """Each corpus message has exactly its nominal size and the same bytes on every build."""
    first = bench.build_corpus(["1KB", "10KB"])
    second = bench.build_corpus(["1KB", "10KB"])
    assert {"1KB": 1024, "10KB": 10240} == {k: len(v) for k, v in first.items()}
    assert first == second


def test_corpus_exercises_relaxed_canonicalization(bench: ModuleType) -> None:
    """The body has trailing whitespace, runs of spaces, tabs and empty trailing lines."""
    body = bench.split_body(bench.build_corpus(["10KB"])["10KB"])
    assert b" \r\n" in body or b"\t\r\n" in body
    assert b"   " in body
    assert b"\t" in body
    assert body.endswith(b"\r\n\r\n\r\n")


def test_report_structure(report: dict[str, object]) -> None:
    """The JSON holds the machine, one row per (size, algorithm) and every target."""
    assert {
        "machine",
        "config",
        "corpus",
        "keys",
        "checks",
        "sign",
        "canon",
        "verify",
        "targets",
    } <= set(report)
    machine = report["machine"]
    assert isinstance(machine, dict)
    assert {"cpu", "cores", "python", "openssl_cryptography", "versions"} <= set(machine)
    sign = report["sign"]
    assert isinstance(sign, list)
    assert [("1KB", "rsa-sha256"), ("1KB", "ed25519-sha256")] == [
        (row["size"], row["algorithm"]) for row in sign
    ]
    for row in sign:
        assert {"oxdkim", "dkimpy", "floor"} == set(row["rates"])
        assert all(row["rates"][impl]["median"] > 0 for impl in row["rates"])
        assert {"oxdkim/dkimpy", "oxdkim/floor"} == set(row["ratios"])
    canon = report["canon"]
    assert isinstance(canon, dict)
    assert canon["same_digest_as_dkimpy"] is True
    assert {"oxdkim", "dkimpy", "sha256"} == set(canon["mb_per_s"])
    targets = report["targets"]
    assert isinstance(targets, list)
    names = {t["name"] for t in targets}
    assert {
        "rsa-10kb-vs-dkimpy",
        "rsa-10kb-vs-floor",
        "ed25519-10kb-vs-dkimpy",
        "relaxed-1mb-canon-hash",
        "verify-rsa-10kb-vs-dkimpy",
    } == names
    # Only the 1 KB message ran: the 10 KB and 1 MB targets cannot be judged.
    assert {"NOT MEASURED"} == {t["status"] for t in targets}


def test_every_signature_of_the_run_verifies_with_dkimpy(
    bench: ModuleType, report: dict[str, object]
) -> None:
    """Each DKIM-Signature the run made, put on the rebuilt corpus message, passes dkimpy."""
    corpus = bench.build_corpus(["1KB"])
    keys = report["keys"]
    assert isinstance(keys, dict)
    dns = bench.dkimpy_dns(keys)
    checks = report["checks"]
    assert isinstance(checks, list)
    dkim_sigs = [c for c in checks if c["implementation"] != "floor"]
    assert 4 == len(dkim_sigs)  # {oxdkim, dkimpy} x {rsa, ed25519}
    for check in dkim_sigs:
        signed = check["signature"].encode("ascii") + corpus[check["size"]]
        assert dkim.verify(signed, dnsfunc=dns), (check["implementation"], check["algorithm"])
    floors = [c for c in checks if c["implementation"] == "floor"]
    assert 2 == len(floors)
    assert all(c["verified"] for c in floors)
