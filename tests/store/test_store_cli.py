"""An operator moves a brand from files into PostgreSQL and runs it from there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import (
    BRAND,
    GENERIC,
    KEY_HOST,
    TENANTS,
    dkimpy_verifies,
    message,
    write_config,
    write_kek,
)

from oxdkim import FileKeyStore, KeyRing, SigningKey
from oxdkim.cli import main


def files_brand(directory: Path) -> tuple[Path, KeyRing, SigningKey]:
    """The brand as it lives today: a ring directory, a generic key file, a tenants table."""
    ring = KeyRing.generate("ed25519-sha256", key_host=KEY_HOST)
    FileKeyStore.create(directory / "ring", ring.snapshot())
    generic = SigningKey.generate("ed25519-sha256")
    (directory / "generic.pem").write_bytes(generic.private_pem())
    (directory / "generic.pem").chmod(0o600)
    tenants = "\n".join(f"{t} = {json.dumps(list(d))}" for t, d in TENANTS.items())
    path = directory / "files.toml"
    path.write_text(
        f"""
[brands.{BRAND}]
mode = "legacy"
key_host = "{KEY_HOST}"
ring = "ring"
generic_domain = "{GENERIC[0]}"
generic_selector = "{GENERIC[1]}"
generic_key = "generic.pem"

[brands.{BRAND}.tenants]
{tenants}

[brands.{BRAND}.domains]
"two.example" = "generic"
"""
    )
    return path, ring, generic


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_files_to_postgresql_and_back(
    pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, ring, generic = files_brand(tmp_path)
    new = write_config(tmp_path, pg_database, write_kek(tmp_path))
    assert run(capsys, "store", "init", "--config", str(new))[0] == 0
    assert run(capsys, "store", "init", "--config", str(new))[0] == 0  # idempotent
    code, out = run(capsys, "store", "import", "--config", str(new), "--source", str(old))
    assert code == 0, out
    assert "2 tenants, 3 domains, 1 per-domain modes" in out
    # a second import does not silently overwrite
    assert run(capsys, "store", "import", "--config", str(new), "--source", str(old))[0] == 2
    code, out = run(
        capsys, "domains", "add", "--config", str(new), "--tenant", "t3", "Three.Example"
    )
    assert code == 0, out
    # another tenant's domain is refused, nothing written
    assert (
        run(capsys, "domains", "add", "--config", str(new), "--tenant", "t3", "one.example")[0] == 2
    )
    code, out = run(capsys, "domains", "list", "--config", str(new), "--json")
    listed = {row["domain"]: (row["tenant"], row["mode"]) for row in json.loads(out)}
    assert listed == {
        "one.example": ("t1", None),
        "two.example": ("t2", "generic"),
        "shop.two.example": ("t2", None),
        "three.example": ("t3", None),
    }
    # signing from the database: aligned for the new domain, generic where the row says so
    mail = tmp_path / "mail.eml"
    mail.write_bytes(message("three.example"))
    code, out = run(capsys, "sign", "--config", str(new), "--tenant", "t3", str(mail))
    assert code == 0
    records = {f"{s}._domainkey.three.example": v for s, v in ring.txt_records().items()}
    assert "d=three.example" in out
    assert dkimpy_verifies(out.encode(), records)
    mail.write_bytes(message("two.example"))
    code, out = run(capsys, "sign", "--config", str(new), "--tenant", "t2", str(mail))
    assert f"d={GENERIC[0]}" in out
    assert dkimpy_verifies(
        out.encode(), {f"{GENERIC[1]}._domainkey.{GENERIC[0]}": generic.txt_record()}
    )
    # the ring and the records commands work against the database unchanged
    code, out = run(capsys, "ring", "status", "--config", str(new))
    assert code == 0
    assert "mail1" in out
    code, out = run(capsys, "records", "--config", str(new))
    assert code == 0
    assert "mail1._domainkey.three.example" in out
    assert f"{GENERIC[1]}._domainkey.{GENERIC[0]}" in out
    # and back out to files
    code, out = run(
        capsys, "store", "export", "--config", str(new),
        "--ring-dir", str(tmp_path / "back"), "--tenants-file", str(tmp_path / "back.toml"),
    )  # fmt: skip
    assert code == 0, out
    back = FileKeyStore(tmp_path / "back").load()
    assert [s.key.fingerprint for s in back.slots if s.key] == [
        s.key.fingerprint for s in ring.snapshot().slots if s.key
    ]
    assert '"t3" = ["three.example"]' in (tmp_path / "back.toml").read_text()
    code, out = run(capsys, "domains", "remove", "--config", str(new), "three.example")
    assert code == 0
    assert "1 domains removed" in out


def test_check_and_preview_read_the_ring_and_domains_from_the_database(
    pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, ring, _ = files_brand(tmp_path)
    new = write_config(tmp_path, pg_database, write_kek(tmp_path))
    main(["store", "init", "--config", str(new)])
    main(["store", "import", "--config", str(new), "--source", str(old)])
    capsys.readouterr()
    zone = tmp_path / "zone.txt"
    lines = ["$ORIGIN example.", "$TTL 3600"]
    for selector, txt in ring.txt_records().items():
        lines.append(f'{selector}._domainkey.{KEY_HOST}. IN TXT "{txt}"')
        lines.append(
            f"{selector}._domainkey.one.example. IN CNAME {selector}._domainkey.{KEY_HOST}."
        )
    zone.write_text("\n".join(lines) + "\n")
    code, out = run(capsys, "check", "--config", str(new), "--zone", str(zone), "--json")
    report = json.loads(out)
    text = json.dumps(report)
    assert "one.example" in text  # the aligned domains came from the database
    assert "shop.two.example" in text
    assert code in (0, 1)
