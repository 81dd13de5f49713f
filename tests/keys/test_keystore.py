"""The file key store: atomic, private, locked, and safe to kill at any moment."""

from __future__ import annotations

import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

from oxdkim import KeyLoadError, KeyRing, KeyStoreError, SigningKey, SlotState, WeakKeyError
from oxdkim._keys.keystore import FileKeyStore

from .conftest import KEY_HOST, SimClock


def make_store(tmp_path: Path, clock: SimClock, **kwargs: object) -> FileKeyStore:
    ring = KeyRing.generate(
        "ed25519-sha256", key_host=KEY_HOST, since=clock.now - timedelta(days=30)
    )
    return FileKeyStore.create(tmp_path / "ring", ring.snapshot(), **kwargs)  # type: ignore[arg-type]


class TestFiles:
    def test_keys_and_state_are_private_files(self, tmp_path: Path, clock: SimClock) -> None:
        """Key files and ring.json are mode 0600; the directory is 0700."""
        store = make_store(tmp_path, clock)
        assert 0o700 == stat.S_IMODE(os.stat(store.directory).st_mode)
        files = [store.state_path, *sorted((store.directory / "keys").iterdir())]
        assert 3 == len(files)
        for path in files:
            assert 0o600 == stat.S_IMODE(os.stat(path).st_mode), path

    def test_state_round_trips(self, tmp_path: Path, clock: SimClock) -> None:
        """What is saved loads back equal: states, times, keys (by public key)."""
        store = make_store(tmp_path, clock)
        ring = KeyRing.open(store)
        ring.revoke("mail2", now=clock.now)
        loaded = FileKeyStore(store.directory).load()
        assert ring.snapshot() == loaded
        assert 1 == loaded.generation
        assert SlotState.REVOKED == loaded.slot("mail2").state
        assert 1 == len(list((store.directory / "keys").iterdir()))  # revoked key deleted

    def test_a_group_readable_key_file_is_refused(self, tmp_path: Path, clock: SimClock) -> None:
        """Loading names the file and the fix when a key is readable by others."""
        store = make_store(tmp_path, clock)
        victim = next((store.directory / "keys").iterdir())
        victim.chmod(0o644)
        with pytest.raises(KeyStoreError) as info:
            store.load()
        assert str(victim) in str(info.value)
        assert "0644" in str(info.value)
        assert "chmod 600" in str(info.value)

    def test_a_truncated_key_file_is_refused_without_key_material(
        self, tmp_path: Path, clock: SimClock
    ) -> None:
        """A cut PEM is a KeyLoadError naming the file, and nothing of the key leaks."""
        store = make_store(tmp_path, clock)
        victim = next((store.directory / "keys").iterdir())
        pem = victim.read_bytes()
        victim.write_bytes(pem[: len(pem) // 2])
        with pytest.raises(KeyLoadError) as info:
            store.load()
        text = str(info.value) + repr(info.value)
        assert str(victim) in text
        body = b"".join(pem.splitlines()[1:-1]).decode()
        for i in range(0, len(body) - 12, 6):
            assert body[i : i + 12] not in text

    def test_a_swapped_key_file_is_refused(self, tmp_path: Path, clock: SimClock) -> None:
        """A key file holding another key than ring.json names is a mismatch."""
        store = make_store(tmp_path, clock)
        victim = next((store.directory / "keys").iterdir())
        other = SigningKey.generate("ed25519-sha256")
        victim.write_bytes(other.private_pem())
        with pytest.raises(KeyStoreError) as info:
            store.load()
        assert "names" in str(info.value)
        assert str(victim) in str(info.value)

    def test_a_key_below_the_minimum_is_refused(self, tmp_path: Path) -> None:
        """A 1024-bit RSA ring loads only with min_rsa_bits=1024."""
        keys = {s: SigningKey.generate("rsa-sha256", bits=1024) for s in ("mail1", "mail2")}
        ring = KeyRing.from_keys(keys, active="mail1")
        store = FileKeyStore.create(tmp_path / "r", ring.snapshot(), min_rsa_bits=1024)
        with pytest.raises(WeakKeyError) as info:
            FileKeyStore(store.directory).load()
        assert 1024 == info.value.bits
        assert 2 == len(FileKeyStore(store.directory, min_rsa_bits=1024).load().slots)

    def test_encrypted_keys_need_the_passphrase(self, tmp_path: Path, clock: SimClock) -> None:
        """With a passphrase the PEM files are encrypted and load only with it."""
        store = make_store(tmp_path, clock, passphrase=b"correct horse")
        pem = next((store.directory / "keys").iterdir()).read_bytes()
        assert b"ENCRYPTED" in pem
        assert 2 == len(FileKeyStore(store.directory, passphrase=b"correct horse").load().slots)
        for wrong in (None, b"wrong"):
            with pytest.raises(KeyLoadError):
                FileKeyStore(store.directory, passphrase=wrong).load()

    def test_unknown_schema_and_garbage_state_are_refused(
        self, tmp_path: Path, clock: SimClock
    ) -> None:
        """ring.json from another schema version, or not JSON, is a clear KeyStoreError."""
        store = make_store(tmp_path, clock)
        text = store.state_path.read_text()
        store.state_path.write_text(text.replace('"schema": 1', '"schema": 99'))
        with pytest.raises(KeyStoreError, match="schema 99"):
            store.load()
        store.state_path.write_text("{not json")
        with pytest.raises(KeyStoreError, match="not valid JSON"):
            store.load()
        with pytest.raises(KeyStoreError, match="holds no key ring"):
            FileKeyStore(tmp_path / "nowhere").load()

    def test_create_refuses_an_existing_ring(self, tmp_path: Path, clock: SimClock) -> None:
        """Creating a ring where one exists never overwrites it."""
        store = make_store(tmp_path, clock)
        with pytest.raises(KeyStoreError, match="already holds a key ring"):
            FileKeyStore.create(store.directory, store.load())


class TestSharing:
    def test_a_signer_process_picks_up_a_rotation(self, tmp_path: Path, clock: SimClock) -> None:
        """A ring opened elsewhere reloads after another process rotated it."""
        store = make_store(tmp_path, clock)
        signer_view = KeyRing.open(FileKeyStore(store.directory), reload_interval=0)
        rotator = KeyRing.open(FileKeyStore(store.directory))
        rotator.activate("mail2", now=clock.now)
        assert "mail2" == signer_view.snapshot().active.selector

    def test_the_writer_lock_keeps_a_second_rotator_out(
        self, tmp_path: Path, clock: SimClock
    ) -> None:
        """While one process holds the lock, another rotator times out with a clear error."""
        store = make_store(tmp_path, clock)
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time; from oxdkim._keys.keystore import FileKeyStore\n"
                f"with FileKeyStore({str(store.directory)!r}).locked():\n"
                "    print('locked', flush=True); time.sleep(30)",
            ],
            stdout=subprocess.PIPE,
        )
        try:
            assert holder.stdout is not None
            assert b"locked\n" == holder.stdout.readline()
            ring = KeyRing.open(FileKeyStore(store.directory, lock_timeout=0.2))
            with pytest.raises(KeyStoreError, match="another rotation holds the lock"):
                ring.activate("mail2", now=clock.now)
        finally:
            holder.kill()
            holder.wait()
            assert holder.stdout is not None
            holder.stdout.close()
        ring.activate("mail2", now=clock.now)  # the lock died with its holder
        assert "mail2" == FileKeyStore(store.directory).load().active.selector


