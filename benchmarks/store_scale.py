"""
The PostgreSQL store at a provider's scale (issue 17): 100,000 domains of 1,000 tenants.

Starts a throw-away PostgreSQL server (tests/pgserver.py: Debian's ``postgresql``
package; as root the server runs as the ``postgres`` user), loads one brand with a key
ring, a generic key and the domains (bulk ``COPY``), and measures, each signer in a
fresh process built by ``signer_from_config`` from a ``[store]`` config:

* the first signature after start (building the signer, then one message), median of runs;
* signing for a domain seen for the first time (one row read) against a cached domain;
* the resident memory of a signer after it signed for 10,000 distinct domains;
* one domain change (``add_domains``, committed with its ``NOTIFY``) reaching N running
  signers: the time until each signs aligned for the new domain.

Every signature is checked: aligned for the tenant's domain, with the ring's active key.
Prints a table; not part of the test suite.

Run ``.venv/bin/python benchmarks/store_scale.py`` (about a minute on 2 cores);
``--help`` for the sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import psycopg  # noqa: E402 (after the path to tests/)

from oxdkim import KeyRing, SigningKey, signer_from_config  # noqa: E402
from oxdkim._store.postgres import BrandData, PostgresStore  # noqa: E402
from oxdkim._store.ring import PostgresKeyStore  # noqa: E402
from oxdkim._store.sealing import KeyEncryptionKey  # noqa: E402
from pgserver import PgServer, find_bindir  # noqa: E402

BRAND = "acme"
KEY_HOST = "keys.brand.example"
ALGORITHM = "ed25519-sha256"


def domain_of(tenant: int, index: int) -> str:
    return f"c{tenant}-{index}.example"


def message(domain: str, n: int) -> bytes:
    return (
        f"From: a@{domain}\r\nTo: b@example.org\r\nSubject: hi {n}\r\n"
        f"Message-ID: <{n}@{domain}>\r\n\r\nHello {n}.\r\n"
    ).encode()


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- one signer process ----------------------------------------------------------------


def signer_main(args: argparse.Namespace) -> None:
    """A signer in its own process; prints one JSON object of figures."""
    started = time.perf_counter()
    signer = signer_from_config(args.config)
    built = time.perf_counter()
    per_tenant = args.domains // args.tenants

    def sign(tenant: int, index: int, n: int) -> str:
        domain = domain_of(tenant, index)
        results = signer.sign(message(domain, n), tenant=f"tenant{tenant}")
        assert [(r.domain, r.selector) for r in results] == [(domain, "mail1")], results
        return domain

    out: dict[str, Any] = {}
    if args.task == "start":
        sign(0, 0, 0)
        out = {"build": built - started, "first": time.perf_counter() - started}
    elif args.task == "lookups":
        count = args.count
        first, cached = [], []
        for n in range(count):
            tenant, index = n % args.tenants, (n // args.tenants) % per_tenant
            t0 = time.perf_counter()
            sign(tenant, index, n)
            first.append(time.perf_counter() - t0)
        for n in range(count):
            tenant, index = n % args.tenants, (n // args.tenants) % per_tenant
            t0 = time.perf_counter()
            sign(tenant, index, n)
            cached.append(time.perf_counter() - t0)
        out = {"first": first, "cached": cached}
    elif args.task == "rss":
        sign(0, 0, 0)
        before = rss_kib()
        for n in range(args.count):
            sign(n % args.tenants, (n // args.tenants) % per_tenant, n)
        out = {"before": before, "after": rss_kib()}
    elif args.task == "follow":
        watched = f"new-{args.count}.example"
        results = signer.sign(message(watched, 0), tenant="tenant0")
        assert results[0].domain != watched  # not the tenant's yet: the generic key signs
        print("ready", flush=True)
        while True:
            results = signer.sign(message(watched, 1), tenant="tenant0")
            if results[0].domain == watched:
                out = {"seen": time.time()}
                break
            time.sleep(0.001)
    print(json.dumps(out), flush=True)


# --- the orchestra --------------------------------------------------------------------


def spawn(config: Path, task: str, args: argparse.Namespace, count: int = 0) -> list[str]:
    return [
        sys.executable, __file__, "--signer", str(config), "--task", task,
        "--domains", str(args.domains), "--tenants", str(args.tenants), "--count", str(count),
    ]  # fmt: skip


def run_signer(config: Path, task: str, args: argparse.Namespace, count: int = 0) -> Any:
    done = subprocess.run(
        spawn(config, task, args, count), capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def seed(conninfo: str, kek: KeyEncryptionKey, args: argparse.Namespace) -> float:
    """The brand: ring, generic key, and the domains by COPY. Returns the COPY's seconds."""
    store = PostgresStore(conninfo, kek)
    store.initialize()
    store.import_brand(BRAND, BrandData({}, {}, SigningKey.generate(ALGORITHM)))
    ring = KeyRing.generate(ALGORITHM, key_host=KEY_HOST)
    PostgresKeyStore(store, BRAND).save(ring.snapshot())
    per_tenant = args.domains // args.tenants
    started = time.perf_counter()
    with psycopg.connect(conninfo) as conn:
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY oxdkim_domain (brand, domain, tenant) FROM STDIN") as copy,
        ):
            for tenant in range(args.tenants):
                for index in range(per_tenant):
                    copy.write_row((BRAND, domain_of(tenant, index), f"tenant{tenant}"))
        conn.execute("ANALYZE oxdkim_domain")
    store.close()
    return time.perf_counter() - started


