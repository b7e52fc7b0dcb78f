"""The disclosure rule and the views built on it (ledger/score.py, ADR 0020), on plain values.

The same rule is checked against the contract's own ``isDisclosed`` on a real chain in
tests/integration/test_credit_disclosure.py; here its boundaries are walked one second at a time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Final

import pytest

from ledger.contracts import Amendment, Polarity
from ledger.score import Audience, Disclosure, credit_view, disclosure_of
from tests.support.credit import AWARD, OCCURRED, TAX
from tests.support.credit import credit_event as event

DAY: Final = 86_400
PERIOD: Final = 30 * DAY
END: Final = OCCURRED + timedelta(seconds=PERIOD)
SECOND: Final = timedelta(seconds=1)


def test_a_negative_event_is_disclosed_until_its_period_after_it_occurred() -> None:
    assert disclosure_of(event(), PERIOD, END - SECOND) == Disclosure(True, END)
    assert disclosure_of(event(), PERIOD, END) == Disclosure(False, END)
    assert disclosure_of(event(), PERIOD, END + timedelta(days=900)) == Disclosure(False, END)


@pytest.mark.parametrize(
    ("polarity", "period"),
    [(Polarity.POSITIVE, PERIOD), (Polarity.NEGATIVE, 0)],
    ids=["positive", "no-period"],
)
def test_positive_events_and_categories_without_a_period_have_no_end(
    polarity: Polarity, period: int
) -> None:
    far = OCCURRED + timedelta(days=365 * 50)
    assert disclosure_of(event(polarity=polarity), period, far) == Disclosure(True, None)


@pytest.mark.parametrize("status", [Amendment.WITHDRAWN, Amendment.CORRECTED, Amendment.REPAIRED])
def test_withdrawn_corrected_and_repaired_events_stopped_when_amended(status: Amendment) -> None:
    amended_at = OCCURRED + timedelta(days=10)
    amended = event(amendment=status, amended_at=amended_at)
    assert disclosure_of(amended, PERIOD, amended_at + SECOND) == Disclosure(False, amended_at)
    assert disclosure_of(amended, 0, amended_at + SECOND) == Disclosure(False, amended_at)
    # Amended after the period had ended: it stopped when the period ended.
    late = event(amendment=status, amended_at=END + timedelta(days=5))
    assert disclosure_of(late, PERIOD, END + timedelta(days=6)) == Disclosure(False, END)


@pytest.mark.parametrize("status", [Amendment.DISPUTED, Amendment.UPHELD])
def test_a_dispute_neither_stops_nor_extends_the_period(status: Amendment) -> None:
    disputed = event(amendment=status, amended_at=OCCURRED + timedelta(days=20))
    assert disclosure_of(disputed, PERIOD, END - SECOND) == Disclosure(True, END)
    assert disclosure_of(disputed, PERIOD, END) == Disclosure(False, END)


def test_views_hide_undisclosed_events_from_third_parties_and_never_score_them() -> None:
    now = END + timedelta(days=1)
    expired = event(1)
    recent = event(2, occurred_at=now - timedelta(days=3))
    withdrawn = event(3, occurred_at=now - timedelta(days=2), amendment=Amendment.WITHDRAWN)
    withdrawn = replace(withdrawn, amended_at=now - timedelta(days=1))
    award = event(4, category=AWARD, polarity=Polarity.POSITIVE)
    events = [expired, award, recent, withdrawn]
    periods = {TAX: PERIOD, AWARD: 0}

    public = credit_view(events, periods, now, Audience.THIRD_PARTY)
    assert [item.event for item in public.events] == [award, recent]
    assert all(item.disclosure.disclosed for item in public.events)

    own = credit_view(events, periods, now, Audience.SUBJECT)
    assert [item.event for item in own.events] == events  # the order given, nothing left out
    assert [item.disclosure.disclosed for item in own.events] == [False, True, True, False]
    assert own.events[0].disclosure.until == END

    for view in (public, own):
        assert view.score.counted == (award.event_id, recent.event_id)
        assert view.score.value == 100 + 3 - 10
        assert view.as_of == now
