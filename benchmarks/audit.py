"""
Delegation audit throughput against a real local DNS server (issue 4, "Speed").

Renders a brand's key host zone and N customer domains (one zone, ``customers.bench``,
default 10,000 domains) with oxdkim's own records, seeds a known mix of problems into
about 5 % of them, starts Knot DNS on 127.0.0.1 (tests/dnsserver.py), and times
``DelegationAuditor.audit_many_async`` through ``AsyncDnspythonResolver`` at several
concurrency levels. Before anything counts, every run's verdicts must equal the seeded
ones, so a fast wrong answer cannot look good. For scale it also times the same audit
answered from memory (the audit's own cost, without the DNS client and the network).

Run ``python benchmarks/audit.py --help``. Needs ``knotd`` (Debian package ``knot``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import dns.version  # noqa: E402

import oxdkim  # noqa: E402
from dnsserver import DnsServer, find_knotd, make_zone  # noqa: E402
from oxdkim import KeyRing, SigningKey  # noqa: E402
from oxdkim._keys.records import DnsRecord, delegation_records, render_zone, ring_records  # noqa: E402
from oxdkim.audit import DelegationAuditor, DelegationVerdict  # noqa: E402
from oxdkim.resolvers import AsyncDnspythonResolver, ZoneFileResolver  # noqa: E402

SCHEMA = 1
KEY_HOST = "keys.brand.bench"
ZONE = "customers.bench"
SELECTORS = ("mail1", "mail2")
TARGET = 1000.0  # domains per second, issue 4
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "audit.json"
SEEDED = ("one-selector-only", "wrong-target", "missing-cname", "txt-instead-of-cname")


def build_ring() -> KeyRing:
    """A fixed Ed25519 ring (the key type does not change the audit's cost)."""
    keys = {s: SigningKey.from_ed25519_seed(bytes([i + 1]) * 32) for i, s in enumerate(SELECTORS)}
    return KeyRing.from_keys(keys, active="mail1", key_host=KEY_HOST)


def domain_name(index: int) -> str:
    return f"c{index:06d}.{ZONE}"


def build_zones(count: int, ring: KeyRing) -> tuple[dict[str, str], Counter[str]]:
    """The key host zone and the customer zone; every 20th domain shows a problem."""
    records: list[DnsRecord] = []
    seeded: Counter[str] = Counter()
    for index in range(count):
        domain = domain_name(index)
        good = delegation_records(domain, SELECTORS, KEY_HOST)
        if index % 20 != 7:
            records += good
            seeded["ok"] += 1
            continue
        problem = SEEDED[(index // 20) % len(SEEDED)]
        seeded[problem] += 1
        if problem == "one-selector-only":
            records += good[:1]
        elif problem == "wrong-target":
            records += [
                good[0],
                DnsRecord(good[1].name, "CNAME", "mail2._domainkey.keys.brnad.bench"),
            ]
        elif problem == "txt-instead-of-cname":
            key = ring.snapshot().slot("mail1").key
            assert key is not None
            records += [DnsRecord(good[0].name, "TXT", key.txt_record()), good[1]]
        # missing-cname: nothing at all
    key_host = make_zone("brand.bench", render_zone(ring_records(ring.snapshot())))
    return {"brand.bench": key_host, ZONE: make_zone(ZONE, render_zone(records))}, seeded


def verdicts_ok(run: oxdkim.audit.AuditRun, seeded: Counter[str]) -> bool:
    """The run's verdicts are exactly what was seeded."""
    counts = run.counts()
    broken = sum(n for problem, n in seeded.items() if problem != "ok")
    problems = run.problem_counts()
    return (
        counts[DelegationVerdict.OK] == seeded["ok"]
        and counts[DelegationVerdict.BROKEN] == broken
        and counts[DelegationVerdict.UNKNOWN] == 0
        and all(problems.get(oxdkim.audit.ProblemCode(p), 0) == seeded[p] for p in SEEDED)
    )


def timed_run(
    auditor: DelegationAuditor, domains: list[str], resolver: Any, concurrency: int
) -> tuple[float, oxdkim.audit.AuditRun]:
    start = time.perf_counter()
    run = asyncio.run(auditor.audit_many_async(domains, resolver, concurrency=concurrency))
    return time.perf_counter() - start, run


_SHARED: dict[str, Any] = {}  # inherited by forked workers: the auditor holds private keys


def _share(args: tuple[str, list[str], int]) -> str:
    nameserver, names, concurrency = args
    resolver = AsyncDnspythonResolver([nameserver], timeout=2.0, edns=False)
    run = asyncio.run(_SHARED["auditor"].audit_many_async(names, resolver, concurrency=concurrency))
    return run.to_json(indent=None)


def timed_processes(
    auditor: DelegationAuditor, domains: list[str], nameserver: str, processes: int
) -> tuple[float, oxdkim.audit.AuditRun]:
    """What `oxdkim check --processes N` does: forked workers, every n-th domain each."""
    _SHARED["auditor"] = auditor
    context = multiprocessing.get_context("fork")
    shares = [(nameserver, domains[i::processes], 64) for i in range(processes)]
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        list(pool.map(_share, [(nameserver, domains[:200], 64)] * processes))  # warm-up
        start = time.perf_counter()
        parts = [oxdkim.audit.AuditRun.from_json(t) for t in pool.map(_share, shares)]
        seconds = time.perf_counter() - start
    reports = [report for part in parts for report in part]
    return seconds, oxdkim.audit.AuditRun(reports)


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:  # pragma: no cover
        commit = ""
    knotd = find_knotd() or ""
    version = ""
    if knotd:
        version = subprocess.run([knotd, "-V"], capture_output=True, text=True, check=False).stdout
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": __import__("os").cpu_count(),
        "python": platform.python_version(),
        "dnspython": dns.version.version,
        "knotd": version.strip(),
        "oxdkim": oxdkim.__version__,
        "commit": commit,
    }


def run(count: int, concurrencies: list[int], rounds: int, log: Any) -> dict[str, Any]:
    """Build, serve, audit; returns the report (see the README)."""
    ring = build_ring()
    zones, seeded = build_zones(count, ring)
    domains = [domain_name(i) for i in range(count)]
    auditor = DelegationAuditor(ring)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "config": {"domains": count, "concurrency": concurrencies, "rounds": rounds},
        "seeded": dict(seeded),
        "network": [],
    }
    log("memory baseline (no DNS client, no network)")
    memory = ZoneFileResolver.from_text(*zones.values()).as_async()
    seconds, memory_run = timed_run(auditor, domains, memory, 64)
    if not verdicts_ok(memory_run, seeded):
        raise SystemExit("the in-memory audit's verdicts differ from the seeded ones")
    report["memory"] = {"domains_per_s": count / seconds}
    with (
        tempfile.TemporaryDirectory() as workdir,
        DnsServer(zones, workdir=Path(workdir)) as server,
    ):
        log(f"knotd on {server.nameserver} serving {count:,} customer domains")
        for edns in (False, True):
            resolver = AsyncDnspythonResolver([server.nameserver], timeout=2.0, edns=edns)
            timed_run(auditor, domains[: min(count, 500)], resolver, 64)  # warm-up
            for concurrency in concurrencies:
                rates = []
                for number in range(rounds):
                    seconds, result = timed_run(auditor, domains, resolver, concurrency)
                    if not verdicts_ok(result, seeded):
                        raise SystemExit(
                            f"concurrency {concurrency}: verdicts differ from the seeded ones: "
                            f"{result.counts()} {result.problem_counts()}"
                        )
                    rates.append(count / seconds)
                    log(
                        f"edns={edns} concurrency {concurrency} round {number + 1}: "
                        f"{rates[-1]:,.0f} domains/s"
                    )
                report["network"].append(
                    {
                        "edns": edns,
                        "concurrency": concurrency,
                        "rates": rates,
                        "median": statistics.median(rates),
                    }
                )
            if not edns:
                for processes in (2, 3):
                    rates = []
                    for number in range(rounds):
                        seconds, result = timed_processes(
                            auditor, domains, server.nameserver, processes
                        )
                        if not verdicts_ok(result, seeded):
                            raise SystemExit(f"{processes} processes: verdicts differ")
                        rates.append(count / seconds)
                        log(f"{processes} processes round {number + 1}: {rates[-1]:,.0f}/s")
                    report["processes"] = [
                        *report.get("processes", []),
                        {
                            "processes": processes,
                            "rates": rates,
                            "median": statistics.median(rates),
                        },
                    ]
    # The target is judged on what `oxdkim check` runs: EDNS off (CNAME answers are
    # tiny; a large answer is fetched over TCP after truncation) at its best level.
    best = max((r for r in report["network"] if not r["edns"]), key=lambda r: r["median"])
    report["target"] = {
        "name": "audit-domains-per-second",
        "threshold": TARGET,
        "measured": best["median"],
        "concurrency": best["concurrency"],
        "edns": best["edns"],
        "status": "PASS" if best["median"] >= TARGET else "FAIL",
    }
    return report


def format_report(report: dict[str, Any]) -> str:
    count = report["config"]["domains"]
    lines = [
        f"audit of {count:,} customer domains (2 selectors each; "
        f"{count - report['seeded']['ok']:,} with seeded problems), verdicts checked",
        "",
        f"{'resolver':<42} {'concurrency':>11} {'median/s':>10}  rounds",
        f"{'in memory (audit logic only)':<42} {64:>11} "
        f"{report['memory']['domains_per_s']:>10,.0f}",
    ]
    for row in report["network"]:
        rounds = ", ".join(f"{r:,.0f}" for r in row["rates"])
        name = f"AsyncDnspythonResolver edns={'on' if row['edns'] else 'off'} -> knotd"
        lines.append(f"{name:<42} {row['concurrency']:>11} {row['median']:>10,.0f}  {rounds}")
    for row in report.get("processes", []):
        rounds = ", ".join(f"{r:,.0f}" for r in row["rates"])
        name = f"{row['processes']} processes (check --processes), edns=off"
        lines.append(f"{name:<42} {64:>11} {row['median']:>10,.0f}  {rounds}")
    target = report["target"]
    lines += [
        "",
        f"target: >= {target['threshold']:,.0f} domains/s against the local server: "
        f"{target['measured']:,.0f} at concurrency {target['concurrency']}, EDNS off "
        f"(as oxdkim check runs) -> {target['status']}",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=10_000, help="customer domains (10,000)")
    parser.add_argument(
        "--concurrency", default="64,128", help="comma-separated levels to time (64,128)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="timed runs per level (5)")
    parser.add_argument("--quick", action="store_true", help="1,000 domains, one round")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where the JSON goes")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target fails")
    args = parser.parse_args(argv)
    if args.quick:
        args.domains, args.rounds = 1000, 1
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the table, write the JSON."""
    args = parse_args(argv)
    if find_knotd() is None:
        print("knotd is not installed (Debian package 'knot')", file=sys.stderr)
        return 2

    def log(message: str) -> None:
        print(f"... {message}", file=sys.stderr, flush=True)

    report = run(args.domains, args.concurrency, args.rounds, log)
    print(format_report(report))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON written to {args.json}")
    return 1 if args.strict and report["target"]["status"] == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
