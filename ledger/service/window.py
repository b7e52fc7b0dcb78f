"""The window's check (一窗受理): an applicant's certificates for one service, checked on chain.

Under a live consent (:meth:`ledger.service.consents.ConsentStore.live` or a redemption) the
window sees, for each certificate type the consent's service requires or accepts, the
certificates of that type the applicant holds (anchored for them one by one, or as a leaf of a
batch: :func:`ledger.service.holdings.holdings_of`), from any department and any region, each
verified exactly as ``ledger verify --hash`` and ``POST /v1/verify`` verify a bare hash
(:func:`ledger.verification.verify_hash`, with the batch proof of a batched one). A type is
satisfied when one of them is VALID; a required type without a VALID one is missing.

What the window does not see: certificates of any other type the applicant holds (their type is
read to leave them out, nothing of them is verified or answered), and stored copies of types
the service's ``content`` does not list (ADR 0027). The stored copy of a listed type is read
through the document service, which decrypts it, and only when it still hashes to its anchor.

Not here: who may call and the access log entries (``api/routes/window.py`` records them),
the consent's rules (:mod:`ledger.service.consents`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.catalogue import CertificateType, certificate_type
from ledger.contracts import CertificateRecord, CertificateRegistryClient, RecordKind
from ledger.documents import document_hash_of
from ledger.errors import ConsentOutOfScopeError, LedgerError, ValidationError
from ledger.service.consents import ConsentRecord
from ledger.service.database import ServiceDatabase
from ledger.service.holdings import Holding, holdings_of
from ledger.services import Service, service
from ledger.session import LedgerSession
from ledger.storage import DocumentNotFoundError, StorageError, StorageUnavailableError
from ledger.storage.vault import DocumentErasedError, DocumentService
from ledger.verification import AnchorOptions, Verdict, VerificationReport, verify_hash

__all__ = [
    "Requirement",
    "WindowCertificate",
    "WindowCheck",
    "check_window",
    "read_stored_copy",
]


@dataclass(frozen=True)
class WindowCertificate:
    """One certificate of the applicant, as the window sees it."""

    doc_hash: bytes
    report: VerificationReport
    #: Whether the window may read its stored copy: the service's ``content`` lists its type,
    #: a copy was anchored with it and this service's store can give it.
    stored_copy: bool


@dataclass(frozen=True)
class Requirement:
    """One certificate type of the service, and the applicant's certificates of that type."""

    cert_type: CertificateType
    #: True for a type the service requires, False for one it accepts.
    required: bool
    certificates: tuple[WindowCertificate, ...]

    @property
    def satisfied(self) -> bool:
        """Whether one of the certificates is VALID."""
        return any(item.report.verdict is Verdict.VALID for item in self.certificates)


