"""
The command line as a careless operator meets it: wrong flags, wrong files, weak keys,
unwritable paths, binary input. Every case is one line on stderr, the documented exit
code, and no half-written output.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from audit.scenario import RING, zones
from oxdkim import FileKeyStore
from oxdkim.cli import main
from oxdkim.cli._progress import ProgressBar, wanted
from readiness.scenario import write_world

BINARY = bytes(range(0xE6, 0xFF)) + b"\x00zone"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def zone_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write the record a keygen run printed into a zone file."""

    def write(out: str) -> Path:
        line = next(line for line in out.splitlines() if "\tTXT\t" in line)
        path = tmp_path / "keys.zone"
        path.write_text(line + "\n")
        return path

    return write


# --- keygen -------------------------------------------------------------------------------


def test_keygen_refuses_a_1024_bit_key_that_sign_would_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--bits 1024 needs --allow-1024 (as sign does); nothing is written without it."""
    key = tmp_path / "weak.pem"
    code, _, err = run(capsys, "keygen", "--bits", "1024", "--out", str(key))
    assert 2 == code
    assert "--allow-1024" in err
    assert not key.exists()
    assert 0 == run(capsys, "keygen", "--bits", "1024", "--allow-1024", "--out", str(key))[0]
    message = tmp_path / "m.eml"
    message.write_bytes(b"From: a@x.example\r\nSubject: s\r\n\r\nhi\r\n")
    sign = ["sign", "--key", str(key), "--domain", "x.example", "--selector", "s", str(message)]
    assert 2 == run(capsys, *sign)[0]
    assert 0 == main([*sign, "--allow-1024"])


def test_keygen_without_a_name_prints_no_pasteable_placeholder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No SELECTOR._domainkey.example.com. line: a comment and the bare record value."""
    code, out, _ = run(capsys, "keygen", "--out", str(tmp_path / "k.pem"))
    assert 0 == code
    assert "SELECTOR" not in out
    assert "example.com" not in out
    records = [line for line in out.splitlines() if not line.startswith(";")]
    assert [True] == [line.startswith('"v=DKIM1; k=rsa; p=') for line in records]


def test_keygen_writes_the_record_beside_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """KEY.txt holds the printed zone line; both files are protected from a rerun."""
    key = tmp_path / "gen1.pem"
    argv = ["keygen", "--algorithm", "ed25519-sha256", "--out", str(key)]
    argv += ["--selector", "gen1", "--domain", "Dkim.Brandmail.Example."]
    code, out, _ = run(capsys, *argv)
    assert 0 == code
    line = (tmp_path / "gen1.txt").read_text().strip()
    assert line.startswith("gen1._domainkey.dkim.brandmail.example.\t")
    assert line in out.splitlines()
    assert 0o600 == key.stat().st_mode & 0o777
    before = key.read_bytes()
    code, _, err = run(capsys, *argv)
    assert 2 == code
    assert "use --replace" in err
    assert before == key.read_bytes()
    assert 0 == run(capsys, *argv, "--replace")[0]
    assert before != key.read_bytes()
    code, _, err = run(capsys, *argv, "--force")
    assert 0 == code
    assert "--force is deprecated; use --replace" in err


