"""
``oxdkim dmarc``: the DMARC result for one message, or for one set of identities.

From a message, every DKIM signature is verified and the From domain is read; SPF is
taken as given (``--spf``, ``--mail-from``; the MAIL FROM domain defaults to the
message's Return-Path). Without a message, ``--from`` and ``--dkim-domain`` describe the
identities directly (each ``--dkim-domain`` is taken as a passing signature).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from .._base.domains import DomainSyntaxError
from .._base.files import shown
from .._dkim.address import parse_from_domain, parse_from_domains
from .._dkim.message import parse_message
from .._dmarc.alignment import (
    DkimInput,
    DmarcAlignment,
    DmarcResult,
    DmarcVerdict,
    IdentifierAlignment,
    SpfCheck,
    SpfResult,
)
from .._dmarc.orgdomain import ComparingFinder, PslFinder, TreeWalkFinder, normalize_dmarc_domain
from .._readiness.values import FinderMode, dmarc_result_json, policy_words
from .._verify.verifier import Verifier, VerifyResult
from ..exceptions import ConfigurationError, DnsError, FromHeaderError, MessageProblem
from ..typing import OrgDomainFinder, Resolver
from ._common import EXIT_FAILED, EXIT_OK, CliError, read_input
from ._dnsopts import add_dns_options, make_resolver

__all__ = ["register"]

_DESCRIPTION = """\
Evaluate DMARC for one message (FILE or stdin: its DKIM signatures are verified and its
From domain is used) or for one set of identities (--from and --dkim-domain). SPF is taken
as given: --spf RESULT for the MAIL FROM domain --mail-from (default for a message: the
Return-Path domain). Prints the DMARC result, the alignment of each identifier with its
reason, the policy and disposition, and the dmarc= entry for Authentication-Results.
Exit 0 on pass, 1 otherwise, 2 on unusable input."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the subcommand."""
    parser = subparsers.add_parser(
        "dmarc",
        help="DMARC result for a message (FILE or stdin) or an identity set",
        description=_DESCRIPTION,
    )
    parser.add_argument("file", nargs="?", metavar="FILE", help="message file (default stdin)")
    parser.add_argument("--from", dest="from_domain", metavar="DOMAIN", help="the From domain")
    parser.add_argument(
        "--dkim-domain",
        action="append",
        default=[],
        metavar="D",
        help="d= of a passing DKIM signature (repeatable; identity-set mode)",
    )
    parser.add_argument(
        "--spf",
        default="none",
        choices=[r.value for r in SpfResult],
        help="the SPF result for the MAIL FROM domain (default none)",
    )
    parser.add_argument("--mail-from", metavar="DOMAIN", help="the domain SPF checked")
    add_finder_option(parser)
    add_dns_options(parser)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run)


def add_finder_option(parser: argparse.ArgumentParser) -> None:
    """``--finder`` and ``--psl-file``: how organizational domains are found."""
    parser.add_argument(
        "--finder",
        default=FinderMode.TREE_WALK.value,
        choices=[m.value for m in FinderMode],
        help="organizational domains by the RFC 9989 tree walk (default), the RFC 7489 "
        "Public Suffix List, or both compared",
    )
    parser.add_argument(
        "--psl-file",
        metavar="FILE",
        help="a public_suffix_list.dat to use instead of the bundled list",
    )


def make_finder(args: argparse.Namespace, resolver: Resolver) -> OrgDomainFinder | None:
    """The finder ``--finder`` asks for (``None``: the tree walk over ``resolver``)."""
    mode = FinderMode(args.finder)
    if mode is FinderMode.TREE_WALK:
        return None
    psl = PslFinder(args.psl_file)
    if mode is FinderMode.PSL:
        return psl
    return ComparingFinder(TreeWalkFinder(resolver), psl)


def _domain(value: str, option: str) -> str:
    try:
        return normalize_dmarc_domain(value)
    except DomainSyntaxError as exc:
        # The check may have borrowed a label for a single-label domain: quote the input.
        raise CliError(f"{option} {shown(value)}: {exc.reason}") from None


def _from_domains(message: bytes) -> str | list[str] | None:
    """The From domain, every domain of a multi-address From, or ``None`` without one."""
    parsed = parse_message(message)
    try:
        return parsed.from_domain()
    except FromHeaderError as exc:
        if exc.problem is not MessageProblem.MULTIPLE_ADDRESSES:
            return None
    try:
        return parse_from_domains(parsed.get_all("from")[0].value)
    except FromHeaderError:
        return None


def _return_path(message: bytes) -> str | None:
    """The domain of the Return-Path (the SMTP MAIL FROM), read by the strict From rules."""
    fields = parse_message(message).get_all("return-path")
    if not fields:
        return None
    try:
        return parse_from_domain(fields[0].value)
    except FromHeaderError:
        return None  # "<>" (bounces), or not one plain address


