"""The ``storage.copy`` check: the copy anchored with a certificate, fetched and compared.

The check needs a document service (a store and the key vault): the CID anchored with the
certificate is read from its ``CertificateAnchoredFor`` event, the copy fetched, decrypted where
this verifier holds the key, hashed and compared. A verifier without a store reports it as not
applicable; an erased copy is not applicable too (erasure is lawful and the presented copy is
what the verdict is about); a store that cannot answer, a missing copy or one that does not
match is a failure.

The chain checks of the anchor itself are in :mod:`ledger.verification.document`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.catalogue import certificate_type
from ledger.contracts import CertificateRecord, CertificateRegistryClient
from ledger.documents import document_hash_of
from ledger.errors import LedgerError, ValidationError
from ledger.storage import DocumentNotFoundError, StorageError, StorageUnavailableError
from ledger.storage.cid import InvalidCidError, cid_to_str, parse_cid
from ledger.storage.vault import DocumentErasedError, DocumentService, looks_sealed
from ledger.verification.report import CheckName, Outcome, ReportBuilder

__all__ = ["StoredCopy", "anchored_cid", "check_stored_copy"]


@dataclass(frozen=True)
class StoredCopy:
    """What the ``storage.copy`` check needs besides the chain."""

    documents: DocumentService | None
    encrypted_types: frozenset[int]
    #: Whether the holder presented a copy (else only its hash was given).
    presented: bool
    #: Departments whose copies the store must hold (None: every department's).
    local_issuers: frozenset[int] | None = None


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


def check_stored_copy(
    report: ReportBuilder,
    record: CertificateRecord,
    certificates: CertificateRegistryClient,
    storage: StoredCopy,
) -> None:
    """Add ``storage.copy`` to ``report`` for the copy anchored with ``record``: its CID is
    read from the chain, the copy fetched, then compared with the anchored hash."""
    name = CheckName.STORED_COPY
    documents = storage.documents
    if documents is None:
        report.add(name, Outcome.NOT_APPLICABLE, "not checked: this verifier has no document store")
        return
    cid = _anchored_cid_text(report, record, certificates)
    if cid is None:
        return
    fetched = _fetch_copy(report, record, documents, cid, storage)
    if fetched is None:
        return
    data, key = fetched
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


def _anchored_cid_text(
    report: ReportBuilder, record: CertificateRecord, certificates: CertificateRegistryClient
) -> str | None:
    """The CID anchored with ``record`` in text form; None once ``storage.copy`` is decided
    without a copy (the read failed, no copy was anchored, the CID is malformed)."""
    name = CheckName.STORED_COPY
    binary = report.read(name, lambda: anchored_cid(certificates, record))
    if name in report.checks:  # the read failed
        return None
    if binary is None:
        report.add(name, Outcome.NOT_APPLICABLE, "no stored copy was anchored with this record")
        return None
    try:
        parse_cid(binary)
        return cid_to_str(binary)
    except InvalidCidError:
        report.add(name, Outcome.FAILED, "the CID anchored with this record is malformed")
        return None


def _fetch_copy(
    report: ReportBuilder,
    record: CertificateRecord,
    documents: DocumentService,
    cid: str,
    storage: StoredCopy,
) -> tuple[bytes, bytes | None] | None:
    """The stored copy (decrypted where this verifier holds its key) and that key; None once
    ``storage.copy`` is decided without it (erased, kept in another region's store, missing,
    or the store cannot answer)."""
    name = CheckName.STORED_COPY
    try:
        data = documents.fetch_document(cid)
        key = documents.vault.get_key(cid)
    except DocumentErasedError:
        report.add(name, Outcome.NOT_APPLICABLE, _erased_detail(documents, cid, storage.presented))
        return None
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
        return None
    except StorageUnavailableError as exc:
        report.add(name, Outcome.FAILED, f"document store unreachable: {exc}")
        return None
    except StorageError as exc:
        report.add(name, Outcome.FAILED, f"stored copy {cid} could not be read: {exc}")
        return None
    return data, key


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
