"""
``oxdkim preview``: before any mail is sent, what DMARC makes of each customer domain's
mail under the brand's configuration.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from .._config import Config
from .._orgdomain import PslFinder
from .._preview import (
    DEFAULT_PREVIEW_CONCURRENCY,
    ReadinessPreview,
    ReadinessRun,
    ReadinessVerdict,
)
from ..typing import AsyncResolver
from ._common import EXIT_FAILED, EXIT_OK, CliError, positive_int, read_domain_file
from ._configopts import add_config_options, load
from ._dmarc import add_finder_option
from ._dnsopts import add_dns_options
from ._progress import ProgressBar, add_progress_options

__all__ = ["register"]

_DESCRIPTION = """\
Predict, before any mail is sent, what each customer domain's mail will get: the signing
mode (brand default or the domain's own setting), DKIM (generic signatures never align;
aligned ones depend on the delegation CNAMEs), SPF at the MAIL FROM domain (does its
record include the provider's spf_include, does it align), and the domain's DMARC policy
with what it does to failing mail. Domains: --domains FILE, or every domain of the
brand's tenants. DNS: --zone/--nameserver, else the configuration's [resolver]. Exit 0
when no domain fails DMARC or is unknown, 1 otherwise, 2 on unusable input."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "preview",
        help="predict each customer domain's DMARC result before any mail is sent",
        description=_DESCRIPTION,
    )
    add_config_options(parser, required=True)
    parser.add_argument(
        "--domains",
        metavar="FILE",
        help="customer domains, one per line ('#' comments; '-' for stdin); "
        "default: every domain of the brand's tenants",
    )
    add_dns_options(parser)
    add_finder_option(parser)
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=DEFAULT_PREVIEW_CONCURRENCY,
        metavar="N",
        help=f"domains previewed at the same time (default {DEFAULT_PREVIEW_CONCURRENCY})",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the preview as JSON (summary on stderr)"
    )
    parser.add_argument(
        "--known-key-host",
        action="append",
        default=[],
        metavar="HOST",
        help="another brand's key host, to name CNAMEs pointing there (repeatable)",
    )
    add_progress_options(parser)
    parser.set_defaults(func=run)


def _resolver(args: argparse.Namespace, config: Config) -> AsyncResolver:
    """The resolver the options ask for, else the configuration's, behind a cache."""
    from .. import resolvers  # noqa: PLC0415 - only commands that read DNS load dnspython

    zones = args.zone or [str(path) for path in config.resolver.zone_files]
    if zones:
        inner: AsyncResolver = resolvers.ZoneFileResolver(*zones).as_async()
    else:
        nameservers = args.nameserver or config.resolver.nameservers
        timeout = args.dns_timeout if args.nameserver else config.resolver.timeout
        inner = resolvers.AsyncDnspythonResolver(nameservers, timeout=timeout)
    return resolvers.AsyncCachingResolver(inner)


def _domains(args: argparse.Namespace, preview: ReadinessPreview) -> list[str]:
    if args.domains is None:
        domains = preview.domains()
        if not domains:
            raise CliError(f"brand {preview.brand.name} has no tenant domains; use --domains")
        return domains
    return read_domain_file(args.domains, purpose="preview")


def _summary(run: ReadinessRun, out: TextIO) -> None:
    counts = run.counts()
    seconds = (run.finished_at - run.started_at).total_seconds()
    print(
        f"previewed {len(run):,} domains of brand {run.brand} in {seconds:.1f} s "
        f"(organizational domains: {run.finder.value})",
        file=out,
    )
    print("  " + "   ".join(f"{v.value} {counts[v]:,}" for v in ReadinessVerdict), file=out)
    unknown = counts[ReadinessVerdict.UNKNOWN]
    if unknown:
        print(
            f"  {unknown:,} domain(s) could not be predicted (temporary DNS failure): run again",
            file=out,
        )


def run_preview(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the preview the options describe, print it, and return the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    loaded = load(args)
    assert loaded is not None  # --config is required
    config, brand = loaded
    preview = ReadinessPreview(
        brand,
        finder=args.finder,
        psl=PslFinder(args.psl_file) if args.psl_file else None,
        known_key_hosts=args.known_key_host,
    )
    domains = _domains(args, preview)
    resolver = _resolver(args, config)
    show = args.progress if args.progress is not None else err.isatty()
    bar = ProgressBar(err) if show else None

    def progress(done: int, total: int, report: Any) -> None:
        if bar is not None:
            bar(done, total, report)

    try:
        run = preview.preview_many(
            domains, resolver, concurrency=args.concurrency, progress=progress
        )
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        out.write(run.to_json())
        _summary(run, err)
    else:
        out.write(run.table())
        out.write("\n")
        _summary(run, out)
    counts = run.counts()
    bad = (ReadinessVerdict.FAIL, ReadinessVerdict.UNKNOWN, ReadinessVerdict.PERMERROR)
    return EXIT_FAILED if any(counts[verdict] for verdict in bad) else EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Entry point from the parser."""
    return run_preview(args)
