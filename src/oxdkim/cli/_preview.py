"""
``oxdkim preview``: before any mail is sent, what DMARC makes of each customer domain's
mail under the brand's configuration.
"""

from __future__ import annotations

import argparse
import copyreg
import csv
import json
import sys
import types
from pathlib import Path
from typing import Any, TextIO

from .._config.file import Config
from .._dmarc.orgdomain import PslFinder
from .._readiness.preview import DEFAULT_PREVIEW_CONCURRENCY, ReadinessPreview
from .._readiness.values import PREVIEW_FORMAT, ReadinessRun, ReadinessVerdict
from ..typing import AsyncHostResolver
from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    CliError,
    add_bulk_options,
    add_domain_options,
    add_known_key_host_option,
    check_text_files,
    given_domains,
    in_processes,
    loading_zones,
    plural,
    save_run,
)
from ._configopts import add_config_options, load
from ._dmarc import add_finder_option
from ._dnsopts import add_dns_options
from ._progress import ProgressBar, add_progress_options, progress_bar, wanted

__all__ = ["register"]

_DESCRIPTION = """\
Predict, before any mail is sent, what each customer domain's mail will get: the signing
mode (brand default or the domain's own setting), DKIM (generic signatures never align;
aligned ones depend on the delegation CNAMEs), SPF at the MAIL FROM domain (does its
record include the provider's spf_include, does it align), and the domain's DMARC policy
with what it does to failing mail. Domains: --domain/--domains-file, or every domain of
the brand's tenants. DNS: --zone/--nameserver, else the configuration's [resolver]. Exit 0
when no domain fails DMARC or is unknown, 1 otherwise, 2 on unusable input."""

_CSV_FIELDS = (
    "domain",
    "signing",
    "dkim",
    "spf",
    "dmarc_policy",
    "prediction",
    "verdict",
    "disposition",
    "summary",
    "notes",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "preview",
        help="predict each customer domain's DMARC result before any mail is sent",
        description=_DESCRIPTION,
    )
    add_config_options(parser, required=True)
    add_domain_options(parser, "default: every domain of the brand's tenants")
    add_dns_options(parser)
    add_finder_option(parser)
    add_bulk_options(
        parser,
        concurrency=DEFAULT_PREVIEW_CONCURRENCY,
        doing="previewed",
        processes="",
        json_help="print the preview as JSON (summary on stderr)",
        csv_help="print one CSV row per domain (summary on stderr)",
        previous_help="compare with an earlier run's JSON: newly failing, fixed, changed, "
        "added/removed",
    )
    add_known_key_host_option(parser)
    add_progress_options(parser)
    parser.set_defaults(func=run)


def _resolver(args: argparse.Namespace, config: Config) -> AsyncHostResolver:
    """
    The resolver the options ask for, else the configuration's, behind a cache; a host
    resolver, so the SPF analysis makes the MX and address lookups receivers make.
    """
    from .. import resolvers  # noqa: PLC0415 - only commands that read DNS load dnspython

    zones = _zones(args, config)
    if zones:
        check_text_files(zones, "zone file")
        inner: AsyncHostResolver = resolvers.ZoneFileResolver(*zones).as_async()
    else:
        nameservers = args.nameserver or config.resolver.nameservers
        timeout = args.dns_timeout if args.nameserver else config.resolver.timeout
        inner = resolvers.AsyncDnspythonResolver(nameservers, timeout=timeout)
    return resolvers.AsyncCachingHostResolver(inner)


def _zones(args: argparse.Namespace, config: Config) -> list[str]:
    return list(args.zone or [str(path) for path in config.resolver.zone_files])


def _domains(args: argparse.Namespace, preview: ReadinessPreview) -> list[str]:
    given = given_domains(args, purpose="preview")
    if given is not None:
        return given
    domains = preview.domains()
    if not domains:
        raise CliError(
            f"brand {preview.brand.name} has no tenant domains; use --domain or --domains-file"
        )
    return domains


def _summary(run: ReadinessRun, out: TextIO) -> None:
    counts = run.counts()
    seconds = (run.finished_at - run.started_at).total_seconds()
    print(
        f"previewed {plural(len(run), 'domain')} of brand {run.brand} in {seconds:.1f} s "
        f"(organizational domains: {run.finder.value})",
        file=out,
    )
    print("  " + "   ".join(f"{v.value} {counts[v]:,}" for v in ReadinessVerdict), file=out)
    unknown = counts[ReadinessVerdict.UNKNOWN]
    if unknown:
        print(
            f"  {plural(unknown, 'domain')} could not be predicted (temporary DNS failure): "
            "run again",
            file=out,
        )


def _preview(args: argparse.Namespace) -> tuple[Config, ReadinessPreview]:
    loaded = load(args)
    assert loaded is not None  # --config is required
    config, brand = loaded
    preview = ReadinessPreview(
        brand,
        finder=args.finder,
        psl=PslFinder(args.psl_file) if args.psl_file else None,
        known_key_hosts=args.known_key_host,
    )
    return config, preview


def _preview_chunk(args: argparse.Namespace, domains: list[str]) -> ReadinessRun:
    """One worker process's share, with its own configuration, resolver and cache."""
    config, preview = _preview(args)
    resolver = _resolver(args, config)
    return preview.preview_many(domains, resolver, concurrency=args.concurrency, hosts=resolver)


