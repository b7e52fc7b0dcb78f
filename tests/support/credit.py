"""Credit events as plain values, for the unit tests of the score and the disclosure rule
(ledger/score.py): no chain, every field chosen by the test; and :func:`record_event`, how a
test that needs events on chain records one as the contract alone judges it, with no use
case's checks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from web3.types import TxReceipt

from ledger.catalogue import credit_category
from ledger.chain.transactions import TransactionSender
from ledger.contracts import Amendment, CreditEvent, CreditLedgerClient, Polarity
from ledger.writes.credit import EventTerms, recording

#: A negative category and a positive one (``tax-violation``, ``commendation``).
TAX: Final = credit_category("tax-violation").code
AWARD: Final = credit_category("commendation").code
OCCURRED: Final = datetime(2024, 3, 1, tzinfo=UTC)
RECORDED: Final = datetime(2024, 3, 5, tzinfo=UTC)


def credit_event(
    number: int = 1,
    *,
    category: int = TAX,
    polarity: Polarity = Polarity.NEGATIVE,
    severity: int = 3,
    occurred_at: datetime = OCCURRED,
    amendment: Amendment = Amendment.NONE,
    amended_at: datetime | None = None,
) -> CreditEvent:
    """Event ``number`` (its id is the number in 32 bytes) recorded by department 3 on
    :data:`RECORDED`; an amended one was amended by department 3, once."""
    return CreditEvent(
        event_id=number.to_bytes(32, "big"),
        recorder=3,
        category=category,
        polarity=polarity,
        severity=severity,
        occurred_at=occurred_at,
        recorded_at=RECORDED,
        amendment=amendment,
        amended_by=3 if amendment is not Amendment.NONE else 0,
        amended_at=amended_at,
        amendment_count=0 if amendment is Amendment.NONE else 1,
    )


def record_event(
    sender: TransactionSender,
    credit: CreditLedgerClient,
    *terms: *EventTerms,
    evidence_cid: bytes | None = None,
) -> tuple[bytes, TxReceipt]:
    """Send the call that records an event of ``terms``, signed by ``sender``: the event's id and
    the receipt. The contract alone decides (:func:`ledger.writes.credit.recording`; use
    :func:`ledger.writes.credit.record` for the ledger's own checks)."""
    function, recorded = recording(credit, *terms, evidence_cid=evidence_cid)
    return recorded.event_id, sender.transact(function)
