"""Verification of one document against the chain (the checks: docs/architecture.md).

The report has one line per check, each passed, failed or not applicable with the reason, and an
overall verdict that is VALID only when no check failed. A chain node that cannot answer makes
the check that needed it fail: an unreachable node never yields VALID.

Everything here reads the chain through a read-only :class:`~ledger.contracts.ChainContext`, so the
same code serves the API, the web page and ``ledger verify --rpc URL`` talking straight to a node.

The last check, ``storage.copy``, needs a document service (a store and the key vault): the CID
anchored with the certificate is read from its ``CertificateAnchoredFor`` event, the copy fetched,
decrypted where this verifier holds the key, hashed and compared. A verifier without a store
reports it as not applicable; an erased copy is not applicable too (erasure is lawful and the
presented copy is what the verdict is about); a store that cannot answer, a missing copy or one
that does not match is a failure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, TypeVar

from ledger.catalogue import ReasonCode, certificate_type
from ledger.chain.transactions import rpc_guard
from ledger.contracts import (
    Bundle,
    CertificateRecord,
    CertificateRegistryClient,
    CertificateStatus,
    ChainContext,
    DepartmentRegistryClient,
    LicenceBundlesClient,
    RecordKind,
)
from ledger.documents import DocumentDigester, DocumentKind, digest_and_proof, document_hash_of
from ledger.documents.batches import BatchProof
from ledger.documents.merkle import verify_proof
from ledger.errors import LedgerError, NotDeployedError, ValidationError
from ledger.parsing import deadline_day
from ledger.storage import DocumentNotFoundError, StorageError, StorageUnavailableError
from ledger.storage.unixfs import InvalidCidError, cid_to_str, parse_cid
from ledger.storage.vault import DocumentErasedError, DocumentService, looks_sealed

__all__ = [
    "BundlePartReport",
    "Check",
    "CheckName",
    "Outcome",
    "Verdict",
    "VerificationReport",
    "agree",
    "anchored_cid",
    "refresh_report",
    "verify_bundle",
    "verify_document",
    "verify_hash",
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


class _Report:
    """Accumulates checks; fills in the ones never reached as not applicable."""

    def __init__(self) -> None:
        self.checks: dict[CheckName, Check] = {}

    def add(self, name: CheckName, outcome: Outcome, detail: str) -> None:
        self.checks[name] = Check(name, outcome, detail)

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


def verify_document(
    source: bytes | DocumentDigester,
    context: ChainContext,
    *,
    confirmations: int = 0,
    now: datetime | None = None,
    documents: DocumentService | None = None,
    encrypted_types: Collection[int] = (),
    proof: BatchProof | None = None,
    local_issuers: Collection[int] | None = None,
) -> VerificationReport:
    """Verify a presented document (file bytes or a wrapped structured certificate), or one
    already hashed as it arrived (a :class:`~ledger.documents.DocumentDigester`: an upload).

    ``local_issuers``: the departments whose stored copies ``documents`` is expected to hold (a
    regional service's own departments). A copy anchored by another region's department that
    this store lacks is then not applicable rather than a failure: each region keeps its own
    copies unless they share an IPFS cluster. None expects every copy.

    A certificate of a Merkle batch is checked through its proof: the one inside a wrapped
    certificate, or ``proof`` for a file (its ``.proof.json``).

    With ``documents`` the stored copy named by the anchor is checked as well. Copies of personal
    certificate types, of the types in ``encrypted_types`` (codes: the deployment's
    ``LEDGER_ENCRYPT_TYPES``), and copies sealed because their holder is a natural person (any
    type: recognised by the sealed format's shape) are ciphertexts: without their key here they
    are reported as not checkable rather than as a mismatch.
    """
    report = _Report()
    moment = now or datetime.now(UTC)
    try:
        # One reading gives the hash and, for a wrapped certificate, its embedded proof.
        if isinstance(source, DocumentDigester):
            digest, embedded = source.result()
        else:
            digest, embedded = digest_and_proof(source)
    except LedgerError as exc:
        report.add(CheckName.PARSED, Outcome.FAILED, str(exc))
        return report.finish(None, None, moment, None)
    report.add(
        CheckName.PARSED,
        Outcome.PASSED,
        "structured certificate" if digest.kind is DocumentKind.CERTIFICATE else "file",
    )
    report.add(CheckName.HASH, Outcome.PASSED, f"0x{digest.hash.hex()}")
    if proof is None and embedded is not None:
        try:
            proof = BatchProof.from_json(embedded)
        except LedgerError as exc:
            report.add(CheckName.MERKLE, Outcome.FAILED, f"the embedded batch proof: {exc}")
            return report.finish(digest.hash, str(digest.kind), moment, None)
    storage = _StoredCopy(documents, frozenset(encrypted_types), True, _issuers(local_issuers))
    return _verify_anchor(
        report, digest.hash, str(digest.kind), context, confirmations, moment, storage, proof
    )


def verify_hash(
    doc_hash: bytes,
    context: ChainContext,
    *,
    confirmations: int = 0,
    now: datetime | None = None,
    documents: DocumentService | None = None,
    encrypted_types: Collection[int] = (),
    proof: BatchProof | None = None,
    local_issuers: Collection[int] | None = None,
) -> VerificationReport:
    """Verify a bare document hash (the document itself is not presented); with ``proof``, as a
    certificate of a Merkle batch."""
    report = _Report()
    moment = now or datetime.now(UTC)
    report.add(CheckName.PARSED, Outcome.NOT_APPLICABLE, "only a hash was presented")
    report.add(CheckName.HASH, Outcome.NOT_APPLICABLE, "only a hash was presented")
    storage = _StoredCopy(documents, frozenset(encrypted_types), False, _issuers(local_issuers))
    return _verify_anchor(report, doc_hash, None, context, confirmations, moment, storage, proof)


def verify_bundle(
    bundle_id: bytes,
    context: ChainContext,
    *,
    confirmations: int = 0,
    now: datetime | None = None,
    documents: DocumentService | None = None,
    encrypted_types: Collection[int] = (),
    local_issuers: Collection[int] | None = None,
) -> VerificationReport:
    """Verify a joint licensing bundle (ADR 0011): it exists, every part it requires is filed,
    and each filed certificate verifies on its own (accredited issuer, active, in its dates,
    stored copy). ``bundle.parts`` names every part that is missing or whose certificate is
    INVALID, with the part's failing checks; each part's full report is in ``parts``.

    ``finality.confirmations`` counts from the latest filing. The bundle contract's own
    ``isComplete`` must agree: a bundle it reports incomplete is never VALID.
    """
    report = _Report()
    moment = now or datetime.now(UTC)
    for name in (CheckName.PARSED, CheckName.HASH):
        report.add(name, Outcome.NOT_APPLICABLE, "a bundle id was presented")
    report.add(CheckName.MERKLE, Outcome.NOT_APPLICABLE, "a bundle: each part is checked itself")
    report.add(CheckName.AGREEMENT, Outcome.NOT_APPLICABLE, "one node asked")
    for name in (CheckName.ACCREDITED, CheckName.STATUS, CheckName.DATES, CheckName.STORED_COPY):
        report.add(name, Outcome.NOT_APPLICABLE, "checked for each part (bundle.parts)")

    def finish(parts: tuple[BundlePartReport, ...] = ()) -> VerificationReport:
        return report.finish(bundle_id, BUNDLE_KIND, moment, None, parts)

    try:
        bundles = LicenceBundlesClient(context)
    except NotDeployedError as exc:
        report.add(CheckName.ANCHORED, Outcome.FAILED, str(exc))
        return finish()
    head = _read(report, CheckName.ANCHORED, lambda: int(context.web3.eth.block_number))
    if head is None:
        return finish()
    bundle = _read(report, CheckName.ANCHORED, lambda: bundles.bundle(bundle_id, block=head))
    if CheckName.ANCHORED in report.checks:  # the read failed
        return finish()
    if bundle is None:
        report.add(CheckName.ANCHORED, Outcome.FAILED, "no bundle with this id")
        return finish()
    report.add(
        CheckName.ANCHORED,
        Outcome.PASSED,
        f"bundle opened by department {bundle.lead} at {bundle.opened_at.isoformat()}: "
        f"{len(bundle.parts)} part(s) due by {deadline_day(bundle.deadline).isoformat()} "
        "(China time)",
    )

    parts: list[BundlePartReport] = []
    problems: list[str] = []
    for index, part in enumerate(bundle.parts):
        label = part.label(index)
        if part.doc_hash is None:
            late = "the deadline has passed" if moment > bundle.deadline else "not yet"
            problems.append(f"{label} is not filed ({late})")
            parts.append(BundlePartReport(index, part.department_id, part.cert_type, None, None))
            continue
        filed = verify_hash(
            part.doc_hash,
            context,
            confirmations=confirmations,
            now=moment,
            documents=documents,
            encrypted_types=encrypted_types,
            local_issuers=local_issuers,
        )
        parts.append(
            BundlePartReport(index, part.department_id, part.cert_type, part.doc_hash, filed)
        )
        # A filing is never older than its certificate's anchor: the bundle's own finality
        # check below covers the parts' (so it is not reported twice).
        failures = [c for c in filed.failures if c.name is not CheckName.FINALITY]
        if failures:
            why = "; ".join(f"{c.name.value}: {c.detail}" for c in failures)
            problems.append(f"{label} 0x{part.doc_hash.hex()} is INVALID ({why})")
        if filed.record is not None:
            # The bundle contract cannot read a certificate's holder (ADR 0019): it is compared
            # here, from the anchoring event, so a part filed around the library still fails.
            holder = _part_holder_problem(bundle, filed.record, context)
            if holder is not None:
                problems.append(f"{label} 0x{part.doc_hash.hex()}: {holder}")
    complete = _read(report, CheckName.BUNDLE, lambda: bundles.is_complete(bundle_id, block=head))
    if complete is not None:
        if problems:
            report.add(CheckName.BUNDLE, Outcome.FAILED, "; ".join(problems))
        elif not complete:
            report.add(
                CheckName.BUNDLE, Outcome.FAILED, "the bundle contract reports it incomplete"
            )
        else:
            report.add(
                CheckName.BUNDLE,
                Outcome.PASSED,
                f"all {len(bundle.parts)} part(s) filed, each certificate VALID",
            )
    last = _read(
        report, CheckName.FINALITY, lambda: bundles.last_filing_block(bundle_id, until=head)
    )
    if CheckName.FINALITY not in report.checks:
        if last is None:
            report.add(CheckName.FINALITY, Outcome.NOT_APPLICABLE, "no part filed")
        else:
            depth = head - last + 1
            report.add(
                CheckName.FINALITY,
                Outcome.PASSED if depth >= confirmations else Outcome.FAILED,
                f"{depth} confirmation(s) since the latest filing, {confirmations} required",
            )
    return finish(tuple(parts))


def _part_holder_problem(
    bundle: Bundle, record: CertificateRecord, context: ChainContext
) -> str | None:
    """Why the certificate filed as a part is not the bundle enterprise's (None: it is): the
    subject reference of its ``CertificateAnchoredFor`` event against the bundle's own."""
    try:
        anchored = CertificateRegistryClient(context).anchored_for(record)
    except LedgerError as exc:
        return f"its holder could not be read: chain read failed: {exc}"
    return bundle.holder_problem(None if anchored is None else anchored[0])


@dataclass(frozen=True)
class _StoredCopy:
    """What the ``storage.copy`` check needs besides the chain."""

    documents: DocumentService | None
    encrypted_types: frozenset[int]
    #: Whether the holder presented a copy (else only its hash was given).
    presented: bool
    #: Departments whose copies the store must hold (None: every department's).
    local_issuers: frozenset[int] | None = None


def _issuers(issuers: Collection[int] | None) -> frozenset[int] | None:
    return None if issuers is None else frozenset(issuers)


def _verify_anchor(
    report: _Report,
    doc_hash: bytes,
    kind: str | None,
    context: ChainContext,
    confirmations: int,
    now: datetime,
    storage: _StoredCopy,
    proof: BatchProof | None = None,
) -> VerificationReport:
    certificates = CertificateRegistryClient(context)
    registry = DepartmentRegistryClient(context)
    report.add(CheckName.BUNDLE, Outcome.NOT_APPLICABLE, "not part of a bundle")
    report.add(CheckName.AGREEMENT, Outcome.NOT_APPLICABLE, "one node asked")
    anchored_hash = doc_hash
    if proof is None:
        report.add(CheckName.MERKLE, Outcome.NOT_APPLICABLE, "not part of a batch")
    elif not _check_proof(report, doc_hash, proof, context):
        return report.finish(doc_hash, kind, now, None)
    else:
        anchored_hash = proof.root

    # Pin every read to one block, so the checks describe one consistent state of the chain.
    head = _read(report, CheckName.ANCHORED, lambda: int(context.web3.eth.block_number))
    if head is None:
        return report.finish(doc_hash, kind, now, None)
    lookup = _read(
        report, CheckName.ANCHORED, lambda: certificates.certificate(anchored_hash, block=head)
    )
    if CheckName.ANCHORED in report.checks:  # the read failed
        return report.finish(doc_hash, kind, now, None)
    if lookup is None:
        missing = "no anchor for this batch root" if proof else "no anchor for this document hash"
        report.add(CheckName.ANCHORED, Outcome.FAILED, missing)
        return report.finish(doc_hash, kind, now, None)
    record: CertificateRecord = lookup
    if proof is not None and record.kind is not RecordKind.BATCH_ROOT:
        report.add(CheckName.ANCHORED, Outcome.FAILED, "the proof's root is not a batch root")
        return report.finish(doc_hash, kind, now, record)
    report.add(
        CheckName.ANCHORED,
        Outcome.PASSED,
        ("batch " if proof else "")
        + f"anchored in block {record.anchored_block} at {record.anchored_at.isoformat()} "
        f"by department {record.issuer}",
    )

    accredited = _read(
        report,
        CheckName.ACCREDITED,
        lambda: registry.is_department_authorized(
            record.issuer, record.cert_type, record.region, record.anchored_at, block=head
        ),
    )
    if accredited is not None:
        report.add(
            CheckName.ACCREDITED,
            Outcome.PASSED if accredited else Outcome.FAILED,
            f"department {record.issuer} "
            + ("was" if accredited else "was not")
            + f" accredited for type {record.cert_type:#x} in region {record.region} when anchored",
        )

    if proof is None:
        _check_status(report, record, certificates)
    else:
        _check_leaf_status(report, doc_hash, proof, record, certificates, head)
    # Block timestamps may run a little ahead of the wall clock (one second per block at least),
    # so validity starts are judged against whichever is later: now, or the chain's own time.
    chain_time = _read(
        report, CheckName.DATES, lambda: context.web3.eth.get_block(head)["timestamp"]
    )
    if chain_time is not None:
        _check_dates(report, record, max(now, datetime.fromtimestamp(int(chain_time), UTC)), now)

    report.add(CheckName.FINALITY, *_finality_outcome(head, record.anchored_block, confirmations))
    if proof is None:
        _check_stored_copy(report, record, certificates, storage)
    else:
        report.add(
            CheckName.STORED_COPY,
            Outcome.NOT_APPLICABLE,
            "a batched certificate has no stored copy of its own",
        )
    return report.finish(doc_hash, kind, now, record)


def _check_proof(
    report: _Report, doc_hash: bytes, proof: BatchProof, context: ChainContext
) -> bool:
    """The proof leads to its root, on this verifier's chain and registry."""
    deployment = context.deployment
    if (proof.chain_id, proof.registry) != (
        deployment.chain_id,
        deployment.certificate_registry,
    ):
        report.add(
            CheckName.MERKLE,
            Outcome.FAILED,
            f"the proof names registry {proof.registry} on chain {proof.chain_id}; this "
            f"verifier reads {deployment.certificate_registry} on chain {deployment.chain_id}",
        )
        return False
    if not verify_proof(doc_hash, proof.path, proof.root):
        report.add(
            CheckName.MERKLE,
            Outcome.FAILED,
            f"the proof does not lead from this document to root 0x{proof.root.hex()}",
        )
        return False
    report.add(
        CheckName.MERKLE,
        Outcome.PASSED,
        f"leaf of batch 0x{proof.root.hex()} ({len(proof.path)} step(s) to the root)",
    )
    return True


def _check_leaf_status(
    report: _Report,
    doc_hash: bytes,
    proof: BatchProof,
    record: CertificateRecord,
    certificates: CertificateRegistryClient,
    head: int,
) -> None:
    leaf = _read(
        report,
        CheckName.STATUS,
        lambda: certificates.leaf_status(proof.root, doc_hash, proof.path, block=head),
    )
    if leaf is None:
        return
    if leaf.status is CertificateStatus.ACTIVE:
        report.add(
            CheckName.STATUS, Outcome.PASSED, "active (batch active, certificate not revoked)"
        )
    elif leaf.revoked_by is not None and record.status is not CertificateStatus.REVOKED:
        report.add(
            CheckName.STATUS,
            Outcome.FAILED,
            f"revoked within its batch (reason: {_reason_name(leaf.reason_code)})",
        )
    elif leaf.status is CertificateStatus.NONE:
        report.add(CheckName.STATUS, Outcome.FAILED, "the chain does not confirm the proof")
    else:
        report.add(
            CheckName.STATUS,
            Outcome.FAILED,
            f"batch {leaf.status.name.lower()} (reason: {_reason_name(leaf.reason_code)})",
        )


def anchored_cid(
    certificates: CertificateRegistryClient, record: CertificateRecord
) -> bytes | None:
    """The binary CID anchored with ``record``, or None when it was anchored without one.

    The CID is log data of the ``CertificateAnchoredFor`` event, whose only topic is the subject
    reference, so the event is found by the document hash in its data. The record says in which
    block it was anchored, and the event was emitted by that very transaction: one block's logs
    are read, not the chain's (an index of CIDs by hash is issue 7's).
    """
    anchored = certificates.anchored_for(record)
    return None if anchored is None else anchored[1] or None


def _check_stored_copy(
    report: _Report,
    record: CertificateRecord,
    certificates: CertificateRegistryClient,
    storage: _StoredCopy,
) -> None:
    name = CheckName.STORED_COPY
    documents = storage.documents
    if documents is None:
        report.add(name, Outcome.NOT_APPLICABLE, "not checked: this verifier has no document store")
        return
    binary = _read(report, name, lambda: anchored_cid(certificates, record))
    if name in report.checks:  # the read failed
        return
    if binary is None:
        report.add(name, Outcome.NOT_APPLICABLE, "no stored copy was anchored with this record")
        return
    try:
        parse_cid(binary)
        cid = cid_to_str(binary)
    except InvalidCidError:
        report.add(name, Outcome.FAILED, "the CID anchored with this record is malformed")
        return
    try:
        data = documents.fetch_document(cid)
        key = documents.vault.get_key(cid)
    except DocumentErasedError:
        report.add(name, Outcome.NOT_APPLICABLE, _erased_detail(documents, cid, storage.presented))
        return
    except DocumentNotFoundError:
        if storage.local_issuers is not None and record.issuer not in storage.local_issuers:
            report.add(
                name,
                Outcome.NOT_APPLICABLE,
                f"stored copy {cid} is kept in the store of department {record.issuer}'s "
                "region, not in this verifier's",
            )
        else:
            report.add(name, Outcome.FAILED, f"stored copy {cid} is not in the document store")
        return
    except StorageUnavailableError as exc:
        report.add(name, Outcome.FAILED, f"document store unreachable: {exc}")
        return
    except StorageError as exc:
        report.add(name, Outcome.FAILED, f"stored copy {cid} could not be read: {exc}")
        return
    try:
        stored_hash = document_hash_of(data).hash
    except LedgerError:
        stored_hash = None
    if stored_hash == record.doc_hash:
        how = "decrypted, " if key is not None else ""
        report.add(name, Outcome.PASSED, f"stored copy {cid} ({how}{len(data)} bytes) matches")
    elif key is None and (
        looks_sealed(data) or _expects_ciphertext(record.cert_type, storage.encrypted_types)
    ):
        # Sealed, or of a type always sealed: a ciphertext this verifier has no key for. A copy
        # of any type is sealed when its holder is a natural person (ADR 0016), which the chain
        # does not say, so the copy's own shape is what tells.
        report.add(
            name,
            Outcome.NOT_APPLICABLE,
            f"stored copy {cid} is encrypted and its key is not held by this verifier",
        )
    else:
        report.add(name, Outcome.FAILED, f"stored copy {cid} does not match the anchored hash")


def _erased_detail(documents: DocumentService, cid: str, presented: bool) -> str:
    try:
        erased = documents.vault.erased_at(cid)
    except StorageError:
        erased = None
    when = f"erased on {erased.isoformat()}" if erased else "erased"
    return f"{when}: the stored copy is gone; " + (
        "the presented copy was verified against the anchor"
        if presented
        else "only the anchor remains"
    )


def _expects_ciphertext(cert_type: int, encrypted_types: frozenset[int]) -> bool:
    """Whether copies of ``cert_type`` are stored encrypted (personal, or encrypted by policy)."""
    if cert_type in encrypted_types:
        return True
    try:
        return certificate_type(cert_type).personal
    except ValidationError:
        return False


def _check_status(
    report: _Report, record: CertificateRecord, certificates: CertificateRegistryClient
) -> None:
    status = record.status
    if status is CertificateStatus.ACTIVE:
        report.add(CheckName.STATUS, Outcome.PASSED, "active")
        return
    reason = _reason_name(record.reason_code)
    if status is CertificateStatus.SUPERSEDED:
        successor = _read(report, CheckName.STATUS, lambda: certificates.successor(record.doc_hash))
        if CheckName.STATUS in report.checks:
            return
        target = f"0x{successor.hex()}" if successor else "unknown"
        report.add(CheckName.STATUS, Outcome.FAILED, f"superseded by {target} (reason: {reason})")
        return
    report.add(CheckName.STATUS, Outcome.FAILED, f"{status.name.lower()} (reason: {reason})")


def _check_dates(
    report: _Report, record: CertificateRecord, chain_now: datetime, now: datetime
) -> None:
    report.add(
        CheckName.DATES,
        *_dates_outcome(record.anchored_at, record.expires_at, chain_now, now),
    )


def _dates_outcome(
    anchored_at: datetime, expires_at: datetime | None, chain_now: datetime, now: datetime
) -> tuple[Outcome, str]:
    if chain_now < anchored_at:
        return Outcome.FAILED, "not yet valid"
    if expires_at is not None and now >= expires_at:
        return Outcome.FAILED, f"expired at {expires_at.isoformat()}"
    until = expires_at.isoformat() if expires_at else "no expiry"
    return Outcome.PASSED, f"valid from {anchored_at.isoformat()}, {until}"


def _finality_outcome(head: int, anchored_block: int, confirmations: int) -> tuple[Outcome, str]:
    depth = head - anchored_block + 1
    outcome = Outcome.PASSED if depth >= confirmations else Outcome.FAILED
    return outcome, f"{depth} confirmation(s), {confirmations} required"


#: The values refresh_report compares on every cached answer (an enum's ``.value`` is slow).
_FAILED: Final = Outcome.FAILED.value
_NOT_APPLICABLE: Final = Outcome.NOT_APPLICABLE.value
_DATES: Final = CheckName.DATES.value
_FINALITY: Final = CheckName.FINALITY.value


@functools.lru_cache(maxsize=8192)
def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def refresh_report(
    report: dict[str, Any], *, head: int, now: datetime, confirmations: int
) -> dict[str, Any]:
    """A report (``VerificationReport.to_json()``) computed earlier, with what depends on the
    moment computed again: ``dates.valid`` (expiry), ``finality.confirmations`` (depth under
    ``head``), the verdict and ``checkedAt``. Every other check depends on the chain alone.

    ``report`` is not changed; the checks not computed again are shared with it."""
    refreshed = dict(report)
    record = report.get("record")
    checks: list[dict[str, Any]] = list(report["checks"])
    if record is not None:
        for position, check in enumerate(checks):
            name = check["name"]
            if name not in (_DATES, _FINALITY) or check["outcome"] == _NOT_APPLICABLE:
                continue
            if name == _DATES:
                anchored_at = _instant(record["anchoredAt"])
                expires = record["expiresAt"]
                outcome, detail = _dates_outcome(
                    anchored_at, _instant(expires) if expires else None, max(now, anchored_at), now
                )
            else:
                outcome, detail = _finality_outcome(
                    head, int(record["anchoredBlock"]), confirmations
                )
            checks[position] = {**check, "outcome": outcome.value, "detail": detail}
    refreshed["checks"] = checks
    failed = any(check["outcome"] == _FAILED for check in checks)
    refreshed["verdict"] = (Verdict.INVALID if failed else Verdict.VALID).value
    refreshed["checkedAt"] = now.isoformat()
    return refreshed


def _reason_name(code: int) -> str:
    try:
        return ReasonCode(code).label
    except ValueError:
        return f"code {code}"


def _read(report: _Report, name: CheckName, call: Callable[[], T]) -> T | None:
    """Run a chain read; on failure record ``name`` as failed (a node error is never a pass)."""
    try:
        return rpc_guard(call)
    except LedgerError as exc:
        report.add(name, Outcome.FAILED, f"chain read failed: {exc}")
        return None


def _agreement_view(report: VerificationReport) -> tuple[object, ...]:
    """What two nodes must agree on: the verdict and every check, except the confirmation count
    (two healthy nodes may be a block apart) and the agreement line itself."""
    return (
        report.verdict,
        report.document_hash,
        tuple(
            (check.name, check.outcome, check.detail)
            for check in report.checks
            if check.name not in (CheckName.FINALITY, CheckName.AGREEMENT)
        ),
        tuple(c.outcome for c in report.checks if c.name is CheckName.FINALITY),
    )


def agree(reports: Sequence[VerificationReport], nodes: Sequence[str]) -> VerificationReport:
    """One report from the same verification run against several nodes (``ledger verify --rpc A
    --rpc B``): the first node's, with ``chain.agreement`` passed when every node reports the
    same, and failed, naming the first difference, when they do not."""
    if len(reports) != len(nodes) or not reports:
        raise ValueError("one report per node")
    first = reports[0]
    if len(reports) == 1:
        return first
    view = _agreement_view(first)
    detail = f"{len(reports)} nodes report the same"
    outcome = Outcome.PASSED
    for report, node in zip(reports[1:], nodes[1:], strict=True):
        if _agreement_view(report) != view:
            outcome = Outcome.FAILED
            detail = f"{node} disagrees with {nodes[0]}: " + _first_difference(first, report)
            break
    checks = tuple(
        Check(CheckName.AGREEMENT, outcome, detail) if c.name is CheckName.AGREEMENT else c
        for c in first.checks
    )
    return replace(first, checks=checks)


def _first_difference(first: VerificationReport, other: VerificationReport) -> str:
    theirs = {check.name: check for check in other.checks}
    for check in first.checks:
        if check.name in (CheckName.FINALITY, CheckName.AGREEMENT):
            continue
        their = theirs.get(check.name)
        if their is None or (their.outcome, their.detail) != (check.outcome, check.detail):
            shown = f"{their.outcome.value}: {their.detail}" if their else "missing"
            return f"{check.name.value} is {shown}"
    return f"verdict {other.verdict.value}"
