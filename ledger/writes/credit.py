"""Credit writes: recording an event, amending it (by its recorder or a supervisor), a subject's
dispute and its resolution, and a category's disclosure period (governance).

Each use case checks what can refuse it (authorization first, ``ledger/authorization.py``) and
returns the call; none stores anything off chain (evidence and reasons go on chain as hashes
only). Not here: reading histories and the score (:mod:`ledger.score`), and who the caller is
(the CLI picks a department key; the service authenticates a department or a citizen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

from ledger.authorization import authorize_event_change, require_accreditation
from ledger.contracts import Amendment, CreditEvent, CreditLedgerClient, Polarity
from ledger.errors import ConflictError, NotAuthorizedError
from ledger.writes.prepared import GOVERNANCE, PreparedWrite, Signer

if TYPE_CHECKING:
    from web3.contract.contract import ContractFunction

    from ledger.session import LedgerSession

__all__ = [
    "Amended",
    "DisclosureSet",
    "EventTerms",
    "Recorded",
    "amend",
    "dispute",
    "record",
    "recording",
    "resolve",
    "set_disclosure_period",
]


@dataclass(frozen=True)
class Recorded:
    """What recording an event reports."""

    #: The id the contract derives from the subject, category, time and evidence.
    event_id: bytes


@dataclass(frozen=True)
class Amended:
    """What an amendment (a correction, a dispute, a resolution) reports."""

    event_id: bytes
    status: Amendment


@dataclass(frozen=True)
class DisclosureSet:
    """What setting a category's disclosure period reports."""

    #: The category's code.
    category: int
    #: The new period (0: no limit).
    seconds: int


def record(
    session: LedgerSession,
    subject_ref: bytes,
    category: int,
    polarity: Polarity,
    severity: int,
    occurred_at: datetime,
    evidence_hash: bytes,
    *,
    department_id: int,
    evidence_cid: bytes | None = None,
) -> PreparedWrite[Recorded]:
    """Prepare the recording of a credit event about ``subject_ref`` by ``department_id``.

    The department must be accredited for ``category`` now (credit events have no region);
    category and severity are checked as the call is built. The evidence is named by its hash
    (and, optionally, the CID of a stored copy): nothing personal goes on chain.
    """
    require_accreditation(session.registry(), department_id, category, 0)
    terms = (subject_ref, category, polarity, severity, occurred_at, evidence_hash)
    function, recorded = recording(session.credit(), *terms, evidence_cid=evidence_cid)
    return PreparedWrite(function, Signer.department(department_id), recorded)


#: A credit event's terms, in the order :meth:`CreditLedgerClient.record` takes them: subject
#: reference, category, polarity, severity, time of occurrence, evidence hash.
EventTerms: TypeAlias = tuple[bytes, int, Polarity, int, datetime, bytes]


def recording(
    credit: CreditLedgerClient, *terms: *EventTerms, evidence_cid: bytes | None = None
) -> tuple[ContractFunction, Recorded]:
    """The call that records an event of ``terms`` and what it will report (the id the contract
    derives from them), as the contract alone judges it: :func:`record` is this after the
    ledger's own check, and a test that means to see the contract refuse sends it alone."""
    subject_ref, category, _, _, occurred_at, evidence_hash = terms
    event_id = CreditLedgerClient.event_id(subject_ref, category, occurred_at, evidence_hash)
    return credit.record(*terms, evidence_cid=evidence_cid), Recorded(event_id)


def amend(
    session: LedgerSession,
    event_id: bytes,
    status: Amendment,
    reason_hash: bytes,
    *,
    department_id: int,
) -> PreparedWrite[Amended]:
    """Prepare an amendment of ``event_id`` by ``department_id``: its recorder or one of its
    supervisors, accredited for its category (404 for an unknown event), with a key here."""
    credit = session.credit()
    authorize_event_change(session.registry(), credit, department_id, event_id)
    return _amendment(session, credit, event_id, status, reason_hash, department_id)


def resolve(
    session: LedgerSession,
    event_id: bytes,
    outcome: Amendment,
    reason_hash: bytes,
    *,
    department_id: int,
) -> PreparedWrite[Amended]:
    """Prepare the resolution of a dispute (``outcome``: upheld, corrected or withdrawn): as
    :func:`amend`, and only for an event under dispute (ConflictError otherwise)."""
    credit = session.credit()
    event = authorize_event_change(session.registry(), credit, department_id, event_id)
    if event.amendment is not Amendment.DISPUTED:
        raise ConflictError("only a disputed event is resolved; amend it instead")
    return _amendment(session, credit, event_id, outcome, reason_hash, department_id)


def dispute(
    session: LedgerSession, event: CreditEvent, subject_ref: bytes, reason_hash: bytes
) -> PreparedWrite[Amended]:
    """Prepare a subject's dispute of ``event`` (read by the caller, which names the recording
    department as the write's department): only the event's subject may dispute it, and the
    call is signed with the key of the department that recorded it (the contract lets only a
    recorder mark its events disputed), so that key must be here."""
    credit = session.credit()
    if not any(item.event_id == event.event_id for item in credit.history(subject_ref)):
        raise NotAuthorizedError("only the event's subject may dispute it")
    return _amendment(
        session, credit, event.event_id, Amendment.DISPUTED, reason_hash, event.recorder
    )


def set_disclosure_period(
    session: LedgerSession, category: int, seconds: int
) -> PreparedWrite[DisclosureSet]:
    """Prepare governance's change of how long negative events of ``category`` are disclosed
    (0: no limit); it applies at once to every event of the category (ADR 0020)."""
    function = session.credit().set_disclosure_period(category, seconds)
    return PreparedWrite(function, GOVERNANCE, DisclosureSet(category, seconds))


def _amendment(
    session: LedgerSession,
    credit: CreditLedgerClient,
    event_id: bytes,
    status: Amendment,
    reason_hash: bytes,
    department_id: int,
) -> PreparedWrite[Amended]:
    """The amendment call signed by ``department_id``, once a key of it is known here
    (UnknownKeyError otherwise, before anything is sent or journaled)."""
    session.department_sender(department_id)
    function = credit.amend(event_id, status, reason_hash)
    return PreparedWrite(function, Signer.department(department_id), Amended(event_id, status))