ROTATOR = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    from oxdkim import KeyRing, SigningKey, SlotState
    from oxdkim._base.answers import DnsStatus, TxtAnswer
    from oxdkim._keys.keystore import FileKeyStore

    ring = KeyRing.open(FileKeyStore(sys.argv[1]))
    print("ready", flush=True)
    while True:
        snap = ring.snapshot()
        times = [t for s in snap.slots for t in (s.since, s.published_at) if t]
        now = max(times) + timedelta(days=8)
        other = snap.other(snap.active.selector)
        if other.state in (SlotState.EMPTY, SlotState.REVOKED):
            ring.stage(SigningKey.generate("ed25519-sha256"), now=now)
        elif other.state is SlotState.STAGED:
            record = other.key.txt_record().encode()
            answer = TxtAnswer("n", DnsStatus.NOERROR, (record,), 60)
            from oxdkim._keys import rollover as _rollover
            ring.swap(lambda s: _rollover.confirm(s, other.selector, "n", answer, now))
        elif other.state is SlotState.PUBLISHED:
            ring.activate(other.selector, now=now)
        else:
            ring.revoke(other.selector, now=now)
    """
)


def test_a_rotation_killed_at_any_moment_leaves_a_loadable_ring(
    tmp_path: Path, clock: SimClock
) -> None:
    """SIGKILL during rotations: the ring always loads with exactly one active key."""
    store = make_store(tmp_path, clock)
    rng = random.Random(1234)
    generations = []
    for _round in range(25):
        process = subprocess.Popen(
            [sys.executable, "-c", ROTATOR, str(store.directory)], stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        assert b"ready\n" == process.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.08))
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        snapshot = FileKeyStore(store.directory).load()
        assert 1 == sum(slot.state is SlotState.ACTIVE for slot in snapshot.slots)
        generations.append(snapshot.generation)
        leftovers = [p.name for p in store.directory.rglob(".*.tmp")]
        for name in leftovers:  # a killed write may leave its temp file; never a torn file
            assert name.endswith(".tmp")
    assert generations[-1] > 25  # the rotator really made progress between kills


def test_a_ring_that_cannot_refresh_stops_signing_after_half_the_retention(
    tmp_path: Path,
) -> None:
    """A failed reload keeps the last good view, but not for ever: after half the
    retention window another host may have withdrawn its key, so it is a temporary
    failure until the store answers again."""
    import time
    from datetime import timedelta

    from oxdkim import KeyRing, RolloverTimings
    from oxdkim.exceptions import StoreUnavailableError

    ring = KeyRing.generate(
        "ed25519-sha256",
        key_host="keys.example",
        timings=RolloverTimings(retention=timedelta(seconds=0.6)),
    )
    store = FileKeyStore.create(tmp_path / "ring", ring.snapshot())
    reader = KeyRing.open(store, reload_interval=0)
    assert reader.snapshot().active.selector == "mail1"
    state = store.state_path.read_bytes()
    store.state_path.write_bytes(b"{ not json")  # a broken writer
    assert reader.snapshot().active.selector == "mail1"  # the last good view signs on
    time.sleep(0.4)
    with pytest.raises(StoreUnavailableError, match="half the retention"):
        reader.snapshot()
    store.state_path.write_bytes(state)  # repaired
    assert reader.snapshot().active.selector == "mail1"
