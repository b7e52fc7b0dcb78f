"""The client of ``CreditLedger``: the calls that record and amend credit events and set the
disclosure periods (built here, sent by the caller: the use cases of :mod:`ledger.writes.credit`
are how the CLI and the service write), and the reads of events with their amendments and
evidence, a subject's history, and the disclosure periods.

What a history means (the score, who may see which event) is the score policy in
:mod:`ledger.score`, not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from web3 import Web3
from web3.contract.contract import ContractFunction

from ledger.chain.transactions import rpc_guard
from ledger.contracts.context import ChainContext
from ledger.contracts.deployment import contract
from ledger.contracts.layout import (
    CREDIT_TERMS_CATEGORY_SHIFT,
    CREDIT_TERMS_POLARITY_SHIFT,
    CREDIT_TERMS_SEVERITY_SHIFT,
)
from ledger.contracts.values import (
    Amendment,
    CreditEvent,
    Polarity,
    _bytes32,
    _seconds,
    _time,
)
from ledger.errors import ValidationError

__all__ = ["CreditLedgerClient"]


def _logs(event_type: Any, filters: dict[str, Any], start: int) -> list[Any]:
    """Logs of ``event_type`` matching the indexed ``filters`` from block ``start``."""
    return list(rpc_guard(lambda: event_type.get_logs(argument_filters=filters, from_block=start)))


class CreditLedgerClient:
    """Credit events: the calls that record and amend them; read, and list by subject."""

    def __init__(self, context: ChainContext) -> None:
        self.context = context
        self.contract = contract(context.web3, "CreditLedger", context.deployment.credit_ledger)

    @staticmethod
    def encode_terms(
        category: int, polarity: Polarity, severity: int, occurred_at: datetime
    ) -> int:
        """Pack recording terms like ``CreditLedger.encodeTerms``."""
        if not 0 < category < 1 << 32 or not 0 <= severity < 256:
            raise ValidationError("credit category or severity out of range")
        return (
            (category << CREDIT_TERMS_CATEGORY_SHIFT)
            | (int(polarity) << CREDIT_TERMS_POLARITY_SHIFT)
            | (severity << CREDIT_TERMS_SEVERITY_SHIFT)
            | _seconds(occurred_at)
        )

    def version(self) -> str:
        """The contract's ``VERSION()`` (semantic versioning): which version of the contract this
        client talks to."""
        return str(rpc_guard(lambda: self.contract.functions.VERSION().call()))

    @staticmethod
    def event_id(
        subject_ref: bytes, category: int, occurred_at: datetime, evidence_hash: bytes
    ) -> bytes:
        """The id the contract derives: keccak256(abi.encode(subject, category, time, evidence))."""
        from eth_abi.abi import encode

        return bytes(
            Web3.keccak(
                encode(
                    ["bytes32", "uint32", "uint40", "bytes32"],
                    [subject_ref, category, _seconds(occurred_at), evidence_hash],
                )
            )
        )

    def record(
        self,
        subject_ref: bytes,
        category: int,
        polarity: Polarity,
        severity: int,
        occurred_at: datetime,
        evidence_hash: bytes,
        *,
        evidence_cid: bytes | None = None,
    ) -> ContractFunction:
        """The call that records a credit event (``recordWithEvidence`` with an evidence CID);
        the event's id is :meth:`event_id` of the same terms."""
        subject = _bytes32(subject_ref, "subject reference")
        evidence = _bytes32(evidence_hash, "evidence hash")
        terms = self.encode_terms(category, polarity, severity, occurred_at)
        if evidence_cid:
            return self.contract.functions.recordWithEvidence(
                subject, terms, evidence, evidence_cid
            )
        return self.contract.functions.record(subject, terms, evidence)

    def amend(self, event_id: bytes, status: Amendment, reason_hash: bytes) -> ContractFunction:
        """The call that amends an event (corrected, withdrawn, repaired, disputed, upheld)."""
        return self.contract.functions.amend(
            _bytes32(event_id, "event id"), int(status), _bytes32(reason_hash, "reason hash")
        )

    def set_disclosure_period(self, category: int, seconds: int) -> ContractFunction:
        """The governance call that sets how long negative events of ``category`` are shown
        publicly (0: always)."""
        return self.contract.functions.setDisclosurePeriod(category, seconds)

    def disclosure_period(self, category: int) -> int:
        """Seconds; 0 means no limit."""
        return int(rpc_guard(lambda: self.contract.functions.disclosurePeriodOf(category).call()))

    def disclosure_periods(self, categories: Iterable[int]) -> dict[int, int]:
        """The disclosure period (seconds, 0: no limit) of each category, one read each."""
        return {category: self.disclosure_period(category) for category in set(categories)}

    def is_disclosed(self, event_id: bytes, moment: datetime) -> bool:
        """Whether the event may be shown publicly at ``moment``."""
        return bool(
            rpc_guard(
                lambda: self.contract.functions.isDisclosed(
                    _bytes32(event_id, "event id"), _seconds(moment)
                ).call()
            )
        )

    def event(self, event_id: bytes) -> CreditEvent | None:
        """The event with its latest amendment, or None."""
        digest = _bytes32(event_id, "event id")
        raw = rpc_guard(lambda: self.contract.functions.eventOf(digest).call())
        recorder, category, polarity, severity, occurred_at, recorded_at = raw
        if recorded_at == 0:
            return None
        status, amended_by, amended_at, count = rpc_guard(
            lambda: self.contract.functions.amendmentOf(digest).call()
        )
        return CreditEvent(
            event_id=digest,
            recorder=recorder,
            category=category,
            polarity=Polarity(polarity),
            severity=severity,
            occurred_at=datetime.fromtimestamp(occurred_at, UTC),
            recorded_at=datetime.fromtimestamp(recorded_at, UTC),
            amendment=Amendment(status),
            amended_by=amended_by,
            amended_at=_time(amended_at),
            amendment_count=count,
        )

    def event_with_evidence(self, event_id: bytes) -> CreditEvent | None:
        """The event with its evidence hash, CID and block, found by the indexed event id."""
        event = self.event(event_id)
        if event is None:
            return None
        digest = _bytes32(event_id, "event id")
        start = self.context.deployment.block
        events = self.contract.events
        for event_type in (events.CreditEventRecorded, events.CreditEventRecordedWithEvidence):
            for log in _logs(event_type, {"eventId": digest}, start):
                args = log["args"]
                cid = bytes(args["evidenceCid"]) if "evidenceCid" in args else None
                return replace(
                    event,
                    evidence_hash=bytes(args["evidenceHash"]),
                    evidence_cid=cid,
                    block_number=int(log["blockNumber"]),
                )
        return event

    def history(self, subject_ref: bytes) -> list[CreditEvent]:
        """Every event about ``subject_ref``, found by the indexed subject topic.

        Oldest first by when the fact occurred (``occurredAt``), events of the same moment in
        recording order (block, then log index). This is the one place that orders a history:
        the CLI, the API and the citizen page show it as it comes from here (a department may
        record an old fact after a newer one, so recording order is not "oldest first").
        """
        subject = _bytes32(subject_ref, "subject reference")
        start = self.context.deployment.block
        found: list[tuple[int, int, bytes, bytes, bytes | None]] = []
        events = self.contract.events
        for event_type in (events.CreditEventRecorded, events.CreditEventRecordedWithEvidence):
            for log in _logs(event_type, {"subjectRef": subject}, start):
                args = log["args"]
                cid = bytes(args["evidenceCid"]) if "evidenceCid" in args else None
                found.append(
                    (
                        int(log["blockNumber"]),
                        int(log["logIndex"]),
                        bytes(args["eventId"]),
                        bytes(args["evidenceHash"]),
                        cid,
                    )
                )
        history: list[CreditEvent] = []
        for block, _index, event_id, evidence_hash, cid in sorted(found):
            event = self.event(event_id)
            if event is not None:
                history.append(
                    replace(
                        event, evidence_hash=evidence_hash, evidence_cid=cid, block_number=block
                    )
                )
        # A stable sort: events that occurred at the same moment keep their recording order.
        history.sort(key=lambda event: event.occurred_at)
        return history
