"""``oxdkim dmarc`` and ``oxdkim preview``: output, exit codes, options, unusable input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnsserver import DnsServer
from oxdkim import DefaultGenericPolicy, LegacyBrandPolicy, Signer
from oxdkim.cli import main
from oxdkim.testing import make_message

from .scenario import GENERIC_DOMAIN, GENERIC_KEY, GENERIC_SELECTOR, ring, write_world


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """brands.toml, the ring directory, the zone files and some messages."""
    root = tmp_path_factory.mktemp("preview-cli")
    write_world(root)
    aligned = Signer(LegacyBrandPolicy(ring(), {"acme": ["pass.test"]}))
    message = make_message(
        "Alice <alice@pass.test>", headers=[("Return-Path", "<bounces@bounce.pass.test>")]
    )
    (root / "aligned.eml").write_bytes(aligned.signed_message(message, tenant="acme"))
    generic = Signer(DefaultGenericPolicy(GENERIC_DOMAIN, GENERIC_SELECTOR, GENERIC_KEY))
    (root / "generic.eml").write_bytes(
        generic.signed_message(make_message("Bob <bob@spfonly.test>"))
    )
    (root / "multi.eml").write_bytes(
        b"From: a@spfonly.test, b@pass.test\r\nSubject: two authors\r\n\r\nHi.\r\n"
    )
    (root / "nofrom.eml").write_bytes(b"Subject: no author\r\n\r\nHi.\r\n")
    return root


def zone_args(root: Path) -> list[str]:
    args = []
    for path in sorted((root / "zones").glob("*.zone")):
        args += ["--zone", str(path)]
    return args


def dmarc(root: Path, *args: str) -> list[str]:
    return ["dmarc", *zone_args(root), *args]


# --- oxdkim dmarc ------------------------------------------------------------------------


def test_aligned_message_passes(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A message signed aligned: DKIM verified and aligned, dmarc=pass, exit 0."""
    assert 0 == main(dmarc(root, str(root / "aligned.eml")))
    out = capsys.readouterr().out.splitlines()
    assert "dmarc: pass (aligned)" == out[0]
    assert "dkim d=pass.test s=mail1 pass: aligned (identical, relaxed)" in out
    assert "policy: p=reject (for failing mail); disposition none" in out
    assert "spf bounce.pass.test none: not aligned (not-authenticated, relaxed)" in out
    assert (
        "Authentication-Results entry: dmarc=pass header.from=pass.test policy.dmarc=reject"
        == out[-1]
    )


def test_generic_message_fails_without_aligned_spf(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Generic d= passes DKIM but never aligns; SPF at the provider's bounce domain does not
    align either: fail, p=reject, exit 1."""
    code = main(
        dmarc(
            root, str(root / "generic.eml"), "--spf", "pass", "--mail-from", "bounce.brandmail.test"
        )
    )
    assert 1 == code
    out = capsys.readouterr().out.splitlines()
    assert "dmarc: fail (not-aligned)" == out[0]
    assert "policy: p=reject: mail will be rejected; disposition reject" in out
    assert (
        "dkim d=dkim.brandmail.test s=gen1 pass: not aligned (outside-organizational-domain, "
        "relaxed)"
    ) in out
    assert out[-1].endswith("dmarc=fail header.from=spfonly.test policy.dmarc=reject")


def test_identity_set(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--from/--dkim-domain/--spf/--mail-from without a message: aligned SPF passes."""
    args = ["--from", "spfonly.test", "--dkim-domain", GENERIC_DOMAIN, "--spf", "pass"]
    assert 0 == main(dmarc(root, *args, "--mail-from", "bounce.spfonly.test"))
    out = capsys.readouterr().out
    assert "spf bounce.spfonly.test pass: aligned (same-organizational-domain" in out
    assert 1 == main(
        dmarc(root, *args[:4], "--spf", "softfail", "--mail-from", "bounce.spfonly.test")
    )


def test_finder_compare_shows_disagreement(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--finder compare: where RFC 7489 receivers would decide otherwise, it says so."""
    args = ["--from", "nodmarc.test", "--spf", "pass", "--mail-from", "bounce.nodmarc.test"]
    assert 1 == main(dmarc(root, *args, "--finder", "compare"))
    out = capsys.readouterr().out
    assert "dmarc: none (no-policy)" in out
    assert "RFC 7489 (Public Suffix List) receivers decide the opposite" in out
    main(dmarc(root, *args, "--finder", "psl"))
    assert "spf bounce.nodmarc.test pass: aligned" in capsys.readouterr().out


def test_multiple_authors_never_pass(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A From with two addresses: each domain evaluated, the result is never a pass."""
    assert 1 == main(dmarc(root, str(root / "multi.eml")))
    out = capsys.readouterr().out.splitlines()
    assert "dmarc: fail (multiple-authors)" == out[0]
    assert ["from: spfonly.test", "from: pass.test"] == [
        line.split(" (")[0] for line in out if line.startswith("from: ")
    ]
    assert "dkim: none (the message has no DKIM-Signature)" in out


def test_json_output(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json: the result and each verified signature."""
    assert 0 == main(dmarc(root, "--json", str(root / "aligned.eml")))
    data = json.loads(capsys.readouterr().out)
    assert ("pass", "p", "reject") == (data["verdict"], data["policy_source"], data["policy"])
    assert [{"d": "pass.test", "s": "mail1", "result": "pass", "reason": None}] == data[
        "dkim_signatures"
    ]


def test_no_from_is_permerror(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A message without From has no Author Domain: permerror, exit 1."""
    assert 1 == main(dmarc(root, str(root / "nofrom.eml")))
    assert capsys.readouterr().out.startswith("dmarc: permerror (no-author-domain)")


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "pass.test", "MESSAGE"],
        ["--dkim-domain", "pass.test"],
        ["--from", "not a domain"],
        ["--from", "pass.test", "--spf", "pass"],
        ["--from", "pass.test", "--spf", "maybe"],
        ["EMPTY"],
    ],
)
def test_unusable_input_exits_2(
    root: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Conflicting or invalid options and unreadable messages: exit 2, no traceback."""
    empty = root / "empty.eml"
    empty.write_bytes(b"")
    names = {"MESSAGE": str(root / "aligned.eml"), "EMPTY": str(empty)}
    assert 2 == main(dmarc(root, *(names.get(a, a) for a in args)))
    assert "Traceback" not in capsys.readouterr().err


# --- oxdkim preview ------------------------------------------------------------------------


def preview(root: Path, *args: str) -> list[str]:
    return ["preview", "--config", str(root / "brands.toml"), *zone_args(root), *args]


def test_preview_table_and_exit_1(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every tenant domain by default; a failing domain makes the exit code 1."""
    assert 1 == main(preview(root, "--brand", "brandmail"))
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:8]}
    assert "reject" == rows["spfonly.test"]
    assert "(dkim+spf)" == rows["pass.test"]
    assert "spfonly.test: fails DMARC: generic signing never aligns and SPF fail" in out
    assert "previewed 7 domains of brand brandmail" in out
    assert "pass 3   fail 2   no-policy 2   unknown 0   permerror 0" in out


