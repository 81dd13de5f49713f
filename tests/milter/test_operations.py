"""Operations: SIGHUP reloads without losing mail, a bad file keeps the old one, SIGTERM stops."""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from .conftest import MilterProcess, instance
from .postfix import Postfix, free_port
from .test_sign import fields, message, signatures
from .world import ACME_DOMAIN, DEFAULT_MILTER, GLOBEX_DOMAIN, dkimpy_verifies, write_world


def test_reload_during_traffic_loses_no_message():
    """Two SMTP sessions send while the milter reloads five times: every message is signed."""
    with instance() as (milter, postfix, root):
        replies: list[int] = []
        stop = threading.Event()

        def client(n: int) -> None:
            i = 0
            while not stop.is_set():
                code, _ = postfix.send(message(ACME_DOMAIN, f"c{n}-{i}"), listener="acme")
                replies.append(code)
                i += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for _ in range(5):
            time.sleep(0.3)
            milter.signal(signal.SIGHUP)
        time.sleep(0.3)
        stop.set()
        for thread in threads:
            thread.join()
        assert len(replies) >= 10  # traffic was flowing across the reloads
        assert {250} == set(replies)
        delivered = postfix.wait_delivered(len(replies), timeout=30)
        assert len(replies) == len(delivered)
        assert all(signatures(msg) and dkimpy_verifies(msg, root) for msg in delivered)
        assert 5 == milter.text().count("reloaded")


def test_reload_applies_the_new_file_and_a_broken_file_keeps_the_old():
    """
    A login moved to another tenant takes effect when the file changes (watched, no
    signal needed); a broken file sent with SIGHUP changes nothing.
    """
    with instance() as (milter, postfix, root):
        config = root / "oxdkim.toml"
        text = config.read_text()
        config.write_text(text.replace('"submit-acme" = "acme"', '"submit-acme" = "globex"'))
        deadline = time.monotonic() + 10
        while "reloaded" not in milter.text() and time.monotonic() < deadline:
            time.sleep(0.05)
        postfix.send(message(GLOBEX_DOMAIN, "moved"), listener="acme")
        [sig] = signatures(postfix.wait_for(b"Subject: moved"))
        assert f"d={GLOBEX_DOMAIN};".encode() in sig

        config.write_text(text.replace('mode = "legacy"', 'mode = "aligned-ish"'))
        milter.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reload failed" not in milter.text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "reload failed" in milter.text()
        postfix.send(message(GLOBEX_DOMAIN, "kept"), listener="acme")
        [sig] = signatures(postfix.wait_for(b"Subject: kept"))
        assert f"d={GLOBEX_DOMAIN};".encode() in sig  # still the reloaded mapping


def test_sigterm_stops_cleanly_and_postfix_then_tempfails():
    """SIGTERM: the milter exits 0 with its counts logged; Postfix answers 451 after."""
    with instance() as (milter, postfix, _):
        assert 250 == postfix.send(message(ACME_DOMAIN, "one"), listener="acme")[0]
        assert 0 == milter.stop()
        assert "stopped sign; decisions: {'signed': 1}" in milter.text()
        assert 451 == postfix.send(message(ACME_DOMAIN, "two"), listener="acme")[0]


def test_sign_and_verify_listeners_in_one_process():
    """--socket signs, --verify-socket verifies: what one Postfix signed, the other passes."""
    with tempfile.TemporaryDirectory(prefix="oxdkim-milter-", dir="/tmp") as tmp:
        both(Path(tmp))


