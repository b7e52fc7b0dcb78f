"""Parsing of the values people type: hashes and calendar dates (shared by the CLI and the API)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Final

from ledger.errors import ValidationError

__all__ = [
    "CHINA_STANDARD_TIME",
    "EARLIEST",
    "LATEST",
    "check_moment",
    "deadline_day",
    "deadline_of",
    "end_of_day",
    "parse_date",
    "parse_day_end",
    "parse_day_start",
    "parse_deadline",
    "parse_hash",
    "parse_moment",
    "start_of_day",
]

#: Dates people give (valid until, occurred on) are days in China Standard Time.
CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8))
#: The range of every moment the ledger takes (ADR 0023). The contracts keep times as seconds
#: since 1970 in 40 bits with 0 meaning "none", so nothing at or before the epoch fits; at the
#: other end 40 bits reach far past anything Python can represent (year 9999), and a date beyond
#: the year 2999 on a licence, a deadline or a credit event is a typing error, not a plan.
EARLIEST: Final = datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
LATEST: Final = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
_RANGE: Final = "between 1970-01-01T00:00:01Z and 2999-12-31T23:59:59Z"


def parse_hash(text: str) -> bytes:
    """A 32-byte hash from 64 hex digits, optionally ``0x``-prefixed."""
    raw = text.removeprefix("0x")
    if len(raw) != 64:
        raise ValidationError("a hash is 64 hex digits (optionally 0x-prefixed)")
    try:
        return bytes.fromhex(raw)
    except ValueError:
        raise ValidationError("a hash is 64 hex digits (optionally 0x-prefixed)") from None


def parse_date(text: str, what: str) -> date:
    """A calendar date ``YYYY-MM-DD`` that exists (no February 30)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{what} must be a date like 2030-12-31") from None


def end_of_day(day: date) -> datetime:
    """A certificate valid until ``day`` expires at the following midnight, China time.

    Raises OverflowError for a day whose start cannot be represented in UTC (0001-01-01);
    :func:`parse_day_end` turns that and any day out of range into a ValidationError."""
    return start_of_day(day) + timedelta(days=1)


def start_of_day(day: date) -> datetime:
    """The first moment of ``day``, China time (OverflowError as for :func:`end_of_day`)."""
    return datetime.combine(day, time(0), CHINA_STANDARD_TIME).astimezone(UTC)


def check_moment(moment: datetime, what: str) -> datetime:
    """``moment`` (aware) as UTC, refused with a ValidationError outside
    :data:`EARLIEST`..:data:`LATEST`: every date the ledger takes goes through here, so none
    reaches a contract (or a later read) that cannot hold it."""
    if moment.tzinfo is None:
        raise ValidationError(f"{what} needs a time zone offset (e.g. +08:00 or Z)")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-12:00 is in the year 10000 in UTC
        raise ValidationError(f"{what} is out of range: it must lie {_RANGE}") from None
    if not EARLIEST <= utc <= LATEST:
        raise ValidationError(f"{what} is out of range: it must lie {_RANGE}")
    return utc


def parse_day_end(text: str, what: str) -> datetime:
    """A date ``YYYY-MM-DD`` as the midnight after it, China time (a last day of validity), in
    range (:func:`check_moment`)."""
    return _day_moment(parse_date(text, what), what, end=True)


def parse_day_start(text: str, what: str) -> datetime:
    """A date ``YYYY-MM-DD`` as its first moment, China time (the day a fact occurred), in
    range (:func:`check_moment`)."""
    return _day_moment(parse_date(text, what), what, end=False)


def _day_moment(day: date, what: str, *, end: bool) -> datetime:
    try:
        moment = end_of_day(day) if end else start_of_day(day)
    except OverflowError:
        raise ValidationError(f"{what} is out of range: it must lie {_RANGE}") from None
    return check_moment(moment, what)


def deadline_of(day: date) -> datetime:
    """A deadline given as the date ``day``: its last second, China time (23:59:59+08:00)."""
    return end_of_day(day) - timedelta(seconds=1)


def parse_deadline(text: str, what: str) -> datetime:
    """A deadline, as an aware UTC datetime: the last moment still in time (a bundle's contract
    refuses a filing only *after* it). A date ``YYYY-MM-DD`` means through the end of that day,
    China time, so its last second (23:59:59+08:00), which every rendering, in UTC or China
    time, shows on that same date; an ISO 8601 time with an offset is taken as given."""
    moment = parse_moment(text, what, end_of_day_for_dates=True)
    return moment - timedelta(seconds=1) if len(text.strip()) == 10 else moment


def deadline_day(deadline: datetime) -> date:
    """The last day (China time) on which ``deadline`` is still met: the date a person gave.

    One second is taken off so that a deadline at midnight (as bundles opened before ADR 0019
    stored a date: the midnight after it) shows the day before, which is the day that was given.
    """
    return (deadline - timedelta(seconds=1)).astimezone(CHINA_STANDARD_TIME).date()


def parse_moment(text: str, what: str, *, end_of_day_for_dates: bool) -> datetime:
    """A date ``YYYY-MM-DD`` (its start, or with ``end_of_day_for_dates`` the midnight after it,
    China time) or an ISO 8601 time with an offset, as an aware UTC datetime in range
    (:func:`check_moment`)."""
    value = text.strip()
    if len(value) == 10:
        return _day_moment(parse_date(value, what), what, end=end_of_day_for_dates)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what} must be a date like 2030-12-31 or an ISO time") from None
    return check_moment(moment, what)
