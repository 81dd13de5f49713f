"""
SPF record analysis before any mail is sent (RFC 7208): does a domain authorize the provider?

This is not an SPF evaluator: without a connecting IP address, ``ip4``, ``a`` or ``mx``
cannot match. Instead, :func:`analyze_spf` walks the record the way ``check_host()``
(RFC 7208 §4) walks it for a sender that only the provider's include recognises:

* it reads the ``v=spf1`` record of the domain (none, one, or several: permerror, §4.5;
  a temporary DNS failure is temperror, §4.4) and parses it strictly (§12 ABNF; any
  syntax error is permerror, §4.6);
* it follows ``include:`` and ``redirect=`` in evaluation order and counts every term
  that queries DNS (``include a mx ptr exists redirect``): past 10, evaluation ends in
  permerror (§4.6.4);
* given a host resolver (``hosts=``, a :class:`~oxdkim.typing.HostResolver`), it makes
  the lookups a receiver makes for ``a``, ``mx`` and ``exists``: the MX names of ``mx``
  (more than 10 is permerror, §4.6.4) and each one's addresses, the addresses of ``a``,
  the IPv4 address of ``exists`` (which then matches every sender, §5.7). Every lookup
  that finds no name or nothing at it is a void lookup; past two, permerror (§4.6.4);
* the provider's include (``spf_include``) "matches" and passes; no other ``a``, ``mx``,
  ``ip4``, ``ip6`` or ``ptr`` matches; ``all`` ends each record (§5.1). Inside the
  provider's record, its hosts are taken to match its first mechanism (through
  includes), and a receiver stops there: the terms after it do not count toward the
  provider's mail's limits.

The outcome (:attr:`SpfAnalysis.result`) is the SPF result the provider's mail is
predicted to get. The walk carries on past that point, as far as a sender matching
nothing would go, to report the whole path, the lookup count and every problem.

Without a host resolver only TXT records are read (a resolver with only ``txt`` and
``cname`` keeps working): a void lookup is seen where the name a term names does not
exist at all (its TXT query says NXDOMAIN), not where it exists without an address or
MX record, and the limit of ten MX names is not checked. A host with addresses of one
family only is not counted as void (a receiver counts it for a client of the other
family). :attr:`SpfAnalysis.limits` lists, per record, each place where the analysis
models less than a receiver. SPF is checked at the MAIL FROM domain, not the
From domain (RFC 7208 §2.4).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from typing import Any, Literal

import attrs

from .._base.answers import DnsStatus, MxAnswer
from .._base.domains import DomainSyntaxError, normalize_domain
from .._dmarc.alignment import SpfResult
from ..exceptions import ConfigurationError, DnsError, DnsTempError, RecordSyntaxError
from ..typing import AsyncHostResolver, AsyncResolver, HostResolver, Resolver
from .questions import Plan as _Plan
from .questions import ask_addresses as _ask_addresses
from .questions import ask_mx as _ask_mx
from .questions import ask_txt as _ask_txt
from .questions import run, run_async
from .values import Severity

__all__ = [
    "MAX_MX_NAMES",
    "MAX_SPF_LOOKUPS",
    "MAX_VOID_LOOKUPS",
    "SpfAnalysis",
    "SpfProblem",
    "SpfProblemCode",
    "SpfRecord",
    "SpfStep",
    "SpfTerm",
    "SpfVia",
    "analyze_spf",
    "analyze_spf_async",
    "is_spf_record",
]

MAX_SPF_LOOKUPS = 10
"""RFC 7208 §4.6.4: at most 10 DNS-querying terms per evaluation."""

MAX_VOID_LOOKUPS = 2
"""RFC 7208 §4.6.4: more than two lookups answered NXDOMAIN or empty is permerror."""

MAX_MX_NAMES = 10
"""RFC 7208 §4.6.4: an ``mx`` whose MX lookup gives more than 10 names is permerror."""

_QUALIFIERS = {
    "+": SpfResult.PASS,
    "-": SpfResult.FAIL,
    "~": SpfResult.SOFTFAIL,
    "?": SpfResult.NEUTRAL,
}
_LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})
_MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})

# --- the RFC 7208 §12 grammar, piece by piece --------------------------------------------

_VERSION = re.compile(rb"v=spf1(?: |\Z)", re.IGNORECASE)
_MACRO_EXPAND = r"%\{[slodiphcrtv][0-9]*r?[.\-+,/_=]*\}|%%|%_|%-"
_MACRO_STRING = re.compile(rf"(?:{_MACRO_EXPAND}|[\x21-\x24\x26-\x7e])*+\Z", re.IGNORECASE)
_ENDS_IN_MACRO = re.compile(rf"(?:{_MACRO_EXPAND})\Z", re.IGNORECASE)
_EXP_ONLY_LETTER = re.compile(r"%\{[crt]", re.IGNORECASE)  # §7.2: c, r, t only in exp=
_TOPLABEL = re.compile(r"(?:[a-z0-9]*[a-z][a-z0-9]*|[a-z0-9]+-[a-z0-9-]*[a-z0-9])\Z", re.IGNORECASE)
_MODIFIER = re.compile(r"([a-z][a-z0-9_.\-]*)=(.*)\Z", re.IGNORECASE | re.DOTALL)
_MECHANISM = re.compile(r"([+\-~?]?)([a-z][a-z0-9]*)(.*)\Z", re.IGNORECASE | re.DOTALL)
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
_IP4 = re.compile(rf"{_QNUM}(?:\.{_QNUM}){{3}}\Z")
_CIDR4 = re.compile(r"(?:0|[1-9][0-9]?)\Z")
_CIDR6 = re.compile(r"(?:0|[1-9][0-9]{0,2})\Z")
_DUAL_CIDR = re.compile(r"(?:/([0-9]+))?(?://([0-9]+))?\Z")


def _domain_spec(value: str) -> str | None:
    """Why ``value`` is not a ``domain-spec`` (§7.1), or ``None`` when it is one."""
    if not value:
        return "a domain is required"
    if not _MACRO_STRING.match(value):
        return "a character or macro that SPF does not allow"
    if _EXP_ONLY_LETTER.search(value):
        return "the macros %{c}, %{r} and %{t} are only allowed in exp= (RFC 7208 §7.2)"
    if _ENDS_IN_MACRO.search(value):
        return None
    body = value[:-1] if value.endswith(".") else value
    _, dot, top = body.rpartition(".")
    if not dot or not _TOPLABEL.match(top):
        return "it must end in a top-level label such as .com, or in a macro"
    return None


def _cidr(text: str | None, pattern: re.Pattern[str], limit: int, what: str) -> str | None:
    if text is None:
        return None
    if not pattern.match(text) or int(text) > limit:
        return f"{what} prefix length must be 0 to {limit}"
    return None


def _mechanism_error(name: str, rest: str) -> str | None:
    """Why the arguments ``rest`` do not fit mechanism ``name`` (§5), or ``None``."""
    if name == "all":
        return "all takes no argument" if rest else None
    if name in ("include", "exists"):
        if not rest.startswith(":"):
            return f"{name} needs ':' and a domain"
        return _domain_spec(rest[1:])
    if name == "ptr":
        if rest.startswith(":"):
            return _domain_spec(rest[1:])
        return "ptr takes only ':' and a domain" if rest else None
    if name in ("a", "mx"):
        cidr = _DUAL_CIDR.search(rest)
        assert cidr is not None  # the pattern matches the empty string at the end
        spec = rest[: cidr.start()]
        if spec and not spec.startswith(":"):
            return f"{name} takes ':' and a domain, then prefix lengths"
        return (
            (_domain_spec(spec[1:]) if spec else None)
            or _cidr(cidr.group(1), _CIDR4, 32, "the IPv4")
            or _cidr(cidr.group(2), _CIDR6, 128, "the IPv6")
        )
    if not rest.startswith(":"):
        return f"{name} needs ':' and an address"
    network, slash, length = rest[1:].partition("/")
    if name == "ip4":
        if not _IP4.match(network):
            return f"{network!r} is not an IPv4 address"
        return _cidr(length if slash else None, _CIDR4, 32, "the IPv4")
    try:
        if "%" in network:  # a zone index is not part of RFC 4291 text
            raise ValueError(network)
        ipaddress.IPv6Address(network)
    except ValueError:
        return f"{network!r} is not an IPv6 address"
    return _cidr(length if slash else None, _CIDR6, 128, "the IPv6")


@attrs.frozen
class SpfTerm:
    """
    One term of an SPF record: a directive (qualifier and mechanism) or a modifier.

    Attributes:
        text: The term as written.
        name: The mechanism or modifier name, lowercase (``include``, ``redirect``).
        qualifier: ``+ - ~ ?`` for a directive (``+`` when none is written); ``""``
            for a modifier.
        target: The domain-spec of ``include``, ``exists``, ``a``, ``mx``, ``ptr``,
            ``redirect`` and ``exp``, when given.
    """

    text: str
    name: str
    qualifier: str
    target: str | None = None

    @property
    def is_modifier(self) -> bool:
        """True for ``name=value`` terms (§6)."""
        return self.qualifier == ""

    @property
    def queries_dns(self) -> bool:
        """True for the terms that count toward the 10-lookup limit (§4.6.4)."""
        return self.name in _LOOKUP_TERMS

    @property
    def has_macro(self) -> bool:
        """The target depends on the message (a ``%`` macro, §7): it cannot be followed."""
        return self.target is not None and "%" in self.target

    @classmethod
    def parse(cls, text: str) -> SpfTerm:
        """
        Parse one term (RFC 7208 §12 ``directive`` / ``modifier``).

        Raises:
            RecordSyntaxError: The term does not match the grammar; ``tag`` is its name.
        """
        modifier = _MODIFIER.match(text)
        if modifier is not None:
            name, value = modifier.group(1).lower(), modifier.group(2)
            if name in ("redirect", "exp"):
                error = _domain_spec(value)
                if error:
                    raise RecordSyntaxError(f"{text!r}: {error}", tag=name)
                return cls(text, name, "", value)
            if not _MACRO_STRING.match(value):
                raise RecordSyntaxError(f"{text!r}: a character SPF does not allow", tag=name)
            return cls(text, name, "")
        mechanism = _MECHANISM.match(text)
        if mechanism is None or mechanism.group(2).lower() not in _MECHANISMS:
            raise RecordSyntaxError(f"{text!r} is not an SPF mechanism or modifier", tag=None)
        qualifier, name, rest = mechanism.groups()
        name = name.lower()
        error = _mechanism_error(name, rest)
        if error:
            raise RecordSyntaxError(f"{text!r}: {error}", tag=name)
        target = None
        if name in ("include", "exists", "a", "mx", "ptr") and rest.startswith(":"):
            spec = rest[1:]
            if name in ("a", "mx"):
                cidr = _DUAL_CIDR.search(spec)
                assert cidr is not None
                spec = spec[: cidr.start()]
            target = spec
        return cls(text, name, qualifier or "+", target)


def is_spf_record(record: bytes | str) -> bool:
    """True when ``record`` starts with the version section ``v=spf1`` (§4.5)."""
    data = record.encode("latin-1", errors="replace") if isinstance(record, str) else record
    return bool(_VERSION.match(data))


@attrs.frozen
class SpfRecord:
    """A parsed ``v=spf1`` record: its terms in order."""

    text: str
    terms: tuple[SpfTerm, ...]

    @classmethod
    def parse(cls, record: bytes | str) -> SpfRecord:
        """
        Parse ``record`` strictly (RFC 7208 §12): every term, separated by spaces.

        Raises:
            RecordSyntaxError: Not a ``v=spf1`` record (``tag="v"``), a malformed term,
                an unknown mechanism, or ``redirect``/``exp`` more than once (§6).
        """
        text = record.decode("ascii", errors="replace") if isinstance(record, bytes) else record
        if not is_spf_record(text):
            raise RecordSyntaxError("not an SPF record: it must start with v=spf1", tag="v")
        terms = tuple(SpfTerm.parse(part) for part in text[6:].split(" ") if part)
        for name in ("redirect", "exp"):
            if sum(term.name == name for term in terms) > 1:
                raise RecordSyntaxError(f"{name}= appears more than once (§6)", tag=name)
        return cls(text, terms)

    @property
    def directives(self) -> tuple[SpfTerm, ...]:
        """The mechanisms, in evaluation order."""
        return tuple(term for term in self.terms if not term.is_modifier)

    @property
    def all(self) -> SpfTerm | None:
        """The first ``all`` mechanism, if any."""
        return next((t for t in self.terms if t.name == "all"), None)

    @property
    def redirect(self) -> SpfTerm | None:
        """The ``redirect=`` modifier, if any."""
        return next((t for t in self.terms if t.name == "redirect"), None)


class SpfVia(enum.Enum):
    """How the walk reached a record."""

    START = "start"
    """The domain analysed (the MAIL FROM domain)."""
    INCLUDE = "include"
    REDIRECT = "redirect"


class SpfProblemCode(enum.Enum):
    """What can be wrong with the SPF records of a domain (stable tokens)."""

    NO_RECORD = "no-record"
    """No ``v=spf1`` record: ``none`` for the domain, permerror behind include/redirect."""
    MULTIPLE_RECORDS = "multiple-records"
    """Several ``v=spf1`` records at one name: permerror (§4.5)."""
    SYNTAX_ERROR = "syntax-error"
    """A term that does not match the grammar: permerror (§4.6)."""
    TOO_MANY_LOOKUPS = "too-many-lookups"
    """More than 10 DNS-querying terms: permerror (§4.6.4)."""
    TOO_MANY_VOID_LOOKUPS = "too-many-void-lookups"
    """More than two lookups for names that do not exist or hold nothing: permerror (§4.6.4)."""
    TOO_MANY_MX = "too-many-mx"
    """An ``mx`` term whose MX lookup gives more than 10 names: permerror (§4.6.4)."""
    LOOP = "loop"
    """An include or redirect leads back to a record on its own path: permerror."""
    DNS_TEMPORARY = "dns-temporary"
    """A query failed temporarily: temperror (§4.4); nothing is known."""
    DNS_PERMANENT = "dns-permanent"
    """A name could not be resolved at all (CNAME loop, invalid name)."""
    MACRO = "macro"
    """A target built from macros depends on each message: not followed here."""
    PTR = "ptr"
    """The ``ptr`` mechanism is slow and unreliable; RFC 7208 §5.5 says not to use it."""
    PASS_ALL = "pass-all"  # noqa: S105
    """``+all``: every host on the Internet may send as the domain."""
    UNREACHABLE = "unreachable"
    """Terms after ``all`` are never evaluated (§5.1), nor ``redirect`` beside it (§6.1)."""


@attrs.frozen
class SpfProblem:
    """One problem found in the walk: what, in which domain's record, and how bad."""

    code: SpfProblemCode
    domain: str
    severity: Severity
    message: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "code": self.code.value,
            "domain": self.domain,
            "severity": self.severity.value,
            "message": self.message,
        }


