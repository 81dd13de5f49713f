"""
Throughput of Postfix with ``oxdkim milter`` against Postfix alone, on this machine.

One Postfix (started like the tests' fixture, tests/milter/postfix.py) has two listeners:
one passes every message through the signing milter, the other has ``smtpd_milters``
emptied. Each run sends ``--messages`` messages of ``--size`` bytes over ``--sessions``
concurrent SMTP sessions (each session sends its share on one connection) and stops the
clock when smtp-sink holds all of them. The milter's CPU time (user + system, from
/proc) is read before and after its run.

    .venv/bin/python benchmarks/milter.py                     # 400 messages, 10 KB, 4 sessions
    .venv/bin/python benchmarks/milter.py --messages 1000 --sessions 8 --rounds 3

Needs Debian's postfix (as for tests/milter) and root (Postfix drops privileges itself).
"""

from __future__ import annotations

import argparse
import os
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from milter.conftest import MilterProcess  # noqa: E402
from milter.postfix import Postfix  # noqa: E402
from milter.world import ACME_DOMAIN, dkimpy_verifies, write_world  # noqa: E402


def make_message(size: int, n: int) -> bytes:
    """A message of exactly ``size`` bytes: a few fields and 78-column body lines."""
    head = (
        f"From: Ann <ann@{ACME_DOMAIN}>\r\nTo: rcpt@example.org\r\nSubject: bench {n}\r\n"
        f"Message-ID: <bench-{n}@{ACME_DOMAIN}>\r\nDate: Sun, 06 Dec 2026 05:00:00 +0000\r\n\r\n"
    ).encode()
    line = b"x" * 76 + b"\r\n"
    body = line * ((size - len(head)) // len(line))
    body += b"y" * (size - len(head) - len(body) - 2) + b"\r\n"
    return head + body


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (from /proc; clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(postfix: Postfix, listener: str, messages: int, sessions: int, size: int) -> float:
    """Seconds from the first MAIL to the last message at the sink."""
    postfix.clear_sink()
    share = [messages // sessions + (1 if i < messages % sessions else 0) for i in range(sessions)]
    errors: list[BaseException] = []

    def session(index: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", postfix.ports[listener], timeout=120) as smtp:
                for k in range(share[index]):
                    msg = make_message(size, index * 100_000 + k)
                    smtp.sendmail(f"ann@{ACME_DOMAIN}", ["rcpt@example.org"], msg)
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    postfix.wait_delivered(messages, timeout=600)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--size", type=int, default=10 * 1024)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oxdkim-bench-", dir="/tmp") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        config = write_world(root)
        milter = MilterProcess(config, "sign").start()
        assert milter.proc is not None
        (root / "postfix").mkdir()
        listeners = {
            "acme": {"milter_macro_daemon_name": "submit-acme"},
            "plain": {"smtpd_milters": ""},
        }
        try:
            with Postfix(root / "postfix", milter.socket, extra_listeners=listeners) as postfix:
                run(postfix, "acme", 20, 2, args.size)  # warm-up: processes, caches
                check = postfix.wait_delivered(20)
                assert all(dkimpy_verifies(m, root) for m in check[:3]), "not signed"
                alone, signed, cpu = [], [], []
                for _ in range(args.rounds):
                    alone.append(run(postfix, "plain", args.messages, args.sessions, args.size))
                    before = cpu_seconds(milter.proc.pid)
                    signed.append(run(postfix, "acme", args.messages, args.sessions, args.size))
                    cpu.append(cpu_seconds(milter.proc.pid) - before)
        finally:
            milter.stop()
    rate_alone = args.messages / statistics.median(alone)
    rate_signed = args.messages / statistics.median(signed)
    cpu_ms = 1000 * statistics.median(cpu) / args.messages
    print(
        f"{args.messages} messages of {args.size} bytes, {args.sessions} sessions, "
        f"{args.rounds} rounds (median), {os.cpu_count()} CPUs"
    )
    print(f"Postfix alone:        {rate_alone:8.1f} messages/s")
    print(f"Postfix + milter:     {rate_signed:8.1f} messages/s")
    print(f"ratio (milter/alone): {rate_signed / rate_alone:8.2f}")
    print(f"milter CPU:           {cpu_ms:8.2f} ms per message (user + system)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
