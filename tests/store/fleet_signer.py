"""
One signing host of the fleet test (tests/store/test_fleet.py), run as its own process.

It builds a signer from a ``[store]`` config and signs one message after another for the
tenants' domains until the stop file appears, writing every attempt as a JSON line: wall
times before and after, the domain, and each signature's selector and key fingerprint,
or the error's class. A :class:`~oxdkim.exceptions.StoreUnavailableError` is a temporary
failure, as an MTA would treat it: the same message is tried again (never dropped).

Usage: fleet_signer.py CONFIG LOG STOP NAME DOMAINS_JSON OFFSET
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from helpers import message

from oxdkim import signer_from_config
from oxdkim.exceptions import OxDkimError, StoreUnavailableError

PAUSE = 0.005
"""Seconds between messages: the test machine's cores are shared."""
SAMPLE = 7
"""Every SAMPLE-th message's signature headers are logged, for the verifier."""


def main() -> None:
    config, log, stop, name, domains_file, offset = sys.argv[1:]
    domains: list[list[str]] = json.loads(Path(domains_file).read_text())
    signer = signer_from_config(config)
    stop_file = Path(stop)
    seq = 0
    with open(log, "w", buffering=1) as out:  # line-buffered: the test watches progress
        while not stop_file.exists():
            domain, tenant = domains[(int(offset) + seq) % len(domains)]
            body = message(domain, f"{name} {seq}\r\n")
            while True:
                record: dict[str, object] = {"seq": seq, "domain": domain, "t0": time.time()}
                try:
                    results = signer.sign(body, tenant=tenant)
                except StoreUnavailableError:
                    record.update(t1=time.time(), error="StoreUnavailableError")
                    out.write(json.dumps(record) + "\n")
                    time.sleep(0.02)
                    continue
                except OxDkimError as exc:
                    record.update(t1=time.time(), error=type(exc).__name__, detail=str(exc))
                    out.write(json.dumps(record) + "\n")
                    break  # not retried: the test counts it lost
                record["t1"] = time.time()
                record["sigs"] = [[r.domain, r.selector, r.key_fingerprint] for r in results]
                if seq % SAMPLE == 0:
                    record["headers"] = [r.header.decode() for r in results]
                out.write(json.dumps(record) + "\n")
                break
            seq += 1
            time.sleep(PAUSE)


if __name__ == "__main__":
    main()
