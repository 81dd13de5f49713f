"""
Smoke test for benchmarks/run.py, so the harness cannot rot: one tiny run, no timing.

The OpenDKIM peer (benchmarks/opendkim_peer.c, built with the system C compiler against
libopendkim-dev) is exercised when it builds; where it cannot, the peer tests skip and say
why, except in CI (OXDKIM_REQUIRE_OPENDKIM=1), where they fail.

A cross-cutting test of the whole package: it stays at the top of tests/ (the
folders below mirror src/oxdkim, one per package).
"""

from __future__ import annotations

import importlib.util
import json
import os
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
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh build directory for the OpenDKIM peer, so the test builds it from source."""
    return tmp_path_factory.mktemp("peer-cache")


@pytest.fixture(scope="module")
def report(
    bench: ModuleType, tmp_path_factory: pytest.TempPathFactory, cache: Path
) -> dict[str, object]:
    """The JSON written by one very short run on the 1 KB message (threads, 1 MiB memory)."""
    path = tmp_path_factory.mktemp("bench") / "out.json"
    argv = ["--sizes", "1KB", "--rounds", "1", "--min-time", "0.001", "--json", str(path)]
    argv += ["--memory-mb", "1"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OXDKIM_BENCH_CACHE", str(cache))
        assert bench.main(argv) == 0
    data: dict[str, object] = json.loads(path.read_text())
    return data


@pytest.fixture(scope="module")
def peer_report(report: dict[str, object]) -> dict[str, object]:
    """The run's ``opendkim`` section; skips (fails in CI) when the peer could not be built."""
    section = report["opendkim"]
    assert isinstance(section, dict)
    if section["status"] != "measured":
        why = f"OpenDKIM peer could not be built or loaded: {section.get('reason')}"
        if os.environ.get("OXDKIM_REQUIRE_OPENDKIM") == "1":
            pytest.fail(why + " (OXDKIM_REQUIRE_OPENDKIM=1; apt-get install libopendkim-dev gcc)")
        pytest.skip(why)
    return section


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
        "opendkim",
        "issue16",
        "per_message",
        "threads",
        "memory",
    } <= set(report)
    machine = report["machine"]
    assert isinstance(machine, dict)
    assert {"cpu", "cores", "python", "openssl_cryptography", "versions"} <= set(machine)
    sign = report["sign"]
    assert isinstance(sign, list)
    assert [("1KB", "rsa-sha256"), ("1KB", "ed25519-sha256")] == [
        (row["size"], row["algorithm"]) for row in sign
    ]
    peer = report["opendkim"]
    assert isinstance(peer, dict)
    odk = {"opendkim"} if peer["status"] == "measured" else set()
    for row in sign:
        assert {"oxdkim", "dkimpy", "floor"} | odk == set(row["rates"])
        assert all(row["rates"][impl]["median"] > 0 for impl in row["rates"])
        assert {"oxdkim/dkimpy", "oxdkim/floor"} | {f"oxdkim/{o}" for o in odk} == set(
            row["ratios"]
        )
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
    peer = report["opendkim"]
    assert isinstance(peer, dict)
    # {oxdkim, dkimpy, and OpenDKIM where it built} x {rsa, ed25519}
    assert (6 if peer["status"] == "measured" else 4) == len(dkim_sigs)
    for check in dkim_sigs:
        signed = check["signature"].encode("ascii") + corpus[check["size"]]
        assert dkim.verify(signed, dnsfunc=dns), (check["implementation"], check["algorithm"])
    floors = [c for c in checks if c["implementation"] == "floor"]
    assert 2 == len(floors)
    assert all(c["verified"] for c in floors)


