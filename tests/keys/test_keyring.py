"""
A careless caller against the key ring: naive or extreme times, missing ``since``, a
second ``stage``. Every mistake is a typed error before anything is written, and every
step that is accepted leaves a ring that loads again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from oxdkim import (
    Algorithm,
    CnameAnswer,
    ConfigurationError,
    DnsStatus,
    FileKeyStore,
    KeyLoadError,
    KeyRing,
    KeyRingError,
    KeySlot,
    KeyStoreError,
    OxDkimError,
    RingSnapshot,
    RolloverRefusal,
    RolloverTimings,
    SigningKey,
    SlotState,
    TxtAnswer,
    load_config,
)
from oxdkim.cli import main
from oxdkim.resolvers import InMemoryZone

from .conftest import KEY_HOST, T0

NAIVE = datetime(2026, 3, 1, 12, 0)
KEY = SigningKey.generate("ed25519-sha256")


def stored_ring(tmp_path: Path, **kwargs: Any) -> tuple[KeyRing, FileKeyStore]:
    ring = KeyRing.generate("ed25519-sha256", key_host=KEY_HOST, since=T0, **kwargs)
    store = FileKeyStore.create(tmp_path / "ring", ring.snapshot())
    return KeyRing.open(store, clock=lambda: T0), store


def staged(tmp_path: Path) -> tuple[KeyRing, FileKeyStore, SigningKey]:
    """A stored ring whose mail2 holds a staged key (mail1 signs)."""
    ring, store = stored_ring(tmp_path)
    ring.revoke("mail2", now=T0)
    new = SigningKey.generate("ed25519-sha256")
    ring.stage(new, now=T0)
    return ring, store, new


def confirm_zone(key: SigningKey, selector: str = "mail2") -> InMemoryZone:
    return InMemoryZone({f"{selector}._domainkey.{KEY_HOST}": key.txt_record()}, ttl=300)


class TestTimes:
    """Item: a naive or out-of-range time is refused before the ring is written."""

    @pytest.mark.parametrize(
        "bad",
        [
            NAIVE,
            datetime(9999, 12, 31, tzinfo=UTC),
            datetime(9000, 1, 1, tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=UTC),
            datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
            "2026-03-01T12:00:00+00:00",
            1772366400,
            T0.date(),
        ],
        ids=["naive", "year-9999", "year-9000", "year-1", "before-1970", "str", "int", "date"],
    )
    @pytest.mark.parametrize("step", ["stage", "confirm", "activate", "retire", "revoke"])
    def test_every_step_refuses_a_bad_now_and_writes_nothing(
        self, tmp_path: Path, step: str, bad: object
    ) -> None:
        """stage/confirm/activate/retire/revoke: ConfigurationError, ring.json unchanged."""
        ring, store, new = staged(tmp_path)
        before = store.state_path.read_bytes()
        calls = {
            "stage": lambda: ring.stage(new, selector="mail2", now=bad, replace=True),
            "confirm": lambda: ring.confirm("mail2", confirm_zone(new), now=bad),
            "activate": lambda: ring.activate("mail2", now=bad),
            "retire": lambda: ring.retire("mail1", now=bad),
            "revoke": lambda: ring.revoke("mail2", now=bad),
        }
        with pytest.raises(ConfigurationError, match="now"):
            calls[step]()
        assert before == store.state_path.read_bytes()
        assert KeyRing.open(FileKeyStore(store.directory)).snapshot() == store.load()

    def test_a_naive_clock_is_refused_when_the_ring_is_opened(self, tmp_path: Path) -> None:
        """KeyRing.open(store, clock=datetime.now) fails at once, typed, not at a restart."""
        _, store = stored_ring(tmp_path)
        with pytest.raises(ConfigurationError, match="no time zone"):
            KeyRing.open(store, clock=datetime.now)
        with pytest.raises(ConfigurationError, match="callable"):
            KeyRing.open(store, clock="now")  # type: ignore[arg-type]

    def test_a_clock_that_turns_naive_later_writes_nothing(self, tmp_path: Path) -> None:
        """The clock is checked at every step, not only when the ring is opened."""
        _, store = stored_ring(tmp_path)
        times = iter([T0, NAIVE])
        ring = KeyRing.open(store, clock=lambda: next(times))
        before = store.state_path.read_bytes()
        with pytest.raises(ConfigurationError, match="no time zone"):
            ring.revoke("mail2")
        assert before == store.state_path.read_bytes()

    @pytest.mark.parametrize("since", [NAIVE, datetime(9999, 1, 1, tzinfo=UTC), "2026"])
    def test_from_keys_and_generate_refuse_a_bad_since(self, since: Any) -> None:
        """from_keys(since=) and generate(since=) take only aware, in-range datetimes."""
        keys = {s: SigningKey.generate("ed25519-sha256") for s in ("a", "b")}
        with pytest.raises(ConfigurationError, match="since"):
            KeyRing.from_keys(keys, active="a", since=since)
        with pytest.raises(ConfigurationError, match="since"):
            KeyRing.generate("ed25519-sha256", since=since)

    def test_times_in_another_zone_are_kept_as_the_same_instant(self, tmp_path: Path) -> None:
        """A +05:30 time is stored as UTC and loads equal."""
        ring, store = stored_ring(tmp_path)
        india = T0.astimezone(timezone(timedelta(hours=5, minutes=30)))
        ring.revoke("mail2", now=india)
        loaded = store.load()
        assert T0 == loaded.slot("mail2").since
        assert UTC == loaded.slot("mail2").since.tzinfo  # type: ignore[union-attr]
        assert ring.snapshot() == loaded

    def test_the_cli_refuses_an_out_of_range_now(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`--now 9999-12-31` is unusable input (exit 2), and the ring is unchanged."""
        _, store = stored_ring(tmp_path)
        before = store.state_path.read_bytes()
        code = main(["ring", "revoke", str(store.directory), "mail2", "--now", "9999-12-31"])
        err = capsys.readouterr().err
        assert 2 == code
        assert "now must lie between" in err
        assert "Traceback" not in err
        assert before == store.state_path.read_bytes()