def _read_only(items: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(items)


def _pickle_mapping(
    mapping: types.MappingProxyType[Any, Any],
) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _read_only, (dict(mapping),)


def _preview_in_processes(args: argparse.Namespace, domains: list[str]) -> ReadinessRun:
    """Preview with ``--processes`` forked workers, each taking every n-th domain."""
    # The predictions come back pickled; parsed DMARC records keep their tags in
    # read-only mappings, which pickle cannot copy by default. The forked workers inherit
    # this reducer (registered only for a --processes run of the command line).
    copyreg.pickle(types.MappingProxyType, _pickle_mapping)
    names, parts = in_processes(_preview_chunk, args, domains, args.processes)
    by_domain = {report.domain: report for part in parts for report in part.reports}
    return ReadinessRun(
        parts[0].brand,
        parts[0].finder,
        tuple(by_domain[name] for name in names),
        min(part.started_at for part in parts),
        max(part.finished_at for part in parts),
    )


def _read_previous(path: str) -> dict[str, dict[str, Any]]:
    """An earlier run's JSON (``--save``/``--json``) as ``{domain: its JSON}``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != PREVIEW_FORMAT:
        raise CliError(f"{path} is not the JSON of oxdkim preview (--save or --json)")
    domains = data.get("domains")
    if not isinstance(domains, list) or not all(
        isinstance(d, dict) and isinstance(d.get("domain"), str) for d in domains
    ):
        raise CliError(f"{path}: 'domains' is not a list of domain entries")
    return {d["domain"]: d for d in domains}


_ORDER = {"pass": 0, "no-policy": 0, "unknown": 1, "permerror": 2, "fail": 2}


def _diff(run: ReadinessRun, previous: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per domain: added, removed, worse (newly failing), better (fixed) or changed."""
    changes: list[dict[str, Any]] = []
    current = {report.domain: report.verdict.value for report in run.reports}
    for domain, verdict in current.items():
        if domain not in previous:
            changes.append({"domain": domain, "kind": "added", "before": None, "after": verdict})
            continue
        before = str(previous[domain].get("verdict"))
        if before == verdict:
            continue
        rank = _ORDER.get(verdict, 1) - _ORDER.get(before, 1)
        kind = "worse" if rank > 0 else "better" if rank < 0 else "changed"
        changes.append({"domain": domain, "kind": kind, "before": before, "after": verdict})
    changes += [
        {"domain": domain, "kind": "removed", "before": str(entry.get("verdict")), "after": None}
        for domain, entry in previous.items()
        if domain not in current
    ]
    return changes


def _diff_lines(changes: list[dict[str, Any]], unchanged: int, path: str, out: TextIO) -> None:
    kinds = ("added", "removed", "worse", "better", "changed")
    counts = {kind: sum(1 for c in changes if c["kind"] == kind) for kind in kinds}
    listed = ", ".join(f"{n:,} {kind}" for kind, n in counts.items())
    print(f"since {path}: {listed}, {unchanged:,} unchanged", file=out)
    for change in changes:
        before, after = change["before"] or "-", change["after"] or "-"
        print(f"  {change['kind']:<8} {change['domain']}: {before} -> {after}", file=out)


def _write_csv(run: ReadinessRun, out: TextIO) -> None:
    writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for report in run.reports:
        cells = report.row()
        disposition = report.disposition
        writer.writerow(
            {
                "domain": cells[0],
                "signing": cells[1],
                "dkim": cells[2],
                "spf": cells[3],
                "dmarc_policy": cells[4],
                "prediction": cells[5],
                "verdict": report.verdict.value,
                "disposition": disposition.value if disposition is not None else "",
                "summary": report.summary,
                "notes": "; ".join(report.notes),
            }
        )


def _run(
    args: argparse.Namespace,
    config: Config,
    preview: ReadinessPreview,
    domains: list[str],
    bar: ProgressBar | None,
) -> ReadinessRun:
    if args.processes > 1:
        return _preview_in_processes(args, domains)
    resolver = loading_zones(bar, _zones(args, config), lambda: _resolver(args, config))

    def progress(done: int, total: int, report: Any) -> None:
        if bar is not None:
            bar(done, total, report)

    return preview.preview_many(
        domains, resolver, concurrency=args.concurrency, progress=progress, hosts=resolver
    )


def run_preview(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the preview the options describe, print it, and return the exit code."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    config, preview = _preview(args)
    domains = _domains(args, preview)
    previous = _read_previous(args.previous) if args.previous else None
    if args.progress and args.processes > 1:
        print("oxdkim: note: --processes runs without a progress bar", file=err)
    with progress_bar(wanted(args.progress, err) and args.processes == 1, err) as bar:
        run = _run(args, config, preview, domains, bar)
    if args.save:
        save_run(args.save, run.to_json())
    changes = _diff(run, previous) if previous is not None else None
    notes = err
    if args.json:
        data = run.to_json_obj()
        if changes is not None:
            data["diff"] = changes
        out.write(json.dumps(data, indent=2, ensure_ascii=True) + "\n")
    elif args.csv:
        _write_csv(run, out)
    else:
        out.write(run.table())
        out.write("\n")
        notes = out
    _summary(run, notes)
    if changes is not None:
        changed = {c["domain"] for c in changes if c["kind"] != "removed"}
        _diff_lines(changes, len(run) - len(changed), args.previous, notes)
    counts = run.counts()
    bad = (ReadinessVerdict.FAIL, ReadinessVerdict.UNKNOWN, ReadinessVerdict.PERMERROR)
    return EXIT_FAILED if any(counts[verdict] for verdict in bad) else EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Entry point from the parser."""
    return run_preview(args)