@attrs.frozen
class SpfStep:
    """
    One record the walk read.

    Attributes:
        domain: Whose record.
        via: How it was reached.
        term: The ``include:``/``redirect=`` term that led here (``None`` at the start).
        depth: 0 for the analysed domain, 1 for what it includes, ...
        record: The record text, when exactly one ``v=spf1`` record was found.
    """

    domain: str
    via: SpfVia
    term: str | None
    depth: int
    record: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "domain": self.domain,
            "via": self.via.value,
            "term": self.term,
            "depth": self.depth,
            "record": self.record,
        }


@attrs.frozen
class SpfAnalysis:
    """
    What a domain's SPF records say about mail sent by the provider.

    Attributes:
        domain: The domain analysed (the MAIL FROM domain).
        provider_include: The provider's include domain, when one was given.
        result: The SPF result predicted for the provider's mail: the first matching
            term decides, where only the provider's include (or the domain itself,
            when it *is* the provider's include domain) matches. Without a provider
            include, it is what a sender the record does not list gets.
        provider_path: The ``include:``/``redirect=`` terms from the domain down to the
            provider's include, as written, when the walk reached it; else empty.
        all_qualifier: The qualifier of the ``all`` that ends the domain's evaluation
            (following ``redirect=``); ``None`` when there is none (neutral, §4.7).
        lookups: DNS-querying terms counted for a sender matching nothing; a value over
            ``MAX_SPF_LOOKUPS`` means the walk stopped there.
        steps: Every record read, in evaluation order.
        problems: Every problem found.
        void_lookups: Void lookups seen (names that do not exist or hold nothing).
        provider_lookups: The DNS-querying terms a receiver counts for the provider's
            mail: up to the term that decides each record, its hosts matching at the first
            mechanism of the provider's record (a value over ``MAX_SPF_LOOKUPS`` is where
            it stopped).
        limits: Per record, where the analysis models less than a receiver (no client
            IP, macros not expanded, MX and address lookups not made without a host
            resolver, a host with addresses of one family only).
    """

    domain: str
    provider_include: str | None
    result: SpfResult
    provider_path: tuple[str, ...] = ()
    all_qualifier: str | None = None
    lookups: int = 0
    steps: tuple[SpfStep, ...] = ()
    problems: tuple[SpfProblem, ...] = ()
    void_lookups: int = 0
    provider_lookups: int = 0
    limits: tuple[str, ...] = ()

    @property
    def record(self) -> str | None:
        """The domain's own ``v=spf1`` record, when it has exactly one."""
        return self.steps[0].record if self.steps else None

    @property
    def provider_listed(self) -> bool:
        """The walk reached the provider's include (whatever its qualifiers)."""
        return bool(self.provider_path) or (
            self.provider_include is not None and self.provider_include == self.domain
        )

    @property
    def authorizes_provider(self) -> bool:
        """The provider's mail is predicted to get SPF ``pass``."""
        return self.provider_listed and self.result is SpfResult.PASS

    @property
    def temporary(self) -> bool:
        """True when a temporary DNS failure decided the result (nothing is known)."""
        return self.result is SpfResult.TEMPERROR

    def explain(self) -> str:
        """Why the provider's mail gets :attr:`result`, in an operator's words."""
        result = self.result.value
        fatal = [p for p in self.problems if p.severity in (Severity.ERROR, Severity.UNKNOWN)]
        if self.result is SpfResult.NONE:
            return f"{self.domain} has no SPF record (SPF none)"
        if self.result in (SpfResult.TEMPERROR, SpfResult.PERMERROR):
            why = fatal[0].message if fatal else "the record cannot be evaluated"
            return f"SPF {result} at {self.domain}: {why}"
        if self.provider_include is None:
            return (
                f"SPF at {self.domain}: no provider include is configured, so whether it "
                f"authorizes the provider cannot be judged (unlisted senders get {result})"
            )
        if self.authorizes_provider:
            how = " -> ".join(self.provider_path) or "it is the provider's include domain"
            return f"SPF pass at {self.domain}: it authorizes the provider ({how})"
        if self.provider_listed:
            how = " -> ".join(self.provider_path)
            return (
                f"SPF {result} at {self.domain}: it lists the provider only as {how}, "
                f"which gives {result}"
            )
        ending = f"{self.all_qualifier}all" if self.all_qualifier else "no all (neutral)"
        return (
            f"SPF {result} at {self.domain}: the record does not include "
            f"{self.provider_include}, so the provider's mail gets {result} ({ending})"
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "domain": self.domain,
            "provider_include": self.provider_include,
            "result": self.result.value,
            "authorizes_provider": self.authorizes_provider,
            "provider_path": list(self.provider_path),
            "record": self.record,
            "all": self.all_qualifier,
            "lookups": self.lookups,
            "void_lookups": self.void_lookups,
            "provider_lookups": self.provider_lookups,
            "steps": [step.to_json() for step in self.steps],
            "problems": [problem.to_json() for problem in self.problems],
            "limits": list(self.limits),
            "explanation": self.explain(),
        }


