"""
``oxdkim milter`` with the brand in PostgreSQL: a real Postfix, a real database, and the
database going away while mail flows (a domain loaded before signs on; one never loaded
is a temporary failure, 451, never an unsigned pass).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from oxdkim.cli import main
from oxdkim.postgres import KeyEncryptionKey

from .conftest import MilterProcess
from .postfix import Postfix
from .test_sign import message, signatures
from .world import (
    ACME,
    ACME_DOMAIN,
    DEFAULT_MILTER,
    GENERIC_DOMAIN,
    KEY_HOST,
    dkimpy_verifies,
    write_world,
)

pytest.importorskip("psycopg")


def store_config(root: Path, conninfo: str) -> Path:
    """The world's brand with its ring, generic key and tenants in the database."""
    kek = root / "kek"
    kek.write_text(KeyEncryptionKey.generate().text() + "\n")
    kek.chmod(0o600)
    config = root / "store.toml"
    config.write_text(
        f"""\
[store]
url = "{conninfo}"
key_encryption_key_file = "{kek}"

[resolver]
zone_files = ["zones/example.zone"]

[brands.brandmail]
mode = "legacy"
generic_domain = "{GENERIC_DOMAIN}"
generic_selector = "gen1"
key_host = "{KEY_HOST}"

[milter]
{DEFAULT_MILTER}"""
    )
    return config


@pytest.fixture
def stored(pg_database: str) -> Iterator[tuple[Path, Path]]:
    """A world whose brand was moved into PostgreSQL: (root, the [store] configuration)."""
    with tempfile.TemporaryDirectory(prefix="oxdkim-milter-", dir="/tmp") as tmp:
        root = Path(tmp)
        os.chmod(root, 0o755)
        files = write_world(root)
        config = store_config(root, pg_database)
        assert 0 == main(["store", "init", "--config", str(config)])
        assert 0 == main(["store", "import", "--config", str(config), "--source", str(files)])
        yield root, config


def test_the_milter_signs_from_the_store_and_fails_closed_without_it(
    stored: tuple[Path, Path], pg_server: object
) -> None:
    root, config = stored
    milter = MilterProcess(config, "sign").start()
    try:
        (root / "postfix").mkdir()
        listeners = {"acme": {"milter_macro_daemon_name": "submit-acme"}}
        with Postfix(root / "postfix", milter.socket, extra_listeners=listeners) as postfix:
            assert 250 == postfix.send(message(ACME_DOMAIN, "first"), listener="acme")[0]
            [delivered] = postfix.wait_delivered(1)
            [signature] = signatures(delivered)
            assert f"d={ACME_DOMAIN}".encode() in signature
            assert dkimpy_verifies(delivered, root)
            # A domain added while the milter runs signs aligned, no reload needed.
            assert 0 == main(
                ["domains", "add", "--config", str(config), "--tenant", ACME, "acme-news.example"]
            )
            deadline = time.monotonic() + 10
            while True:
                postfix.clear_sink()
                assert 250 == postfix.send(message("acme-news.example", "new"), listener="acme")[0]
                [delivered] = postfix.wait_delivered(1)
                if b"d=acme-news.example" in b"".join(signatures(delivered)):
                    break
                assert time.monotonic() < deadline, signatures(delivered)
                time.sleep(0.2)
            postfix.clear_sink()
            pg_server.stop()  # type: ignore[attr-defined]
            try:
                # What was loaded signs on with the last good state ...
                code, _ = postfix.send(message(ACME_DOMAIN, "during"), listener="acme")
                assert 250 == code
                [delivered] = postfix.wait_delivered(1)
                assert f"d={ACME_DOMAIN}".encode() in b"".join(signatures(delivered))
                # ... and a domain never loaded is a temporary failure, not an unsigned pass.
                code, text = postfix.send(message("never-seen.example", "x"), listener="acme")
                assert 451 == code
                assert text.startswith(b"4.7.1")
                assert 1 == len(postfix.delivered())
            finally:
                pg_server.start()  # type: ignore[attr-defined]
            log = milter.text()
            assert "decision=tempfail" in log
            assert 'decision=tempfail reason="store unavailable"' in log or (
                "decision=tempfail reason=store" in log
            )
    finally:
        milter.stop()
