"""Certificate writes: anchoring with a stored copy (and superseding), status changes.

:func:`anchor` is the anchoring workflow of ADR 0008: the document is stored first (encrypted when
its holder is a natural person or its type calls for it, ADR 0016) and anchored with its CID
second, so the chain never names a copy that was not stored; when the call certainly fails the
stored copy is discarded (:meth:`~ledger.writes.prepared.PreparedWrite.failed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ledger.authorization import authorize_certificate_change, require_accreditation
from ledger.catalogue import CertificateType
from ledger.documents import DocumentKind, document_hash_of
from ledger.errors import CertificateRegistryAlreadyAnchored, NotFoundError, UnknownKeyError
from ledger.identity import Subject
from ledger.storage.cid import cid_from_str
from ledger.writes.prepared import PreparedWrite, Signer, Undo

if TYPE_CHECKING:
    from ledger.session import LedgerSession

__all__ = ["Anchored", "anchor"]


@dataclass(frozen=True)
class Anchored:
    """What an anchoring reports."""

    #: The anchored document hash (of the plaintext).
    doc_hash: bytes
    #: Which hashing rule applied (file bytes or structured certificate).
    document_kind: DocumentKind
    #: CID of the stored copy, recorded with the anchor; None when anchored without one.
    cid: str | None
    #: Whether the stored copy is a ciphertext (its key in the vault).
    encrypted: bool
    #: Region the certificate is anchored for.
    region: int


def anchor(
    session: LedgerSession,
    data: bytes,
    cert_type: CertificateType,
    *,
    holder: Subject,
    department_id: int,
    region: int | None = None,
    expires_at: datetime | None = None,
    store: bool = True,
    supersedes: tuple[bytes, int] | None = None,
) -> PreparedWrite[Anchored]:
    """Store ``data`` and prepare the anchoring of its hash for ``holder`` (by its subject
    reference), with the copy's CID.

    The order is what keeps the ledger free of half-done records (ADR 0008):

    1. Everything that can refuse without side effects runs first: the document is hashed (a
       malformed certificate stops here), the department's right to anchor (or to change the
       replaced certificate) is checked before anything else is said about the hash, the
       department's key is looked up, and a hash already anchored is refused.
    2. The document is stored, encrypted under a fresh key when
       :meth:`~ledger.config.Settings.encrypts` says so (ADR 0016). A store that is down raises
       StorageUnavailableError and nothing is anchored.
    3. The call is built. If sending it fails in a way that proves nothing was anchored, the
       stored copy is discarded; if the chain stopped answering, the copy is kept, and the
       error says which CID was kept.

    ``store=False`` anchors the hash alone. ``supersedes=(old hash, reason code)`` anchors the
    document as the replacement of an earlier certificate (same type and region, one call).
    """
    digest = document_hash_of(data)
    registry = session.registry()
    if region is None:
        record = registry.department(department_id)
        if record is None:
            raise NotFoundError(f"department {department_id} is not registered")
        region = record.region
    certificates = session.certificates()
    # Authorization before existence: a department that may not anchor this is told so, not
    # that the hash is already anchored (ledger/authorization.py).
    if supersedes is None:
        require_accreditation(registry, department_id, cert_type.code, region)
    else:
        authorize_certificate_change(registry, certificates, department_id, supersedes[0])
    if not session.keystore.department_keys(department_id):  # no key here: stop before storing
        raise UnknownKeyError(
            f"no signing key of department {department_id} in this data directory"
        )
    if certificates.certificate(digest.hash) is not None:
        raise CertificateRegistryAlreadyAnchored({"docHash": digest.hash})
    reference = session.reference(holder)  # before storing: a pepper problem stores nothing
    stored = None
    undo = None
    if store:
        documents = session.documents()
        stored = documents.store_document(
            bytes(data), encrypt=session.settings.encrypts(cert_type, holder)
        )
        copy = stored.cid
        # A plaintext copy is content addressed: an identical earlier upload may share it.
        undo = Undo(
            f"the stored copy {copy}", lambda: documents.discard(copy), not stored.encrypted
        )
    cid = cid_from_str(stored.cid) if stored else None
    if supersedes is None:
        function = certificates.anchor_function(
            digest.hash, cert_type.code, region, expires_at, subject_ref=reference, cid=cid
        )
    else:
        old_hash, reason = supersedes
        function = certificates.supersede_function(
            old_hash, digest.hash, reason, expires_at, subject_ref=reference, cid=cid
        )
    facts = Anchored(
        doc_hash=digest.hash,
        document_kind=digest.kind,
        cid=stored.cid if stored else None,
        encrypted=stored.encrypted if stored else False,
        region=region,
    )
    return PreparedWrite(function, Signer.department(department_id), facts, undo)
