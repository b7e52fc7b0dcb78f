"""False information found at the window (一窗受理, ADR 0029): a document the applicant hands over
is verified in the context of their consent, and a forged or altered one is recorded in their
credit file, with the document kept encrypted as evidence.

Who may record: a department accredited for the ``false-information`` credit category, under a
consent of the applicant it has taken and that is still live (:meth:`ConsentStore.live`), with an
officer's reason (:data:`REASONS`) and confirmation. What is recorded: a ``false-information``
event about the consent's subject, of the category's default polarity and severity, whose
evidence is the keccak-256 hash of the uploaded bytes and the CID of their encrypted copy. The
service never decides that a document is forged: a verification tells whether forgery may be
suspected (:func:`forgery_suspected`), the officer decides, and the subject may dispute.

Not here: reading the upload and answering (``api/routes/window_uploads.py``, the CLI), sending or
journaling the write (:mod:`ledger.writes.prepared`), the access log's entries (the route).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Literal, get_args

from eth_utils.crypto import keccak

from ledger.authorization import require_accreditation
from ledger.catalogue import credit_category
from ledger.contracts import CreditLedgerClient, Polarity
from ledger.errors import (
    ChainUnavailableError,
    DocumentValidError,
    FalseInformationRecordedError,
    ForgeryNotSuspectedError,
)
from ledger.storage.cid import cid_from_str
from ledger.verification import (
    AnchorOptions,
    CheckName,
    Outcome,
    Verdict,
    VerificationReport,
    verify_document,
)
from ledger.verification.report import CHAIN_READ_FAILED
from ledger.writes.credit import record
from ledger.writes.prepared import PreparedWrite, Undo

if TYPE_CHECKING:
    from ledger.service.consents import ConsentRecord
    from ledger.session import LedgerSession

__all__ = [
    "FALSE_INFORMATION",
    "REASONS",
    "DocumentValidError",
    "FalseInformationRecorded",
    "FalseInformationRecordedError",
    "ForgeryNotSuspectedError",
    "Reason",
    "false_information_event_id",
    "forgery_suspected",
    "report_false_information",
    "require_reporting_right",
]

#: The credit category a window records forged submissions in.
FALSE_INFORMATION: Final = credit_category("false-information")

#: Why the officer reports the document (the reason is part of the request, not kept on chain:
#: the event's evidence is the document itself).
Reason = Literal["forged-document", "altered-document", "false-statement"]
REASONS: Final[tuple[str, ...]] = get_args(Reason)

#: Checks whose failure is about the presented document (its anchor, issuer, status, dates,
#: proof, parts). A failure of another check is about the chain (finality, agreement of nodes)
#: or the service's own stored copy: it proves nothing against the applicant.
_DOCUMENT_CHECKS: Final = frozenset(
    {
        CheckName.MERKLE,
        CheckName.ANCHORED,
        CheckName.ACCREDITED,
        CheckName.STATUS,
        CheckName.DATES,
        CheckName.BUNDLE,
    }
)


@dataclass(frozen=True)
class FalseInformationRecorded:
    """What a report of false information reports."""

    #: The id the contract derives from the subject, category, time and evidence.
    event_id: bytes
    #: keccak-256 of the uploaded bytes (what the encrypted copy decrypts to).
    evidence_hash: bytes
    #: CID of the encrypted copy in the document store.
    evidence_cid: str


def forgery_suspected(report: VerificationReport) -> bool:
    """Whether a window may suspect the verified document of being forged or altered: INVALID,
    the document parsed, and a check about the document itself failed for a reason other than
    the chain not answering. A damaged download that no longer parses, a certificate anchored
    too recently to be final, or a chain that did not answer is no ground for suspicion."""
    if report.verdict is not Verdict.INVALID:
        return False
    checks = {check.name: check for check in report.checks}
    if checks[CheckName.PARSED].outcome is not Outcome.PASSED:
        return False
    return any(
        check.outcome is Outcome.FAILED
        and check.name in _DOCUMENT_CHECKS
        and CHAIN_READ_FAILED not in check.detail
        for check in report.checks
    )


def require_reporting_right(session: LedgerSession, department_id: int) -> None:
    """Refuse (NotAuthorizedError, 403) unless ``department_id`` may record false-information
    events now: accredited for the category and not suspended (ADR 0023: asked before anything
    else about the request)."""
    require_accreditation(session.registry(), department_id, FALSE_INFORMATION.code, 0)


def _require_suspected(report: VerificationReport) -> None:
    """Refuse a document that gives no ground for suspicion; a chain that did not answer is
    503 (ask again), not an answer about the document."""
    if report.verdict is Verdict.VALID:
        raise DocumentValidError("the document verifies VALID: a valid document is not a forgery")
    if any(
        check.outcome is Outcome.FAILED and CHAIN_READ_FAILED in check.detail
        for check in report.checks
    ):
        raise ChainUnavailableError("the chain did not answer every check; verify again")
    if not forgery_suspected(report):
        raise ForgeryNotSuspectedError(
            "the document fails only in ways a damaged file or a recent anchoring explains "
            "(it does not parse, or only finality or the service's copy failed)"
        )


def _moment(consent: ConsentRecord) -> datetime:
    """When a false-information event under ``consent`` occurred: when the visit began (see
    :func:`report_false_information`)."""
    return datetime.fromtimestamp(consent.created_at, UTC)


def false_information_event_id(consent: ConsentRecord, data: bytes) -> bytes:
    """The id of the event a report of ``data`` under ``consent`` records (known before it is
    confirmed, for the access log)."""
    return CreditLedgerClient.event_id(
        consent.subject_ref, FALSE_INFORMATION.code, _moment(consent), keccak(data)
    )


def report_false_information(
    session: LedgerSession,
    consent: ConsentRecord,
    data: bytes,
    *,
    department_id: int,
    options: AnchorOptions,
) -> PreparedWrite[FalseInformationRecorded]:
    """Prepare the false-information event about ``consent``'s subject for the document ``data``
    its department's window was handed (the consent live, checked by the caller).

    In order (ADR 0029): the department's right first; the document verified (``options`` as
    POST /v1/verify gives them) and refused unless forgery may be suspected; refused when the
    same document is evidence of an event about the subject already; then the document stored
    encrypted whatever the settings (it is about a person and may be a forgery of anything), and
    the event prepared with its hash and the copy's CID, the copy discarded if that fails.

    The event's moment is the consent's grant, when the visit began: the event id is then a
    function of the subject, the document and the visit, so two officers reporting the same
    document under one consent at once make one event (the contract refuses the second).
    """
    require_reporting_right(session, department_id)
    _require_suspected(verify_document(data, session.context, **options))
    evidence = keccak(data)
    credit = session.credit()
    for event in credit.history(consent.subject_ref):
        if event.category == FALSE_INFORMATION.code and event.evidence_hash == evidence:
            raise FalseInformationRecordedError(
                "this document is already the evidence of a false-information event about "
                "the applicant"
            )
    documents = session.documents()
    stored = documents.store_document(data, encrypt=True)
    copy = stored.cid
    undo = Undo(f"the evidence copy {copy}", lambda: documents.discard(copy))
    polarity = Polarity[FALSE_INFORMATION.default_polarity.upper()]
    try:
        write = record(
            session,
            consent.subject_ref,
            FALSE_INFORMATION.code,
            polarity,
            FALSE_INFORMATION.default_severity,
            _moment(consent),
            evidence,
            department_id=department_id,
            evidence_cid=cid_from_str(copy),
        )
    except BaseException:
        undo.action()
        raise
    facts = FalseInformationRecorded(write.facts.event_id, evidence, copy)
    return PreparedWrite(write.function, write.signer, facts, undo)
