"""The verification report: its checks, their outcomes, the verdict, and how a report is built.

The report has one line per check, each passed, failed or not applicable with the reason, and an
overall verdict that is VALID only when no check failed. A chain node that cannot answer makes
the check that needed it fail (:meth:`ReportBuilder.read`): an unreachable node never yields VALID.

Only the value types and the builder are here; what decides each check is in
:mod:`ledger.verification.document`, :mod:`~ledger.verification.stored_copy`,
:mod:`~ledger.verification.bundle`, :mod:`~ledger.verification.timing` and
:mod:`~ledger.verification.nodes`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from ledger.chain.transactions import rpc_guard
from ledger.contracts import CertificateRecord
from ledger.errors import LedgerError

__all__ = [
    "BUNDLE_KIND",
    "CHAIN_READ_FAILED",
    "BundlePartReport",
    "Check",
    "CheckName",
    "Outcome",
    "ReportBuilder",
    "Verdict",
    "VerificationReport",
]

T = TypeVar("T")


class Outcome(StrEnum):
    """Result of one check."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


class Verdict(StrEnum):
    """Overall result."""

    VALID = "VALID"
    INVALID = "INVALID"


class CheckName(StrEnum):
    """Stable identifiers of the checks, in the order they run."""

    PARSED = "document.parsed"
    HASH = "document.hash"
    MERKLE = "merkle.proof"
    ANCHORED = "anchor.exists"
    ACCREDITED = "issuer.accredited"
    STATUS = "status.current"
    DATES = "dates.valid"
    BUNDLE = "bundle.parts"
    FINALITY = "finality.confirmations"
    AGREEMENT = "chain.agreement"
    STORED_COPY = "storage.copy"


_ORDER: Final = tuple(CheckName)
#: How a check that failed because the chain did not answer says so: such a failure says
#: nothing of the document (a window does not report it as false information, ADR 0029).
CHAIN_READ_FAILED: Final = "chain read failed"
#: ``document_kind`` of a bundle's report.
BUNDLE_KIND: Final = "bundle"


@dataclass(frozen=True)
class Check:
    """One line of the report."""

    name: CheckName
    outcome: Outcome
    detail: str


@dataclass(frozen=True)
class BundlePartReport:
    """One part of a verified bundle: what it requires, and the verification of the certificate
    filed for it (None while nothing is filed)."""

    index: int
    department_id: int
    cert_type: int
    document_hash: bytes | None
    report: VerificationReport | None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "department": self.department_id,
            "certType": self.cert_type,
            "documentHash": None if self.document_hash is None else "0x" + self.document_hash.hex(),
            "verdict": None if self.report is None else self.report.verdict.value,
            "checks": []
            if self.report is None
            else [
                {"name": c.name.value, "outcome": c.outcome.value, "detail": c.detail}
                for c in self.report.checks
            ],
        }


@dataclass(frozen=True)
class VerificationReport:
    """The checks and their verdict (for a bundle, ``parts`` holds each part's own report)."""

    document_hash: bytes | None
    document_kind: str | None
    checks: tuple[Check, ...]
    checked_at: datetime
    record: CertificateRecord | None = field(default=None, compare=False)
    parts: tuple[BundlePartReport, ...] = field(default=(), compare=False)

    @property
    def verdict(self) -> Verdict:
        """VALID only when no check failed."""
        failed = any(check.outcome is Outcome.FAILED for check in self.checks)
        return Verdict.INVALID if failed else Verdict.VALID

    @property
    def failures(self) -> tuple[Check, ...]:
        """The failed checks."""
        return tuple(check for check in self.checks if check.outcome is Outcome.FAILED)

    def to_json(self) -> dict[str, Any]:
        """JSON form used by the CLI's ``--json`` and the API (``parts`` for a bundle only)."""
        record = self.record
        data = {
            "verdict": self.verdict.value,
            "documentHash": "0x" + self.document_hash.hex() if self.document_hash else None,
            "documentKind": self.document_kind,
            "checkedAt": self.checked_at.isoformat(),
            "checks": [
                {"name": c.name.value, "outcome": c.outcome.value, "detail": c.detail}
                for c in self.checks
            ],
            "record": None
            if record is None
            else {
                "issuer": record.issuer,
                "certType": record.cert_type,
                "region": record.region,
                "anchoredAt": record.anchored_at.isoformat(),
                "expiresAt": record.expires_at.isoformat() if record.expires_at else None,
                "anchoredBlock": record.anchored_block,
                "status": record.status.name.lower(),
                "reasonCode": record.reason_code,
            },
        }
        if self.document_kind == BUNDLE_KIND:
            data["parts"] = [part.to_json() for part in self.parts]
        return data


class ReportBuilder:
    """Accumulates checks; fills in the ones never reached as not applicable."""

    def __init__(self) -> None:
        self.checks: dict[CheckName, Check] = {}

    def add(self, name: CheckName, outcome: Outcome, detail: str) -> None:
        self.checks[name] = Check(name, outcome, detail)

    def read(self, name: CheckName, call: Callable[[], T]) -> T | None:
        """Run a chain read; on failure record ``name`` as failed (a node error is never a pass)."""
        try:
            return rpc_guard(call)
        except LedgerError as exc:
            self.add(name, Outcome.FAILED, f"{CHAIN_READ_FAILED}: {exc}")
            return None

    def finish(
        self,
        digest: bytes | None,
        kind: str | None,
        now: datetime,
        record: CertificateRecord | None,
        parts: tuple[BundlePartReport, ...] = (),
    ) -> VerificationReport:
        ordered = tuple(
            self.checks.get(name, Check(name, Outcome.NOT_APPLICABLE, "not reached"))
            for name in _ORDER
        )
        return VerificationReport(digest, kind, ordered, now, record, parts)
