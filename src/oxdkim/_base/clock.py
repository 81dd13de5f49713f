"""
The default clock (aware UTC now) and the check every time that enters oxdkim passes.
Everything that reads time takes a Clock instead of asking the system.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ..exceptions import ConfigurationError


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest time accepted (a clock set to 0 is a broken clock)."""
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""The latest time accepted: far enough from year 9999 that every time plus every wait
of a key ring is still a time Python and a ring's store can hold."""


def checked_time(value: object, what: str = "time", *, latest: datetime = LATEST) -> datetime:
    """
    ``value`` as an aware UTC datetime, or a :class:`ConfigurationError` saying why not.

    A time without a zone is read as local time by ``timestamp()`` (a silently wrong
    ``t=``) and cannot be compared with the aware times of a key ring; one outside
    :data:`EARLIEST` .. :data:`LATEST` would be written to a ring's store and then
    refused when it is loaded again (or overflow when a wait is added to it). So every
    time is checked where it enters, before anything is signed or written.
    """
    if not isinstance(value, datetime):
        raise ConfigurationError(f"{what} must be a datetime, not {type(value).__name__}")
    try:
        offset = value.utcoffset()
    except Exception:  # a broken tzinfo
        offset = None
    if offset is None:
        raise ConfigurationError(
            f"{what} has no time zone; pass an aware datetime such as datetime.now(UTC)"
        )
    try:
        moment = value.astimezone(UTC)
    except (OverflowError, ValueError):
        moment = None
    if moment is None or not EARLIEST <= moment < latest:
        raise ConfigurationError(
            f"{what} must lie between {EARLIEST.date()} and {latest.date()} (UTC)"
        )
    return moment


def iso(moment: datetime | None) -> str | None:
    """``moment`` in ISO 8601 (as the key store writes and messages show it), or ``None``."""
    return moment.isoformat() if moment is not None else None
