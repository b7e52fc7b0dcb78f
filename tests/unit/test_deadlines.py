"""Deadlines given as dates (issue 13, item 7): a date is the last day to file, China time.

A bundle's contract refuses a filing only *after* its deadline, so a date becomes that day's
last second at UTC+8; shown back, the deadline is that same date whether it is read in UTC or
in China time. The boundary is midnight China time, 16:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ledger.errors import ValidationError
from ledger.parsing import deadline_day, deadline_of, end_of_day, parse_deadline

CHINA = timezone(timedelta(hours=8))


def test_a_date_is_its_last_second_in_china_time() -> None:
    deadline = parse_deadline("2027-01-31", "deadline")
    assert deadline == datetime(2027, 1, 31, 15, 59, 59, tzinfo=UTC)
    assert deadline == datetime(2027, 1, 31, 23, 59, 59, tzinfo=CHINA)
    assert deadline == deadline_of(date(2027, 1, 31))
    assert deadline.tzinfo is UTC
    assert deadline_day(deadline) == date(2027, 1, 31)
    # Either reading of the instant names the day given.
    assert deadline.date() == deadline.astimezone(CHINA).date() == date(2027, 1, 31)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2027, 1, 31, 15, 59, 59, tzinfo=UTC), date(2027, 1, 31)),
        # The midnight after the 31st, China time: how bundles opened before stored "2027-01-31".
        (datetime(2027, 1, 31, 16, 0, 0, tzinfo=UTC), date(2027, 1, 31)),
        (datetime(2027, 1, 31, 16, 0, 1, tzinfo=UTC), date(2027, 2, 1)),
        (datetime(2027, 2, 1, 0, 0, 1, tzinfo=CHINA), date(2027, 2, 1)),
        (datetime(2027, 1, 31, 0, 0, 1, tzinfo=CHINA), date(2027, 1, 31)),
    ],
)
def test_the_day_shown_changes_at_midnight_china_time(moment: datetime, day: date) -> None:
    assert deadline_day(moment) == day


def test_a_bundle_opened_before_shows_the_date_that_was_given() -> None:
    assert deadline_day(end_of_day(date(2027, 1, 31))) == date(2027, 1, 31)


def test_an_iso_time_is_the_deadline_itself() -> None:
    given = parse_deadline("2027-01-31T12:00:00+08:00", "deadline")
    assert given == datetime(2027, 1, 31, 4, tzinfo=UTC)
    assert parse_deadline(" 2027-01-31T15:59:59Z ", "deadline") == datetime(
        2027, 1, 31, 15, 59, 59, tzinfo=UTC
    )


@pytest.mark.parametrize("text", ["2027-02-30", "tomorrow!!", "2027-01-31T12:00:00"])
def test_bad_deadlines_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="deadline"):
        parse_deadline(text, "deadline")
