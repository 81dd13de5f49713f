"""
``oxdkim check``: audit the delegation CNAMEs of a legacy brand's customer domains.

The options are parsed into a :class:`CheckOptions` value and :func:`run_check` works
from that value alone, so another source of options (a configuration file) can build one
too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TextIO

import attrs

from .._audit.auditor import DEFAULT_CONCURRENCY, DEFAULT_MIN_TTL, DelegationAuditor
from .._audit.report import AuditDiff, AuditRun
from .._audit.values import DelegationVerdict, Severity
from .._config.build import ring_store
from .._dkim.crypto import RSA_ABSOLUTE_MIN_BITS, RSA_DEFAULT_MIN_BITS
from .._keys.keystore import FileKeyStore
from ..typing import AsyncResolver, KeyStore
from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    CliError,
    add_bulk_options,
    add_domain_options,
    add_known_key_host_option,
    check_text_files,
    in_processes,
    loading_zones,
    plural,
    read_domain_file,
    save_run,
)
from ._configopts import add_config_options, load
from ._dnsopts import add_dns_options
from ._progress import add_progress_options, progress_bar, wanted

_DESCRIPTION = """\
Check that every customer domain of a legacy brand delegates the ring's selectors: the
CNAME <selector>._domainkey.<domain> points at <selector>._domainkey.<key host>, and the
key served behind it is the ring's key for that slot. Prints the domains with problems
and a summary. Exit 0 when every domain is ok, 1 when any is broken or could not be
checked (temporary DNS failure; see --ignore-temporary), 2 on unusable input."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "check",
        help="audit customer domains' delegation CNAMEs against a key ring",
        description=_DESCRIPTION,
    )
    add_check_options(parser)
    parser.set_defaults(func=run)


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_check_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``oxdkim check``."""
    add_config_options(parser)
    parser.add_argument("--ring", metavar="RING_DIR", help="the ring directory (or --config)")
    parser.add_argument(
        "--key-host", metavar="HOST", help="where the CNAMEs must point (default: the ring's)"
    )
    add_domain_options(
        parser, "default with --config: every domain of the brand that signs aligned"
    )
    add_dns_options(parser)
    add_bulk_options(
        parser,
        concurrency=DEFAULT_CONCURRENCY,
        doing="checked",
        processes="the DNS client is CPU-bound; 2 to 3 on a 2-core host; ",
        json_help="print the audit as JSON (summary on stderr)",
        csv_help="print one CSV row per domain and selector",
        previous_help="compare with an earlier run's JSON: new problems, fixed, changed, "
        "added/removed",
    )
    parser.add_argument(
        "--min-ttl",
        type=_seconds,
        default=DEFAULT_MIN_TTL,
        metavar="SECONDS",
        help=f"report CNAME TTLs below this (default {DEFAULT_MIN_TTL}; 0: never)",
    )
    add_known_key_host_option(parser)
    parser.add_argument(
        "--ignore-temporary",
        action="store_true",
        help="exit 0 even if some domains could not be checked (temporary DNS failures)",
    )
    add_progress_options(parser)
    parser.add_argument(
        "--passphrase-env",
        metavar="VAR",
        help="read the ring's PEM passphrase from this environment variable",
    )
    parser.add_argument(
        "--allow-1024", action="store_true", help="accept RSA keys of 1024 to 2047 bits"
    )


@attrs.frozen
class CheckOptions:
    """Everything ``oxdkim check`` needs, however it was given."""

    ring: str
    domains: str | None
    key_host: str | None = None
    domain_list: tuple[str, ...] | None = None
    zones: tuple[str, ...] = ()
    nameservers: tuple[str, ...] | None = None
    dns_timeout: float = 5.0
    concurrency: int = DEFAULT_CONCURRENCY
    processes: int = 1
    output: str = "text"
    previous: str | None = None
    save: str | None = None
    min_ttl: int = DEFAULT_MIN_TTL
    known_key_hosts: tuple[str, ...] = ()
    ignore_temporary: bool = False
    progress: bool | None = None
    passphrase_env: str | None = None
    allow_1024: bool = False
    stored_ring: KeyStore | None = None
    """The brand's ring in the database (a [store] configuration), instead of ``ring``."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CheckOptions:
        """The options parsed by :func:`add_check_options` (and a brand's configuration)."""
        ring = args.ring
        domain_list: tuple[str, ...] | None = tuple(args.domain) if args.domain else None
        zones, nameservers = tuple(args.zone or ()), args.nameserver
        dns_timeout, key_host = args.dns_timeout, args.key_host
        passphrase_env, allow_1024 = args.passphrase_env, args.allow_1024
        stored: KeyStore | None = None
        chosen = load(args)
        if chosen is not None:
            config, brand = chosen
            ring = ring or (str(brand.ring) if brand.ring else None)
            if ring is None and brand.store is not None:
                stored = ring_store(brand)
            key_host = key_host or brand.key_host
            if domain_list is None and args.domains_file is None:
                domain_list = brand.legacy_domains
            if not zones and not nameservers:
                zones = tuple(str(z) for z in config.resolver.zone_files)
                nameservers = config.resolver.nameservers
                dns_timeout = config.resolver.timeout
            passphrase_env = passphrase_env or brand.passphrase_env
            allow_1024 = allow_1024 or brand.min_rsa_bits < 2048
        if ring is None and stored is None:
            raise CliError("give --ring (or --config with a brand that has a ring)")
        if args.domains_file is None and domain_list is None:
            raise CliError("give --domain or --domains-file (or --config)")
        return cls(
            ring=ring or "",
            stored_ring=stored,
            domains=args.domains_file,
            key_host=key_host,
            domain_list=domain_list,
            zones=zones,
            nameservers=tuple(nameservers) if nameservers else None,
            dns_timeout=dns_timeout,
            concurrency=args.concurrency,
            processes=args.processes,
            output="json" if args.json else "csv" if args.csv else "text",
            previous=args.previous,
            save=args.save,
            min_ttl=args.min_ttl,
            known_key_hosts=tuple(args.known_key_host),
            ignore_temporary=args.ignore_temporary,
            progress=args.progress,
            passphrase_env=passphrase_env,
            allow_1024=allow_1024,
        )


