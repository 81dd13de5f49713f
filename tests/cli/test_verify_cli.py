"""`oxdkim verify`: one line per signature, exit 0 only when every one passed."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from oxdkim.cli import main

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def manifest() -> list[tuple[str, str, str, str, str]]:
    rows = []
    with (VECTORS / "published.tsv").open(encoding="utf-8") as lines:
        for row in csv.reader((line for line in lines if not line.startswith("#")), delimiter="\t"):
            rows.append((row[0], row[1], row[2], row[3], row[4]))
    return rows


@pytest.mark.parametrize(("vid", "message", "zone", "at", "expected"), manifest())
def test_every_published_vector_from_the_command_line(
    vid: str,
    message: str,
    zone: str,
    at: str,
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The exit code and the per-signature results match the manifest."""
    args = ["verify", "--zone", str(VECTORS / zone), str(VECTORS / message)]
    if at != "-":
        args += ["--now", at]
    code = main(args)
    lines = capsys.readouterr().out.splitlines()
    results = [line.split("\t")[0] for line in lines]
    if expected == "?":
        assert code in (0, 1)
        return
    wanted = [e.lower() for e in expected.split(",")]
    assert wanted == results
    assert (0 if all(r == "pass" for r in wanted) else 1) == code


def test_unusable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not a message, or a missing zone file, is exit 2 without a traceback."""
    junk = tmp_path / "junk"
    junk.write_bytes(b"")
    zone = VECTORS / "rfc8463" / "zone.txt"
    assert 2 == main(["verify", "--zone", str(zone), str(junk)])
    assert 2 == main(["verify", "--zone", str(tmp_path / "missing.zone"), str(junk)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("oxdkim: error:") == 2


def test_a_tampered_message_fails_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Changing the body gives fail / body-hash-mismatch on both signatures, exit 1."""
    message = (VECTORS / "rfc8463" / "signed.eml").read_bytes().replace(b"Joe.", b"Jim.")
    path = tmp_path / "tampered.eml"
    path.write_bytes(message)
    assert 1 == main(["verify", "--zone", str(VECTORS / "rfc8463" / "zone.txt"), str(path)])
    lines = capsys.readouterr().out.splitlines()
    assert 2 == len(lines)
    for line in lines:
        result, domain, _selector, reason, _ = line.split("\t")
        assert ("fail", "d=football.example.com", "body-hash-mismatch") == (result, domain, reason)