def _alignment_line(label: str, identifier: IdentifierAlignment, extra: str = "") -> str:
    state = "aligned" if identifier.aligned else "not aligned"
    mode = "strict" if identifier.mode.value == "s" else "relaxed"
    org = (
        f", organizational domain {identifier.organizational_domain}"
        if identifier.organizational_domain
        else ""
    )
    other = ""
    if identifier.disagrees:
        other = "; RFC 7489 (Public Suffix List) receivers decide the opposite"
    return (
        f"{label}{identifier.domain or '-'}{extra}: {state} "
        f"({identifier.reason.value}, {mode}{org}){other}"
    )


def _policy_line(result: DmarcResult) -> str:
    """The applicable policy; what it does to this message only when the message fails."""
    if result.policy is None or result.policy_source is None:
        return f"policy: {policy_words(result)}"
    if result.verdict is DmarcVerdict.FAIL:
        return f"policy: {policy_words(result)}; disposition {result.disposition.value}"
    tag = f"{result.policy_source.value}={result.policy.value}"
    return f"policy: {tag} (for failing mail); disposition none"


def _org_for_display(finder: OrgDomainFinder, domain: str) -> str | None:
    """
    The Author Domain's organizational domain, to show it.

    The evaluation looks it up only when a verdict depends on it; here it is asked
    afterwards, and a DNS failure only leaves it out of the output.
    """
    try:
        return finder.find(domain).organizational_domain
    except (DnsError, ConfigurationError):
        return None


def _print(
    result: DmarcResult,
    signatures: tuple[VerifyResult, ...] | None,
    spf: SpfCheck | None,
    out: TextIO,
    finder: OrgDomainFinder,
) -> None:
    print(f"dmarc: {result.verdict.value} ({result.reason.value})", file=out)
    parts = result.authors or (result,)
    for part in parts:
        if part.author_domain is None:
            continue
        org = part.organizational_domain or _org_for_display(finder, part.author_domain)
        line = f"from: {part.author_domain}"
        if org is not None:
            line += f" (organizational domain {org})"
        print(line, file=out)
        if part.record is not None and part.policy_domain is not None:
            print(f"record: _dmarc.{part.policy_domain}: {part.record.text}", file=out)
        if part.policy is not None or part.record is None:
            print(_policy_line(part), file=out)
        results = dict(enumerate(signatures or ()))
        for index, identifier in enumerate(part.dkim):
            sig = results.get(index)
            extra = ""
            if sig is not None:
                extra = f" s={sig.selector or '?'} {sig.result.value}"
                if sig.reason is not None:
                    extra += f" ({sig.reason.value})"
            print(_alignment_line("dkim d=", identifier, extra), file=out)
        if part.spf is not None and spf is not None:
            print(_alignment_line("spf ", part.spf, f" {spf.result.value}"), file=out)
    if signatures is not None and not signatures:
        print("dkim: none (the message has no DKIM-Signature)", file=out)
    print(f"Authentication-Results entry: {result.authentication_results()}", file=out)


def run_dmarc(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Evaluate and print; returns the exit code."""
    out = out or sys.stdout
    identities = args.from_domain is not None or bool(args.dkim_domain)
    signatures: tuple[VerifyResult, ...] | None = None
    resolver = make_resolver(args)
    mail_from = _domain(args.mail_from, "--mail-from") if args.mail_from else None
    if identities:
        if args.file is not None:
            raise CliError("give a message FILE or --from/--dkim-domain, not both")
        if args.from_domain is None:
            raise CliError("--dkim-domain needs --from (the From domain)")
        author: str | list[str] | None = _domain(args.from_domain, "--from")
        dkim: list[DkimInput] = [_domain(d, "--dkim-domain") for d in args.dkim_domain]
    else:
        message = read_input(args.file)
        signatures = Verifier(resolver).verify(message)
        author = _from_domains(message)
        dkim = list(signatures)
        if mail_from is None:
            mail_from = _return_path(message)
    spf_result = SpfResult(args.spf)
    if mail_from is None and spf_result is not SpfResult.NONE:
        raise CliError("--spf needs --mail-from (the domain SPF checked)")
    spf = SpfCheck(spf_result, mail_from) if mail_from is not None else None
    finder = make_finder(args, resolver)
    result = DmarcAlignment(resolver, finder).evaluate(author, dkim=dkim, spf=spf)
    if args.json:
        data: dict[str, Any] = dmarc_result_json(result)
        if data["organizational_domain"] is None and result.author_domain is not None:
            shown = finder or TreeWalkFinder(resolver)
            data["organizational_domain"] = _org_for_display(shown, result.author_domain)
        if signatures is not None:
            data["dkim_signatures"] = [
                {
                    "d": sig.domain,
                    "s": sig.selector,
                    "result": sig.result.value,
                    "reason": sig.reason.value if sig.reason else None,
                }
                for sig in signatures
            ]
        out.write(json.dumps(data, indent=2, ensure_ascii=True) + "\n")
    else:
        _print(result, signatures, spf, out, finder or TreeWalkFinder(resolver))
    return EXIT_OK if result.passed else EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    """Entry point from the parser."""
    return run_dmarc(args)