def _target(spec: str) -> str | None:
    """The DNS name of a macro-free domain-spec, or ``None`` when it is malformed (§4.3)."""
    try:
        return normalize_domain(spec, allow_underscore=True)
    except DomainSyntaxError:
        return None


_Path = tuple[tuple[str, str], ...]
"""The ``(term as written, domain it leads to)`` pairs from the start to a record."""


_HOST_TERMS = frozenset({"a", "mx", "exists", "ptr"})
"""Mechanisms that match on the client's address or DNS: never a match without one."""


class _Walk:
    """
    One analysis: two evaluations walked together, with their steps and problems.

    A receiver evaluating the provider's mail ("live") stops in each record at the
    first term that decides it; a sender matching nothing goes on to every term. The
    walk follows both at once: terms after a record's decision are walked only for the
    second (to report the whole path and every problem), and each keeps its own lookup
    and void-lookup counts (§4.6.4).
    """

    def __init__(self, domain: str, provider: str | None, hosts: bool = False) -> None:
        self.domain = domain
        self.provider = provider
        self.hosts = hosts
        """MX and address lookups are made (a host resolver was given)."""
        self.lookups = 0
        self.voids = 0
        self.stopped = False
        """A sender matching nothing passed a limit: only live terms are walked now."""
        self.live_lookups = 0
        self.live_voids = 0
        self.steps: list[SpfStep] = []
        self.problems: list[SpfProblem] = []
        self.limits: list[str] = []
        self.provider_path: tuple[str, ...] = ()
        self.all_qualifier: str | None = None
        self.provider_lookups: int | None = None
        """The live lookup count where the provider's hosts matched, once they did."""

    def problem(self, code: SpfProblemCode, domain: str, severity: Severity, text: str) -> None:
        self.problems.append(SpfProblem(code, domain, severity, text))

    def limit(self, text: str) -> None:
        if text not in self.limits:
            self.limits.append(text)

    def match(self) -> None:
        """The provider's hosts match here: a receiver stops counting for its mail."""
        if self.provider_lookups is None:
            self.provider_lookups = self.live_lookups

    def _over(self, code: SpfProblemCode, domain: str, text: str) -> None:
        if not any(p.code is code for p in self.problems):
            self.problem(code, domain, Severity.ERROR, text)

    def count(self, domain: str, live: bool) -> bool:
        """Count one DNS-querying term; False when the live evaluation passes 10 (§4.6.4)."""
        text = (
            f"more than {MAX_SPF_LOOKUPS} DNS-querying terms (include, a, mx, ptr, exists, "
            "redirect) counting every included record: receivers stop with permerror there"
        )
        if not self.stopped:
            self.lookups += 1
            if self.lookups > MAX_SPF_LOOKUPS:
                self.stopped = True
                self._over(SpfProblemCode.TOO_MANY_LOOKUPS, domain, text)
        if not live:
            return True
        self.live_lookups += 1
        if self.live_lookups > MAX_SPF_LOOKUPS:
            self._over(SpfProblemCode.TOO_MANY_LOOKUPS, domain, text)
            return False
        return True

    def void(self, domain: str, name: str, live: bool, why: str = "does not exist") -> bool:
        """Count one void lookup; False when the live evaluation passes two (§4.6.4)."""
        text = (
            f"{name} {why}: more than {MAX_VOID_LOOKUPS} lookups found no name or "
            "nothing at it (void lookups): receivers stop with permerror there (RFC 7208 §4.6.4)"
        )
        if not self.stopped:
            self.voids += 1
            if self.voids > MAX_VOID_LOOKUPS:
                self.stopped = True
                self._over(SpfProblemCode.TOO_MANY_VOID_LOOKUPS, domain, text)
        if not live:
            return True
        self.live_voids += 1
        if self.live_voids > MAX_VOID_LOOKUPS:
            self._over(SpfProblemCode.TOO_MANY_VOID_LOOKUPS, domain, text)
            return False
        return True

    def check(
        self,
        domain: str,
        via: SpfVia,
        term: str | None,
        path: _Path,
        main: bool,
        live: bool = True,
        providing: bool = False,
    ) -> _Plan[SpfResult]:
        """
        ``check_host()`` for ``domain`` as the walk sees it; returns the provider's result.

        ``path`` holds the ``(term, domain)`` pairs that led here; ``main`` is true on the
        chain of records that ends the analysed domain's evaluation (the start and its
        redirects); ``live`` is true when a receiver evaluating the provider's mail gets
        here; ``providing`` inside the provider's record, whose first mechanism is taken
        to list the provider's hosts.
        """
        index = len(self.steps)
        self.steps.append(SpfStep(domain, via, term, len(path)))
        is_provider = domain == self.provider
        if is_provider and not self.provider_path and path:
            self.provider_path = tuple(text for text, _ in path)
        # Each time a receiver evaluates the provider's record for its mail, the hosts
        # match at its first mechanism.
        providing = providing or (is_provider and live)
        behind = via is not SpfVia.START
        try:
            answer = yield from _ask_txt(domain)
        except DnsTempError as exc:
            self.problem(
                SpfProblemCode.DNS_TEMPORARY,
                domain,
                Severity.UNKNOWN,
                f"DNS did not answer for {domain} ({exc}); try again later",
            )
            return SpfResult.TEMPERROR
        except DnsError as exc:
            self.problem(SpfProblemCode.DNS_PERMANENT, domain, Severity.ERROR, str(exc))
            return SpfResult.PERMERROR
        if behind and not answer.records and not self.void(domain, domain, live):
            return SpfResult.PERMERROR
        found = [record for record in answer.records if is_spf_record(record)]
        if not found:
            self.problem(
                SpfProblemCode.NO_RECORD,
                domain,
                Severity.ERROR,
                f"{domain} has no SPF record"
                + (f", so {term!r} is a permerror (RFC 7208 §5.2, §6.1)" if behind else ""),
            )
            return SpfResult.NONE
        if len(found) > 1:
            self.problem(
                SpfProblemCode.MULTIPLE_RECORDS,
                domain,
                Severity.ERROR,
                f"{domain} publishes {len(found)} SPF records; exactly one is allowed (§4.5)",
            )
            return SpfResult.PERMERROR
        text = found[0].decode("ascii", errors="replace")
        self.steps[index] = attrs.evolve(self.steps[index], record=text)
        try:
            record = SpfRecord.parse(text)
        except RecordSyntaxError as exc:
            self.problem(SpfProblemCode.SYNTAX_ERROR, domain, Severity.ERROR, f"{domain}: {exc}")
            return SpfResult.PERMERROR
        self._note_limits(domain, record, providing)
        result = yield from self._terms(domain, record, path, main, live, providing)
        if is_provider and result not in (SpfResult.TEMPERROR, SpfResult.PERMERROR):
            if live:
                self.match()
            return SpfResult.PASS  # the provider's own record lists the provider's hosts
        return result

    def _note_limits(self, domain: str, record: SpfRecord, providing: bool) -> None:
        """Say where this record needs more than the analysis models (per record)."""
        names = sorted({t.name for t in record.directives if t.name in _HOST_TERMS})
        # With host lookups, an exists without macros is decided as a receiver decides it.
        guessed = [n for n in names if n != "exists" or not self.hosts]
        if guessed and not providing:
            self.limit(f"{domain}: {', '.join(guessed)} taken not to match (no client IP)")
        if names and not providing and not self.hosts:
            self.limit(
                f"{domain}: no host resolver was given (hosts=), so MX and address lookups "
                "were not made: only a name that does not exist is seen as a void lookup "
                "(its TXT query), not one without an address or MX record"
                + (
                    ", and the limit of 10 MX names (RFC 7208 §4.6.4) is not checked"
                    if "mx" in names
                    else ""
                )
            )
        macros = [t.text for t in record.terms if t.has_macro and t.name != "exp"]
        if macros:
            self.limit(f"{domain}: {', '.join(map(repr, macros))} expanded per message, not here")
        later = [t for t in record.directives[1:] if t.queries_dns]
        if providing and later:
            self.limit(
                f"{domain}: the provider's hosts are taken to match its first mechanism; "
                "terms after it do not count for the provider's mail"
            )

    def _unanswered(self, domain: str, term: SpfTerm, name: str, exc: Exception) -> SpfResult:
        self.problem(
            SpfProblemCode.DNS_TEMPORARY,
            domain,
            Severity.UNKNOWN,
            f"DNS did not answer for {name}, named by {term.text!r} ({exc}); try again later",
        )
        return SpfResult.TEMPERROR

    def _probe(
        self, domain: str, term: SpfTerm, live: bool
    ) -> _Plan[SpfResult | Literal["match"] | None]:
        """
        Make the lookups a receiver makes for ``a``, ``mx`` or ``exists`` (§4.6.4, §5).

        With a host resolver: the MX names of ``mx`` (more than 10 is permerror) and the
        addresses of each, the addresses of ``a`` and the IPv4 address of ``exists``; each
        that finds nothing is a void lookup. Without one, only whether the name exists
        (its TXT query). Returns the live result when this term ends the evaluation of
        the provider's mail (a limit passed, or DNS did not answer); ``"match"`` for an
        ``exists`` whose name has an IPv4 address (it matches every sender, §5.7); else
        ``None``.
        """
        if term.has_macro or term.name == "ptr":
            return None
        target = domain if term.target is None else _target(term.target)
        if target is None:
            return None
        if not self.hosts:
            if target == domain:
                return None  # its TXT record was just read: it exists
            try:
                answer = yield from _ask_txt(target)
            except DnsTempError as exc:
                return self._unanswered(domain, term, target, exc) if live else None
            except DnsError:
                return None
            if answer.status is DnsStatus.NXDOMAIN and not self.void(domain, target, live):
                return SpfResult.PERMERROR
            return None
        hosts = [target]
        if term.name == "mx":
            try:
                mx = yield from _ask_mx(target)
            except DnsTempError as exc:
                return self._unanswered(domain, term, target, exc) if live else None
            except DnsError:
                return None
            if not mx.records:
                why = "has no MX record" if mx.status is DnsStatus.NODATA else "does not exist"
                return None if self.void(domain, target, live, why) else SpfResult.PERMERROR
            if len(mx.records) > MAX_MX_NAMES:
                return None if self.too_many_mx(domain, term, mx, live) else SpfResult.PERMERROR
            hosts = [host for host in mx.exchanges if host != "."]
        for host in hosts:
            try:
                found = yield from _ask_addresses(host)
            except DnsTempError as exc:
                return self._unanswered(domain, term, host, exc) if live else None
            except DnsError:
                continue
            if term.name == "exists":
                if found.ipv4:
                    return "match"
                void = True  # exists asks for A records only (RFC 7208 §5.7)
            else:
                void = not (found.ipv4 or found.ipv6)
                if not void and not (found.ipv4 and found.ipv6):
                    family = "IPv6 (AAAA)" if found.ipv4 else "IPv4 (A)"
                    self.limit(
                        f"{domain}: {host} ({term.text!r}) has no {family} address: a "
                        "receiver checking a client of that family counts a void lookup there"
                    )
            if void:
                why = (
                    "does not exist"
                    if found.status is DnsStatus.NXDOMAIN
                    else ("has no IPv4 address" if term.name == "exists" else "has no address")
                )
                if not self.void(domain, host, live, why):
                    return SpfResult.PERMERROR
        return None

    def too_many_mx(self, domain: str, term: SpfTerm, mx: MxAnswer, live: bool) -> bool:
        """An ``mx`` term past 10 names; False when it ends the live evaluation (§4.6.4)."""
        if not any(p.code is SpfProblemCode.TOO_MANY_MX for p in self.problems):
            self.problem(
                SpfProblemCode.TOO_MANY_MX,
                domain,
                Severity.ERROR,
                f"{term.text!r}: {mx.name} has {len(mx.records)} MX records; receivers stop "
                f"with permerror past {MAX_MX_NAMES} (RFC 7208 §4.6.4)",
            )
        if not live:
            self.stopped = True
            return True
        return False

    def _terms(
        self,
        domain: str,
        record: SpfRecord,
        path: _Path,
        main: bool,
        live: bool,
        providing: bool,
    ) -> _Plan[SpfResult]:
        """Evaluate one record's terms in order (§4.6.2), then its redirect (§6.1)."""
        decided: SpfResult | None = None
        ended = False
        first = providing
        for term in record.directives:
            now = live and decided is None  # a receiver evaluating the provider's mail
            if not now and self.stopped:
                break
            if ended:
                self.problem(
                    SpfProblemCode.UNREACHABLE,
                    domain,
                    Severity.WARNING,
                    f"{term.text!r} comes after 'all' and is never evaluated (§5.1)",
                )
                break
            if term.queries_dns and not self.count(domain, now):
                return SpfResult.PERMERROR
            if first and term.name not in ("include", "all"):
                self.match()  # the provider's hosts are listed by its first mechanism
                decided = SpfResult.PASS
            elif term.name == "all":
                decided = decided or _QUALIFIERS[term.qualifier]
                ended = True
                if main:
                    self.all_qualifier = term.qualifier
                if term.qualifier == "+":
                    self.problem(
                        SpfProblemCode.PASS_ALL,
                        domain,
                        Severity.WARNING,
                        f"{domain} ends with {term.text!r}: any host may send as it",
                    )
            elif term.name in _HOST_TERMS:
                if term.name == "ptr":
                    self.problem(
                        SpfProblemCode.PTR,
                        domain,
                        Severity.NOTICE,
                        f"{term.text!r}: RFC 7208 §5.5 says not to use ptr (slow, often ignored)",
                    )
                ending = yield from self._probe(domain, term, now)
                if ending == "match":
                    # Every sender matches here: no evaluation goes past it, not even
                    # the redirect (§6.1).
                    decided = decided or (_QUALIFIERS[term.qualifier] if now else None)
                    if term.qualifier == "+":
                        self.problem(
                            SpfProblemCode.PASS_ALL,
                            domain,
                            Severity.WARNING,
                            f"{term.text!r} matches every host: its name has an address",
                        )
                    return SpfResult.NEUTRAL if decided is None else decided
                if ending is not None and now:
                    return ending
            elif term.name == "include":
                child = yield from self._follow(
                    domain, term, path, SpfVia.INCLUDE, False, now, first
                )
                if now:
                    if child is SpfResult.PASS:
                        decided = _QUALIFIERS[term.qualifier]
                    elif child in (SpfResult.TEMPERROR, SpfResult.PERMERROR, SpfResult.NONE):
                        decided = SpfResult.PERMERROR if child is SpfResult.NONE else child
            first = False
        redirect = record.redirect
        now = live and decided is None
        if redirect is not None and record.all is not None:
            self.problem(
                SpfProblemCode.UNREACHABLE,
                domain,
                Severity.WARNING,
                f"{redirect.text!r} is ignored because the record has 'all' (§6.1)",
            )
        elif redirect is not None and (now or not self.stopped):
            if not self.count(domain, now):
                return SpfResult.PERMERROR
            child = yield from self._follow(domain, redirect, path, SpfVia.REDIRECT, main, now)
            if now:
                decided = SpfResult.PERMERROR if child is SpfResult.NONE else child
        return SpfResult.NEUTRAL if decided is None else decided

    def _follow(
        self,
        domain: str,
        term: SpfTerm,
        path: _Path,
        via: SpfVia,
        main: bool = False,
        live: bool = True,
        providing: bool = False,
    ) -> _Plan[SpfResult]:
        """Follow an include or redirect; ``neutral`` (no match) when it cannot be followed."""
        assert term.target is not None
        if term.has_macro:
            self.problem(
                SpfProblemCode.MACRO,
                domain,
                Severity.NOTICE,
                f"{term.text!r} depends on each message (macros); not followed here",
            )
            return SpfResult.NEUTRAL
        target = _target(term.target)
        if target is None:
            self.problem(
                SpfProblemCode.DNS_PERMANENT,
                domain,
                Severity.ERROR,
                f"{term.text!r}: {term.target!r} is not a valid domain name (§4.3)",
            )
            return SpfResult.NONE
        if target == self.domain or any(target == name for _, name in path):
            self.problem(
                SpfProblemCode.LOOP,
                domain,
                Severity.ERROR,
                f"{term.text!r} leads back to {target}, a record on its own path",
            )
            return SpfResult.PERMERROR
        chain = (*path, (term.text, target))
        return (yield from self.check(target, via, term.text, chain, main, live, providing))

    def analysis(self, result: SpfResult) -> SpfAnalysis:
        return SpfAnalysis(
            domain=self.domain,
            provider_include=self.provider,
            result=result,
            provider_path=self.provider_path,
            all_qualifier=self.all_qualifier,
            lookups=self.lookups,
            steps=tuple(self.steps),
            problems=tuple(self.problems),
            void_lookups=self.voids,
            provider_lookups=self.live_lookups,
            limits=tuple(self.limits),
        )