def test_keygen_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json: files, algorithm, fingerprint, name and value, nothing private."""
    code, out, _ = run(
        capsys, "keygen", "--json", "--algorithm", "ed25519-sha256",
        "--out", str(tmp_path / "k.pem"), "--selector", "s", "--domain", "d.example",
    )  # fmt: skip
    assert 0 == code
    data = json.loads(out)
    assert "s._domainkey.d.example" == data["name"]
    assert data["value"].startswith("v=DKIM1; k=ed25519; p=")
    assert "PRIVATE" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "/nonexistent-dir/k.pem"], "cannot write /nonexistent-dir/k.pem"),
        (["--out", "k.pem", "--selector", "a b", "--domain", "x.example"], "--selector 'a b'"),
        (["--out", "k.pem", "--domain", "bad domain!"], "--domain 'bad domain!'"),
        (["--out", "k.pem", "--bits", "512", "--allow-1024"], "at least 1024"),
        (["--out", "k.pem", "--bits", "many"], "invalid int value"),
        (["--out", "-"], "--out -: give the name of the key file"),
        (["--out", "k.pem", "--algorithm", "ed25519-sha256", "--bits", "1024"], "one size"),
    ],
)
def test_keygen_unusable_input_exits_2(
    argv: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unwritable --out (docs/cli.md: exit 2), a bad name, a bad size: no key written."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "keygen", *argv)
    assert 2 == code
    assert message in err
    assert "Traceback" not in err
    assert [] == list(tmp_path.iterdir())


# --- testkey -------------------------------------------------------------------------------


def test_testkey_finds_the_published_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], zone_for
) -> None:  # type: ignore[no-untyped-def]
    """ok for the key DNS serves; not ok (exit 1, why) for another key or another name."""
    key, other = tmp_path / "k.pem", tmp_path / "other.pem"
    _, out, _ = run(
        capsys, "keygen", "--out", str(key), "--selector", "s1", "--domain", "d.example"
    )
    run(capsys, "keygen", "--out", str(other))
    zone = str(zone_for(out))
    base = ["testkey", "--zone", zone, "--domain", "d.example"]
    code, out, _ = run(capsys, *base, "--key", str(key), "--selector", "s1")
    assert (0, True) == (code, out.startswith("ok: s1._domainkey.d.example serves the key"))
    code, out, _ = run(capsys, *base, "--key", str(other), "--selector", "s1")
    assert (1, "not ok: DNS at s1._domainkey.d.example serves a different key") == (
        code,
        out.split(", not the key")[0],
    )
    code, out, _ = run(capsys, *base, "--key", str(key), "--selector", "s2", "--json")
    assert 1 == code
    assert "nxdomain" in json.loads(out)["problem"]


# --- flags that used to mean something else ------------------------------------------------


def test_check_domain_checks_that_domain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check --domain X` audits X (it was read as --domains FILE by prefix matching)."""
    FileKeyStore.create(tmp_path / "ring", RING)
    argv = ["check", "--ring", str(tmp_path / "ring"), "--no-progress"]
    for origin, text in zones().items():
        (tmp_path / f"{origin}.zone").write_text(text)
        argv += ["--zone", str(tmp_path / f"{origin}.zone")]
    code, out, _ = run(capsys, *argv, "--domain", "ok.test", "--domain", "missing.test")
    assert 1 == code
    assert "broken   missing.test:" in out
    assert "audited 2 domains" in out


def test_records_refuses_a_bad_domain_instead_of_printing_a_broken_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`records --domain 'bad domain'` used to print a CNAME owner with a space in it."""
    FileKeyStore.create(tmp_path / "ring", RING)
    code, out, err = run(
        capsys, "records", "--ring", str(tmp_path / "ring"), "--domain", "bad domain"
    )
    assert (2, "") == (code, out)
    assert "--domain 'bad domain': has a label that is not a host label: 'bad domain'" in err


def test_dmarc_from_names_the_input_not_a_borrowed_label(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--from 'not a domain!' is quoted as given (it used to say 'not a domain!.invalid')."""
    code, _, err = run(capsys, "dmarc", "--from", "not a domain!", "--zone", "/dev/null")
    assert 2 == code
    assert ".invalid" not in err
    assert "--from 'not a domain!'" in err


