"""
DMARC policy records: parsing every tag, and discovery of ``_dmarc`` TXT records.

Tags are those of RFC 9989 §4.7 (``v p sp np adkim aspf psd t rua ruf fo``) plus the
three that RFC 7489 §6.3 defined and RFC 9989 retired (``pct rf ri``, Appendix C.5.2).

Two parsers share one tokenizer:

* :meth:`DmarcRecord.parse` is strict: the first malformed tag raises
  :class:`~oxdkim.exceptions.RecordSyntaxError` with ``.tag`` set. Use it to check a
  record before publishing it.
* :meth:`DmarcRecord.parse_lenient` is what evaluation uses, as RFC 9989 §4.8 requires
  of receivers: unknown tags are ignored, a malformed tag falls back to its default and is
  listed in :attr:`DmarcRecord.problems`. A bad ``p``, ``sp`` or ``np`` is the one
  exception (§4.10.1): with a valid ``rua`` the record acts as ``p=none``; without one
  the record is unusable (:attr:`DmarcRecord.usable` is false), which evaluation reports
  as ``permerror``.

A TXT record that does not start with ``v=DMARC1`` is not a DMARC record at all and is
ignored (RFC 9989 §4.7 ``v``). Several DMARC records at one name are all discarded
(RFC 9989 §4.10 steps 2 and 6; RFC 7489 §6.6.3 step 5): :class:`LookupStatus.MULTIPLE`.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import attrs

from .._base.answers import DnsStatus, TxtAnswer
from ..exceptions import RecordSyntaxError

__all__ = [
    "AlignmentMode",
    "DmarcLookup",
    "DmarcRecord",
    "FailureOption",
    "LookupStatus",
    "OrgDomain",
    "OrgDomainMethod",
    "OrgDomainRule",
    "Policy",
    "PsdFlag",
    "RecordProblem",
    "dmarc_name",
    "impossible_name",
    "is_dmarc_record",
]


class Policy(enum.Enum):
    """A Domain Owner Assessment Policy (``p``, ``sp``, ``np``; RFC 9989 §4.7) or a disposition."""

    NONE = "none"
    QUARANTINE = "quarantine"
    REJECT = "reject"

    def relaxed_one_step(self) -> Policy:
        """The next milder policy, as ``t=y`` asks (RFC 9989 §4.7 ``t``)."""
        if self is Policy.REJECT:
            return Policy.QUARANTINE
        return Policy.NONE


class AlignmentMode(enum.Enum):
    """Identifier alignment mode (``adkim``, ``aspf``): the record's tokens."""

    RELAXED = "r"
    STRICT = "s"


class PsdFlag(enum.Enum):
    """The ``psd`` tag (RFC 9989 §4.7): is the publishing domain a Public Suffix Domain."""

    YES = "y"
    NO = "n"
    UNKNOWN = "u"


class FailureOption(enum.Enum):
    """One value of the ``fo`` tag (RFC 9989 §4.7)."""

    ALL_FAIL = "0"
    ANY_FAIL = "1"
    DKIM = "d"
    SPF = "s"


@attrs.frozen
class RecordProblem:
    """A malformed part of a record that lenient parsing replaced by its default."""

    tag: str | None
    message: str


_WSP = " \t"
_VERSION = re.compile(r"\A[ \t]*[vV][ \t]*=[ \t]*DMARC1[ \t]*(?:;|\Z)")
_TAG = re.compile(r"\A([A-Za-z]+)[ \t]*=[ \t]*(.*)\Z", re.DOTALL)
# dmarc-value = %x20-3A / %x3C-7E (RFC 9989 §4.8); ";" never reaches a value.
_VALUE = re.compile(r"\A[\x20-\x3a\x3c-\x7e]+\Z")
_POLICY_TAGS = ("p", "sp", "np")
_KNOWN = frozenset(
    {"v", "p", "sp", "np", "adkim", "aspf", "psd", "t", "rua", "ruf", "fo", "pct", "rf", "ri"}
)
# RFC 3986 URI: scheme ":" then unreserved / reserved / pct-encoded characters, minus the
# three a DMARC URI must encode ("," and "!", RFC 9989 §4.8) and ";" (the tag separator).
# The repeat is possessive ("%" is not in the class): a plain "+" over the group kept
# backtracking state per character, about 130 bytes per byte of URI.
_URI = re.compile(
    r"\A[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~$&'()*+=:@/?#\[\]]|%[0-9A-Fa-f]{2})++\Z"
)
_OBS_SIZE = re.compile(r"![0-9]+[kmgtKMGT]?\Z")
_FORMAT = re.compile(r"\A[A-Za-z][A-Za-z0-9\-]*\Z")
_MAX_RI = 2**32 - 1


class _InvalidValueError(Exception):
    """A tag value that does not match its rule; caught inside this module only."""