def spf_plan(domain: str, provider_include: str | None, hosts: bool) -> _Plan[SpfAnalysis]:
    """The SPF analysis as a plan (``hosts``: whether MX and address questions may be asked)."""
    try:
        subject = normalize_domain(domain, allow_underscore=True)
        provider = (
            None
            if provider_include is None
            else normalize_domain(provider_include, allow_underscore=True)
        )
    except DomainSyntaxError as exc:
        raise ConfigurationError(f"invalid domain: {exc}") from None
    walk = _Walk(subject, provider, hosts)
    result = yield from walk.check(subject, SpfVia.START, None, (), True)
    return walk.analysis(result)


def analyze_spf(
    resolver: Resolver,
    domain: str,
    provider_include: str | None = None,
    *,
    hosts: HostResolver | None = None,
) -> SpfAnalysis:
    """
    Analyse the SPF records of ``domain`` (a MAIL FROM domain) for the provider's mail.

    Args:
        resolver: Answers the TXT queries: the records walked (a few dozen at most).
        domain: The domain whose ``v=spf1`` record is read.
        provider_include: The provider's SPF include domain (``_spf.brandmail.example``).
        hosts: Answers the MX and address lookups of ``a``, ``mx`` and ``exists`` terms,
            so void lookups and the limit of 10 MX names are seen as a receiver sees them
            (RFC 7208 §4.6.4). Usually the same object as ``resolver``: every built-in
            resolver is a :class:`~oxdkim.typing.HostResolver`. Without it those lookups
            are not made (a resolver with only ``txt`` and ``cname`` works as before),
            and :attr:`SpfAnalysis.limits` says so for each record that needed them.
            It is a separate argument so that nothing is guessed from a resolver's
            attributes: the type checker sees which resolvers can answer.

    Returns:
        The :class:`SpfAnalysis`; DNS failures become temperror/permerror, never an
        exception.

    Raises:
        ConfigurationError: ``domain`` or ``provider_include`` is not a domain name.
    """

    return run(spf_plan(domain, provider_include, hosts is not None), resolver, hosts)


async def analyze_spf_async(
    resolver: AsyncResolver,
    domain: str,
    provider_include: str | None = None,
    *,
    hosts: AsyncHostResolver | None = None,
) -> SpfAnalysis:
    """The asynchronous twin of :func:`analyze_spf`."""

    return await run_async(spf_plan(domain, provider_include, hosts is not None), resolver, hosts)