def _load_ring(options: CheckOptions) -> KeyStore:
    if options.stored_ring is not None:
        return options.stored_ring
    passphrase = None
    if options.passphrase_env:
        value = os.environ.get(options.passphrase_env)
        if value is None:
            raise CliError(f"environment variable {options.passphrase_env} is not set")
        passphrase = value.encode()
    bits = RSA_ABSOLUTE_MIN_BITS if options.allow_1024 else RSA_DEFAULT_MIN_BITS
    return FileKeyStore(options.ring, passphrase=passphrase, min_rsa_bits=bits)


def _resolver(options: CheckOptions) -> AsyncResolver:
    from .. import resolvers  # noqa: PLC0415 - only commands that read DNS load dnspython

    if options.zones:
        check_text_files(options.zones, "zone file")
        return resolvers.ZoneFileResolver(*options.zones).as_async()
    # The audit asks for CNAMEs, whose answers are tiny: EDNS would only add work (about
    # 15 % of the run). A rare large answer (a 4096-bit key at the key host, fetched once
    # per run) comes truncated and is fetched again over TCP.
    return resolvers.AsyncDnspythonResolver(
        options.nameservers, timeout=options.dns_timeout, edns=False
    )


def _read_previous(path: str) -> AuditRun:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    return AuditRun.from_json(text, source=path)


def _summary(run: AuditRun, out: TextIO, ignore_temporary: bool) -> None:
    counts = run.counts()
    seconds = run.seconds or 0.0
    rate = f" ({len(run) / seconds:,.0f} domains/s)" if seconds > 0 else ""
    print(
        f"audited {plural(len(run), 'domain')} against {run.key_host} "
        f"({', '.join(run.selectors)}) in {seconds:.1f} s{rate}",
        file=out,
    )
    print(
        "  " + "   ".join(f"{v.value} {counts[v]:,}" for v in DelegationVerdict),
        file=out,
    )
    problems = run.problem_counts()
    if problems:
        listed = ", ".join(f"{code.value} {n:,}" for code, n in problems.items())
        print(f"  domains per problem: {listed}", file=out)
    unknown = counts[DelegationVerdict.UNKNOWN]
    if unknown:
        effect = "not counted as failures" if ignore_temporary else "counted as failures"
        print(
            f"  {plural(unknown, 'domain')} could not be checked (temporary DNS failure): "
            f"run again; {effect}",
            file=out,
        )


