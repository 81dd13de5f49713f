"""
Every subcommand spells a shared option the same way, with the same kind of value; no
option is matched by a prefix; an unknown option is reported by the subcommand given it
(its usage, exit 2).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from oxdkim.cli import build_parser, main

# option -> (kinds it may take, the metavar shown in --help, what it means everywhere)
SHARED: dict[str, tuple[frozenset[str], str, str]] = {
    "--config": (frozenset({"value"}), "FILE", "the brand configuration file"),
    "--brand": (frozenset({"value"}), "BRAND", "the brand in that file"),
    "--zone": (frozenset({"append"}), "FILE", "answer DNS from a zone file"),
    "--nameserver": (frozenset({"append"}), "HOST[:PORT]", "ask this DNS server"),
    "--dns-timeout": (frozenset({"value"}), "SECONDS", "DNS lifetime"),
    "--domain": (frozenset({"value", "append"}), "DOMAIN", "a domain (several: repeat it)"),
    "--domains-file": (frozenset({"value"}), "FILE", "a file of domains, one per line"),
    "--selector": (frozenset({"value"}), "SELECTOR", "a selector"),
    "--algorithm": (frozenset({"value"}), "{rsa-sha256,ed25519-sha256}", "signing algorithm"),
    "--bits": (frozenset({"value"}), "N", "RSA key size"),
    "--allow-1024": (frozenset({"flag"}), "", "accept RSA keys of 1024 to 2047 bits"),
    "--key": (frozenset({"value"}), "KEY.pem", "a private key file"),
    "--key-host": (frozenset({"value"}), "HOST", "the zone holding the brand's key records"),
    "--ring": (frozenset({"value"}), "RING_DIR", "the ring directory"),
    "--passphrase-env": (frozenset({"value"}), "VAR", "environment variable with the passphrase"),
    "--now": (frozenset({"value"}), "TIME", "act as of this time (ISO 8601 or UNIX seconds)"),
    "--json": (frozenset({"flag"}), "", "JSON on stdout"),
    "--csv": (frozenset({"flag"}), "", "CSV on stdout"),
    "--save": (frozenset({"value"}), "FILE", "also write this run's JSON"),
    "--previous": (frozenset({"value"}), "PREVIOUS.json", "compare with an earlier run"),
    "--processes": (frozenset({"value"}), "N", "worker processes"),
    "--concurrency": (frozenset({"value"}), "N", "domains in flight"),
    "--progress": (frozenset({"flag"}), "", "progress bar on stderr"),
    "--no-progress": (frozenset({"flag"}), "", "no progress bar"),
    "--known-key-host": (frozenset({"append"}), "HOST", "another brand's key host"),
    "--finder": (frozenset({"value"}), "{tree-walk,psl,compare}", "organizational domains"),
    "--psl-file": (frozenset({"value"}), "FILE", "a Public Suffix List file"),
    "--replace": (frozenset({"flag"}), "", "replace an existing key"),
    "--tenant": (frozenset({"value"}), "TENANT", "the tenant (sign: the submitting one)"),
}

# Spellings that look like variants of each other but mean different things, and why.
DISTINCT = {
    frozenset({"--selector", "--selectors"}): "ring init names both slots at once",
    frozenset({"--domain", "--dkim-domain"}): "dmarc: the d= of a passing signature",
}


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser under ``parser`` (the leaves are the commands that run)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


def leaves() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    return [
        (path, parser)
        for path, parser in commands(build_parser())
        if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
    ]


def kind(action: argparse.Action) -> str:
    if isinstance(action, argparse._AppendAction):
        return "append"
    if action.nargs == 0:
        return "flag"
    return "value"


def shown_metavar(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(str(c) for c in action.choices) + "}"
    return action.dest.upper()


def visible_options() -> dict[str, list[tuple[tuple[str, ...], argparse.Action]]]:
    seen: dict[str, list[tuple[tuple[str, ...], argparse.Action]]] = {}
    for path, parser in leaves():
        for action in parser._actions:
            if action.help is argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                if option.startswith("--"):
                    seen.setdefault(option, []).append((path, action))
    return seen


def test_every_parser_refuses_prefix_abbreviations() -> None:
    """allow_abbrev is off on every parser: --dom is never read as --domains-file."""
    for path, parser in commands(build_parser()):
        assert parser.allow_abbrev is False, path


def test_options_used_by_several_commands_are_in_the_shared_table() -> None:
    """An option that two commands take is a shared option, with one meaning."""
    for option, uses in visible_options().items():
        if len({path for path, _ in uses}) > 1:
            assert option in SHARED, f"{option} is used by {[p for p, _ in uses]}"


def test_shared_options_take_the_same_kind_of_value_everywhere() -> None:
    """Same option, same kind (switch, one value, repeatable) and same metavar."""
    for option, uses in visible_options().items():
        if option not in SHARED:
            continue
        kinds, metavar, _ = SHARED[option]
        for path, action in uses:
            assert kind(action) in kinds, f"{' '.join(path)} {option}: {kind(action)}"
            assert metavar == shown_metavar(action), f"{' '.join(path)} {option}"


def test_no_two_spellings_of_one_option() -> None:
    """No command offers variants (plural, '_' for '-', a prefix) of another's option."""
    options = sorted(visible_options())

    def stem(option: str) -> str:
        return option.replace("_", "-").removesuffix("s").removesuffix("-file")

    for i, first in enumerate(options):
        for second in options[i + 1 :]:
            if frozenset({first, second}) in DISTINCT:
                continue
            if {first, second} == {"--domain", "--domains-file"}:
                continue  # one domain, or a file of them: the shared pair
            assert stem(first) != stem(second), (first, second)


