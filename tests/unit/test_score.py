"""The score policy ``gov-ledger/score/v1`` (ledger/score.py) at the edges of its documented
rules (docs/guide-citizen.md, "The score"; docs/guide-department.md, "Resolve a dispute"):

- start at 100;
- a negative event subtracts 2, 5, 10, 20 or 40 for severity 1 to 5; a positive one adds 1 to 5;
- only records disclosed now count: withdrawn, corrected and repaired events, and events past
  their disclosure period, do not; a disputed event counts until the department resolves it (or
  its period ends), an upheld one still counts; events dated in the future are ignored;
- the result is kept between 0 and 150;
- a score names its policy and the events it counted.

The disclosure rule itself is walked in tests/unit/test_credit_disclosure.py; here it matters
only as what decides which events are scored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

import pytest

from ledger.contracts import Amendment, CreditEvent, Polarity
from ledger.score import POLICY_VERSION, Audience, Score, credit_view, score_history
from tests.support.credit import AWARD, OCCURRED, TAX, credit_event

NOW: Final = OCCURRED + timedelta(days=100)
SECOND: Final = timedelta(seconds=1)
#: The documented weights, severity 1 to 5.
NEGATIVE_WEIGHTS: Final = (2, 5, 10, 20, 40)
POSITIVE_WEIGHTS: Final = (1, 2, 3, 4, 5)


def negatives(severity: int, count: int, *, first: int = 1) -> list[CreditEvent]:
    return [credit_event(first + n, severity=severity) for n in range(count)]


def positives(severity: int, count: int, *, first: int = 1) -> list[CreditEvent]:
    return [
        credit_event(first + n, category=AWARD, polarity=Polarity.POSITIVE, severity=severity)
        for n in range(count)
    ]


def value(events: list[CreditEvent], now: datetime = NOW) -> int:
    return score_history(events, now).value


def test_the_policy_is_named_as_the_guides_name_it() -> None:
    assert POLICY_VERSION == "gov-ledger/score/v1"


def test_an_empty_history_scores_the_base_and_counts_nothing() -> None:
    assert score_history([], NOW) == Score(100, "gov-ledger/score/v1", ())


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_each_severity_weighs_as_documented(severity: int) -> None:
    negative = credit_event(1, severity=severity)
    positive = credit_event(2, category=AWARD, polarity=Polarity.POSITIVE, severity=severity)
    assert score_history([negative], NOW) == Score(
        100 - NEGATIVE_WEIGHTS[severity - 1], POLICY_VERSION, (negative.event_id,)
    )
    assert score_history([positive], NOW) == Score(
        100 + POSITIVE_WEIGHTS[severity - 1], POLICY_VERSION, (positive.event_id,)
    )


def test_weights_add_up() -> None:
    every_negative = [credit_event(severity, severity=severity) for severity in range(1, 6)]
    every_positive = [
        credit_event(10 + severity, category=AWARD, polarity=Polarity.POSITIVE, severity=severity)
        for severity in range(1, 6)
    ]
    assert value(every_negative) == 100 - 77
    assert value(every_positive) == 100 + 15
    assert value(every_negative + every_positive) == 100 - 77 + 15


def test_the_floor_is_zero() -> None:
    exactly_zero = negatives(5, 2) + negatives(4, 1, first=10)  # 100 - 40 - 40 - 20
    assert value(exactly_zero) == 0
    assert value(exactly_zero[1:]) == 40
    assert value(exactly_zero + negatives(1, 1, first=20)) == 0
    assert value(negatives(5, 10)) == 0


def test_the_ceiling_is_150() -> None:
    assert value(positives(5, 9) + positives(4, 1, first=10)) == 149
    assert value(positives(5, 10)) == 150
    assert value(positives(5, 10) + positives(1, 1, first=20)) == 150
    assert value(positives(5, 40)) == 150


def test_the_result_is_kept_in_range_not_each_step() -> None:
    """The bounds apply to the sum: a history far below 0 or above 150 part of the way through
    scores the same whatever the order of its events."""
    sunk = negatives(5, 3) + positives(5, 5, first=10)  # 100 - 120 + 25
    assert value(sunk) == 5
    assert value(list(reversed(sunk))) == 5
    soared = positives(5, 20) + negatives(5, 2, first=30)  # 100 + 100 - 80
    assert value(soared) == 120
    assert value(list(reversed(soared))) == 120


@pytest.mark.parametrize("polarity", [Polarity.NEGATIVE, Polarity.POSITIVE])
@pytest.mark.parametrize(
    ("amendment", "counts"),
    [
        (Amendment.NONE, True),
        (Amendment.DISPUTED, True),
        (Amendment.UPHELD, True),
        (Amendment.CORRECTED, False),
        (Amendment.WITHDRAWN, False),
        (Amendment.REPAIRED, False),
    ],
)
def test_only_standing_disputed_and_upheld_events_count(
    amendment: Amendment, counts: bool, polarity: Polarity
) -> None:
    """The score itself discounts withdrawn, corrected and repaired events, whatever it is given
    (a caller that passed them would still get the documented score)."""
    category = TAX if polarity is Polarity.NEGATIVE else AWARD
    amended_at = None if amendment is Amendment.NONE else OCCURRED + timedelta(days=10)
    event = credit_event(
        7, category=category, polarity=polarity, amendment=amendment, amended_at=amended_at
    )
    weight = -10 if polarity is Polarity.NEGATIVE else 3
    expected = (
        Score(100 + weight, POLICY_VERSION, (event.event_id,))
        if counts
        else Score(100, POLICY_VERSION, ())
    )
    assert score_history([event], NOW) == expected


def test_events_dated_in_the_future_are_ignored() -> None:
    today = credit_event(1, occurred_at=NOW)
    tomorrow = credit_event(2, occurred_at=NOW + SECOND, severity=5)
    score = score_history([today, tomorrow], NOW)
    assert score == Score(90, POLICY_VERSION, (today.event_id,))
    assert score_history([today, tomorrow], NOW + SECOND).value == 100 - 10 - 40


def test_the_counted_events_are_named_in_the_order_given() -> None:
    first = credit_event(3)
    withdrawn = credit_event(1, amendment=Amendment.WITHDRAWN, amended_at=NOW - SECOND)
    award = credit_event(2, category=AWARD, polarity=Polarity.POSITIVE)
    future = credit_event(4, occurred_at=NOW + SECOND)
    score = score_history([first, withdrawn, award, future], NOW)
    assert score.counted == (first.event_id, award.event_id)
    assert score.value == 100 - 10 + 3


# -- only disclosed events are scored (credit_view) ----------------------------------------------

PERIOD: Final = 30 * 86_400
END: Final = OCCURRED + timedelta(seconds=PERIOD)


@pytest.mark.parametrize("audience", [Audience.SUBJECT, Audience.THIRD_PARTY])
@pytest.mark.parametrize("amendment", [Amendment.NONE, Amendment.DISPUTED, Amendment.UPHELD])
def test_a_negative_event_counts_until_its_period_ends(
    audience: Audience, amendment: Amendment
) -> None:
    """Disputed or not, a negative event stops counting at ``occurredAt + period``, to the
    second, for the subject as for a department (both see the same score)."""
    amended_at = None if amendment is Amendment.NONE else OCCURRED + timedelta(days=5)
    event = credit_event(1, severity=4, amendment=amendment, amended_at=amended_at)
    periods = {TAX: PERIOD}
    before = credit_view([event], periods, END - SECOND, audience).score
    assert before == Score(80, POLICY_VERSION, (event.event_id,))
    after = credit_view([event], periods, END, audience).score
    assert after == Score(100, POLICY_VERSION, ())


@pytest.mark.parametrize("audience", [Audience.SUBJECT, Audience.THIRD_PARTY])
def test_positive_events_and_categories_without_a_period_count_without_end(
    audience: Audience,
) -> None:
    late = OCCURRED + timedelta(days=365 * 50)
    award = credit_event(1, category=AWARD, polarity=Polarity.POSITIVE, severity=5)
    unlimited = credit_event(2, severity=2)  # TAX has no period below
    view = credit_view([award, unlimited], {AWARD: PERIOD}, late, audience)
    assert view.score == Score(100 + 5 - 5, POLICY_VERSION, (award.event_id, unlimited.event_id))


@pytest.mark.parametrize("status", [Amendment.CORRECTED, Amendment.WITHDRAWN, Amendment.REPAIRED])
def test_an_event_stops_counting_when_it_is_resolved_against_it(status: Amendment) -> None:
    """A disputed event counts until resolved: resolved as upheld it still counts, corrected or
    withdrawn (or repaired) it no longer does, within its disclosure period."""
    now = OCCURRED + timedelta(days=20)
    periods = {TAX: PERIOD}
    disputed = credit_event(1, amendment=Amendment.DISPUTED, amended_at=OCCURRED)
    upheld = credit_event(1, amendment=Amendment.UPHELD, amended_at=now - SECOND)
    resolved = credit_event(1, amendment=status, amended_at=now - SECOND)
    for audience in Audience:
        assert credit_view([disputed], periods, now, audience).score.value == 90
        assert credit_view([upheld], periods, now, audience).score.value == 90
        assert credit_view([resolved], periods, now, audience).score == Score(
            100, POLICY_VERSION, ()
        )
