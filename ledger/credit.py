"""Credit scores, computed off chain by a versioned policy and always shown with their events.

The chain holds the events; a score is an interpretation of them, so it lives here, carries the
version of the policy that produced it and the ids of the events it counted (DESIGN section 4).
Changing the weights means a new policy version, never a silent change of old scores' meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ledger.contracts import Amendment, CreditEvent, Polarity

__all__ = ["POLICY_VERSION", "Score", "score_history"]

#: Identifier of the scoring policy implemented below.
POLICY_VERSION: Final = "gov-ledger/score/v1"
_BASE: Final = 100
_NEGATIVE_WEIGHT: Final = {1: 2, 2: 5, 3: 10, 4: 20, 5: 40}
_POSITIVE_WEIGHT: Final = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
#: Amendments after which an event no longer counts.
_DISCOUNTED: Final = frozenset({Amendment.WITHDRAWN, Amendment.CORRECTED, Amendment.REPAIRED})


@dataclass(frozen=True)
class Score:
    """A score with the policy and the events that produced it."""

    value: int
    policy: str
    counted: tuple[bytes, ...]


def score_history(events: Sequence[CreditEvent], now: datetime) -> Score:
    """Score v1: start at 100; negative events subtract by severity, positive ones add.

    Withdrawn, corrected and repaired events do not count; disputed events count until resolved
    (the record stands until a department says otherwise). The result is clamped to 0..150.
    Events dated after ``now`` are ignored.
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