@pytest.mark.parametrize(
    "flag", [["--retention", "1e300d"], ["--retention", "inf"], ["--record-ttl", "100000d"]]
)
def test_ring_init_refuses_waits_it_could_not_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: list[str]
) -> None:
    """Durations too large to store: one line, exit 2, no ring and no traceback."""
    ring = tmp_path / "ring"
    assert 2 == main(["ring", "init", str(ring), "--key-host", KEY_HOST, *flag])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not (ring / "ring.json").exists()


class TestExtremeValues:
    """Item: what save writes, load reads; values that could not be read are refused."""

    @pytest.mark.parametrize("field", ["record_ttl", "negative_ttl", "retention", "dual_sign"])
    @pytest.mark.parametrize(
        "value", [timedelta.max, timedelta(days=36601), timedelta(seconds=-1), 3600, None]
    )
    def test_timings_out_of_range_are_refused(self, field: str, value: object) -> None:
        """timedelta.max, a negative wait, or a number of seconds: ConfigurationError."""
        with pytest.raises(ConfigurationError, match=field):
            RolloverTimings(**{field: value})

    def test_the_longest_waits_and_latest_times_round_trip(self, tmp_path: Path) -> None:
        """100-year waits at the last accepted moment: every step works, and loads back."""
        longest = timedelta(days=100 * 366)
        timings = RolloverTimings(longest, longest, longest, longest)
        last = datetime(8999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
        ring, store = stored_ring(tmp_path, timings=timings)
        ring.revoke("mail2", now=last)
        new = SigningKey.generate("ed25519-sha256")
        ring.stage(new, now=last)
        ring.confirm("mail2", confirm_zone(new), now=last)
        with pytest.raises(KeyRingError) as info:
            ring.activate("mail2", now=last)
        assert RolloverRefusal.CACHE_WAIT == info.value.reason
        assert info.value.not_before is not None
        assert info.value.not_before > last
        assert ring.snapshot() == store.load()
        assert [s.state for s in ring.status(now=last)]  # status computes every wait

    def test_a_huge_ttl_from_dns_is_capped(self, tmp_path: Path) -> None:
        """A resolver showing a TTL beyond 2**31-1 is counted as 2**31-1 (RFC 2181)."""
        ring, store, new = staged(tmp_path)

        class HugeTtl:
            def txt(self, name: str) -> TxtAnswer:
                return TxtAnswer(name, DnsStatus.NOERROR, (new.txt_record().encode(),), 2**40)

            def cname(self, name: str) -> CnameAnswer:
                return CnameAnswer(name, DnsStatus.NXDOMAIN, None)

        ring.confirm("mail2", HugeTtl(), now=T0)
        assert 2**31 - 1 == store.load().slot("mail2").published_ttl


class TestNoSince:
    """Item: generate()/from_keys() without ``since`` then activate/retire."""

    def test_generate_without_since_then_activate_and_retire(self) -> None:
        """The keys count as published long ago: activation and retire work, no assert."""
        ring = KeyRing.generate("ed25519-sha256", key_host=KEY_HOST)
        assert "mail2" == ring.activate("mail2", now=T0).active.selector
        again = KeyRing.generate("ed25519-sha256", key_host=KEY_HOST)
        assert "mail2" == again.retire("mail1", now=T0).active.selector
        assert all(s.next_step for s in ring.status(now=T0))

    def test_from_keys_without_since_then_retire(self) -> None:
        keys = {s: SigningKey.generate("ed25519-sha256") for s in ("a", "b")}
        ring = KeyRing.from_keys(keys, active="a")
        assert "b" == ring.retire("a", now=T0).active.selector

    def test_from_keys_refuses_values_that_are_not_keys(self) -> None:
        with pytest.raises(ConfigurationError, match="SigningKey"):
            KeyRing.from_keys({"a": "pem", "b": "pem"}, active="a")  # type: ignore[dict-item]
        with pytest.raises(ConfigurationError, match="SigningKey"):
            KeyRing.generate("ed25519-sha256").stage("pem")  # type: ignore[arg-type]


class TestStageDoesNotReplace:
    """`ring stage` twice, or after `ring confirm`, never silently drops a key."""

    @pytest.mark.parametrize("confirmed", [False, True], ids=["staged", "published"])
    def test_stage_over_a_key_dns_may_serve_is_refused(
        self, tmp_path: Path, confirmed: bool
    ) -> None:
        ring, store, first = staged(tmp_path)
        if confirmed:
            ring.confirm("mail2", confirm_zone(first), now=T0)
        before = store.state_path.read_bytes()
        files = sorted(p.name for p in (store.directory / "keys").iterdir())
        with pytest.raises(KeyRingError) as info:
            ring.stage(SigningKey.generate("ed25519-sha256"), now=T0)
        assert RolloverRefusal.WOULD_REPLACE == info.value.reason
        assert first.fingerprint in str(info.value)
        assert before == store.state_path.read_bytes()
        assert files == sorted(p.name for p in (store.directory / "keys").iterdir())
        second = SigningKey.generate("ed25519-sha256")
        ring.stage(second, now=T0, replace=True)
        assert store.load().slot("mail2").key.same_key_as(second)  # type: ignore[union-attr]
        assert SlotState.STAGED == store.load().slot("mail2").state

    def test_the_cli_refuses_then_replaces_with_replace(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`ring stage` twice: refused (exit 1, old key kept); --replace names what it replaced."""
        ring = tmp_path / "ring"
        now = ["--now", T0.isoformat()]
        init = ["ring", "init", str(ring), "--key-host", KEY_HOST, "--algorithm", "ed25519-sha256"]
        assert 0 == main([*init, *now])
        first = FileKeyStore(ring).load().slot("mail1").key
        assert first is not None
        capsys.readouterr()
        assert 1 == main(["ring", "stage", str(ring), "--selector", "mail1", *now])
        out = capsys.readouterr().out
        assert "refused" in out
        assert first.fingerprint in out
        assert FileKeyStore(ring).load().slot("mail1").key.same_key_as(first)  # type: ignore[union-attr]
        assert 0 == main(["ring", "stage", str(ring), "--selector", "mail1", "--replace", *now])
        out = capsys.readouterr().out
        assert f"replaced the staged key {first.fingerprint} in mail1" in out
        assert not FileKeyStore(ring).load().slot("mail1").key.same_key_as(first)  # type: ignore[union-attr]


class TestWrongTypes:
    """Arguments of the wrong kind are ConfigurationError, never TypeError/AttributeError."""

    @pytest.mark.parametrize(
        "call",
        [
            lambda d: KeyRing.open(str(d)),
            lambda d: KeyRing.open(FileKeyStore(d), reload_interval="1"),
            lambda d: KeyRing.open(FileKeyStore(d), reload_interval=float("nan")),
            lambda d: KeyRing.open(FileKeyStore(d), reload_interval=-1),
            lambda d: FileKeyStore(d, lock_timeout="10"),
            lambda d: FileKeyStore(d, lock_timeout=float("inf")),
            lambda d: FileKeyStore(d, passphrase="text"),
            lambda d: FileKeyStore(d, min_rsa_bits="2048"),
            lambda d: FileKeyStore(b"/tmp/ring"),
            lambda d: FileKeyStore.create(d / "new", KeyRing.generate("ed25519-sha256")),
            lambda d: KeyRing.generate("ed25519-sha256", selectors=("a", "a")),
            lambda d: KeyRing.generate("rsa-sha256", bits="2048"),
            lambda d: KeyRing.generate("rsa-sha1"),
            lambda d: KeyRing.generate(None),
            lambda d: KeyRing.generate("ed25519-sha256").activate(None, now=T0),
            lambda d: KeyRing.generate("ed25519-sha256").record_name("mail1", 7),
            lambda d: SigningKey.from_file(None),
            lambda d: SigningKey.from_file(b"/etc/key.pem"),
            lambda d: SigningKey.from_file("/nonexistent/\x00key.pem"),
            lambda d: SigningKey.from_pem(None),
            lambda d: SigningKey.from_pem(b"", password="pw"),
            lambda d: SigningKey.from_ed25519_seed("x" * 32),
            lambda d: SigningKey.from_ed25519_seed(None),
            lambda d: KeyRing.generate("ed25519-sha256", selectors="mail1"),
            lambda d: KeyRing.generate("ed25519-sha256").stage(KEY, selector="", now=T0),
            lambda d: KeyRing.generate("ed25519-sha256").stage(KEY, now=T0, replace="yes"),
            lambda d: KeyRing.generate("ed25519-sha256").revoke("mail2", force="no", now=T0),
            lambda d: KeyRing.generate("ed25519-sha256", key_host=KEY_HOST).confirm("mail2", None),
            lambda d: load_config(None),
            lambda d: load_config(d / "missing.toml"),
            lambda d: load_config(d / "ring.json"),
        ],
    )
    def test_a_wrong_argument_is_a_typed_error(self, tmp_path: Path, call: Any) -> None:
        _, store = stored_ring(tmp_path)
        with pytest.raises(OxDkimError):
            call(store.directory)

    def test_revoke_with_force_no_does_not_force(self, tmp_path: Path) -> None:
        """`force="no"` used to be truthy and skip the retention window; now it is refused."""
        ring = KeyRing.generate("ed25519-sha256", key_host=KEY_HOST)
        ring.activate("mail2", now=T0)
        with pytest.raises(ConfigurationError, match="force"):
            ring.revoke("mail1", force="no", now=T0)  # type: ignore[arg-type]
        assert SlotState.RETIRING == ring.snapshot().slot("mail1").state


def test_a_device_or_huge_file_as_a_key_or_ring_is_refused(tmp_path: Path) -> None:
    """`/dev/zero` as a key file, or a 2 MiB ring.json, is refused instead of read whole."""
    with pytest.raises(KeyLoadError, match="larger than 1024 KiB"):
        SigningKey.from_file("/dev/zero")
    _, store = stored_ring(tmp_path)
    store.state_path.write_bytes(b" " * (2 << 20))
    with pytest.raises(KeyStoreError, match="larger than 1024 KiB"):
        store.load()


ED = Algorithm.ED25519_SHA256


def two_slots(key: SigningKey) -> tuple[KeySlot, KeySlot]:
    return (KeySlot("a", key, SlotState.ACTIVE), KeySlot("b"))


@pytest.mark.parametrize(
    "build",
    [
        lambda k: RingSnapshot("ed25519-sha256", (KeySlot("a", k, SlotState.ACTIVE), KeySlot("b"))),
        lambda k: RingSnapshot(Algorithm.ED25519_SHA256, KeySlot("a", k, SlotState.ACTIVE)),
        lambda k: RingSnapshot(Algorithm.ED25519_SHA256, ("a", "b")),
        lambda k: RingSnapshot(
            Algorithm.ED25519_SHA256,
            (KeySlot("a", k, SlotState.ACTIVE), KeySlot("b")),
            generation=-1,
        ),
        lambda k: RingSnapshot(
            Algorithm.ED25519_SHA256,
            (KeySlot("a", k, SlotState.ACTIVE), KeySlot("b")),
            generation="1",
        ),
        lambda k: RingSnapshot(
            Algorithm.ED25519_SHA256, (KeySlot("a", k, SlotState.ACTIVE), KeySlot("b")), timings={}
        ),
        lambda k: KeySlot("a", k, "active"),
        lambda k: KeySlot("a", k.private_pem(), SlotState.ACTIVE),
        lambda k: KeySlot("a", k, SlotState.ACTIVE, published_ttl=3600.0),
        lambda k: KeySlot("a", k, SlotState.ACTIVE, published_ttl=True),
    ],
)
def test_snapshots_that_could_not_be_saved_and_loaded_are_refused(build: Any) -> None:
    """The public value types check what save writes: a str state, a list, a bad generation."""
    with pytest.raises(ConfigurationError):
        build(KEY)


def test_a_snapshot_with_a_list_of_slots_round_trips(tmp_path: Path) -> None:
    snap = RingSnapshot(
        Algorithm.ED25519_SHA256, [KeySlot("a", KEY, SlotState.ACTIVE), KeySlot("b")]
    )
    assert snap == FileKeyStore.create(tmp_path / "r", snap).load()
