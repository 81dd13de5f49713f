"""
The fleet: three signer processes sign continuously from one PostgreSQL store while the
test walks the brand's ring through two full rotations, kills one signer's listening
connection and restarts the server. Every signature is checked against what DNS served
at its signing time.
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from helpers import BRAND, GENERIC, KEY_HOST, dkimpy_verifies, message, write_config, write_kek

from oxdkim import KeyRing, Signer, SigningKey, signer_from_config
from oxdkim._keys.ringstate import KeySlot, RingSnapshot, RolloverTimings, SlotState
from oxdkim._store.postgres import BrandData, PostgresStore
from oxdkim._store.ring import PostgresKeyStore
from oxdkim._store.sealing import KeyEncryptionKey
from oxdkim.exceptions import KeyRingError, KeyStoreError
from oxdkim.resolvers import InMemoryZone
from pgserver import PgServer

psycopg = pytest.importorskip("psycopg")

ALGORITHM = "ed25519-sha256"
SIGNERS = 3
TENANTS = {f"t{t}": tuple(f"c{t}-{i}.example" for i in range(250)) for t in range(20)}
TIMINGS = RolloverTimings(
    record_ttl=timedelta(seconds=1),
    negative_ttl=timedelta(seconds=1),
    retention=timedelta(seconds=7),
    dual_sign=timedelta(seconds=1),
)
SWITCH_BOUND = 5.0
"""Seconds after an activation by which every signer signs with the new key only: less
than the retention, or a lagging signer would sign with a key already withdrawn."""
SCRIPT = Path(__file__).with_name("fleet_signer.py")


class Dns:
    """What the key host serves, changed only through :meth:`set` (each change logged)."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        self.log: list[dict[str, Any]] = []

    def set(self, selector: str, txt: str, fingerprint: str | None) -> None:
        """Serve ``txt`` at ``selector`` (``fingerprint``: the key it publishes, or None)."""
        self.records[selector] = txt
        self.log.append({"t": time.time(), "selector": selector, "fp": fingerprint, "txt": txt})

    def zone(self) -> InMemoryZone:
        names = {f"{sel}._domainkey.{KEY_HOST}": txt for sel, txt in self.records.items()}
        return InMemoryZone(names, ttl=1, negative_ttl=1)

    def published(self) -> dict[str, tuple[float, float]]:
        """Each key's fingerprint -> (first time served, first time no longer served)."""
        spans: dict[str, tuple[float, float]] = {}
        current: dict[str, str | None] = {}
        for entry in self.log:
            old = current.get(entry["selector"])
            if old is not None:
                spans[old] = (spans[old][0], entry["t"])
            if entry["fp"] is not None:
                spans[entry["fp"]] = (entry["t"], float("inf"))
            current[entry["selector"]] = entry["fp"]
        return spans

    def at(self, moment: float) -> dict[str, str]:
        """The records served at ``moment``."""
        state: dict[str, str] = {}
        for entry in self.log:
            if entry["t"] <= moment:
                state[entry["selector"]] = entry["txt"]
        return state


def seed_store(conninfo: str, kek: Path) -> tuple[KeyRing, SigningKey]:
    """The brand in the store: tenants, a generic key, a ring with mail1 active, mail2 empty."""
    store = PostgresStore(conninfo, KeyEncryptionKey.from_file(kek))
    store.initialize()
    generic = SigningKey.generate(ALGORITHM)
    store.import_brand(BRAND, BrandData(TENANTS, {}, generic))
    first = SigningKey.generate(ALGORITHM)
    snapshot = RingSnapshot(
        first.algorithm,
        (KeySlot("mail1", first, SlotState.ACTIVE), KeySlot("mail2")),
        KEY_HOST,
        TIMINGS,
    )
    PostgresKeyStore(store, BRAND).save(snapshot)
    return KeyRing.open(PostgresKeyStore(store, BRAND), reload_interval=0), first


def retry_until_allowed(step: Callable[[], object]) -> float:
    """Run a rollover step, waiting out the ring's own wait (cache or retention)."""
    while True:
        try:
            step()
            return time.time()
        except KeyRingError as exc:
            if exc.not_before is None:
                raise
            time.sleep(max(exc.not_before.timestamp() - time.time(), 0) + 0.05)


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


@attrs.define
class Fleet:
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]
    stop: Path

    def signed(self, index: int) -> int:
        return sum(1 for entry in read_log(self.logs[index]) if "sigs" in entry)

    def wait_signed(self, count: int, seconds: float = 20.0) -> None:
        deadline = time.monotonic() + seconds
        while any(self.signed(i) < count for i in range(SIGNERS)):
            for process, log in zip(self.processes, self.logs, strict=True):
                stderr = log.with_name("stderr")
                assert process.poll() is None, f"a signer ended early: {stderr.read_text()}"
            assert time.monotonic() < deadline, "the signers did not start signing"
            time.sleep(0.1)


