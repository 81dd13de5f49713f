"""
A bulk audit's results: JSON (to keep and compare), CSV (for spreadsheets), and the diff
against a previous run. Pure values; no DNS.
"""

from __future__ import annotations

import csv
import enum
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

import attrs

from ..exceptions import ConfigurationError
from .values import (
    DelegationVerdict,
    DomainReport,
    Problem,
    ProblemCode,
    Severity,
    format_time,
    parse_time,
)

__all__ = [
    "AUDIT_FORMAT",
    "AUDIT_FORMAT_VERSION",
    "CSV_COLUMNS",
    "AuditDiff",
    "AuditRun",
    "ChangeKind",
    "DomainChange",
]

AUDIT_FORMAT = "oxdkim-audit"
AUDIT_FORMAT_VERSION = 1

CSV_COLUMNS = (
    "domain",
    "verdict",
    "selector",
    "selector_verdict",
    "slot_state",
    "cname_status",
    "target",
    "expected_target",
    "cname_ttl",
    "key",
    "problems",
    "target_kind",
    "messages",
    "checked_at",
)
"""The CSV header, one row per domain and selector. Columns are only ever appended."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is prefixed with ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _reports(value: Iterable[DomainReport]) -> tuple[DomainReport, ...]:
    return tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def count_repr(reports: tuple[object, ...]) -> str:
    """
    A run's reports in its repr: how many, not each one. A run of 10,000 domains printed
    whole is megabytes, and Python 3.11's ``asyncio.run`` formats the repr of the task's
    result while restoring the SIGINT handler (a measurable part of a bulk run).
    """
    return f"<{len(reports)} reports>"


@attrs.frozen
class AuditRun:
    """
    The reports of one bulk audit, in input order, with what it was run against.

    Attributes:
        reports: One report per domain.
        key_host: The key host the CNAMEs had to point at.
        selectors: The selectors checked.
        started_at: When the run started.
        finished_at: When it ended.
        ring_generation: The key ring's generation at the time.
        min_ttl: The low-TTL threshold used.
    """

    reports: tuple[DomainReport, ...] = attrs.field(converter=_reports, repr=count_repr)
    key_host: str | None = None
    selectors: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    ring_generation: int | None = None
    min_ttl: int | None = None
    _index: dict[str, DomainReport] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        index: dict[str, DomainReport] = {}
        for report in self.reports:
            if report.domain in index:
                raise ConfigurationError(f"domain {report.domain} appears twice in the run")
            index[report.domain] = report
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return len(self.reports)

    def __iter__(self) -> Iterator[DomainReport]:
        return iter(self.reports)

    def report(self, domain: str) -> DomainReport | None:
        """The report for ``domain`` (normalized form), or ``None``."""
        return self._index.get(domain)

    @property
    def domains(self) -> tuple[str, ...]:
        """The domains audited, in order."""
        return tuple(report.domain for report in self.reports)

    @property
    def seconds(self) -> float | None:
        """How long the run took."""
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def counts(self) -> dict[DelegationVerdict, int]:
        """Domains per verdict (every verdict present, zero included)."""
        counter = Counter(report.verdict for report in self.reports)
        return {verdict: counter[verdict] for verdict in DelegationVerdict}

    def problem_counts(self) -> dict[ProblemCode, int]:
        """How many domains show each problem (codes that occur, most frequent first)."""
        counter: Counter[ProblemCode] = Counter()
        for report in self.reports:
            counter.update({problem.code for problem in report.problems})
        return dict(counter.most_common())

    # --- JSON ---------------------------------------------------------------------

    def to_json_obj(self) -> dict[str, Any]:
        """The run as a JSON-ready mapping (the audit JSON format, version 1)."""
        counts = self.counts()
        return {
            "format": AUDIT_FORMAT,
            "version": AUDIT_FORMAT_VERSION,
            "key_host": self.key_host,
            "selectors": list(self.selectors),
            "ring_generation": self.ring_generation,
            "min_ttl": self.min_ttl,
            "started_at": format_time(self.started_at) if self.started_at else None,
            "finished_at": format_time(self.finished_at) if self.finished_at else None,
            "summary": {
                "domains": len(self.reports),
                **{verdict.value: counts[verdict] for verdict in DelegationVerdict},
                "problems": {code.value: n for code, n in self.problem_counts().items()},
            },
            "domains": [report.to_json() for report in self.reports],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The run as audit JSON text."""
        return json.dumps(self.to_json_obj(), indent=indent, ensure_ascii=True) + "\n"

    @classmethod
    def from_json_obj(cls, data: Any, *, source: str = "audit JSON") -> AuditRun:
        """
        Read :meth:`to_json_obj`'s form (unknown keys are ignored).

        Raises:
            ConfigurationError: Not an oxdkim audit, a newer format version, or a bad entry.
        """
        if not isinstance(data, dict) or data.get("format") != AUDIT_FORMAT:
            raise ConfigurationError(f"{source}: not an oxdkim audit (format {AUDIT_FORMAT!r})")
        version = data.get("version")
        if type(version) is not int or not 1 <= version <= AUDIT_FORMAT_VERSION:
            raise ConfigurationError(f"{source}: unsupported audit format version {version!r}")
        entries = data.get("domains")
        if not isinstance(entries, list):
            raise ConfigurationError(f"{source}: 'domains' must be a list")
        selectors = data.get("selectors") or []
        key_host = data.get("key_host")
        generation = data.get("ring_generation")
        min_ttl = data.get("min_ttl")
        if not isinstance(selectors, list) or not all(isinstance(s, str) for s in selectors):
            raise ConfigurationError(f"{source}: 'selectors' must be a list of strings")
        if key_host is not None and not isinstance(key_host, str):
            raise ConfigurationError(f"{source}: 'key_host' must be a string")
        for label, number in (("ring_generation", generation), ("min_ttl", min_ttl)):
            if number is not None and type(number) is not int:
                raise ConfigurationError(f"{source}: {label!r} must be an integer")
        times = [
            None if data.get(key) is None else parse_time(data.get(key), f"{source}: {key}")
            for key in ("started_at", "finished_at")
        ]
        return cls(
            [
                DomainReport.from_json(entry, f"{source}: domains[{i}]")
                for i, entry in enumerate(entries)
            ],
            key_host=key_host,
            selectors=tuple(selectors),
            started_at=times[0],
            finished_at=times[1],
            ring_generation=generation,
            min_ttl=min_ttl,
        )

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "audit JSON") -> AuditRun:
        """
        Read audit JSON text.

        Raises:
            ConfigurationError: Not JSON, or not an oxdkim audit (see :meth:`from_json_obj`).
        """
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{source}: not JSON ({exc})") from None
        return cls.from_json_obj(data, source=source)

    # --- CSV ----------------------------------------------------------------------

    def csv_rows(self) -> Iterator[dict[str, str]]:
        """One row per domain and selector, keyed by ``CSV_COLUMNS``."""
        for report in self.reports:
            verdict = report.verdict.value
            checked = format_time(report.checked_at)
            for selector in report.selectors:
                kinds = [p.target_kind.value for p in selector.problems if p.target_kind]
                row = {
                    "domain": report.domain,
                    "verdict": verdict,
                    "selector": selector.selector,
                    "selector_verdict": selector.verdict.value,
                    "slot_state": selector.slot_state.value,
                    "cname_status": selector.cname_status.value if selector.cname_status else "",
                    "target": selector.target,
                    "expected_target": selector.expected_target,
                    "cname_ttl": selector.cname_ttl,
                    "key": selector.key_status.value,
                    "problems": " ".join(p.code.value for p in selector.problems),
                    "target_kind": " ".join(kinds),
                    "messages": " | ".join(p.message for p in selector.problems),
                    "checked_at": checked,
                }
                yield {column: _cell(row[column]) for column in CSV_COLUMNS}

    def write_csv(self, stream: TextIO) -> None:
        """Write the CSV (header first) to ``stream``."""
        writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(self.csv_rows())

    def to_csv(self) -> str:
        """The CSV as text (RFC 4180: CRLF line ends, quoted where needed)."""
        buffer = io.StringIO()
        self.write_csv(buffer)
        return buffer.getvalue()

    # --- diff ---------------------------------------------------------------------

    def diff(self, previous: AuditRun) -> AuditDiff:
        """What changed since ``previous``: see :class:`AuditDiff`."""
        return AuditDiff.between(previous, self)