def _diff_lines(diff: AuditDiff, previous: str, out: TextIO) -> None:
    counts = diff.counts()
    listed = ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
    print(f"since {previous}: {listed}", file=out)
    for change in diff.changes:
        print(f"  {change.kind.value:<8} {change.describe()}", file=out)


def _domain_lines(run: AuditRun, out: TextIO) -> None:
    for report in run.reports:
        verdict = report.verdict
        warned = any(p.severity is Severity.WARNING for p in report.problems)
        if verdict is DelegationVerdict.OK and not warned:
            continue
        label = "warning" if verdict is DelegationVerdict.OK else verdict.value
        print(f"{label:<8} {report.domain}: {report.summary()}", file=out)


def _auditor(options: CheckOptions) -> DelegationAuditor:
    return DelegationAuditor(
        _load_ring(options).load(),
        key_host=options.key_host,
        known_key_hosts=options.known_key_hosts,
        min_ttl=options.min_ttl,
    )


def _audit_chunk(options: CheckOptions, domains: list[str]) -> str:
    """One worker process's share: its own ring copy and resolver; the run as JSON."""
    run = _auditor(options).audit_many(domains, _resolver(options), concurrency=options.concurrency)
    return run.to_json(indent=None)


def _audit_in_processes(options: CheckOptions, domains: list[str]) -> AuditRun:
    """Audit with ``options.processes`` workers; their runs merged back in input order."""
    names, texts = in_processes(_audit_chunk, options, domains, options.processes)
    parts = [AuditRun.from_json(text) for text in texts]
    by_domain = {report.domain: report for part in parts for report in part}
    first = parts[0]
    return AuditRun(
        [by_domain[name] for name in names],
        key_host=first.key_host,
        selectors=first.selectors,
        started_at=min(p.started_at for p in parts if p.started_at),
        finished_at=max(p.finished_at for p in parts if p.finished_at),
        ring_generation=first.ring_generation,
        min_ttl=first.min_ttl,
    )


def run_check(
    options: CheckOptions, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the audit the options describe, print it, and return the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    domains = list(options.domain_list or ())
    if options.domains is not None:
        domains += read_domain_file(options.domains, purpose=None if domains else "check")
    previous = _read_previous(options.previous) if options.previous else None
    if options.processes > 1:
        if options.progress:
            print("oxdkim: note: --processes runs without a progress bar", file=err)
        run = _audit_in_processes(options, domains)
    else:
        with progress_bar(wanted(options.progress, err), err) as bar:
            resolver = loading_zones(bar, options.zones, lambda: _resolver(options))
            run = _auditor(options).audit_many(
                domains, resolver, concurrency=options.concurrency, progress=bar
            )
    diff = run.diff(previous) if previous is not None else None
    if options.save:
        save_run(options.save, run.to_json())
    notes = out
    if options.output == "json":
        data = run.to_json_obj()
        if diff is not None:
            data["diff"] = diff.to_json_obj()
        out.write(json.dumps(data, indent=2, ensure_ascii=True) + "\n")
        notes = err
    elif options.output == "csv":
        run.write_csv(out)
        notes = err
    else:
        _domain_lines(run, out)
    _summary(run, notes, options.ignore_temporary)
    if diff is not None and options.previous:
        _diff_lines(diff, options.previous, notes)
    counts = run.counts()
    if counts[DelegationVerdict.BROKEN]:
        return EXIT_FAILED
    if counts[DelegationVerdict.UNKNOWN] and not options.ignore_temporary:
        return EXIT_FAILED
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Entry point from the parser."""
    return run_check(CheckOptions.from_args(args))
