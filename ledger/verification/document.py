"""Verification of one certificate against the chain: a presented document, or a bare hash
(the checks: docs/architecture.md).

Everything here reads the chain through a read-only :class:`~ledger.contracts.ChainContext`, so the
same code serves the API, the web page and ``ledger verify --rpc URL`` talking straight to a node.
Every read is pinned to one block, so the checks describe one consistent state of the chain.

Not here: the report and its builder (:mod:`ledger.verification.report`), the stored-copy check
(:mod:`~ledger.verification.stored_copy`), the checks that depend on the moment
(:mod:`~ledger.verification.timing`), bundles (:mod:`~ledger.verification.bundle`) and the
agreement of several nodes (:mod:`~ledger.verification.nodes`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import TypedDict, Unpack

from ledger.catalogue import ReasonCode
from ledger.contracts import (
    CertificateRecord,
    CertificateRegistryClient,
    CertificateStatus,
    ChainContext,
    DepartmentRegistryClient,
    RecordKind,
)
from ledger.documents import DocumentDigester, DocumentKind, digest_and_proof
from ledger.documents.batches import BatchProof
from ledger.documents.merkle import verify_proof
from ledger.errors import LedgerError
from ledger.storage.vault import DocumentService
from ledger.verification.report import CheckName, Outcome, ReportBuilder, VerificationReport
from ledger.verification.stored_copy import StoredCopy, check_stored_copy
from ledger.verification.timing import dates_outcome, finality_outcome

__all__ = ["AnchorOptions", "VerifyOptions", "verify_document", "verify_hash"]


class VerifyOptions(TypedDict, total=False):
    """What a verification may be given besides what is verified; every key may be left out.

    ``confirmations``: blocks required above the anchor (0). ``now``: the moment the dates are
    judged at (the wall clock). ``documents``: the document service whose stored copy is checked
    as well (None: ``storage.copy`` is not checked). ``encrypted_types``: certificate type codes
    whose copies are stored encrypted (the deployment's ``LEDGER_ENCRYPT_TYPES``).
    ``local_issuers``: the departments whose stored copies ``documents`` is expected to hold (a
    regional service's own departments): a copy anchored by another region's department that
    this store lacks is then not applicable rather than a failure, since each region keeps its
    own copies unless they share an IPFS cluster. None expects every copy.
    """

    confirmations: int
    now: datetime | None
    documents: DocumentService | None
    encrypted_types: Collection[int]
    local_issuers: Collection[int] | None


class AnchorOptions(VerifyOptions, total=False):
    """:class:`VerifyOptions` of one certificate, and ``proof``: its Merkle batch proof, when it
    is a certificate of a batch."""

    proof: BatchProof | None


def verify_document(
    source: bytes | DocumentDigester, context: ChainContext, **options: Unpack[AnchorOptions]
) -> VerificationReport:
    """Verify a presented document (file bytes or a wrapped structured certificate), or one
    already hashed as it arrived (a :class:`~ledger.documents.DocumentDigester`: an upload).

    A certificate of a Merkle batch is checked through its proof: the one inside a wrapped
    certificate, or ``proof`` for a file (its ``.proof.json``).

    With ``documents`` the stored copy named by the anchor is checked as well. Copies of personal
    certificate types, of the types in ``encrypted_types``, and copies sealed because their holder
    is a natural person (any type: recognised by the sealed format's shape) are ciphertexts:
    without their key here they are reported as not checkable rather than as a mismatch.
    """
    report = ReportBuilder()
    moment = options.get("now") or datetime.now(UTC)
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
    proof = options.get("proof")
    if proof is None and embedded is not None:
        try:
            proof = BatchProof.from_json(embedded)
        except LedgerError as exc:
            report.add(CheckName.MERKLE, Outcome.FAILED, f"the embedded batch proof: {exc}")
            return report.finish(digest.hash, str(digest.kind), moment, None)
    confirmations = options.get("confirmations", 0)
    storage = _stored_copy(options, presented=True)
    return _verify_anchor(
        report, digest.hash, str(digest.kind), context, confirmations, moment, storage, proof
    )


def verify_hash(
    doc_hash: bytes, context: ChainContext, **options: Unpack[AnchorOptions]
) -> VerificationReport:
    """Verify a bare document hash (the document itself is not presented); with ``proof``, as a
    certificate of a Merkle batch."""
    report = ReportBuilder()
    moment = options.get("now") or datetime.now(UTC)
    report.add(CheckName.PARSED, Outcome.NOT_APPLICABLE, "only a hash was presented")
    report.add(CheckName.HASH, Outcome.NOT_APPLICABLE, "only a hash was presented")
    confirmations = options.get("confirmations", 0)
    storage = _stored_copy(options, presented=False)
    proof = options.get("proof")
    return _verify_anchor(report, doc_hash, None, context, confirmations, moment, storage, proof)


def _stored_copy(options: VerifyOptions, *, presented: bool) -> StoredCopy:
    issuers = options.get("local_issuers")
    return StoredCopy(
        options.get("documents"),
        frozenset(options.get("encrypted_types", ())),
        presented,
        None if issuers is None else frozenset(issuers),
    )


def _verify_anchor(
    report: ReportBuilder,
    doc_hash: bytes,
    kind: str | None,
    context: ChainContext,
    confirmations: int,
    now: datetime,
    storage: StoredCopy,
    proof: BatchProof | None = None,
) -> VerificationReport:
    """The checks of an anchor, in the order of :class:`CheckName`, every read pinned to one block.

    The steps are called here, in the documented order: a check that fails early (no proof to
    the root, no anchor) ends the report, since nothing more can be asked.
    """
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

    head, record = _check_anchored(report, certificates, context, anchored_hash, proof)
    if head is None or record is None:
        return report.finish(doc_hash, kind, now, record)
    _check_accredited(report, registry, record, head)
    if proof is None:
        _check_status(report, record, certificates)
    else:
        _check_leaf_status(report, doc_hash, proof, record, certificates, head)
    # Block timestamps may run a little ahead of the wall clock (one second per block at least),
    # so validity starts are judged against whichever is later: now, or the chain's own time.
    chain_time = report.read(CheckName.DATES, lambda: context.web3.eth.get_block(head)["timestamp"])
    if chain_time is not None:
        _check_dates(report, record, max(now, datetime.fromtimestamp(int(chain_time), UTC)), now)

    report.add(CheckName.FINALITY, *finality_outcome(head, record.anchored_block, confirmations))
    if proof is None:
        check_stored_copy(report, record, certificates, storage)
    else:
        report.add(
            CheckName.STORED_COPY,
            Outcome.NOT_APPLICABLE,
            "a batched certificate has no stored copy of its own",
        )
    return report.finish(doc_hash, kind, now, record)


def _check_anchored(
    report: ReportBuilder,
    certificates: CertificateRegistryClient,
    context: ChainContext,
    anchored_hash: bytes,
    proof: BatchProof | None,
) -> tuple[int | None, CertificateRecord | None]:
    """``anchor.exists``: the block every later read is pinned to and the anchor's record.

    The block is None when the check failed; the record is still returned when one was found
    (a proof whose root is anchored, but not as a batch root), so that the report names it.
    """
    # Pin every read to one block, so the checks describe one consistent state of the chain.
    head = report.read(CheckName.ANCHORED, lambda: int(context.web3.eth.block_number))
    if head is None:
        return None, None
    lookup = report.read(
        CheckName.ANCHORED, lambda: certificates.certificate(anchored_hash, block=head)
    )
    if CheckName.ANCHORED in report.checks:  # the read failed
        return None, None
    if lookup is None:
        missing = "no anchor for this batch root" if proof else "no anchor for this document hash"
        report.add(CheckName.ANCHORED, Outcome.FAILED, missing)
        return None, None
    record: CertificateRecord = lookup
    if proof is not None and record.kind is not RecordKind.BATCH_ROOT:
        report.add(CheckName.ANCHORED, Outcome.FAILED, "the proof's root is not a batch root")
        return None, record
    report.add(
        CheckName.ANCHORED,
        Outcome.PASSED,
        ("batch " if proof else "")
        + f"anchored in block {record.anchored_block} at {record.anchored_at.isoformat()} "
        f"by department {record.issuer}",
    )
    return head, record


def _check_accredited(
    report: ReportBuilder, registry: DepartmentRegistryClient, record: CertificateRecord, head: int
) -> None:
    """``issuer.accredited``: the issuer held the accreditation for the type and region when it
    anchored."""
    accredited = report.read(
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


def _check_proof(
    report: ReportBuilder, doc_hash: bytes, proof: BatchProof, context: ChainContext
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
    report: ReportBuilder,
    doc_hash: bytes,
    proof: BatchProof,
    record: CertificateRecord,
    certificates: CertificateRegistryClient,
    head: int,
) -> None:
    leaf = report.read(
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


def _check_status(
    report: ReportBuilder, record: CertificateRecord, certificates: CertificateRegistryClient
) -> None:
    status = record.status
    if status is CertificateStatus.ACTIVE:
        report.add(CheckName.STATUS, Outcome.PASSED, "active")
        return
    reason = _reason_name(record.reason_code)
    if status is CertificateStatus.SUPERSEDED:
        successor = report.read(CheckName.STATUS, lambda: certificates.successor(record.doc_hash))
        if CheckName.STATUS in report.checks:
            return
        target = f"0x{successor.hex()}" if successor else "unknown"
        report.add(CheckName.STATUS, Outcome.FAILED, f"superseded by {target} (reason: {reason})")
        return
    report.add(CheckName.STATUS, Outcome.FAILED, f"{status.name.lower()} (reason: {reason})")


def _check_dates(
    report: ReportBuilder, record: CertificateRecord, chain_now: datetime, now: datetime
) -> None:
    report.add(
        CheckName.DATES,
        *dates_outcome(record.anchored_at, record.expires_at, chain_now, now),
    )


def _reason_name(code: int) -> str:
    try:
        return ReasonCode(code).label
    except ValueError:
        return f"code {code}"
