"""
The ``oxdkim`` command line for operators.

Each subcommand lives in its own module with a ``register(subparsers)`` function.
Exit codes: 0 success; 1 the operation ran and failed or was refused (a policy refusal, a
rollover precondition, a failed check); 2 unusable input: usage, configuration, key files,
ring state, or a message that cannot be parsed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .._version import __version__
from ..exceptions import (
    ConfigurationError,
    KeyLoadError,
    KeyStoreError,
    MessageFormatError,
    OxDkimError,
    RecordSyntaxError,
)
from . import (
    _check,
    _demo,
    _dmarc,
    _domains,
    _keygen,
    _preview,
    _records,
    _ring,
    _sign,
    _store,
    _testkey,
    _verify,
)
from ._common import EXIT_FAILED, EXIT_USAGE, CliError, Parser, error

_UNUSABLE_INPUT = (
    ConfigurationError,
    KeyLoadError,
    KeyStoreError,
    MessageFormatError,
    RecordSyntaxError,
)
_COMMANDS = (
    _demo,
    _keygen,
    _testkey,
    _sign,
    _verify,
    _ring,
    _records,
    _check,
    _dmarc,
    _preview,
    _store,
    _domains,
)


def version_line() -> str:
    """
    ``oxdkim --version``: the version, the Python, and whether the C accelerator works.

    The accelerator is optional (a build without a C compiler skips it, and only
    ``pip install -v`` shows that); this is the one place an operator can see it.
    """
    from .._dkim import canon as _canon  # noqa: PLC0415 - only --version needs to know

    if _canon.ACCELERATED:
        accelerator = "active"
    elif os.environ.get("OXDKIM_PURE_PYTHON"):
        accelerator = "off (OXDKIM_PURE_PYTHON is set)"
    else:
        accelerator = "not built (pure Python: same results, slower relaxed canonicalization)"
    python = ".".join(str(n) for n in sys.version_info[:3])
    return f"oxdkim {__version__} (Python {python}; C accelerator: {accelerator})"


class _Version(argparse.Action):
    """``--version``, printed unwrapped (argparse's version action rewraps long lines)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(version_line())
        parser.exit()


def _register_milter(subparsers: argparse._SubParsersAction[Parser]) -> None:
    """``oxdkim milter``, from the optional package ``oxdkim_milter`` (the ``milter`` extra)."""
    parser = subparsers.add_parser(
        "milter",
        help="sign or verify inside Postfix/Sendmail as a milter (extra: oxdkim[milter])",
        description="Run a milter that signs (or verifies) every message the MTA hands it.",
    )
    try:
        from oxdkim_milter import cli as milter_cli  # noqa: PLC0415 - an optional extra
    except ImportError:
        # The options are read only to reach the message below.
        for option in ("--config", "--socket", "--mode", "--verify-socket", "--grace"):
            parser.add_argument(option, action="append", help=argparse.SUPPRESS)
        parser.add_argument("--log-level", help=argparse.SUPPRESS)

        def missing(args: argparse.Namespace) -> int:
            raise CliError("oxdkim milter needs the extra: pip install 'oxdkim[milter]'")

        parser.set_defaults(func=missing)
        return
    milter_cli.add_arguments(parser)
    parser.set_defaults(func=milter_cli.run)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = Parser(
        prog="oxdkim",
        description="DKIM signing, key rollover and DMARC readiness for mail providers.",
    )
    parser.add_argument(
        "--version",
        action=_Version,
        nargs=0,
        help="show the version and whether the C accelerator is active, and exit",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.register(subparsers)
    _register_milter(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    given = list(sys.argv[1:] if argv is None else argv)
    for arg in given:
        raw = arg.encode("utf-8", "surrogateescape")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if os.path.lexists(arg.split("=", 1)[-1]):
                continue  # a file name in the file system's own bytes is fine
            # Shown as a file's bytes are: bytes' repr, the one escape style for binary.
            return error(
                f"argument {repr(raw)[1:]} is not UTF-8 text "
                f"(byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                EXIT_USAGE,
            )
    try:
        args = parser.parse_args(given)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        code: int = args.func(args)
    except CliError as exc:
        return error(str(exc), exc.code)
    except _UNUSABLE_INPUT as exc:
        return error(f"{type(exc).__name__}: {exc}", EXIT_USAGE)
    except OxDkimError as exc:
        return error(f"{type(exc).__name__}: {exc}", EXIT_FAILED)
    except KeyboardInterrupt:
        return error("interrupted", EXIT_USAGE)
    except BrokenPipeError:
        return EXIT_FAILED
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
