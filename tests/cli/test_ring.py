"""`oxdkim ring` and `oxdkim records`, driven as an operator would, in simulated time."""

from __future__ import annotations

from pathlib import Path

import pytest

from oxdkim.cli import main

T = "2026-03-01T12:00:00+00:00"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def publish(capsys: pytest.CaptureFixture[str], ring: Path, zone: Path) -> None:
    code, out = run(capsys, "records", "--ring", str(ring), "--domain", "c.example")
    assert 0 == code
    zone.write_text(out)


def test_a_full_rotation_through_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """init, confirm, activate, stage, confirm, activate, revoke: each step checked."""
    ring, zone = tmp_path / "ring", tmp_path / "brand.zone"
    code, out = run(
        capsys,
        "ring",
        "init",
        str(ring),
        "--key-host",
        "keys.b.example",
        "--algorithm",
        "ed25519-sha256",
        "--now",
        T,
    )
    assert 0 == code
    assert "mail1._domainkey.keys.b.example." in out

    code, out = run(capsys, "ring", "confirm", str(ring), "mail1", "--zone", str(zone), "--now", T)
    assert 2 == code  # the zone file does not exist yet: unusable input
    assert "cannot read zone file" in out

    publish(capsys, ring, zone)
    code, out = run(capsys, "ring", "activate", str(ring), "mail1", "--now", T)
    assert (1, True) == (code, "confirm DNS publication first" in out)
    code, out = run(capsys, "ring", "confirm", str(ring), "mail1", "--zone", str(zone), "--now", T)
    assert (0, True) == (code, "it is published" in out)
    code, out = run(capsys, "ring", "activate", str(ring), "mail1", "--now", T)
    assert 1 == code
    assert "allowed from 2026-03-01T14:00:00+00:00" in out
    code, out = run(
        capsys, "ring", "activate", str(ring), "mail1", "--now", "2026-03-01T14:00:00+00:00"
    )
    assert 0 == code

    later = "2026-03-02T00:00:00+00:00"
    code, out = run(capsys, "ring", "stage", str(ring), "--now", later)
    assert (0, True) == (code, "staged a new ed25519-sha256 key in mail2" in out)
    publish(capsys, ring, zone)
    code, out = run(
        capsys, "ring", "confirm", str(ring), "mail2", "--zone", str(zone), "--now", later
    )
    assert 0 == code
    code, out = run(
        capsys, "ring", "retire", str(ring), "mail1", "--now", "2026-03-02T03:00:00+00:00"
    )
    assert 0 == code  # retiring the active slot activates the other
    code, out = run(capsys, "ring", "status", str(ring), "--now", "2026-03-02T03:00:00+00:00")
    assert "mail2    active" in out
    assert "mail1    retiring" in out
    assert "until 2026-03-09T03:00:00+00:00" in out
    code, out = run(
        capsys, "ring", "revoke", str(ring), "mail1", "--now", "2026-03-05T00:00:00+00:00"
    )
    assert (1, True) == (code, "mail in flight" in out)
    code, out = run(
        capsys, "ring", "revoke", str(ring), "mail1", "--now", "2026-03-09T03:00:00+00:00"
    )
    assert 0 == code
    assert 'mail1._domainkey.keys.b.example.\t3600\tIN\tTXT\t"v=DKIM1; k=ed25519; p="' in out


def test_a_ring_with_a_world_readable_key_does_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command refuses a 0644 key file and says which file and why."""
    ring = tmp_path / "ring"
    assert (
        0
        == run(
            capsys,
            "ring",
            "init",
            str(ring),
            "--key-host",
            "k.example",
            "--algorithm",
            "ed25519-sha256",
        )[0]
    )
    key_file = next((ring / "keys").iterdir())
    key_file.chmod(0o644)
    code, out = run(capsys, "ring", "status", str(ring))
    assert 2 == code
    assert f"{key_file} is readable by group or others" in out
    assert "Traceback" not in out