def both(root: Path) -> None:
    os.chmod(root, 0o755)
    config = write_world(root)
    verify_port = free_port()
    milter = MilterProcess(
        config, "sign", extra=["--verify-socket", f"inet:127.0.0.1:{verify_port}"]
    ).start()
    try:
        (root / "out").mkdir()
        (root / "in").mkdir()
        listeners = {"acme": {"milter_macro_daemon_name": "submit-acme"}}
        with (
            Postfix(root / "out", milter.socket, extra_listeners=listeners) as outbound,
            Postfix(root / "in", f"inet:127.0.0.1:{verify_port}") as inbound,
        ):
            outbound.send(message(ACME_DOMAIN, "both"), listener="acme")
            inbound.send(outbound.wait_for(b"Subject: both"))
            arrived = inbound.wait_for(b"Subject: both")
            [field] = [f for f in fields(arrived) if f.startswith(b"Authentication-Results:")]
            assert f"dkim=pass header.d={ACME_DOMAIN}".encode() in field
            assert f"dmarc=pass header.from={ACME_DOMAIN}".encode() in field
    finally:
        assert 0 == milter.stop()
    log = milter.text()
    assert "stopped sign; decisions: {'signed': 1}" in log
    assert "stopped verify; decisions: {'verified': 1}" in log


def test_sigterm_during_a_transfer_finishes_that_message():
    """SIGTERM while a 15 MB message streams to the milter: it is still signed and delivered."""
    with instance() as (milter, postfix, root):
        milter.stop()
        debug = MilterProcess(
            milter.config, "sign", port=milter.port, extra=["--log-level", "DEBUG"]
        )
        debug.start()
        body = (b"z" * 998 + b"\r\n") * 15_000
        raw = f"From: a@{ACME_DOMAIN}\r\nSubject: big\r\n\r\n".encode() + body
        replies: list[tuple[int, bytes]] = []
        sender = threading.Thread(
            target=lambda: replies.append(postfix.send_raw(raw, listener="acme"))
        )
        sender.start()
        deadline = time.monotonic() + 20
        while "message started" not in debug.text() and time.monotonic() < deadline:
            time.sleep(0.01)
        debug.signal(signal.SIGTERM)
        sender.join()
        assert 250 == replies[0][0], replies
        delivered = postfix.wait_for(b"Subject: big", timeout=30)
        assert dkimpy_verifies(delivered, root)
        assert 0 == debug.stop()
        log = debug.text()
        assert "stopping: finishing 1 message(s) in flight" in log
        assert "stopped sign; decisions: {'signed': 1}" in log


def test_prometheus_endpoint_counts_signatures_and_decisions():
    """[milter] metrics: the observer's counters and the milter's decisions on /metrics."""
    port = free_port()
    settings = DEFAULT_MILTER.replace("timeout = 20", f'timeout = 20\nmetrics = "127.0.0.1:{port}"')
    with instance(settings, fallback="refuse") as (_, postfix, _root):
        postfix.send(message(ACME_DOMAIN, "m1"), listener="acme")
        postfix.send(message(GLOBEX_DOMAIN, "m2"), listener="acme")  # refused: unsigned
        postfix.wait_for(b"Subject: m2")
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        lines = page.decode().splitlines()
        assert 'oxdkim_milter_decisions_total{decision="signed",mode="sign"} 1.0' in lines
        assert 'oxdkim_milter_decisions_total{decision="unsigned",mode="sign"} 1.0' in lines
        assert any(line.startswith("oxdkim_messages_signed_total{") for line in lines)


def test_unix_socket_listener():
    """--socket unix:PATH: Postfix (its cleanup runs as user postfix) signs through it."""
    with tempfile.TemporaryDirectory(prefix="oxdkim-milter-", dir="/tmp") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        config = write_world(root)
        sock = root / "milter.sock"
        milter = MilterProcess(config, "sign", extra=["--socket", f"unix:{sock}"])
        milter.start()
        try:
            (root / "pf").mkdir()
            listeners = {"acme": {"milter_macro_daemon_name": "submit-acme"}}
            with Postfix(root / "pf", f"unix:{sock}", extra_listeners=listeners) as postfix:
                assert 250 == postfix.send(message(ACME_DOMAIN, "unix"), listener="acme")[0]
                assert dkimpy_verifies(postfix.wait_for(b"Subject: unix"), root)
        finally:
            milter.stop()
