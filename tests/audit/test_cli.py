"""``oxdkim check``: exit codes, output formats, the diff, the progress bar, bad input."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dnsserver import DnsServer
from oxdkim import FileKeyStore
from oxdkim.audit import AuditRun
from oxdkim.cli import main

from .scenario import RING, SERVFAIL_ZONE, zones


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ring directory and the scenario's zone files on disk."""
    root = tmp_path_factory.mktemp("check")
    FileKeyStore.create(root / "ring", RING)
    (root / "zones").mkdir()
    for origin, text in zones().items():
        (root / "zones" / f"{origin}.zone").write_text(text)
    return root


def zone_args(world: Path) -> list[str]:
    args = []
    for path in sorted((world / "zones").glob("*.zone")):
        args += ["--zone", str(path)]
    return args


def domains_file(world: Path, name: str, *domains: str) -> str:
    path = world / name
    path.write_text("# customer domains\n" + "\n".join(domains) + "\n\n")
    return str(path)


def check(world: Path, domains: str, *extra: str) -> list[str]:
    return ["check", "--ring", str(world / "ring"), "--domains", domains, *zone_args(world), *extra]


def test_all_ok_exits_0(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only correct domains: exit 0, no domain lines, a summary."""
    domains = domains_file(world, "ok.txt", "ok.test", "indirect.test")
    assert 0 == main(check(world, domains))
    out = capsys.readouterr().out
    assert out.startswith("audited 2 domains against keys.brand.test (mail1, mail2)")
    assert "ok 2   broken 0   unknown 0" in out


def test_broken_domains_exit_1_and_are_listed(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken domain: exit 1, one line naming what is wrong; warnings are listed too."""
    domains = domains_file(world, "mixed.txt", "ok.test", "onlyone.test", "lowttl.test")
    assert 1 == main(check(world, domains))
    out = capsys.readouterr().out
    assert "broken   onlyone.test: mail2 CNAME missing (only the other selector is set up)\n" in out
    assert "warning  lowttl.test: mail1 CNAME TTL is low; mail2 CNAME TTL is low\n" in out
    assert "ok.test" not in out
    assert "domains per problem: one-selector-only 1, low-ttl 1" in out


def test_json_output_is_an_audit_run(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the run's JSON on stdout and the summary on stderr."""
    domains = domains_file(world, "json.txt", "ok.test", "doubled.test")
    assert 1 == main(check(world, domains, "--json"))
    captured = capsys.readouterr()
    run = AuditRun.from_json(captured.out)
    assert ("ok.test", "doubled.test") == run.domains
    assert "audited 2 domains" in captured.err


def test_csv_output(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--csv prints one row per domain and selector."""
    domains = domains_file(world, "csv.txt", "ok.test", "typo.test")
    assert 1 == main(check(world, domains, "--csv"))
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [
        ("ok.test", "mail1"),
        ("ok.test", "mail2"),
        ("typo.test", "mail1"),
        ("typo.test", "mail2"),
    ] == [(r["domain"], r["selector"]) for r in rows]
    assert "typo" == rows[2]["target_kind"]


def test_previous_run_is_compared(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--save writes the run; --previous prints what changed since (and in --json)."""
    saved = world / "before.json"
    first = domains_file(world, "before.txt", "ok.test", "missing.test")
    main(check(world, first, "--save", str(saved)))
    capsys.readouterr()
    assert AuditRun.from_json(saved.read_text()).domains == ("ok.test", "missing.test")
    second = domains_file(world, "after.txt", "ok.test", "txtcopy.test")
    assert 1 == main(check(world, second, "--previous", str(saved)))
    out = capsys.readouterr().out
    assert f"since {saved}: 1 added, 1 removed, 0 broke, 0 fixed, 0 changed, 1 unchanged" in out
    assert "  removed  missing.test: no longer audited (was broken)" in out
    main(check(world, second, "--previous", str(saved), "--json"))
    data = json.loads(capsys.readouterr().out)
    assert 1 == data["diff"]["summary"]["added"]


def test_progress_bar_on_request(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--progress draws a bar on stderr; without a terminal there is none by default."""
    domains = domains_file(world, "bar.txt", "ok.test")
    main(check(world, domains, "--progress"))
    assert "\r[##############################] 1/1 100%" in capsys.readouterr().err
    main(check(world, domains))
    assert "\r[" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda w: ["--domains", domains_file(w, "bad.txt", "ok.test", "not a domain")], "line 3"),
        (lambda w: ["--domains", domains_file(w, "empty.txt")], "no domains"),
        (lambda w: ["--domains", str(w / "nope.txt")], "cannot read"),
        (lambda w: ["--previous", str(w / "ring" / "ring.json")], "not an oxdkim audit"),
        (lambda w: ["--ring", str(w / "zones")], "KeyStoreError"),
        (lambda w: ["--key-host", "not a host"], "invalid key host"),
    ],
)
def test_unusable_input_exits_2(
    world: Path,
    capsys: pytest.CaptureFixture[str],
    setup: Callable[[Path], list[str]],
    message: str,
) -> None:
    """Bad domain lists, rings, previous runs or key hosts: exit 2 and a clear message."""
    domains = domains_file(world, "good.txt", "ok.test")
    assert 2 == main([*check(world, domains), *setup(world)])
    assert message in capsys.readouterr().err


def test_temporary_failures_exit_1_unless_ignored(
    dns_server_factory: Callable[..., DnsServer],
    world: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through a real server, a SERVFAIL zone is 'unknown': exit 1, or 0 with --ignore-temporary."""
    server = dns_server_factory(zones(), broken_zones=[SERVFAIL_ZONE])
    domains = domains_file(world, "temp.txt", "ok.test", SERVFAIL_ZONE)
    base = ["check", "--ring", str(world / "ring"), "--domains", domains]
    base += ["--nameserver", server.nameserver, "--dns-timeout", "1"]
    try:
        assert 1 == main(base)
        out = capsys.readouterr().out
        assert "unknown  servfail.test: mail1 temporary DNS failure" in out
        assert "1 domain could not be checked (temporary DNS failure)" in out
        assert 0 == main([*base, "--ignore-temporary"])
        assert "not counted as failures" in capsys.readouterr().out
    finally:
        server.stop()


def test_worker_processes_give_the_same_run(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--processes 3 splits the domains over workers; the merged run equals one process's."""
    from .scenario import _customer_bodies

    names = sorted(_customer_bodies())
    domains = domains_file(world, "all.txt", *names)
    code_one = main(check(world, domains, "--json"))
    one = AuditRun.from_json(capsys.readouterr().out)
    code_three = main(check(world, domains, "--json", "--processes", "3"))
    three = AuditRun.from_json(capsys.readouterr().out)
    assert code_one == code_three
    assert one.domains == three.domains

    def findings(run: AuditRun) -> list[dict[str, object]]:
        return [{k: v for k, v in r.to_json().items() if k != "checked_at"} for r in run]

    assert findings(one) == findings(three)
    assert 10 <= len(one)