def test_preview_domains_file_exit_0(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only passing domains from --domains: exit 0."""
    domains = root / "good.txt"
    domains.write_text("# good ones\npass.test\nSPFOK.test.\n\nfragile.test\n")
    assert 0 == main(preview(root, "--brand", "brandmail", "--domains", str(domains)))
    out = capsys.readouterr().out
    assert ["pass.test", "spfok.test", "fragile.test"] == [
        line.split()[0] for line in out.splitlines()[1:4]
    ]


def test_preview_json(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json: the run on stdout, the summary on stderr."""
    code = main(preview(root, "--brand", "bulkmail", "--json", "--finder", "psl"))
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert 1 == code
    assert ("bulkmail", "psl") == (data["brand"], data["finder"])
    assert {"pass.test": "fail", "nodmarc.test": "no-policy"} == {
        d["domain"]: d["verdict"] for d in data["domains"]
    }
    assert "previewed 2 domains of brand bulkmail" in captured.err


def test_preview_progress_bar(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--progress draws the bar on stderr; the table stays on stdout."""
    main(preview(root, "--brand", "bulkmail", "--progress", "--concurrency", "1"))
    captured = capsys.readouterr()
    assert "2/2 100%" in captured.err
    assert "[" not in captured.out.splitlines()[0]


@pytest.mark.dnsserver
def test_preview_through_knot(
    root: Path, preview_server: DnsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """--nameserver against the real server: servfail.test is unknown, not a failure."""
    domains = root / "two.txt"
    domains.write_text("pass.test\nservfail.test\n")
    args = ["preview", "--config", str(root / "brands.toml"), "--brand", "brandmail"]
    args += ["--nameserver", preview_server.nameserver, "--dns-timeout", "1"]
    assert 1 == main([*args, "--domains", str(domains), "--no-progress"])
    out = capsys.readouterr().out
    assert "pass 1   fail 0   no-policy 0   unknown 1   permerror 0" in out
    assert "1 domain could not be predicted (temporary DNS failure): run again" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--brand", "nosuch"],
        [],
        ["--brand", "brandmail", "--domains", "MISSING"],
        ["--brand", "brandmail", "--domains", "BAD"],
        ["--brand", "brandmail", "--concurrency", "0"],
        ["--brand", "brandmail", "--finder", "dns"],
    ],
)
def test_preview_unusable_input_exits_2(
    root: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Unknown or missing brand, unreadable or invalid domain list, bad options: exit 2."""
    bad = root / "bad.txt"
    bad.write_text("pass.test\nnot a domain\n")
    names = {"MISSING": str(root / "missing.txt"), "BAD": str(bad)}
    assert 2 == main(preview(root, *(names.get(a, a) for a in args)))
    assert "Traceback" not in capsys.readouterr().err


def test_preview_config_resolver(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without DNS options, the configuration's [resolver] zone files answer."""
    config = root / "with-resolver.toml"
    zones = ", ".join(f'"{p}"' for p in sorted((root / "zones").glob("*.zone")))
    text = (root / "brands.toml").read_text().replace('ring = "ring"', f'ring = "{root / "ring"}"')
    config.write_text(f"[resolver]\nzone_files = [{zones}]\n\n{text}")
    assert 1 == main(["preview", "--config", str(config), "--brand", "bulkmail"])
    assert "fail 1   no-policy 1" in capsys.readouterr().out
