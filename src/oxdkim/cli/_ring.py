"""
``oxdkim ring``: run a brand's key rollover over a ring directory, one checked step at a
time. Each step prints what it did, or why it refused (exit 1).
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from .._base.files import shown
from .._config.build import ring_store
from .._dkim.crypto import RSA_ABSOLUTE_MIN_BITS, RSA_DEFAULT_MIN_BITS, Algorithm, SigningKey
from .._keys.keyring import KeyRing
from .._keys.keystore import FileKeyStore
from .._keys.records import ring_records
from .._keys.ringstate import DEFAULT_SELECTORS, KeySlot, RingSnapshot, RolloverTimings, SlotState
from ..exceptions import KeyRingError, KeyStoreError
from ..typing import KeyStore
from ._common import EXIT_FAILED, EXIT_OK, CliError, moment
from ._configopts import add_config_options, load
from ._dnsopts import add_dns_options, make_resolver

_STEPS = ("init", "status", "stage", "confirm", "activate", "retire", "revoke")


def _duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``7d`` or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if text and text[-1] in units:
            return timedelta(seconds=float(text[:-1]) * units[text[-1]])
        return timedelta(seconds=float(text))
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 3600, 1h, 7d)") from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ring`` and its steps."""
    ring = subparsers.add_parser(
        "ring",
        help="key rollover: init|status|stage|confirm|activate|retire|revoke",
        description="Run a brand's two-slot key rollover. Each step checks its "
        "precondition and says why when it refuses.",
    )
    steps = ring.add_subparsers(dest="step", metavar="STEP", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "directory", metavar="RING_DIR", nargs="?", help="the ring directory (or --config)"
    )
    common.add_argument(
        "--ring", metavar="RING_DIR", help="the ring directory, as check and records take it"
    )
    common.add_argument(
        "--now",
        type=moment,
        metavar="TIME",
        help="act as if it were this time, ISO 8601 or UNIX seconds (drills, tests)",
    )
    common.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="read the PEM passphrase from this environment variable",
    )
    common.add_argument(
        "--allow-1024", action="store_true", help="accept RSA keys of 1024 to 2047 bits"
    )
    add_config_options(common)
    helps = {
        "init": "create a ring directory and stage its first key",
        "status": "show each slot, its state, since when, and what the next step waits for",
        "stage": "generate a new key into the free slot; prints the TXT record to publish",
        "confirm": "check that DNS serves a staged key, then mark it published",
        "activate": "make a published key sign (after caches had time to learn it)",
        "retire": "stop signing with a key (for the active slot: activate the other)",
        "revoke": "publish an empty p= for a retired key (after the retention window)",
    }
    parsers = {
        step: steps.add_parser(step, parents=[common], help=helps[step], description=helps[step])
        for step in _STEPS
    }
    init = parsers["init"]
    init.add_argument(
        "--key-host", metavar="HOST", help="zone holding the brand's key records (or --config)"
    )
    init.add_argument(
        "--algorithm", choices=[a.value for a in Algorithm], default=Algorithm.RSA_SHA256.value
    )
    init.add_argument(
        "--bits", type=int, default=2048, metavar="N", help="RSA key size (default 2048)"
    )
    init.add_argument(
        "--selectors", default=",".join(DEFAULT_SELECTORS), help="two selectors (mail1,mail2)"
    )
    init.add_argument("--record-ttl", type=_duration, default=timedelta(hours=1))
    init.add_argument("--negative-ttl", type=_duration, default=timedelta(hours=1))
    init.add_argument("--retention", type=_duration, default=timedelta(days=7))
    init.add_argument("--dual-sign", type=_duration, default=timedelta(0))
    parsers["stage"].add_argument("--selector", help="slot to stage into (default: the free one)")
    parsers["stage"].add_argument(
        "--bits", type=int, default=2048, metavar="N", help="RSA key size (default 2048)"
    )
    parsers["stage"].add_argument(
        "--replace",
        action="store_true",
        help="replace a staged or published key in the slot (DNS may already serve it)",
    )
    parsers["status"].add_argument("--json", action="store_true", help="print the status as JSON")
    for step in ("confirm", "activate", "retire", "revoke"):
        parsers[step].add_argument("selector", metavar="SELECTOR")
    add_dns_options(parsers["confirm"])
    parsers["confirm"].add_argument(
        "--via-domain", help="check through this customer domain's delegation CNAME"
    )
    parsers["revoke"].add_argument(
        "--force", action="store_true", help="skip the retention window (compromised key)"
    )
    ring.set_defaults(func=run)


def _apply_config(args: argparse.Namespace) -> None:
    """Take the ring directory, key host and key options from the brand's configuration."""
    if args.ring is not None:
        if args.directory is not None and args.directory != args.ring:
            raise CliError("give the ring directory once: RING_DIR or --ring")
        args.directory = args.ring
    chosen = load(args)
    args.database = None
    if chosen is not None:
        _, brand = chosen
        if brand.store is not None and args.directory is None:
            # The ring lives in the database: the same steps, the same output.
            args.database = ring_store(brand)
            args.directory = f"brand {brand.name} in the store"
        elif brand.ring is None:
            raise CliError(f"brand {brand.name} has no ring directory configured")
        args.directory = args.directory or str(brand.ring)
        if args.step == "init" and not args.key_host:
            args.key_host = brand.key_host
        if brand.passphrase_env and not args.passphrase_env:
            args.passphrase_env = brand.passphrase_env
        if brand.min_rsa_bits < RSA_DEFAULT_MIN_BITS:
            args.allow_1024 = True
    if not args.directory:
        raise CliError("give RING_DIR or --config")
    if args.step == "init" and not args.key_host:
        raise CliError("ring init needs --key-host (or --config with key_host)")