class ChangeKind(enum.Enum):
    """How a domain changed between two runs."""

    ADDED = "added"
    """Audited now, not before."""
    REMOVED = "removed"
    """Audited before, not now."""
    BROKE = "broke"
    """Now broken, and was not before."""
    FIXED = "fixed"
    """Was broken, now ok."""
    CHANGED = "changed"
    """Any other change of verdict or of the problems found."""


@attrs.frozen
class DomainChange:
    """
    One domain's change between two runs.

    ``new_problems`` are in the current run and not the previous one, ``fixed_problems``
    the reverse (compared by selector, code and target kind, not by wording).
    """

    domain: str
    kind: ChangeKind
    before: DelegationVerdict | None
    after: DelegationVerdict | None
    new_problems: tuple[Problem, ...] = ()
    fixed_problems: tuple[Problem, ...] = ()

    def describe(self) -> str:
        """One line for operators."""
        if self.kind is ChangeKind.ADDED:
            return f"{self.domain}: new in this run ({_value(self.after)})"
        if self.kind is ChangeKind.REMOVED:
            return f"{self.domain}: no longer audited (was {_value(self.before)})"
        parts = [f"{self.domain}: {_value(self.before)} -> {_value(self.after)}"]
        if self.new_problems:
            parts.append("new: " + ", ".join(_problem_label(p) for p in self.new_problems))
        if self.fixed_problems:
            parts.append("fixed: " + ", ".join(_problem_label(p) for p in self.fixed_problems))
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "domain": self.domain,
            "kind": self.kind.value,
            "before": _value(self.before, None),
            "after": _value(self.after, None),
            "new_problems": [p.to_json() for p in self.new_problems],
            "fixed_problems": [p.to_json() for p in self.fixed_problems],
        }


