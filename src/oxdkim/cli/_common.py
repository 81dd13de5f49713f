"""Small helpers shared by the subcommands: exit codes, errors, input and output."""

from __future__ import annotations

import argparse
import difflib
import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from .._audit.auditor import parse_domain_list
from .._base.domains import (
    DomainSyntaxError,
    normalize_domain,
    normalize_selector,
    unique_domains,
)
from .._base.files import atomic_write, shown
from ._progress import ProgressBar

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A command-line problem to report on stderr with an exit code (no traceback)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class Parser(argparse.ArgumentParser):
    """
    Every ``oxdkim`` parser: no prefix matching, and unknown options reported by the
    subcommand that was given them (with that subcommand's usage), not by ``oxdkim``.

    argparse would read ``--domain`` as ``--domains`` (a different option), and a
    subcommand hands the options it does not know back to ``oxdkim``, whose usage then
    hides the subcommand's options.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse, then fail (exit 2, this parser's usage) on anything left over."""
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(_unrecognized(self, extras))
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        """Usage and one line on stderr, exit 2 (argparse's contract)."""
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _unrecognized(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """``unrecognized arguments: ...``, with the nearest real option for a misspelt one."""
    message = f"unrecognized arguments: {' '.join(extras)}"
    known = [
        s
        for action in parser._actions
        if action.help is not argparse.SUPPRESS
        for s in action.option_strings
    ]
    for extra in extras:
        name = extra.split("=", 1)[0]
        if not name.startswith("--"):
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        if close:
            return f"{message} (did you mean {close[0]}?)"
    return message


def add_deprecated_option(
    parser: argparse.ArgumentParser, old: str, new: str, **kwargs: Any
) -> None:
    """
    Keep ``old``, a documented spelling of ``new``, working: same destination, hidden from
    ``--help``, and a warning on stderr naming the spelling to use.
    """

    class _Deprecated(argparse.Action):
        def __call__(
            self,
            parser: argparse.ArgumentParser,
            namespace: argparse.Namespace,
            values: Any,
            option_string: str | None = None,
        ) -> None:
            print(f"oxdkim: warning: {old} is deprecated; use {new}", file=sys.stderr)
            if self.nargs == 0:
                values = True  # a switch
            elif isinstance(kwargs.get("default"), list):
                values = [*(getattr(namespace, self.dest, None) or []), values]
            setattr(namespace, self.dest, values)

    dest = new.lstrip("-").replace("-", "_")
    parser.add_argument(
        old,
        dest=kwargs.pop("dest", dest),
        action=_Deprecated,
        help=argparse.SUPPRESS,
        **{k: v for k, v in kwargs.items() if k in ("metavar", "type", "nargs")},
    )


def error(message: str, code: int) -> int:
    """Print ``message`` on stderr and return ``code``."""
    print(f"oxdkim: error: {message}", file=sys.stderr)
    return code


def read_input(path: str | None) -> bytes:
    """The bytes of ``path``, or of stdin for ``None`` or ``-``."""
    if path is None or path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def utf8_text(data: bytes, source: str) -> str:
    """
    ``data`` decoded as UTF-8, or a :class:`CliError` that says where it is not: every
    text input (domain lists, zone files, configuration) reports binary bytes this way.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        raise CliError(
            f"{source}: not UTF-8 text (byte 0x{byte:02x} at offset {exc.start}); "
            "is it the right file?"
        ) from None


def check_text_files(paths: Sequence[str | Path], what: str) -> None:
    """Fail with one line (not a codec error from deep inside) when a file is not text."""
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {what} {path}: {exc.strerror}") from None
        utf8_text(data, str(path))


def write_private_file(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """
    Write ``data`` to ``path`` with mode 0600 from the first byte, atomically.

    The file is written to a temporary name in the same directory, flushed to disk, and
    renamed over ``path``; readers never see a partial key.
    """
    if path.exists() and not overwrite:
        raise CliError(f"{path} exists; use --force to replace it")
    try:
        atomic_write(path, data, mode=0o600)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}", EXIT_USAGE) from None


_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z, the last time datetime can hold


def unix_time(text: str) -> datetime:
    """argparse type: UNIX seconds (0 to year 9999) as an aware UTC datetime."""
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= seconds <= _LAST_SECOND:
        raise argparse.ArgumentTypeError(f"{text} is outside 0 .. {_LAST_SECOND}")
    return datetime.fromtimestamp(seconds, UTC)


def moment(text: str) -> datetime:
    """argparse type: an ISO 8601 time (UTC when it has no offset) or UNIX seconds."""
    if text.isdigit():
        return unix_time(text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time or UNIX seconds: {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 domain``, ``2 domains``, ``1,000 domains``."""
    return f"{count:,} {word if count == 1 else words or word + 's'}"


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def read_domain_file(path: str, *, purpose: str | None = None) -> list[str]:
    """
    A domain list file (``-`` for stdin): one domain per line, ``#`` comments; normalized.
    With ``purpose``, an empty list is an error ("no domains to <purpose>").
    """
    text = utf8_text(read_input(path), path)
    domains = parse_domain_list(text.splitlines(), source=path)
    if purpose is not None and not domains:
        raise CliError(f"{path}: no domains to {purpose}")
    return domains


def add_domain_options(parser: argparse.ArgumentParser, default: str) -> None:
    """
    ``--domain DOMAIN`` (repeatable) and ``--domains-file FILE``: the customer domains a
    command works on, spelled the same in every command. ``default`` says what is used
    without either. ``--domains FILE``, the old spelling of ``--domains-file`` in ``check``
    and ``preview``, still works with a warning.
    """
    parser.add_argument(
        "--domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="a customer domain (repeatable)",
    )
    parser.add_argument(
        "--domains-file",
        metavar="FILE",
        help=f"customer domains, one per line ('#' comments; '-' for stdin); {default}",
    )
    add_deprecated_option(parser, "--domains", "--domains-file", metavar="FILE")


def given_domains(args: argparse.Namespace, *, purpose: str | None) -> list[str] | None:
    """
    The domains of ``--domain`` and ``--domains-file`` (in that order), or ``None`` when
    neither was given. An empty file is an error ("no domains to <purpose>").
    """
    if not args.domain and args.domains_file is None:
        return None
    domains = [domain_option(d, "--domain") for d in args.domain]
    if args.domains_file is not None:
        domains += read_domain_file(str(args.domains_file), purpose=None if domains else purpose)
    return domains


def domain_option(value: str, option: str) -> str:
    """``value`` normalized, or a one-line :class:`CliError` naming the option."""
    try:
        return normalize_domain(value)
    except DomainSyntaxError as exc:
        raise CliError(f"{option} {shown(value)}: {exc.reason}") from None


def selector_option(value: str, option: str = "--selector") -> str:
    """``value`` normalized as a selector, or a one-line :class:`CliError`."""
    try:
        return normalize_selector(value)
    except DomainSyntaxError as exc:
        raise CliError(f"{option} {shown(value)}: {exc.reason}") from None


# --- what the bulk commands (check, preview) share -----------------------------------

_O = TypeVar("_O")
_T = TypeVar("_T")


def add_bulk_options(
    parser: argparse.ArgumentParser,
    *,
    concurrency: int,
    doing: str,
    processes: str,
    json_help: str,
    csv_help: str,
    previous_help: str,
) -> None:
    """``--concurrency``, ``--processes``, ``--json``/``--csv``, ``--previous``, ``--save``."""
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=concurrency,
        metavar="N",
        help=f"domains {doing} at the same time (default {concurrency})",
    )
    parser.add_argument(
        "--processes",
        type=positive_int,
        default=1,
        metavar="N",
        help=f"split the domains over N worker processes ({processes}default 1)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help=json_help)
    output.add_argument("--csv", action="store_true", help=csv_help)
    parser.add_argument("--previous", metavar="PREVIOUS.json", help=previous_help)
    parser.add_argument("--save", metavar="FILE", help="also write this run's JSON to FILE")


def add_known_key_host_option(parser: argparse.ArgumentParser) -> None:
    """``--known-key-host``, repeatable."""
    parser.add_argument(
        "--known-key-host",
        action="append",
        default=[],
        metavar="HOST",
        help="another brand's key host, to name CNAMEs pointing there (repeatable)",
    )


def in_processes(
    work: Callable[[_O, list[str]], _T], options: _O, domains: Sequence[str], processes: int
) -> tuple[list[str], list[_T]]:
    """
    ``work(options, share)`` in ``processes`` forked workers, each taking every n-th of the
    unique ``domains``: the unique domains in input order and the workers' results. Forked
    because the DNS client is CPU-bound: processes, not threads, add throughput.
    """
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        raise CliError("--processes needs the 'fork' start method (Linux, macOS)") from None
    names = unique_domains(domains)
    shares = [share for share in (names[i::processes] for i in range(processes)) if share]
    shares = shares or [[]]
    with ProcessPoolExecutor(len(shares), mp_context=context) as pool:
        parts = list(pool.map(work, [options] * len(shares), shares))
    return names, parts


def loading_zones(bar: ProgressBar | None, zones: Sequence[str], make: Callable[[], _T]) -> _T:
    """``make()``; a large zone file takes seconds to load, so the bar says so."""
    if bar is None or not zones:
        return make()
    return bar.loading(f"zone file {', '.join(zones)}", make)


def save_run(path: str, text: str) -> None:
    """Write a run's JSON for ``--save``."""
    try:
        atomic_write(Path(path), text.encode(), mode=0o644)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}", EXIT_USAGE) from None