def test_issue16_table_and_extras(report: dict[str, object]) -> None:
    """The ratio table has every path (1 MB ones not measured here), threads and memory ran."""
    table = report["issue16"]
    assert isinstance(table, list)
    assert 8 == len(table)
    measured = [r for r in table if r["size"] == "1KB" or r["oxdkim/floor"] is not None]
    assert [] == measured  # only 1 KB ran; every issue-16 path is 10 KB or 1 MB
    assert all(r["status_floor"] == "NOT MEASURED" for r in table)
    per_message = report["per_message"]
    assert isinstance(per_message, list)
    assert {("sign", "rsa-sha256"), ("sign", "ed25519-sha256")} <= {
        (r["section"], r["algorithm"]) for r in per_message
    }
    threads = report["threads"]
    assert isinstance(threads, dict)
    for row in threads["rows"]:
        assert {"2 threads", "4 threads", "2 processes"} == set(row["scaling"]["oxdkim"])
    memory = report["memory"]
    assert isinstance(memory, dict)
    assert memory["smallest_verified_by_dkimpy"] is True
    row = memory["rows"][0]
    assert 1 == row["body_mb"]
    assert row["tracemalloc_peak_bytes"] > 0
    assert row["ru_maxrss_delta_bytes"] >= 0
    if row["peak_rss_delta_bytes"] is not None:  # Linux: VmHWM, reset before signing
        # The control joins the 1 MiB body and signs it: the peak must show at least that.
        assert row["joined_sign_peak_rss_delta_bytes"] >= 1 << 20


def test_opendkim_signatures_verify_and_it_verifies_ours(
    bench: ModuleType, report: dict[str, object], peer_report: dict[str, object]
) -> None:
    """OpenDKIM's signatures pass dkimpy and oxdkim; OpenDKIM passes oxdkim's and dkimpy's."""
    assert peer_report["signs_same_fields_as_oxdkim"] is True
    assert report["interop_failures"] == []
    corpus = bench.build_corpus(["1KB"])
    keys = report["keys"]
    assert isinstance(keys, dict)
    dns = bench.dkimpy_dns(keys)
    checks = report["checks"]
    assert isinstance(checks, list)
    ours = [c for c in checks if c["implementation"] == "opendkim"]
    assert {"rsa-sha256", "ed25519-sha256"} == {c["algorithm"] for c in ours}
    for check in ours:
        signed = check["signature"].encode("ascii") + corpus[check["size"]]
        assert dkim.verify(signed, dnsfunc=dns), check["algorithm"]
        assert check["oxdkim_verifier_passed"] is True
    for check in checks:
        if check["implementation"] in {"oxdkim", "dkimpy"}:
            assert check["opendkim_verifier_passed"] is True, check


def test_opendkim_rejects_a_changed_body(
    bench: ModuleType, peer_report: dict[str, object], cache: Path
) -> None:
    """The peer's verifier can fail: one changed body byte, and oxdkim's signature fails."""
    keys = bench.Keys()
    message = bench.build_corpus(["1KB"])["1KB"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OXDKIM_BENCH_CACHE", str(cache))
        peer = bench.load_peer(keys, message)
    try:
        verify = peer.verifier()
        for algorithm in bench.ALGORITHMS:
            signed = bench.signers(keys, algorithm)["oxdkim"](message) + message
            assert verify(signed) is True
            assert verify(signed[:-40] + b"X" + signed[-39:]) is False
    finally:
        peer.close()


def test_a_missing_peer_is_reported_not_dropped(bench: ModuleType) -> None:
    """Without a C compiler the run still completes and says OpenDKIM is missing, and why."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CC", "/nonexistent/cc")
        got = bench.run(["1KB"], 1, 0.001, threads=False, memory_mb=())
    assert "missing" == got["opendkim"]["status"]
    assert "/nonexistent/cc" in got["opendkim"]["reason"]
    assert all("opendkim" not in row["rates"] for row in got["sign"])
    assert {"missing", "-"} >= {r["opendkim"] for r in got["issue16"]}
    assert "MISSING PEER" in {r["status_opendkim"] for r in got["issue16"]}
    text = bench.format_report(got)
    assert "OpenDKIM: MISSING on this machine" in text
    assert "libopendkim MISSING" in text