@pytest.fixture
def fleet(pg_database: str, tmp_path: Path) -> Iterator[Callable[[Path], Fleet]]:
    started: list[subprocess.Popen[bytes]] = []
    files = contextlib.ExitStack()

    def start(kek: Path) -> Fleet:
        domains = tmp_path / "domains.json"
        domains.write_text(json.dumps([[d, t] for t, ds in TENANTS.items() for d in ds]))
        stop = tmp_path / "stop"
        logs = []
        for index in range(SIGNERS):
            home = tmp_path / f"signer{index}"
            home.mkdir()
            config = write_config(home, f"{pg_database} application_name=signer{index}", kek)
            logs.append(home / "attempts.jsonl")
            offset = index * len(json.loads(domains.read_text())) // SIGNERS
            started.append(
                subprocess.Popen(
                    [sys.executable, str(SCRIPT), str(config), str(logs[-1]), str(stop),
                     f"signer{index}", str(domains), str(offset)],
                    stderr=files.enter_context((home / "stderr").open("wb")),
                )
            )  # fmt: skip
        return Fleet(started, logs, stop)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
    files.close()


def listener_pids(conninfo: str, application: str) -> list[int]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
            "AND query LIKE 'LISTEN%%'",
            (application,),
        ).fetchall()
    return [row[0] for row in rows]


def kill_listener(conninfo: str, application: str) -> int:
    """End ``application``'s LISTEN connection from the server side; returns its pid."""
    pids = listener_pids(conninfo, application)
    assert len(pids) == 1, pids
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ended = conn.execute("SELECT pg_terminate_backend(%s)", (pids[0],)).fetchone()
    assert ended == (True,)
    return pids[0]


def switch_time(attempts: list[dict[str, Any]], new: str, at: float, until: float) -> float:
    """
    Seconds from an activation (``at``) until this signer's signatures all carry the new
    key (``new``): the end of the first attempt from which on, up to ``until``, every
    signed message has a signature by it.
    """
    signed = [a for a in attempts if "sigs" in a and at <= a["t0"] < until]
    last_without = max(
        (i for i, a in enumerate(signed) if new not in {s[2] for s in a["sigs"]}), default=-1
    )
    assert last_without + 1 < len(signed), "the signer never signed with the new key"
    return float(signed[last_without + 1]["t1"] - at)


