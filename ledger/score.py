"""The credit score policy (``gov-ledger/score/v1``), and the disclosure rule it scores under:
credit histories as they may be shown and their scores, one place for the CLI and the API.

The chain holds the events; what may be shown of them, and a score, are interpretations, so
they live here. Disclosure (ADR 0020) is the rule of ``CreditLedger.isDisclosed`` computed from
the same chain data: a negative event is disclosed for its category's period (set on chain by
governance) counted from when it occurred; a withdrawn, corrected or repaired event is not
disclosed; a positive event, or one of a category without a period, has no end. Third parties
(a department's lookup, ``ledger credit history``) see disclosed events only; the subject sees
every event, each marked with whether and until when it is disclosed. Only disclosed events
are scored, so the subject's score is the one a department sees.

A score carries the version of the policy that produced it and the ids of the events it counted.
Changing the weights means a new policy version, never a silent change of old scores' meaning.
Times are compared with the reader's clock in UTC (see :func:`read_history`).

Not here: the credit events themselves, recorded and read on chain by
:class:`~ledger.contracts.CreditLedgerClient`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Final

from ledger.contracts import Amendment, CreditEvent, CreditLedgerClient, Polarity

__all__ = [
    "DISPUTE_RESOLUTION_DAYS",
    "POLICY_VERSION",
    "Audience",
    "CreditView",
    "Disclosure",
    "Score",
    "ShownEvent",
    "credit_view",
    "disclosure_of",
    "event_disclosure",
    "read_history",
    "resolve_by",
    "score_history",
]

#: Identifier of the scoring policy implemented below.
POLICY_VERSION: Final = "gov-ledger/score/v1"
_BASE: Final = 100
_NEGATIVE_WEIGHT: Final = {1: 2, 2: 5, 3: 10, 4: 20, 5: 40}
_POSITIVE_WEIGHT: Final = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
#: Amendments after which an event no longer counts.
_DISCOUNTED: Final = frozenset({Amendment.WITHDRAWN, Amendment.CORRECTED, Amendment.REPAIRED})
#: Days the recording department (or a supervisor) has to resolve a subject's dispute (ADR 0029).
DISPUTE_RESOLUTION_DAYS: Final = 30


@dataclass(frozen=True)
class Score:
    """A score with the policy and the events that produced it."""

    value: int
    policy: str
    counted: tuple[bytes, ...]


def resolve_by(event: CreditEvent) -> datetime | None:
    """When a disputed event is due to be resolved: :data:`DISPUTE_RESOLUTION_DAYS` after the
    dispute; None for an event not under dispute. Shown to the subject and the department, not
    enforced: the chain leaves the event disputed when the time passes (ADR 0029)."""
    if event.amendment is not Amendment.DISPUTED or event.amended_at is None:
        return None
    return event.amended_at + timedelta(days=DISPUTE_RESOLUTION_DAYS)


def score_history(events: Sequence[CreditEvent], now: datetime) -> Score:
    """Score v1: start at 100; negative events subtract by severity, positive ones add.

    Withdrawn, corrected and repaired events do not count; disputed events count until resolved
    (the record stands until a department says otherwise). The result is clamped to 0..150.
    Events dated after ``now`` are ignored. ``events`` are the disclosed ones: the CLI and the
    API score through :func:`credit_view`, which passes only those.
    """
    value = _BASE
    counted: list[bytes] = []
    for event in events:
        if event.amendment in _DISCOUNTED or event.occurred_at > now:
            continue
        if event.polarity is Polarity.NEGATIVE:
            value -= _NEGATIVE_WEIGHT.get(event.severity, 0)
        else:
            value += _POSITIVE_WEIGHT.get(event.severity, 0)
        counted.append(event.event_id)
    return Score(max(0, min(150, value)), POLICY_VERSION, tuple(counted))


#: Amendments after which an event is no longer disclosed (``CreditLedger.isDisclosed``).
_UNDISCLOSED: Final = _DISCOUNTED


class Audience(Enum):
    """Who reads a history: the subject itself, or anyone else (a department, a verifier)."""

    SUBJECT = "subject"
    THIRD_PARTY = "third-party"


@dataclass(frozen=True)
class Disclosure:
    """Whether an event may be shown to third parties at a moment, and until when.

    ``until`` is when disclosure ends (in the future while it is disclosed) or ended (in the
    past once it is not); None while it has no end (a positive event, a category without a
    period).
    """

    disclosed: bool
    until: datetime | None


def disclosure_of(event: CreditEvent, period: int, now: datetime) -> Disclosure:
    """The rule of ``CreditLedger.isDisclosed(eventId, now)`` for ``event``, whose category has
    a disclosure ``period`` of that many seconds (0: no limit).

    Withdrawn, corrected and repaired events stopped being disclosed when they were so amended
    (a corrected event that the subject then disputes is disclosed again, as on chain). Otherwise
    a positive event is always disclosed; a negative one until ``occurredAt + period``,
    exclusive. Disputed and upheld events follow the period like any other: a dispute neither
    stops nor extends it.
    """
    ends: list[datetime] = []
    if event.amendment in _UNDISCLOSED:
        ends.append(event.amended_at or event.recorded_at)
    if event.polarity is Polarity.NEGATIVE and period > 0:
        ends.append(event.occurred_at + timedelta(seconds=period))
    if not ends:
        return Disclosure(True, None)
    until = min(ends)
    disclosed = event.amendment not in _UNDISCLOSED and now < until
    return Disclosure(disclosed, until)


@dataclass(frozen=True)
class ShownEvent:
    """An event of a history with its disclosure at the moment the history was read."""

    event: CreditEvent
    disclosure: Disclosure


@dataclass(frozen=True)
class CreditView:
    """A history as ``audience`` may see it at ``as_of``, and the score of its disclosed events."""

    audience: Audience
    as_of: datetime
    events: tuple[ShownEvent, ...]
    score: Score


def credit_view(
    events: Sequence[CreditEvent],
    periods: Mapping[int, int],
    now: datetime,
    audience: Audience,
) -> CreditView:
    """What ``audience`` sees of ``events`` (in the order given) at ``now``.

    ``periods`` maps each category to its disclosure period in seconds (a category missing from
    it has none). A third party sees the disclosed events only; the subject sees all of them,
    marked. The score counts disclosed events only, for either audience.
    """
    shown = tuple(
        ShownEvent(event, disclosure_of(event, periods.get(event.category, 0), now))
        for event in events
    )
    disclosed = [item.event for item in shown if item.disclosure.disclosed]
    if audience is Audience.THIRD_PARTY:
        shown = tuple(item for item in shown if item.disclosure.disclosed)
    return CreditView(audience, now, shown, score_history(disclosed, now))


def event_disclosure(
    credit: CreditLedgerClient, event: CreditEvent, now: datetime | None = None
) -> Disclosure:
    """:func:`disclosure_of` one event, reading its category's period (``now``: as in
    :func:`read_history`)."""
    moment = datetime.now(UTC) if now is None else now
    return disclosure_of(event, credit.disclosure_period(event.category), moment)


def read_history(
    credit: CreditLedgerClient,
    subject_ref: bytes,
    audience: Audience,
    *,
    categories: Collection[int] | None = None,
    now: datetime | None = None,
) -> CreditView:
    """Read a subject's history from the chain and apply :func:`credit_view`.

    ``categories`` limits the events to those categories (a department reading a citizen's
    history sees its own categories only). ``now`` defaults to the reader's clock in UTC: the
    latest block of a quiet chain can be days old, and a period must end on time whether or
    not anything was written since; a verifier with a node and a correct clock computes the
    same answer (or asks ``isDisclosed(eventId, now)``).
    """
    moment = datetime.now(UTC) if now is None else now
    events = credit.history(subject_ref)
    if categories is not None:
        events = [event for event in events if event.category in categories]
    periods = credit.disclosure_periods(event.category for event in events)
    return credit_view(events, periods, moment, audience)