def _value(verdict: DelegationVerdict | None, missing: str | None = "-") -> str | None:
    return verdict.value if verdict is not None else missing


def _problem_label(problem: Problem) -> str:
    kind = f" ({problem.target_kind.value})" if problem.target_kind else ""
    return f"{problem.selector} {problem.code.value}{kind}"


def _change(before: DomainReport, after: DomainReport) -> DomainChange | None:
    old = {p.identity: p for p in before.problems}
    new = {p.identity: p for p in after.problems}
    added = tuple(p for key, p in new.items() if key not in old)
    gone = tuple(p for key, p in old.items() if key not in new)
    was, now = before.verdict, after.verdict
    if was is now and not added and not gone:
        return None
    if now is DelegationVerdict.BROKEN and was is not DelegationVerdict.BROKEN:
        kind = ChangeKind.BROKE
    elif was is DelegationVerdict.BROKEN and now is DelegationVerdict.OK:
        kind = ChangeKind.FIXED
    else:
        kind = ChangeKind.CHANGED
    return DomainChange(after.domain, kind, was, now, added, gone)


@attrs.frozen
class AuditDiff:
    """
    The differences between a previous run and the current one.

    ``changes`` lists the domains that changed: first those of the current run in its
    order (added, broke, fixed, changed), then the removed ones in the previous order.
    """

    changes: tuple[DomainChange, ...]
    unchanged: int

    @classmethod
    def between(cls, previous: AuditRun, current: AuditRun) -> AuditDiff:
        """Compare two runs."""
        changes: list[DomainChange] = []
        unchanged = 0
        for report in current.reports:
            old = previous.report(report.domain)
            if old is None:
                changes.append(
                    DomainChange(
                        report.domain,
                        ChangeKind.ADDED,
                        None,
                        report.verdict,
                        new_problems=report.problems,
                    )
                )
                continue
            change = _change(old, report)
            if change is None:
                unchanged += 1
            else:
                changes.append(change)
        for report in previous.reports:
            if current.report(report.domain) is None:
                changes.append(
                    DomainChange(
                        report.domain,
                        ChangeKind.REMOVED,
                        report.verdict,
                        None,
                        fixed_problems=report.problems,
                    )
                )
        return cls(tuple(changes), unchanged)

    def of_kind(self, kind: ChangeKind) -> tuple[DomainChange, ...]:
        """The changes of one kind."""
        return tuple(change for change in self.changes if change.kind is kind)

    def counts(self) -> dict[str, int]:
        """Changes per kind, plus ``unchanged``."""
        counter = Counter(change.kind for change in self.changes)
        return {**{kind.value: counter[kind] for kind in ChangeKind}, "unchanged": self.unchanged}

    @property
    def new_errors(self) -> tuple[DomainChange, ...]:
        """Changes that brought a new error (a new problem of severity ``error``)."""
        return tuple(
            change
            for change in self.changes
            if any(p.severity is Severity.ERROR for p in change.new_problems)
            and change.kind is not ChangeKind.REMOVED
        )

    def to_json_obj(self) -> dict[str, Any]:
        """A JSON-ready mapping."""
        return {
            "summary": self.counts(),
            "changes": [change.to_json() for change in self.changes],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The diff as JSON text."""
        return json.dumps(self.to_json_obj(), indent=indent, ensure_ascii=True) + "\n"