@pytest.mark.parametrize("path", [" ".join(path) for path, _ in leaves()])
def test_an_unknown_option_shows_the_subcommands_usage(
    path: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2; the usage printed is the subcommand's, not oxdkim's."""
    assert 2 == main([*path.split(), "--no-such-option"])
    err = capsys.readouterr().err
    assert err.startswith(f"usage: oxdkim {path} ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--dom", "a.example"],
        ["check", "--domain-file", "x"],
        ["preview", "--config", "x", "--conf", "y"],
        ["keygen", "--out", "k.pem", "--alg", "ed25519-sha256"],
        ["verify", "--jso"],
        ["ring", "status", "--nameserv", "127.0.0.1"],
    ],
)
def test_a_prefix_of_an_option_is_an_unknown_option(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A prefix or a near miss is refused (exit 2), with the nearest real option named."""
    assert 2 == main(argv)
    err = capsys.readouterr().err
    assert "unrecognized arguments" in err
    assert err.startswith(f"usage: oxdkim {argv[0]}")


def test_ring_status_json_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The flag the issue found rejected with oxdkim's usage now works."""
    ring = tmp_path / "ring"
    now = "2026-01-01T00:00:00"
    assert 0 == main(["ring", "init", str(ring), "--key-host", "keys.example", "--now", now])
    capsys.readouterr()
    assert 0 == main(["ring", "status", str(ring), "--json", "--now", "1767225600"])
    out = capsys.readouterr().out
    assert '"state": "staged"' in out


def test_a_near_miss_names_the_real_option(capsys: pytest.CaptureFixture[str]) -> None:
    """--domian: 'did you mean --domain?'; a hidden old spelling is never suggested."""
    assert 2 == main(["check", "--domian", "a.example"])
    assert "(did you mean --domain?)" in capsys.readouterr().err


def test_the_old_domains_spelling_works_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check/preview --domains FILE was documented: it still reads the file, and says so."""
    domains = tmp_path / "d.txt"
    domains.write_text("a.example\n")
    args = build_parser().parse_args(["check", "--ring", "r", "--domains", str(domains)])
    assert str(domains) == args.domains_file
    assert "--domains is deprecated; use --domains-file" in capsys.readouterr().err


def test_the_old_at_spelling_of_verify_works_with_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """verify --at UNIX_TIME was documented: it sets --now, with a warning."""
    args = build_parser().parse_args(["verify", "--at", "1700000000"])
    assert 1700000000 == args.now.timestamp()
    assert "--at is deprecated; use --now" in capsys.readouterr().err


def test_help_for_every_command_exits_0() -> None:
    """`oxdkim CMD --help` works for every command (one subprocess, all commands)."""
    code = (
        "import contextlib, io, sys\n"
        "from oxdkim.cli import main\n"
        f"for path in {[' '.join(p) for p, _ in leaves()]!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        assert main([*path.split(), '--help']) == 0, path\n"
        "    assert out.getvalue().startswith('usage: oxdkim ' + path), path\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert 0 == done.returncode, done.stderr


def test_the_command_line_page_names_every_command_and_shared_option() -> None:
    """docs/cli.md lists every command and explains every shared option."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    for path, _ in leaves():
        assert f"oxdkim {path[0]}" in page, path
    for option in SHARED:
        assert f"`{option}" in page or f" {option}" in page, option


def test_ring_steps_take_the_ring_directory_as_check_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ring status --ring DIR` works like `ring status DIR`; two different ones are refused."""
    ring = tmp_path / "ring"
    assert 0 == main(["ring", "init", "--ring", str(ring), "--key-host", "keys.example"])
    capsys.readouterr()
    assert 0 == main(["ring", "status", "--ring", str(ring), "--json"])
    assert '"key_host": "keys.example"' in capsys.readouterr().out
    assert 2 == main(["ring", "status", str(ring), "--ring", str(tmp_path / "other")])
    assert "give the ring directory once" in capsys.readouterr().err