@pytest.mark.slow
def test_a_fleet_signs_through_two_rotations_a_lost_listener_and_a_server_restart(
    pg_server: PgServer,
    pg_database: str,
    tmp_path: Path,
    fleet: Callable[[Path], Fleet],
) -> None:
    began = time.monotonic()
    kek = write_kek(tmp_path)
    ring, first = seed_store(pg_database, kek)
    dns = Dns()
    dns.set("mail1", first.txt_record(), first.fingerprint)
    running = fleet(kek)
    running.wait_signed(20)

    activations: list[tuple[float, str]] = []
    events: dict[str, float] = {}
    killed: list[int] = []
    for rotation, (old, new) in enumerate((("mail1", "mail2"), ("mail2", "mail1"))):
        key = SigningKey.generate(ALGORITHM)
        ring.stage(key, selector=new)
        dns.set(new, key.txt_record(), key.fingerprint)
        ring.confirm(new, dns.zone())
        ready = next(slot.ready_at for slot in ring.status() if slot.selector == new)
        assert ready is not None
        time.sleep(max(ready.timestamp() - time.time(), 0) + 0.05)
        if rotation == 0:
            # a signer loses its notifications just before the activation
            killed.append(kill_listener(pg_database, "signer1"))
        activated = retry_until_allowed(lambda: ring.activate(new))  # noqa: B023 (run at once)
        activations.append((activated, key.fingerprint))
        if rotation == 1:
            # the server goes away right after the activation: its notification may be
            # lost; signers keep signing with what they have and catch up on reconnect
            time.sleep(0.2)
            events["restart"] = time.time() - activated
            pg_server.restart()
            events["restarted"] = time.time() - activated
        time.sleep(0.3)
        ring.retire(old)  # ends the dual-signing grace
        retry_until_allowed(lambda: ring.revoke(old))  # noqa: B023 (run at once)
        dns.set(old, ring.txt_records()[old], None)  # withdrawn only after the revoke
    time.sleep(1.0)
    relistening = listener_pids(pg_database, "signer1")
    running.stop.touch()
    for process in running.processes:
        assert process.wait(timeout=20) == 0
    (tmp_path / "dns-log.json").write_text(json.dumps(dns.log, indent=1))

    spans = dns.published()
    report: list[str] = []
    retried: list[int] = []
    for index, path in enumerate(running.logs):
        attempts = read_log(path)
        signed = [a for a in attempts if "sigs" in a]
        retries = [a for a in attempts if a.get("error") == "StoreUnavailableError"]
        retried.append(len(retries))
        lost = [a for a in attempts if "error" in a and a["error"] != "StoreUnavailableError"]
        assert not lost, lost[:3]
        # every attempted message was signed, exactly once, in order
        assert [a["seq"] for a in signed] == list(range(len(signed)))
        assert {a["seq"] for a in attempts} == set(range(len(signed)))
        for a in signed:
            assert a["sigs"], a
            for domain, selector, fingerprint in a["sigs"]:
                assert domain == a["domain"], a
                assert selector in ("mail1", "mail2"), a
                start, end = spans[fingerprint]
                window = f"DNS served {fingerprint} {start:.3f}..{end:.3f}"
                assert start <= a["t0"], f"signer{index} seq {a['seq']} at {a['t0']:.3f}; {window}"
                assert a["t1"] <= end, f"signer{index} seq {a['seq']} at {a['t1']:.3f}; {window}"
        times = []
        for n, (at, fingerprint) in enumerate(activations):
            until = activations[n + 1][0] if n + 1 < len(activations) else float("inf")
            times.append(switch_time(attempts, fingerprint, at, until))
        report.append(
            f"signer{index}: {len(signed)} messages signed, {len(retries)} temporary "
            f"failures retried, switch after activation: " + ", ".join(f"{t:.2f} s" for t in times)
        )
        assert max(times) < SWITCH_BOUND, report[-1]
        # an independent verifier, against the DNS of the signing time
        sample = [a for a in signed if "headers" in a]
        picked = random.Random(index).sample(sample, min(20, len(sample)))
        for at, _ in activations:  # and the signatures around each activation
            picked += [a for a in sample if abs(a["t0"] - at) < 1.5][:12]
        for a in picked:
            body = message(a["domain"], f"signer{index} {a['seq']}\r\n")
            served = dns.at(a["t0"])
            records = {f"{sel}._domainkey.{a['domain']}": txt for sel, txt in served.items()}
            for header in a["headers"]:
                assert dkimpy_verifies(header.encode() + body, records), a
    # the signers met the restart with domains they had never loaded: retried, not lost
    assert sum(retried) > 0
    # the killed signer listens again, on a new connection
    assert len(relistening) == 1
    assert relistening != killed
    print(
        f"\nfleet test: {time.monotonic() - began:.1f} s wall; {len(dns.log)} DNS changes; "
        f"server restart began {events['restart']:.2f} s and ended {events['restarted']:.2f} s "
        "after the second activation"
    )
    print("\n".join(report))


@pytest.mark.slow
def test_a_reader_never_sees_a_ring_state_torn_from_its_keys(
    pg_database: str, tmp_path: Path
) -> None:
    """
    A rotator commits a state and its keys together; a signer reloading at that moment
    must read both from one commit. Read apart, a revoke landing between them showed a
    state naming a key already deleted: the reload failed ("key ... is missing") and the
    signer stayed on its old snapshot.
    """
    kek = KeyEncryptionKey.from_file(write_kek(tmp_path))
    ring, _ = seed_store(pg_database, tmp_path / "kek")
    reader = PostgresKeyStore(PostgresStore(pg_database, kek), BRAND)
    ring.stage(SigningKey.generate(ALGORITHM), selector="mail2")
    stop = time.monotonic() + 2.0
    failures: list[str] = []

    def rotate() -> None:
        while time.monotonic() < stop:
            ring.revoke("mail2", force=True)
            ring.stage(SigningKey.generate(ALGORITHM), selector="mail2")

    writer = threading.Thread(target=rotate)
    writer.start()
    loads = 0
    while time.monotonic() < stop:
        try:
            reader.load()
        except KeyStoreError as exc:
            failures.append(str(exc))
        loads += 1
    writer.join()
    assert loads > 100
    assert failures == []


