"""
The ring directory as another local user, or a second creator, would meet it: creation
is exclusive, and a ring that anyone but its owner (or root) can change is refused.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from oxdkim import (
    FileKeyStore,
    KeyRing,
    KeyRingError,
    KeyStoreError,
    RingSnapshot,
    SigningKey,
)
from oxdkim.cli import main

from .conftest import KEY_HOST, T0

TRIALS = 60
OTHER_UID = 4242
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


def creator(base: str, barrier: object, results: object, name: str) -> None:
    """One of two processes creating the same rings at the same moment."""
    snapshot = KeyRing.generate("ed25519-sha256", key_host=KEY_HOST, since=T0).snapshot()
    mine = snapshot.slot("mail1").key
    for trial in range(TRIALS):
        barrier.wait()  # type: ignore[attr-defined]
        try:
            FileKeyStore.create(Path(base) / f"ring{trial}", snapshot)
            outcome = "won"
        except KeyStoreError as exc:
            outcome = f"lost: {exc}"
        except Exception as exc:  # anything else is a bug the parent reports
            outcome = f"crashed: {type(exc).__name__}: {exc}"
        results.put((trial, name, mine.fingerprint, outcome))  # type: ignore[attr-defined, union-attr]


def test_two_processes_creating_one_ring_exactly_one_wins(tmp_path: Path) -> None:
    """In every trial one creator wins, the other gets a KeyStoreError naming the ring."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [
        context.Process(target=creator, args=(str(tmp_path), barrier, results, name))
        for name in ("a", "b")
    ]
    for worker in workers:
        worker.start()
    outcomes: dict[int, dict[str, tuple[str, str]]] = {}
    for _ in range(2 * TRIALS):
        trial, name, fingerprint, outcome = results.get(timeout=120)
        outcomes.setdefault(trial, {})[name] = (fingerprint, outcome)
    for worker in workers:
        worker.join(timeout=60)
        assert 0 == worker.exitcode
    for trial, by_name in sorted(outcomes.items()):
        winners = [fp for fp, outcome in by_name.values() if outcome == "won"]
        losers = [outcome for _, outcome in by_name.values() if outcome != "won"]
        assert 1 == len(winners), (trial, by_name)
        directory = tmp_path / f"ring{trial}"
        assert [
            f"lost: {directory} already holds a key ring (ring.json exists); nothing was written"
        ] == losers
        stored = FileKeyStore(directory).load().slot("mail1").key
        assert stored is not None
        assert winners[0] == stored.fingerprint  # the winner's keys, never overwritten