@dataclass(frozen=True)
class WindowCheck:
    """The answer to the window: one requirement per type of the service, in its order."""

    consent: ConsentRecord
    requirements: tuple[Requirement, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """The required types without a VALID certificate."""
        return tuple(
            item.cert_type.name
            for item in self.requirements
            if item.required and not item.satisfied
        )

    @property
    def shown(self) -> tuple[bytes, ...]:
        """The hashes of every certificate shown (what the access log records)."""
        return tuple(cert.doc_hash for item in self.requirements for cert in item.certificates)


def _anchor_record(
    certificates: CertificateRegistryClient, holding: Holding
) -> CertificateRecord | None:
    """The record that says a holding's type: its own, or its batch root's for a batched one
    (None when the chain has none, or a proof names a root that is not a batch's)."""
    if holding.proof is None:
        return certificates.certificate(holding.doc_hash)
    record = certificates.certificate(holding.proof.root)
    return record if record is not None and record.kind is RecordKind.BATCH_ROOT else None


def _copy_available(documents: DocumentService | None, cid: str) -> bool:
    """Whether ``documents`` can give the copy stored under ``cid`` (not erased, in its store;
    another region's copy is in that region's store). A store that cannot answer says no."""
    if documents is None:
        return False
    try:
        return not documents.vault.is_erased(cid) and documents.store.has(cid)
    except StorageError:
        return False


def _types_of(entry: Service) -> list[tuple[CertificateType, bool]]:
    return [(kind, True) for kind in entry.requires] + [(kind, False) for kind in entry.accepts]


def check_window(
    session: LedgerSession,
    database: ServiceDatabase,
    documents: DocumentService | None,
    consent: ConsentRecord,
    options: AnchorOptions,
) -> WindowCheck:
    """The applicant's certificates of the consent's service's types, each verified.

    ``options`` are the verification's (confirmations, the document service whose stored copy
    ``storage.copy`` checks, encrypted types, local issuers), as the caller verifies a bare
    hash elsewhere (a batched certificate's proof is its holding's); ``documents`` says which
    stored copies can be read. Chain reads and service
    database reads: call it where the chain may be read.
    """
    entry = service(consent.service)
    certificates = session.certificates()
    content = set(entry.content)
    wanted = {kind.code: kind for kind, _required in _types_of(entry)}
    found: dict[int, list[WindowCertificate]] = {code: [] for code in wanted}
    for holding in holdings_of(certificates, database, consent.subject_ref):
        record = _anchor_record(certificates, holding)
        if record is None or record.cert_type not in wanted:
            continue  # another type: never verified, never shown
        verifying = options.copy()
        verifying["proof"] = holding.proof
        report = verify_hash(holding.doc_hash, session.context, **verifying)
        readable = (
            wanted[record.cert_type] in content
            and holding.proof is None
            and holding.cid is not None
            and _copy_available(documents, holding.cid)
        )
        found[record.cert_type].append(WindowCertificate(holding.doc_hash, report, readable))
    return WindowCheck(
        consent,
        tuple(
            Requirement(kind, required, tuple(found[kind.code]))
            for kind, required in _types_of(entry)
        ),
    )


def read_stored_copy(
    session: LedgerSession,
    database: ServiceDatabase,
    documents: DocumentService,
    consent: ConsentRecord,
    doc_hash: bytes,
) -> bytes:
    """The stored copy of the certificate ``doc_hash`` of the consent's subject, decrypted.

    Refused, in this order, so that no answer tells whether the subject holds a certificate
    of a type outside the consent: ConsentOutOfScopeError when the certificate's type (public,
    on the chain) is not one of the service's or not in its ``content``; NotFoundError when the
    hash has no anchor of its own (a batched certificate has no stored copy of its own), the
    subject does not hold it, no copy was anchored with it, the copy was erased, is not in this
    store, or no longer hashes to its anchor.
    """
    entry = service(consent.service)
    certificates = session.certificates()
    record = certificates.certificate(doc_hash)
    if record is None or record.kind is RecordKind.BATCH_ROOT:
        raise DocumentNotFoundError("no stored copy: this hash has no anchor of its own")
    try:
        kind = certificate_type(record.cert_type)
    except ValidationError:
        kind = None
    if kind is None or kind not in {*entry.requires, *entry.accepts}:
        raise ConsentOutOfScopeError(
            f"service {entry.code} neither requires nor accepts this certificate's type"
        )
    if kind not in entry.content:
        raise ConsentOutOfScopeError(
            f"service {entry.code} does not need the content of a {kind.name}: "
            "its validity is all the window sees"
        )
    held = {
        holding.doc_hash: holding
        for holding in holdings_of(certificates, database, consent.subject_ref)
        if holding.proof is None
    }
    holding = held.get(record.doc_hash)
    if holding is None:
        raise DocumentNotFoundError("the consent's subject holds no such certificate")
    if holding.cid is None:
        raise DocumentNotFoundError("no stored copy was anchored with this certificate")
    return _fetch_matching(documents, holding.cid, record.doc_hash)


def _fetch_matching(documents: DocumentService, cid: str, doc_hash: bytes) -> bytes:
    """The copy under ``cid``, decrypted, if it still hashes to ``doc_hash``; NotFoundError
    when it cannot be given (an unreachable store is StorageUnavailableError: retry)."""
    try:
        data = documents.fetch_document(cid)
    except DocumentErasedError:
        raise DocumentNotFoundError("the stored copy was erased") from None
    except (DocumentNotFoundError, StorageUnavailableError):
        raise
    except StorageError:
        raise DocumentNotFoundError("the stored copy cannot be read from this store") from None
    try:
        matches = document_hash_of(data).hash == doc_hash
    except LedgerError:
        matches = False
    if not matches:
        raise DocumentNotFoundError("the stored copy does not match its anchor")
    return data