@contextlib.contextmanager
def refused_listener(pg_database: str, kek: Path, home: Path) -> Iterator[Signer]:
    """
    A signer whose listening connection was ended and cannot come back: its role's
    connection limit is reached, while its query connection still works.
    """
    role = f"signer_{pg_database.rsplit('dbname=', 1)[1].split(maxsplit=1)[0]}"
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 2")
        admin.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        signer = signer_from_config(write_config(home, f"{pg_database} user={role}", kek))
        assert signer.sign(message("c0-0.example"), tenant="t0")[0].domain == "c0-0.example"
        with psycopg.connect(pg_database, autocommit=True) as admin:
            admin.execute(f"ALTER ROLE {role} CONNECTION LIMIT 1")
            (pid,) = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE usename = %s AND query LIKE 'LISTEN%%'",
                (role,),
            ).fetchone()
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            time.sleep(0.5)
            listening = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = %s "
                "AND query LIKE 'LISTEN%%'",
                (role,),
            ).fetchone()
        assert listening == (0,)  # the listener cannot come back
        yield signer
    finally:
        PostgresStore.close_all()
        with psycopg.connect(pg_database, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


@pytest.mark.slow
def test_a_signer_that_cannot_listen_still_follows_its_ring(
    pg_database: str, tmp_path: Path
) -> None:
    """
    A signer that hears no notification must still follow a rotation, or it would sign
    with the old key after it was revoked and withdrawn from DNS.
    """
    kek = write_kek(tmp_path)
    ring, first = seed_store(pg_database, kek)
    with refused_listener(pg_database, kek, tmp_path) as signer:
        aligned = message("c0-0.example")
        assert signer.sign(aligned, tenant="t0")[0].key_fingerprint == first.fingerprint
        key = SigningKey.generate(ALGORITHM)
        ring.stage(key, selector="mail2")
        zone = InMemoryZone({f"mail2._domainkey.{KEY_HOST}": key.txt_record()}, ttl=1)
        ring.confirm("mail2", zone)
        activated = retry_until_allowed(lambda: ring.activate("mail2"))
        fingerprints: set[str] = set()
        while time.time() < activated + SWITCH_BOUND:
            fingerprints = {r.key_fingerprint for r in signer.sign(aligned, tenant="t0")}
            if key.fingerprint in fingerprints:
                break
            time.sleep(0.05)
        assert key.fingerprint in fingerprints


@pytest.mark.slow
def test_a_signer_that_cannot_listen_still_follows_its_domains(
    pg_database: str, tmp_path: Path
) -> None:
    """
    A domain taken from a tenant must stop signing aligned for that tenant on a signer
    that hears no notification too (within seconds, not when the listener comes back).
    """
    kek = write_kek(tmp_path)
    seed_store(pg_database, kek)
    store = PostgresStore(pg_database, KeyEncryptionKey.from_file(kek))
    with refused_listener(pg_database, kek, tmp_path) as signer:
        moved = message("c0-0.example")
        assert signer.sign(moved, tenant="t0")[0].domain == "c0-0.example"
        store.remove_domains(BRAND, ["c0-0.example"])
        store.add_domains(BRAND, "t1", ["c0-0.example"])
        changed = time.time()
        domains = {"c0-0.example"}
        while time.time() < changed + SWITCH_BOUND and "c0-0.example" in domains:
            domains = {r.domain for r in signer.sign(moved, tenant="t0")}
            time.sleep(0.05)
        assert "c0-0.example" not in domains  # t0 no longer signs as t1's domain
        assert signer.sign(moved, tenant="t1")[0].domain == "c0-0.example"


@pytest.mark.slow
def test_a_signer_that_cannot_listen_still_follows_its_generic_key(
    pg_database: str, tmp_path: Path
) -> None:
    """A new generic key reaches a signer that hears no notification, within seconds."""
    kek = write_kek(tmp_path)
    seed_store(pg_database, kek)
    store = PostgresStore(pg_database, KeyEncryptionKey.from_file(kek))
    with refused_listener(pg_database, kek, tmp_path) as signer:
        unowned = message("nobody.example")
        before = signer.sign(unowned)[0]
        assert before.domain == GENERIC[0]
        key = SigningKey.generate(ALGORITHM)
        store.set_generic_key(BRAND, key)
        changed = time.time()
        seen = before.key_fingerprint
        while time.time() < changed + SWITCH_BOUND and seen != key.fingerprint:
            seen = signer.sign(unowned)[0].key_fingerprint
            time.sleep(0.05)
        assert seen == key.fingerprint


@pytest.mark.slow
def test_a_server_outage_logs_a_failed_generic_key_reload_once_a_second_at_most(
    pg_server: PgServer, pg_database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Polling while the listener is down must not log a warning for every message."""
    kek = write_kek(tmp_path)
    seed_store(pg_database, kek)
    signer = signer_from_config(write_config(tmp_path, pg_database, kek))
    unowned = message("nobody.example")
    first = signer.sign(unowned)[0].key_fingerprint
    pg_server.stop()
    try:
        began = time.monotonic()
        while time.monotonic() < began + 2.5:
            assert signer.sign(unowned)[0].key_fingerprint == first  # the last good key
    finally:
        pg_server.start()
    failed = [r for r in caplog.records if "generic key not reloaded" in r.getMessage()]
    assert 1 <= len(failed) <= 4