def _policy(value: str) -> Policy:
    try:
        return Policy(value.lower())
    except ValueError:
        raise _InvalidValueError("must be none, quarantine or reject") from None


def _mode(value: str) -> AlignmentMode:
    try:
        return AlignmentMode(value.lower())
    except ValueError:
        raise _InvalidValueError("must be r (relaxed) or s (strict)") from None


def _psd(value: str) -> PsdFlag:
    try:
        return PsdFlag(value.lower())
    except ValueError:
        raise _InvalidValueError("must be y, n or u") from None


def _yes_no(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("y", "n"):
        raise _InvalidValueError("must be y or n")
    return lowered == "y"


def _fo(value: str) -> tuple[FailureOption, ...]:
    options: list[FailureOption] = []
    for item in value.split(":"):
        try:
            option = FailureOption(item.strip(_WSP).lower())
        except ValueError:
            raise _InvalidValueError(f"{item.strip(_WSP)!r} is not one of 0, 1, d, s") from None
        if option in options:
            raise _InvalidValueError(f"{option.value!r} appears twice")
        options.append(option)
    if FailureOption.ALL_FAIL in options and FailureOption.ANY_FAIL in options:
        raise _InvalidValueError("0 and 1 are mutually exclusive")
    return tuple(options)


def _uris(value: str) -> tuple[tuple[str, ...], list[str]]:
    """Valid URIs (size suffixes dropped, RFC 9989 §4.8 obs-dmarc-uri) and the bad items."""
    good: list[str] = []
    bad: list[str] = []
    for item in value.split(","):
        uri = _OBS_SIZE.sub("", item.strip(_WSP))
        (good if _URI.match(uri) else bad).append(uri)
    return tuple(good), bad


def _pct(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 3 or int(value) > 100:
        raise _InvalidValueError("must be an integer from 0 to 100")
    return int(value)


def _ri(value: str) -> int:
    # Python's int() refuses more than 4300 digits (leading zeros count) with a
    # ValueError that must not escape a record parser: check the length first.
    digits = value.lstrip("0") or "0"
    if not value.isascii() or not value.isdigit() or len(digits) > 10 or int(digits) > _MAX_RI:
        raise _InvalidValueError("must be an unsigned 32-bit integer")
    return int(digits)


def _rf(value: str) -> tuple[str, ...]:
    formats = tuple(item.strip(_WSP).lower() for item in value.split(":"))
    if not all(_FORMAT.match(item) for item in formats):
        raise _InvalidValueError("must be a colon-separated list of report format names")
    return formats


def _text(record: str | bytes) -> str:
    if isinstance(record, bytes):
        return record.decode("utf-8", errors="replace")
    return record


def is_dmarc_record(record: str | bytes) -> bool:
    """
    True when ``record`` starts with the ``v=DMARC1`` tag (RFC 9989 §4.7 ``v``).

    Anything else at a ``_dmarc`` name (an SPF record, a verification token) is not a
    DMARC record and is ignored, never an error.
    """
    return bool(_VERSION.match(_text(record)))


@attrs.frozen
class DmarcRecord:
    """
    One parsed DMARC policy record, with every default filled in.

    ``sp`` and ``np`` stay ``None`` when absent, because their fallbacks differ (``np``
    falls back to ``sp``, then ``p``; RFC 9989 §4.7); :meth:`policy_for` applies them.
    ``pct``, ``rf`` and ``ri`` are RFC 7489 tags that RFC 9989 retired; they are parsed
    for reporting and for RFC 7489 receivers but do not change evaluation here.
    """

    p: Policy = Policy.NONE
    sp: Policy | None = None
    np: Policy | None = None
    adkim: AlignmentMode = AlignmentMode.RELAXED
    aspf: AlignmentMode = AlignmentMode.RELAXED
    psd: PsdFlag = PsdFlag.UNKNOWN
    t: bool = False
    rua: tuple[str, ...] = ()
    ruf: tuple[str, ...] = ()
    fo: tuple[FailureOption, ...] = (FailureOption.ALL_FAIL,)
    pct: int = 100
    rf: tuple[str, ...] = ("afrf",)
    ri: int = 86400
    problems: tuple[RecordProblem, ...] = ()
    usable: bool = True
    text: str = attrs.field(default="", eq=False)

    @classmethod
    def parse(cls, record: str | bytes) -> DmarcRecord:
        """
        Parse ``record`` strictly: every tag must be well formed.

        Unknown tags are still ignored (RFC 9989 §4.7), since new tags may be registered
        without a new version.

        Raises:
            RecordSyntaxError: Not a DMARC record (``tag="v"``), or a tag is malformed,
                empty or repeated; ``.tag`` names it (``None`` for text that is no
                ``tag=value`` pair at all).
        """
        parsed = cls.parse_lenient(record)
        if parsed.problems:
            first = parsed.problems[0]
            raise RecordSyntaxError(first.message, tag=first.tag)
        return parsed

    @classmethod
    def parse_lenient(cls, record: str | bytes) -> DmarcRecord:
        """
        Parse ``record`` the way a receiver must (RFC 9989 §4.8, §4.10.1).

        Malformed tags fall back to their defaults and are listed in ``problems``. An
        invalid ``p``, ``sp`` or ``np`` turns the record into ``p=none`` when ``rua``
        holds a valid URI, and marks it unusable otherwise.

        Raises:
            RecordSyntaxError: ``record`` does not start with ``v=DMARC1`` (``tag="v"``).
        """
        text = _text(record)
        match = _VERSION.match(text)
        if not match:
            raise RecordSyntaxError("not a DMARC record: it must start with v=DMARC1", tag="v")
        values, problems = _split_tags(text[match.end() :])
        fields: dict[str, Any] = {}
        bad_policy = False
        rules = {
            "p": _policy,
            "sp": _policy,
            "np": _policy,
            "adkim": _mode,
            "aspf": _mode,
            "psd": _psd,
            "t": _yes_no,
            "fo": _fo,
            "pct": _pct,
            "rf": _rf,
            "ri": _ri,
        }
        for tag, value in values.items():
            if value is None:  # repeated or empty: already reported
                bad_policy = bad_policy or tag in _POLICY_TAGS
                continue
            if tag in ("rua", "ruf"):
                good, bad = _uris(value)
                if bad:
                    problems.append(
                        RecordProblem(tag, f"{tag}: not a valid URI: {', '.join(map(repr, bad))}")
                    )
                fields[tag] = good
                continue
            try:
                fields[tag] = rules[tag](value)
            except _InvalidValueError as exc:
                problems.append(RecordProblem(tag, f"{tag}={value!r}: {exc}"))
                bad_policy = bad_policy or tag in _POLICY_TAGS
        usable = True
        if bad_policy:
            for tag in _POLICY_TAGS:
                fields.pop(tag, None)
            # RFC 9989 §4.10.1: a valid rua makes it p=none; otherwise no DMARC processing.
            usable = bool(fields.get("rua"))
        return cls(problems=tuple(problems), usable=usable, text=text, **fields)

    def policy_for(self, *, subdomain: bool, exists: bool = True) -> tuple[str, Policy]:
        """
        The tag that applies and its policy (RFC 9989 §4.10.1).

        Args:
            subdomain: The Author Domain is below the domain that published this record.
            exists: The Author Domain exists (is not NXDOMAIN); only read for subdomains.

        Returns:
            ``("p" | "sp" | "np", policy)``: ``np`` for a non-existent subdomain, falling
            back to ``sp`` and then ``p``.
        """
        if not subdomain:
            return "p", self.p
        if not exists and self.np is not None:
            return "np", self.np
        if self.sp is not None:
            return "sp", self.sp
        return "p", self.p


def _split_tags(rest: str) -> tuple[dict[str, str | None], list[RecordProblem]]:
    """Tag values by lowercase tag name; ``None`` marks a repeated or empty tag."""
    values: dict[str, str | None] = {}
    problems: list[RecordProblem] = []
    for chunk in rest.split(";"):
        part = chunk.strip(_WSP)
        if not part:
            continue
        match = _TAG.match(part)
        if not match:
            problems.append(RecordProblem(None, f"{part!r} is not a tag=value pair"))
            continue
        tag, value = match.group(1).lower(), match.group(2).rstrip(_WSP)
        if tag not in _KNOWN:
            continue  # unknown tags MUST be ignored (RFC 9989 §4.7)
        if tag in values:
            # RFC 6376 §3.2 tag-lists forbid repeats; neither value can be trusted.
            problems.append(RecordProblem(tag, f"tag {tag} appears more than once"))
            values[tag] = None
            continue
        if tag == "v":
            problems.append(RecordProblem(tag, "v must appear once, as the first tag"))
            continue
        if not value or not _VALUE.match(value):
            problems.append(RecordProblem(tag, f"{tag}: empty value or a character not allowed"))
            values[tag] = None
            continue
        values[tag] = value
    return values, problems


class LookupStatus(enum.Enum):
    """What a ``_dmarc`` name holds, for DMARC purposes."""

    FOUND = "found"
    NO_RECORD = "no-record"
    MULTIPLE = "multiple"


MAX_DNS_NAME = 253
"""Longest name DNS can carry (RFC 1035 §2.3.4); a longer ``_dmarc`` name cannot exist."""


def dmarc_name(domain: str) -> str:
    """The name that holds ``domain``'s policy record (RFC 9989 §4.5)."""
    return f"_dmarc.{domain}"


def impossible_name(name: str) -> TxtAnswer | None:
    """
    The answer for a name too long to exist in DNS (NXDOMAIN), without asking; else ``None``.

    A 250-character Author Domain is valid, but ``_dmarc.`` in front of it is not a DNS
    name, so it holds no record: that is "no record", not a DNS error.
    """
    return TxtAnswer(name, DnsStatus.NXDOMAIN) if len(name) > MAX_DNS_NAME else None


@attrs.frozen
class DmarcLookup:
    """
    The result of querying ``_dmarc.<domain>``: one record, none, or several.

    ``NO_RECORD`` covers NXDOMAIN, NODATA and TXT records that are not DMARC records;
    ``MULTIPLE`` means several ``v=DMARC1`` records, which count as none (RFC 9989 §4.10
    step 2). ``record`` is leniently parsed (it may be unusable; see
    :attr:`DmarcRecord.usable`).
    """

    domain: str
    status: LookupStatus
    record: DmarcRecord | None = None
    dns_status: DnsStatus = DnsStatus.NOERROR
    ignored: int = 0

    @property
    def name(self) -> str:
        """The queried name, ``_dmarc.<domain>``."""
        return dmarc_name(self.domain)

    @classmethod
    def from_answer(cls, domain: str, answer: TxtAnswer) -> DmarcLookup:
        """Classify the TXT answer for ``_dmarc.<domain>``."""
        dmarc = [r for r in answer.records if is_dmarc_record(r)]
        ignored = len(answer.records) - len(dmarc)
        if not dmarc:
            return cls(domain, LookupStatus.NO_RECORD, None, answer.status, ignored)
        if len(dmarc) > 1:
            return cls(domain, LookupStatus.MULTIPLE, None, answer.status, ignored)
        record = DmarcRecord.parse_lenient(dmarc[0])
        return cls(domain, LookupStatus.FOUND, record, answer.status, ignored)


class OrgDomainMethod(enum.Enum):
    """How an organizational domain was found."""

    TREE_WALK = "rfc9989-tree-walk"
    PUBLIC_SUFFIX_LIST = "rfc7489-psl"


class OrgDomainRule(enum.Enum):
    """Which rule of the method decided (for explanations and reports)."""

    PSD_NO = "psd=n"
    """RFC 9989 §4.10.2 rule 1: a record with ``psd=n`` names itself."""
    BELOW_PSD = "below-psd=y"
    """RFC 9989 §4.10.2 rule 2: one label below the domain whose record has ``psd=y``."""
    FEWEST_LABELS = "fewest-labels"
    """RFC 9989 §4.10.2 rule 3: the record found at the name with the fewest labels."""
    NO_RECORD = "no-record"
    """RFC 9989 §4.10.2: no record found, so the domain is its own organizational domain."""
    PUBLIC_SUFFIX_LIST = "public-suffix-list"
    """RFC 7489 §3.2: the public suffix plus one label."""
    PUBLIC_SUFFIX = "public-suffix"
    """RFC 7489 §3.2: the domain is itself a public suffix and has no organizational domain."""


@attrs.frozen
class OrgDomain:
    """
    The organizational domain of ``domain`` and how it was found.

    Attributes:
        domain: The subject domain (lowercase A-labels).
        organizational_domain: Its organizational domain. For a public suffix under the
            PSL rule there is none, and this is ``domain`` itself with
            ``is_public_suffix`` set; such a domain aligns only with itself (RFC 7489
            §3.1.1: ``d=com`` never aligns).
        method: Tree walk or Public Suffix List.
        rule: The rule that decided.
        lookups: The ``_dmarc`` queries a tree walk made, in order (empty for the PSL).
        public_suffix_domain: The domain whose record says ``psd=y`` (tree walk), or the
            matching public suffix (PSL); ``None`` when there is none.
        is_public_suffix: ``domain`` itself is a public suffix (PSL only).
        alternative: The other method's answer, in comparing mode.
    """

    domain: str
    organizational_domain: str
    method: OrgDomainMethod
    rule: OrgDomainRule
    lookups: tuple[DmarcLookup, ...] = ()
    public_suffix_domain: str | None = None
    is_public_suffix: bool = False
    alternative: OrgDomain | None = None

    @property
    def queries(self) -> tuple[str, ...]:
        """The DNS names queried, in order."""
        return tuple(lookup.name for lookup in self.lookups)

    @property
    def disagrees(self) -> bool:
        """True in comparing mode when the other method found another organizational domain."""
        return (
            self.alternative is not None
            and self.alternative.organizational_domain != self.organizational_domain
        )

    def lookup_for(self, domain: str) -> DmarcLookup | None:
        """The lookup this walk made for ``_dmarc.<domain>``, if it made one."""
        for lookup in self.lookups:
            if lookup.domain == domain:
                return lookup
        return None