def follow(
    config: Path, store: PostgresStore, signers: int, args: argparse.Namespace
) -> tuple[float, list[float]]:
    """
    Seconds the change's transaction took, and from its start until each of ``signers``
    signs with it.
    """
    processes = [
        subprocess.Popen(spawn(config, "follow", args, signers), stdout=subprocess.PIPE, text=True)
        for _ in range(signers)
    ]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    changed = time.time()
    store.add_domains(BRAND, "tenant0", [f"new-{signers}.example"])
    committed = time.time() - changed
    seen = []
    for process in processes:
        out, _ = process.communicate(timeout=60)
        seen.append(json.loads(out.strip().splitlines()[-1])["seen"] - changed)
    return committed, sorted(seen)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=100_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--starts", type=int, default=3, help="signer starts timed")
    parser.add_argument("--lookups", type=int, default=2_000, help="first-time domains timed")
    parser.add_argument("--rss-domains", type=int, default=10_000)
    parser.add_argument("--fleet", default="1,4,16", help="signer counts for a change")
    parser.add_argument("--signer", help=argparse.SUPPRESS)
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.signer:
        args.config = args.signer
        signer_main(args)
        return
    bindir = find_bindir()
    if bindir is None:
        sys.exit("the PostgreSQL server programs (Debian package 'postgresql') are needed")
    server = PgServer(bindir).start()
    rows: list[tuple[str, str]] = []
    try:
        with psycopg.connect(server.conninfo(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE scale")
        conninfo = server.conninfo("scale")
        kek = KeyEncryptionKey.generate()
        home = Path(tempfile.mkdtemp(prefix="oxdkim-scale-"))
        kek_file = home / "kek"
        kek_file.write_text(kek.text() + "\n")
        kek_file.chmod(0o600)
        config = home / "oxdkim.toml"
        config.write_text(
            f'[store]\nurl = "{conninfo}"\nkey_encryption_key_file = "{kek_file}"\n\n'
            f'[brands.{BRAND}]\nmode = "legacy"\nkey_host = "{KEY_HOST}"\n'
            'generic_domain = "brand-mail.example"\ngeneric_selector = "gen1"\n'
        )
        copy_seconds = seed(conninfo, kek, args)
        rows.append(
            (f"COPY {args.domains:,} domains of {args.tenants:,} tenants", ms(copy_seconds))
        )

        starts, processes = [], []
        for _ in range(args.starts):
            began = time.perf_counter()
            starts.append(run_signer(config, "start", args))
            processes.append(time.perf_counter() - began)
        rows.append(
            (
                "signer start: signer_from_config (median)",
                ms(statistics.median(s["build"] for s in starts)),
            )
        )
        rows.append(
            (
                "signer start: first signature after start (median)",
                ms(statistics.median(s["first"] for s in starts)),
            )
        )

        rows.append(
            (
                "signer process: python start, imports, one signature, exit (median)",
                ms(statistics.median(processes)),
            )
        )

        lookups = run_signer(config, "lookups", args, args.lookups)
        for kind in ("first", "cached"):
            times = sorted(lookups[kind])
            p99 = times[int(len(times) * 0.99) - 1]
            what = "first time seen" if kind == "first" else "cached"
            rows.append(
                (
                    f"sign, domain {what} ({len(times):,} domains): median / p99",
                    f"{ms(statistics.median(times))} / {ms(p99)}",
                )
            )

        memory = run_signer(config, "rss", args, args.rss_domains)
        rows.append(
            (
                f"signer RSS after one domain / after {args.rss_domains:,} domains",
                f"{memory['before'] / 1024:.1f} MiB / {memory['after'] / 1024:.1f} MiB "
                f"(+{(memory['after'] - memory['before']) / args.rss_domains:.2f} KiB/domain)",
            )
        )

        admin_store = PostgresStore(conninfo, kek)
        for signers in (int(n) for n in args.fleet.split(",")):
            committed, seen = follow(config, admin_store, signers, args)
            rows.append(
                (
                    f"one domain added, until {signers} signer(s) sign with it: median / max",
                    f"{ms(statistics.median(seen))} / {ms(seen[-1])} "
                    f"(the writer's transaction: {ms(committed)})",
                )
            )
        admin_store.close()
    finally:
        PostgresStore.close_all()
        server.remove()

    width = max(len(name) for name, _ in rows)
    print(f"\nPostgreSQL store at scale ({ALGORITHM}; {os.cpu_count()} CPUs)\n")
    print(f"{'measure'.ljust(width)}  value")
    print(f"{'-' * width}  {'-' * 30}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