# --- binary input ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("operator")
    write_world(root)
    (root / "binary").write_bytes(BINARY)
    (root / "m.eml").write_bytes(b"From: a@pass.test\r\n\r\nhi\r\n")
    return root


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--zone", "{root}/binary", "{root}/m.eml"],
        ["dmarc", "--zone", "{root}/binary", "{root}/m.eml"],
        ["check", "--ring", "{root}/ring", "--domain", "pass.test", "--zone", "{root}/binary"],
        ["preview", "--config", "{root}/brands.toml", "--brand", "brandmail",
         "--zone", "{root}/binary"],
        ["preview", "--config", "{root}/binary"],
        ["records", "--ring", "{root}/ring", "--domains-file", "{root}/binary"],
        ["check", "--ring", "{root}/ring", "--domains-file", "{root}/binary"],
    ],
)  # fmt: skip
def test_a_binary_file_is_reported_one_way(
    argv: list[str], world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Zone files, domain lists and configuration: 'not UTF-8 text (byte 0x.. at offset N)'."""
    code, _, err = run(capsys, *(a.format(root=world) for a in argv))
    assert 2 == code
    assert f"oxdkim: error: {world}/binary: not UTF-8 text (byte 0xe6 at offset 0)" in err
    assert "codec" not in err
    assert 1 == len(err.strip().splitlines())


# --- preview: the options check has -------------------------------------------------------


def preview_args(world: Path) -> list[str]:
    args = ["preview", "--config", str(world / "brands.toml"), "--brand", "brandmail"]
    for path in sorted((world / "zones").glob("*.zone")):
        args += ["--zone", str(path)]
    return args


def test_preview_csv_save_and_previous(
    world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--csv rows per domain; --save writes the JSON; --previous reports what changed."""
    saved = tmp_path / "run.json"
    code, out, err = run(capsys, *preview_args(world), "--csv", "--save", str(saved))
    assert 1 == code  # the scenario has failing domains
    rows = out.splitlines()
    assert rows[0].startswith("domain,signing,dkim,spf,dmarc_policy,prediction,verdict")
    assert any(row.startswith("pass.test,aligned,") for row in rows)
    assert "previewed" in err
    assert "pass.test" in {d["domain"] for d in json.loads(saved.read_text())["domains"]}
    code, out, _ = run(
        capsys, *preview_args(world), "--previous", str(saved),
        "--domain", "pass.test", "--domain", "new.test",
    )  # fmt: skip
    assert "1 added" in out
    assert "  added    new.test: - -> " in out
    assert "1 unchanged" in out
    code, _, err = run(capsys, *preview_args(world), "--previous", str(world / "brands.toml"))
    assert 2 == code
    assert "cannot read" in err


def test_preview_processes_gives_the_same_predictions(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--processes 2 splits the domains over forked workers; the result is the same."""
    one = json.loads(run(capsys, *preview_args(world), "--json")[1])
    two = json.loads(run(capsys, *preview_args(world), "--json", "--processes", "2")[1])
    assert [(d["domain"], d["verdict"]) for d in one["domains"]] == [
        (d["domain"], d["verdict"]) for d in two["domains"]
    ]


def test_verify_json(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """verify --json: a list of signatures (empty for an unsigned message), exit 1."""
    code, out, _ = run(capsys, "verify", "--json", "--zone", "/dev/null", str(world / "m.eml"))
    assert (1, {"signatures": []}) == (code, json.loads(out))


# --- progress -------------------------------------------------------------------------------


def test_the_first_frame_has_no_wild_eta_and_loading_is_not_counted() -> None:
    """After a slow load, the first frame says 'ETA ...', not an ETA from the load time."""
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar.loading("zone file big.zone", lambda: time.sleep(0.3))
    bar(1, 40_000, None)
    text = stream.getvalue()
    assert text.startswith("loading zone file big.zone ... 0.3 s\n")
    assert "1/40,000   0% -/s ETA ...   " in text
    bar(40_000, 40_000, None)
    assert "40,000/40,000 100%" in stream.getvalue()
    assert stream.getvalue().rstrip().endswith("done")


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    """Default: a bar only on a terminal; --progress/--no-progress decide otherwise."""
    assert not wanted(None, io.StringIO())
    assert wanted(True, io.StringIO())
    assert not wanted(False, io.StringIO())


def test_keygen_out_naming_a_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out DIR: 'give the name of the key file', not 'use --replace' (which cannot work)."""
    code, _, err = run(capsys, "keygen", "--out", str(tmp_path))
    assert 2 == code
    assert "give the name of the key file to write" in err


@pytest.mark.parametrize("command", ["check", "preview"])
def test_an_unwritable_save_file_is_unusable_input(
    command: str, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--save into a missing directory: exit 2 (as docs/cli.md says), one line."""
    if command == "check":
        argv = ["check", "--ring", str(world / "ring"), "--domain", "pass.test", "--no-progress"]
        argv += ["--zone", str(next((world / "zones").glob("*.zone")))]
    else:
        argv = preview_args(world)
    code, _, err = run(capsys, *argv, "--save", str(world / "missing" / "run.json"))
    assert 2 == code
    assert "cannot write" in err


def test_binary_in_arguments_and_messages_is_shown_one_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bytes that are not text appear as \\xff everywhere: arguments, header lines, files."""
    undecodable = b"b\xffd.example".decode("utf-8", "surrogateescape")  # as argv arrives
    code, _, err = run(capsys, "dmarc", "--from", undecodable, "--zone", "/dev/null")
    assert 2 == code
    assert "argument 'b\\xffd.example' is not UTF-8 text (byte 0xff at offset 1)" in err
    message = tmp_path / "binary-header.eml"
    message.write_bytes(b"Fr\xffom: a@b.example\r\n\r\nhi\r\n")
    code, out, _ = run(capsys, "verify", "--zone", "/dev/null", str(message))
    assert "invalid name: 'Fr\\xffom: a@b.example'" in out
    assert "\\\\x" not in out


def test_a_file_name_in_other_bytes_is_still_a_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Latin-1 file name (valid on Linux) is opened, not refused as an argument."""
    name = (str(tmp_path).encode() + b"/m\xe9l.eml").decode("utf-8", "surrogateescape")
    Path(name).write_bytes(b"From: a@b.example\r\n\r\nhi\r\n")
    code, out, _ = run(capsys, "verify", "--zone", "/dev/null", name)
    assert (1, "none\t-\t-\tthe message has no DKIM-Signature") == (code, out.strip())


def test_progress_with_processes_says_there_is_none(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--progress --processes 2: a note instead of a silently missing bar."""
    _, _, err = run(capsys, *preview_args(world), "--progress", "--processes", "2")
    assert "--processes runs without a progress bar" in err
