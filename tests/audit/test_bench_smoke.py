"""Smoke test for benchmarks/audit.py, so the harness cannot rot: one tiny run, no timing."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from dnsserver import DnsServer

AUDIT_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "audit.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """benchmarks/audit.py imported as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("oxdkim_bench_audit", AUDIT_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_seeded_zones_hold_what_the_counts_say(bench: ModuleType) -> None:
    """Every 20th domain carries a problem, the four kinds in turn."""
    _, seeded = bench.build_zones(200, bench.build_ring())
    expected = {
        "ok": 190,
        "one-selector-only": 3,
        "wrong-target": 3,
        "missing-cname": 2,
        "txt-instead-of-cname": 2,
    }
    assert expected == dict(seeded)


def test_one_tiny_run_writes_its_report(
    bench: ModuleType, tmp_path: Path, dns_server_factory: Callable[..., DnsServer]
) -> None:
    """A run over 200 domains checks its verdicts and writes the JSON with the target."""
    # dns_server_factory: skipped without knotd, and fails instead in CI (as elsewhere).
    path = tmp_path / "audit.json"
    argv = ["--domains", "200", "--rounds", "1", "--concurrency", "16", "--json", str(path)]
    assert 0 == bench.main(argv)
    report = json.loads(path.read_text())
    assert {"schema", "machine", "config", "seeded", "memory", "network", "target"} <= set(report)
    assert [(False, 16), (True, 16)] == [(r["edns"], r["concurrency"]) for r in report["network"]]
    assert report["target"]["status"] in {"PASS", "FAIL"}
    assert report["target"]["measured"] > 0