def test_two_ring_init_commands_exactly_one_wins(tmp_path: Path) -> None:
    """`oxdkim ring init` twice at once: one exit 0, one exit 2; the printed record is served."""
    for trial in range(6):
        ring = tmp_path / f"ring{trial}"
        argv = [sys.executable, "-m", "oxdkim", "ring", "init", str(ring), "--key-host", KEY_HOST]
        argv += ["--algorithm", "ed25519-sha256"]
        processes = [
            subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        finished = [(p.wait(timeout=60), *p.communicate()) for p in processes]
        codes = sorted(code for code, _, _ in finished)
        assert [0, 2] == codes, finished
        [(_, won, _)] = [f for f in finished if f[0] == 0]
        [(_, _, lost)] = [f for f in finished if f[0] == 2]
        assert f"{ring} already holds a key ring" in lost
        record = FileKeyStore(ring).load().txt_records()["mail1"]
        assert record.split("p=")[1][:40] in won.replace('" "', "")


class TestCreateModes:
    def test_a_world_writable_directory_is_refused(self, tmp_path: Path) -> None:
        """create into an existing 0777 directory: refused, naming it; nothing written."""
        directory = tmp_path / "shared"
        directory.mkdir()
        directory.chmod(0o777)
        snapshot = KeyRing.generate("ed25519-sha256", since=T0).snapshot()
        with pytest.raises(KeyStoreError) as info:
            FileKeyStore.create(directory, snapshot)
        assert str(directory) in str(info.value)
        assert "writable by group or others (mode 0777)" in str(info.value)
        assert [] == list(directory.iterdir())

    def test_ring_init_into_a_world_writable_directory_is_refused(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        directory = tmp_path / "shared"
        directory.mkdir()
        directory.chmod(0o777)
        assert 2 == main(["ring", "init", str(directory), "--key-host", KEY_HOST])
        assert f"{directory} is writable by group or others" in capsys.readouterr().err

    def test_an_existing_private_enough_directory_is_made_0700(self, tmp_path: Path) -> None:
        """A 0755 directory of this user is tightened to 0700; keys/ is 0700."""
        directory = tmp_path / "ring"
        directory.mkdir()
        directory.chmod(0o755)
        store = FileKeyStore.create(directory, KeyRing.generate("ed25519-sha256").snapshot())
        assert 0o700 == stat.S_IMODE(os.stat(directory).st_mode)
        assert 0o700 == stat.S_IMODE(os.stat(directory / "keys").st_mode)
        assert 2 == len(store.load().slots)

    def test_a_lock_symlink_is_not_followed(self, tmp_path: Path) -> None:
        """A `.lock` planted as a symlink is refused, not followed to its target."""
        store = FileKeyStore.create(tmp_path / "r", KeyRing.generate("ed25519-sha256").snapshot())
        target = tmp_path / "elsewhere"
        (store.directory / ".lock").unlink()
        (store.directory / ".lock").symlink_to(target)
        with pytest.raises(KeyStoreError, match="cannot open the lock"):
            KeyRing.open(store).revoke("mail2", now=T0)
        assert not target.exists()


def stored(tmp_path: Path) -> FileKeyStore:
    ring = KeyRing.generate("ed25519-sha256", key_host=KEY_HOST, since=T0)
    return FileKeyStore.create(tmp_path / "ring", ring.snapshot())


def key_file(store: FileKeyStore) -> Path:
    return sorted((store.directory / "keys").iterdir())[0]


PLACES = {
    "directory": lambda store: store.directory,
    "ring.json": lambda store: store.state_path,
    "keys": lambda store: store.directory / "keys",
    "key file": key_file,
}


class TestLoadRefusesOthersRings:
    @pytest.mark.parametrize("place", list(PLACES))
    @pytest.mark.parametrize("mode", [0o777, 0o722, 0o702])
    def test_writable_by_others_is_refused(self, tmp_path: Path, place: str, mode: int) -> None:
        """Any part of the ring writable by group or others: KeyStoreError naming it."""
        store = stored(tmp_path)
        path = PLACES[place](store)
        path.chmod(mode if path.is_dir() else mode & 0o666)
        with pytest.raises(KeyStoreError) as info:
            FileKeyStore(store.directory).load()
        assert str(path) in str(info.value)

    @as_root
    @pytest.mark.parametrize("place", list(PLACES))
    def test_owned_by_another_user_is_refused(self, tmp_path: Path, place: str) -> None:
        """Another user's ring.json, keys/, key file or directory: refused, naming it."""
        store = stored(tmp_path)
        path = PLACES[place](store)
        os.chown(path, OTHER_UID, -1)
        with pytest.raises(KeyStoreError) as info:
            FileKeyStore(store.directory).load()
        assert str(path) in str(info.value)
        assert f"owned by uid {OTHER_UID}" in str(info.value)

    @as_root
    def test_a_planted_ring_is_not_shown_as_active(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Another user's replacement ring: `ring status` exits 2 naming the file, no key shown."""
        store = stored(tmp_path)
        attacker = stored(tmp_path / "attacker")
        active = attacker.load().active.key
        assert active is not None
        for path in [attacker.state_path, *(attacker.directory / "keys").iterdir()]:
            os.chown(path, OTHER_UID, -1)
        os.chown(attacker.directory / "keys", OTHER_UID, -1)
        assert 2 == main(["ring", "status", str(attacker.directory), "--now", T0.isoformat()])
        captured = capsys.readouterr()
        assert f"{attacker.state_path} is owned by uid {OTHER_UID}" in captured.err
        assert active.fingerprint not in captured.out + captured.err
        assert 0 == main(["ring", "status", str(store.directory), "--now", T0.isoformat()])

    @as_root
    def test_a_root_owned_ring_loads(self, tmp_path: Path) -> None:
        """Owned by this user (root here) is fine: the check is not over-eager."""
        store = stored(tmp_path)
        assert 0 == os.stat(store.state_path).st_uid
        assert 2 == len(store.load().slots)


class TestFoldersAbove:
    """Whoever can rename entries in a folder above the ring can swap the whole ring."""

    def test_a_world_writable_folder_above_is_refused(self, tmp_path: Path) -> None:
        store = stored(tmp_path / "shared")
        (tmp_path / "shared").chmod(0o777)
        with pytest.raises(KeyStoreError) as info:
            store.load()
        assert f"{tmp_path / 'shared'}, a folder above the ring, is writable" in str(info.value)
        with pytest.raises(KeyStoreError, match="refusing to create a ring here"):
            FileKeyStore.create(tmp_path / "shared" / "r2", snapshot())
        assert not (tmp_path / "shared" / "r2").exists()

    def test_a_sticky_world_writable_folder_above_is_accepted(self, tmp_path: Path) -> None:
        """Like /tmp: only an entry's owner may rename it, so the ring is safe."""
        store = stored(tmp_path / "sticky")
        (tmp_path / "sticky").chmod(0o1777)
        assert 2 == len(store.load().slots)

    @as_root
    def test_a_folder_above_owned_by_another_user_is_refused(self, tmp_path: Path) -> None:
        store = stored(tmp_path / "theirs")
        os.chown(tmp_path / "theirs", OTHER_UID, -1)
        with pytest.raises(KeyStoreError, match=f"owned by uid {OTHER_UID}"):
            store.load()


def snapshot() -> RingSnapshot:
    return KeyRing.generate("ed25519-sha256", key_host=KEY_HOST, since=T0).snapshot()


def stager(directory: str, barrier: Any, results: Any, trials: int) -> None:
    """One of two operators running `ring stage` on the same ring at the same moment."""
    for _ in range(trials):
        barrier.wait()
        ring = KeyRing.open(FileKeyStore(directory, lock_timeout=30))
        try:
            ring.stage(SigningKey.generate("ed25519-sha256"), selector="mail2", now=T0)
            outcome = "staged"
        except KeyRingError as exc:
            outcome = exc.reason.value
        results.put(outcome)
        barrier.wait()  # the parent resets the slot between trials
        barrier.wait()


def test_two_operators_staging_at_once_never_drop_a_staged_key(tmp_path: Path) -> None:
    """Each trial: one stages, the other is refused (`would-replace`) and nothing is lost."""
    trials = 25
    store = stored(tmp_path)
    ring = KeyRing.open(store)
    ring.revoke("mail2", now=T0)
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(3)
    results = context.Queue()
    workers = [
        context.Process(target=stager, args=(str(store.directory), barrier, results, trials))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for _ in range(trials):
        barrier.wait()
        outcomes = sorted(results.get(timeout=60) for _ in range(2))
        assert ["staged", "would-replace"] == outcomes
        barrier.wait()
        ring.revoke("mail2", now=T0)
        barrier.wait()
    for worker in workers:
        worker.join(timeout=60)
        assert 0 == worker.exitcode