def _store(args: argparse.Namespace) -> KeyStore:
    if args.database is not None:
        store: KeyStore = args.database
        return store
    passphrase, bits = _key_options(args)
    return FileKeyStore(args.directory, passphrase=passphrase, min_rsa_bits=bits)


def _key_options(args: argparse.Namespace) -> tuple[bytes | None, int]:
    passphrase = None
    if args.passphrase_env:
        value = os.environ.get(args.passphrase_env)
        if value is None:
            raise CliError(f"environment variable {shown(args.passphrase_env)} is not set")
        passphrase = value.encode()
    bits = RSA_ABSOLUTE_MIN_BITS if args.allow_1024 else RSA_DEFAULT_MIN_BITS
    return passphrase, bits


def _print_status(ring: KeyRing, directory: str, now: datetime) -> None:
    snap = ring.snapshot()
    print(
        f"ring {directory}: {snap.algorithm.value}, "
        f"key host {snap.key_host}, generation {snap.generation}"
    )
    for status in ring.status(now=now):
        since = status.since.isoformat() if status.since else "-"
        print(f"  {status.selector:<8} {status.state.value:<9} since {since}")
        key = status.fingerprint or "-"
        print(f"           key {key}; next: {status.next_step} ({status.detail})")


def _status_json(ring: KeyRing, directory: str, now: datetime) -> dict[str, Any]:
    """``ring status --json``: the ring and, per slot, what ``status`` prints."""
    snap = ring.snapshot()

    def iso(when: datetime | None) -> str | None:
        return when.isoformat() if when else None

    return {
        "directory": directory,
        "algorithm": snap.algorithm.value,
        "key_host": snap.key_host,
        "generation": snap.generation,
        "slots": [
            {
                "selector": status.selector,
                "state": status.state.value,
                "since": iso(status.since),
                "fingerprint": status.fingerprint,
                "next_step": status.next_step,
                "ready_at": iso(status.ready_at),
                "detail": status.detail,
            }
            for status in ring.status(now=now)
        ],
    }


def _print_records(snapshot: RingSnapshot) -> None:
    print("DNS must serve at the key host:")
    for record in ring_records(snapshot):
        print("  " + record.zone_line())


def run(args: argparse.Namespace) -> int:
    """Run one rollover step."""
    _apply_config(args)
    now: datetime = args.now or datetime.now(UTC)
    if args.step == "init":
        selectors = tuple(s.strip() for s in args.selectors.split(","))
        if len(selectors) != 2:
            raise CliError("--selectors takes exactly two selectors, e.g. mail1,mail2")
        timings = RolloverTimings(
            args.record_ttl, args.negative_ttl, args.retention, args.dual_sign
        )
        algorithm = Algorithm(args.algorithm)
        key = SigningKey.generate(algorithm, bits=args.bits)
        snapshot = RingSnapshot(
            algorithm,
            (KeySlot(selectors[0], key, SlotState.STAGED, now), KeySlot(selectors[1])),
            args.key_host,
            timings,
        )
        passphrase, bits = _key_options(args)
        if args.database is not None:
            with args.database.locked():
                try:
                    args.database.load()
                except KeyStoreError:
                    args.database.save(snapshot)
                else:
                    raise CliError(f"{args.directory} already has a key ring; nothing was written")
        else:
            FileKeyStore.create(args.directory, snapshot, passphrase=passphrase, min_rsa_bits=bits)
        print(f"created ring in {args.directory}; staged a {algorithm.value} key in {selectors[0]}")
        _print_records(snapshot)
        print(f"next: publish it, then `oxdkim ring confirm {args.directory} {selectors[0]}`")
        return EXIT_OK
    ring = KeyRing.open(_store(args))
    try:
        if args.step == "status":
            if args.json:
                print(json.dumps(_status_json(ring, args.directory, now), indent=2))
            else:
                _print_status(ring, args.directory, now)
            return EXIT_OK
        if args.step == "stage":
            key = SigningKey.generate(ring.algorithm, bits=args.bits)
            before = ring.snapshot()
            snap = ring.stage(key, selector=args.selector, now=now, replace=args.replace)
            slot = next(s for s in snap.slots if s.key is not None and s.key.same_key_as(key))
            old = before.slot(slot.selector)
            if old.key is not None and old.state in (SlotState.STAGED, SlotState.PUBLISHED):
                print(
                    f"replaced the {old.state.value} key {old.key.fingerprint} in "
                    f"{slot.selector}: publish the new record in its place"
                )
            print(f"staged a new {snap.algorithm.value} key in {slot.selector} ({key.fingerprint})")
            _print_records(snap)
            print(f"next: publish it, then `oxdkim ring confirm {args.directory} {slot.selector}`")
        elif args.step == "confirm":
            snap = ring.confirm(
                args.selector, make_resolver(args), via_domain=args.via_domain, now=now
            )
            slot = snap.slot(args.selector)
            print(
                f"confirmed: DNS serves the key of {args.selector} "
                f"(TTL {slot.published_ttl}); it is published"
            )
        elif args.step == "activate":
            ring.activate(args.selector, now=now)
            print(f"activated {args.selector}: it signs new mail from {now.isoformat()}")
        elif args.step == "retire":
            ring.retire(args.selector, now=now)
            print(f"{args.selector} no longer signs")
        else:
            ring.revoke(args.selector, force=args.force, now=now)
            print(f"revoked {args.selector}: publish its empty p= record")
            _print_records(ring.snapshot())
    except KeyRingError as exc:
        print(f"refused: {exc}")
        if exc.not_before is not None:
            print(f"allowed from {exc.not_before.isoformat()}")
        return EXIT_FAILED
    _print_status(ring, args.directory, now)
    return EXIT_OK
