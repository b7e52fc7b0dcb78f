"""Parsing of the values people type: hashes and calendar dates (shared by the CLI and the API)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Final

from ledger.errors import ValidationError

__all__ = [
    "CHINA_STANDARD_TIME",
    "end_of_day",
    "parse_date",
    "parse_hash",
    "parse_moment",
    "start_of_day",
]

#: Dates people give (valid until, occurred on) are days in China Standard Time.
CHINA_STANDARD_TIME: Final = timezone(timedelta(hours=8))


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
    """A certificate valid until ``day`` expires at the following midnight, China time."""
    return datetime.combine(day + timedelta(days=1), time(0), CHINA_STANDARD_TIME).astimezone(UTC)


def start_of_day(day: date) -> datetime:
    """The first moment of ``day``, China time."""
    return datetime.combine(day, time(0), CHINA_STANDARD_TIME).astimezone(UTC)


def parse_moment(text: str, what: str, *, end_of_day_for_dates: bool) -> datetime:
    """A date ``YYYY-MM-DD`` (its start, or with ``end_of_day_for_dates`` the midnight after it,
    China time) or an ISO 8601 time with an offset, as an aware UTC datetime."""
    value = text.strip()
    if len(value) == 10:
        day = parse_date(value, what)
        return end_of_day(day) if end_of_day_for_dates else start_of_day(day)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what} must be a date like 2030-12-31 or an ISO time") from None
    if moment.tzinfo is None:
        raise ValidationError(f"{what} needs a time zone offset (e.g. +08:00 or Z)")
    return moment.astimezone(UTC)
