"""
Key ring storage: a directory with the ring state (JSON) and the private keys (PEM).

Layout::

    ring.json                 state, schema version, generation (mode 0600)
    keys/<selector>-<fp>.pem  one private key per file (mode 0600), named by fingerprint
    .lock                     the writer lock (flock)

The directory and everything in it must belong to the process's user (or root) and be
writable by nobody else, as OpenSSH requires of its keys: another local user who can
replace ``ring.json`` or a key file could make this signer publish and sign with their
key. Loading refuses a ring that is not so; creating one makes it so (or refuses).

Every write is atomic (temp file, fsync, rename, directory fsync): a process killed at
any moment leaves either the old state or the new one. Key files are written before the
state that names them and deleted only after a state that no longer names them is on
disk, so a stored state always has its keys.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import time
from collections.abc import Hashable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from .._base.files import (
    atomic_write,
    is_path,
    is_seconds,
    is_whole_number,
    looks_like_key_text,
    read_small_file,
    shown,
    shown_path,
)
from .._dkim.crypto import RSA_DEFAULT_MIN_BITS, SigningKey
from ..exceptions import ConfigurationError, KeyStoreError
from .ringjson import snapshot_of, state_of
from .ringstate import KeySlot, RingSnapshot

_STATE = "ring.json"
_KEYS = "keys"
_LOCK = ".lock"


def _unsafe(path: Path, info: os.stat_result, *, private: bool = False) -> str | None:
    """Why ``path`` (as ``info`` describes it) may not hold ring data, or ``None``."""
    me = os.geteuid()
    if info.st_uid not in (me, 0):
        return (
            f"{path} is owned by uid {info.st_uid}, not by this user (uid {me}) or root; "
            "another user could replace the ring's keys"
        )
    mode = stat.S_IMODE(info.st_mode)
    if private and mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{path} is readable by group or others (mode {mode:04o}); run chmod 600 on it"
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"{path} is writable by group or others (mode {mode:04o}); another user could "
            "replace the ring's keys: run chmod go-w on it"
        )
    return None


def _unsafe_ancestor(directory: Path) -> str | None:
    """
    Why a folder above ``directory`` lets another user swap the ring, or ``None``.

    Whoever may rename entries in a parent folder can replace the whole ring directory,
    so each folder up to ``/`` must belong to this user or root and be writable by no
    one else, unless it is sticky (``/tmp``), where only an entry's owner may rename it.
    """
    me = os.geteuid()
    for parent in directory.resolve().parents:
        try:
            info = os.stat(parent)
        except OSError:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid not in (me, 0):
            return (
                f"{parent}, a folder above the ring, is owned by uid {info.st_uid}, not by "
                f"this user (uid {me}) or root; that user could replace the ring"
            )
        if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
            return (
                f"{parent}, a folder above the ring, is writable by group or others "
                f"(mode {mode:04o}); they could replace the ring: run chmod go-w on it"
            )
    return None


class FileKeyStore:
    """
    A :class:`~oxdkim.typing.KeyStore` in one directory.

    Args:
        directory: The ring directory (created by :meth:`create`).
        passphrase: Encrypts the PEM files when given (and is needed to read them).
        min_rsa_bits: Refuse RSA keys below this size when loading (at least 1024).
        lock_timeout: Seconds to wait for another rotator's writer lock.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        passphrase: bytes | None = None,
        min_rsa_bits: int = RSA_DEFAULT_MIN_BITS,
        lock_timeout: float = 10.0,
    ) -> None:
        if not is_path(directory) or (
            looks_like_key_text(str(directory)) and not os.path.lexists(directory)
        ):
            raise ConfigurationError(
                f"the ring directory must be a path, not {shown_path(directory)}"
            )
        if passphrase is not None and not isinstance(passphrase, bytes):
            raise ConfigurationError(f"passphrase must be bytes, not {type(passphrase).__name__}")
        if not is_whole_number(min_rsa_bits):
            raise ConfigurationError(
                f"min_rsa_bits must be a whole number, not {shown(min_rsa_bits)}"
            )
        if not is_seconds(lock_timeout):
            raise ConfigurationError("lock_timeout must be a number of seconds, 0 or more")
        self.directory: Path = Path(directory)
        self._passphrase = passphrase
        self.min_rsa_bits = min_rsa_bits
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"<FileKeyStore {str(self.directory)!r}>"

    @property
    def state_path(self) -> Path:
        """The ring state file."""
        return self.directory / _STATE

    @classmethod
    def create(
        cls,
        directory: str | Path,
        snapshot: RingSnapshot,
        *,
        passphrase: bytes | None = None,
        min_rsa_bits: int = RSA_DEFAULT_MIN_BITS,
    ) -> FileKeyStore:
        """
        Make a new ring directory (mode 0700) holding ``snapshot``.

        An existing directory is used only if it belongs to this user (or root) and is
        not writable by group or others; it is then made 0700. Creation holds the writer
        lock, so of two processes creating the same ring exactly one succeeds.

        Raises:
            KeyStoreError: The directory already holds a ring, is unsafe, or cannot be
                written.
        """
        if not isinstance(snapshot, RingSnapshot):
            raise ConfigurationError(
                f"snapshot must be a RingSnapshot, not {type(snapshot).__name__}"
            )
        store = cls(directory, passphrase=passphrase, min_rsa_bits=min_rsa_bits)
        unsafe = _unsafe_ancestor(store.directory)
        if unsafe is not None:
            raise KeyStoreError(f"refusing to create a ring here: {unsafe}")
        problem = None
        try:
            store.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            store._make_private(store.directory)
            with store.locked():
                if os.path.lexists(store.state_path):
                    raise KeyStoreError(
                        f"{store.directory} already holds a key ring ({_STATE} exists); "
                        "nothing was written"
                    )
                (store.directory / _KEYS).mkdir(mode=0o700, exist_ok=True)
                store._make_private(store.directory / _KEYS)
                store.save(snapshot)
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
        if problem is not None:
            raise KeyStoreError(f"cannot create a ring in {store.directory}: {problem}")
        return store

    def _make_private(self, directory: Path) -> None:
        """Refuse a directory another user may change; make this user's own 0700."""
        info = os.stat(directory)
        if not stat.S_ISDIR(info.st_mode):
            raise KeyStoreError(f"{directory} is not a directory")
        unsafe = _unsafe(directory, info)
        if unsafe is not None:
            raise KeyStoreError(f"refusing to create a ring here: {unsafe}")
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(directory, 0o700)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the exclusive writer lock (``flock`` on ``.lock``)."""
        try:
            fd = os.open(self.directory / _LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise KeyStoreError(
                f"cannot open the lock in {self.directory}: {exc.strerror}"
            ) from None
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        raise KeyStoreError(
                            f"another rotation holds the lock on {self.directory}"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)

    def version_token(self) -> Hashable:
        """Changes whenever ``ring.json`` is replaced."""
        try:
            info = os.stat(self.state_path)
        except OSError:  # missing, or the directory is not one: load() says which
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    # --- writing ---------------------------------------------------------------------

    def _key_path(self, slot: KeySlot, key: SigningKey) -> Path:
        return self.directory / _KEYS / f"{slot.selector}-{key.fingerprint}.pem"

    def save(self, snapshot: RingSnapshot) -> None:
        """Write the keys that are new, then the state, then drop keys no longer named."""
        keys_dir = self.directory / _KEYS
        try:
            keys_dir.mkdir(mode=0o700, exist_ok=True)
            keep: set[str] = set()

            def key_file(slot: KeySlot, key: SigningKey) -> dict[str, Any]:
                path = self._key_path(slot, key)
                if not path.exists():
                    atomic_write(path, key.private_pem(password=self._passphrase))
                keep.add(path.name)
                return {"key_file": f"{_KEYS}/{path.name}"}

            state = state_of(snapshot, key_file)
            atomic_write(self.state_path, json.dumps(state, indent=2).encode() + b"\n")
            for path in keys_dir.glob("*.pem"):
                if path.name not in keep:
                    path.unlink(missing_ok=True)
            # Writers hold the lock, so a temp file now is a leftover of a killed writer.
            for directory in (self.directory, keys_dir):
                for path in directory.glob(".*.tmp"):
                    path.unlink(missing_ok=True)
        except OSError as exc:
            raise KeyStoreError(f"cannot write the ring in {self.directory}: {exc}") from None

    # --- reading ---------------------------------------------------------------------

    def load(self) -> RingSnapshot:
        """
        Read the ring and its keys.

        Raises:
            KeyStoreError: No ring, unreadable or invalid state, a key file that is
                missing, group/world-readable, or not the key the state names.
            KeyLoadError: A key file that is truncated, encrypted without a passphrase,
                or below the size minimum (the error names the file).
        """
        for _ in range(3):
            token = self.version_token()
            try:
                return self._load_once()
            except FileNotFoundError:
                if self.version_token() == token:  # not a concurrent rotation: truly missing
                    break
        raise KeyStoreError(f"{self.directory}: the ring state names a key file that is missing")

    def _checked(self, path: Path, *, private: bool = False) -> os.stat_result:
        """``path``'s status, after checking that only this user (or root) can change it."""
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise KeyStoreError(f"cannot read {path}: {exc.strerror}") from None
        unsafe = _unsafe(path, info, private=private)
        if unsafe is not None:
            raise KeyStoreError(unsafe)
        return info

    def _load_once(self) -> RingSnapshot:
        try:
            self._checked(self.directory)
            unsafe = _unsafe_ancestor(self.directory)
            if unsafe is not None:
                raise KeyStoreError(unsafe)
            self._checked(self.state_path)
            raw = read_small_file(self.state_path)
        except FileNotFoundError:
            raise KeyStoreError(f"{self.directory} holds no key ring ({_STATE} missing)") from None
        except OSError as exc:
            raise KeyStoreError(f"cannot read {self.state_path}: {exc.strerror}") from None
        try:
            state = json.loads(raw)
            if not isinstance(state, dict):
                raise TypeError("not an object")
        except (ValueError, TypeError) as exc:
            raise KeyStoreError(f"{self.state_path} is not valid JSON ({exc})") from None
        where = str(self.state_path)

        def key_of(entry: Mapping[str, Any]) -> SigningKey | None:
            if not entry.get("key_file"):
                return None
            path = self._named_key_path(entry["key_file"], where)
            key = self._load_key(path)
            if entry.get("fingerprint") not in (None, key.fingerprint):
                raise KeyStoreError(
                    f"{path} holds key {key.fingerprint}, but the ring state names "
                    f"{entry['fingerprint']}"
                )
            return key

        return snapshot_of(state, where, key_of)

    def _named_key_path(self, name: object, where: str) -> Path:
        """The key file a state names; only ``keys/<file>.pem`` inside this directory."""
        parts = PurePosixPath(name).parts if isinstance(name, str) else ()
        if len(parts) != 2 or parts[0] != _KEYS or not parts[1].endswith(".pem"):
            raise KeyStoreError(f"{where}: key_file {name!r} is not keys/<name>.pem")
        return self.directory / _KEYS / parts[1]

    def _load_key(self, path: Path) -> SigningKey:
        try:
            self._checked(path.parent)
        except FileNotFoundError:
            raise KeyStoreError(f"{path.parent} is missing") from None
        # A missing key file raises FileNotFoundError: load() retries, as a concurrent
        # rotation may have replaced it.
        self._checked(path, private=True)
        return SigningKey.from_file(path, password=self._passphrase, min_rsa_bits=self.min_rsa_bits)
