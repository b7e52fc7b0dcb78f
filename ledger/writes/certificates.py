"""Certificate writes: anchoring with a stored copy (and superseding), status changes, batches.

:func:`anchor` is the anchoring workflow of ADR 0008: the document is stored first (encrypted when
its holder is a natural person or its type calls for it, ADR 0016) and anchored with its CID
second, so the chain never names a copy that was not stored; when the call certainly fails the
stored copy is discarded (:meth:`~ledger.writes.prepared.PreparedWrite.failed`).

:func:`suspend`, :func:`reinstate`, :func:`revoke` and :func:`revoke_leaf` change a record's
status, once the department may (ledger/authorization.py). :func:`anchor_batch` (and
:func:`anchor_hashes`, given the hashes) anchors one Merkle root for many documents (ADR 0010),
its manifest stored first; a batch may name each leaf's holder by subject reference, which the
manifest carries only as a keyed tag (ADR 0026).

Not here: the batch format, manifest and proofs (:mod:`ledger.documents.batches`), the calls
themselves (:mod:`ledger.contracts.certificates`), sending or journaling them (the CLI,
``api/writes.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from eth_typing import ChecksumAddress

from ledger.authorization import authorize_certificate_change, require_accreditation
from ledger.catalogue import CertificateType
from ledger.contracts import CertificateRegistryClient
from ledger.documents import DocumentKind, document_hash_of
from ledger.documents.batches import MAX_BATCH, BatchProof, batch_manifest, proofs_for
from ledger.documents.merkle import MerkleTree
from ledger.errors import (
    CertificateRegistryAlreadyAnchored,
    NotFoundError,
    UnknownKeyError,
    ValidationError,
)
from ledger.identity import Subject
from ledger.storage.cid import cid_from_str
from ledger.writes.prepared import PreparedWrite, Signer, Undo

if TYPE_CHECKING:
    from ledger.session import LedgerSession

__all__ = [
    "Anchored",
    "BatchAnchored",
    "Changed",
    "anchor",
    "anchor_batch",
    "anchor_hashes",
    "reinstate",
    "revoke",
    "revoke_leaf",
    "store_batch_manifest",
    "suspend",
]


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
    _require_key(session, department_id)
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
        function = certificates.anchor(
            digest.hash, cert_type.code, region, expires_at, subject_ref=reference, cid=cid
        )
    else:
        old_hash, reason = supersedes
        function = certificates.supersede(
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


def _require_key(session: LedgerSession, department_id: int) -> None:
    """Refuse a department with no signing key in this data directory, before anything is
    stored for its write."""
    if not session.keystore.department_keys(department_id):
        raise UnknownKeyError(
            f"no signing key of department {department_id} in this data directory"
        )


# -- status changes -------------------------------------------------------------------------


@dataclass(frozen=True)
class Changed:
    """What a status change reports."""

    #: The certificate whose status changes.
    doc_hash: bytes
    #: Its batch root, for one certificate of a batch (:func:`revoke_leaf`); None otherwise.
    root: bytes | None = None

    @property
    def record(self) -> bytes:
        """The hash whose public record shows the change (a batch certificate has none of its
        own: its root's)."""
        return self.doc_hash if self.root is None else self.root


def _authorized(
    session: LedgerSession, department_id: int, doc_hash: bytes
) -> CertificateRegistryClient:
    """The certificate client, once ``department_id`` may change ``doc_hash``'s record: its
    issuer or a supervisor, accredited for its type in its region (an unknown hash is refused
    as such, ledger/authorization.py)."""
    certificates = session.certificates()
    authorize_certificate_change(session.registry(), certificates, department_id, doc_hash)
    return certificates


def suspend(
    session: LedgerSession, doc_hash: bytes, reason: int, *, department_id: int
) -> PreparedWrite[Changed]:
    """Prepare the suspension of an active certificate (it can be reinstated)."""
    function = _authorized(session, department_id, doc_hash).suspend(doc_hash, reason)
    return PreparedWrite(function, Signer.department(department_id), Changed(doc_hash))


def reinstate(
    session: LedgerSession, doc_hash: bytes, *, department_id: int
) -> PreparedWrite[Changed]:
    """Prepare the reinstatement of a suspended certificate."""
    function = _authorized(session, department_id, doc_hash).reinstate(doc_hash)
    return PreparedWrite(function, Signer.department(department_id), Changed(doc_hash))


def revoke(
    session: LedgerSession, doc_hash: bytes, reason: int, *, department_id: int
) -> PreparedWrite[Changed]:
    """Prepare the revocation of a certificate, for good."""
    function = _authorized(session, department_id, doc_hash).revoke(doc_hash, reason)
    return PreparedWrite(function, Signer.department(department_id), Changed(doc_hash))


def revoke_leaf(
    session: LedgerSession, doc_hash: bytes, proof: BatchProof, reason: int, *, department_id: int
) -> PreparedWrite[Changed]:
    """Prepare the revocation of one certificate of a batch: its proof names the batch root,
    whose record the department must be allowed to change; the batch's other certificates
    stand."""
    certificates = _authorized(session, department_id, proof.root)
    function = certificates.revoke_leaf(proof.root, doc_hash, proof.path, reason)
    return PreparedWrite(function, Signer.department(department_id), Changed(doc_hash, proof.root))


# -- batches --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchAnchored:
    """What a batch anchoring reports."""

    #: The batch's tree: its root is anchored, its leaves are the document hashes in order.
    tree: MerkleTree
    #: Which hashing rule applied to each document.
    kinds: tuple[DocumentKind, ...]
    #: CID of the stored manifest; None when it was not stored.
    manifest_cid: str | None
    #: Region the batch is anchored for (the department's).
    region: int
    #: The anchor every proof names: the chain and its certificate registry.
    chain_id: int
    registry: ChecksumAddress
    #: Each leaf's holder (subject reference), None for a leaf given none (ADR 0026); the
    #: caller indexes them once the root is anchored
    #: (:func:`ledger.service.holdings.record_batch_holders`).
    holders: tuple[bytes | None, ...] = ()

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def leaves(self) -> tuple[bytes, ...]:
        return self.tree.leaves

    @functools.cached_property
    def proofs(self) -> tuple[BatchProof, ...]:
        """Every document's proof, in order (built when first asked for: the service builds
        them when a job is read, not when it is anchored)."""
        return proofs_for(self.tree, self.chain_id, self.registry, self.manifest_cid)


def _check_size(count: int) -> None:
    if not count:
        raise ValidationError("a batch needs at least one certificate")
    if count > MAX_BATCH:
        raise ValidationError(f"a batch holds at most {MAX_BATCH} certificates")


def anchor_batch(
    session: LedgerSession,
    documents: Sequence[bytes],
    cert_type: CertificateType,
    *,
    department_id: int,
    expires_at: datetime | None = None,
    store_manifest: bool = True,
    progress: Callable[[int], None] | None = None,
    holders: Sequence[bytes | None] | None = None,
) -> PreparedWrite[BatchAnchored]:
    """Prepare the anchoring of ``documents`` (files or structured certificates) as one batch:
    one call for all of them. ``progress`` is called with the number of documents hashed so
    far; ``holders`` are as :func:`anchor_hashes` takes them."""
    _check_size(len(documents))
    digests = []
    for index, data in enumerate(documents, start=1):
        digests.append(document_hash_of(data))
        if progress is not None and (index % 256 == 0 or index == len(documents)):
            progress(index)
    return anchor_hashes(
        session,
        [digest.hash for digest in digests],
        cert_type,
        department_id=department_id,
        expires_at=expires_at,
        store_manifest=store_manifest,
        kinds=[digest.kind for digest in digests],
        holders=holders,
    )


def anchor_hashes(
    session: LedgerSession,
    leaves: Sequence[bytes],
    cert_type: CertificateType,
    *,
    department_id: int,
    expires_at: datetime | None = None,
    store_manifest: bool = True,
    kinds: Sequence[DocumentKind] | None = None,
    holders: Sequence[bytes | None] | None = None,
) -> PreparedWrite[BatchAnchored]:
    """Prepare the anchoring of a batch given its document hashes (the leaves, in order).

    ``holders``, aligned with the leaves, are the holders' subject references (None for a leaf
    without one): references, not identifiers, because the callers turn an identifier into its
    reference the moment they read it, and a reference is all the manifest's keyed tags and the
    holders' index need (ADR 0026).

    Everything that can refuse without side effects runs first (the batch's size, a hash
    listed twice, the department, its key, a root that is already anchored); then the manifest
    is stored (hashes only, content addressed: never taken back, since storing it again gives
    the same CID); then the call is built.
    """
    _check_size(len(leaves))
    refs = _holder_refs(holders, len(leaves))
    tree = MerkleTree.build(list(leaves))
    record = session.registry().department(department_id)
    if record is None:
        raise NotFoundError(f"department {department_id} is not registered")
    _require_key(session, department_id)
    certificates = session.certificates()
    if certificates.certificate(tree.root) is not None:
        raise CertificateRegistryAlreadyAnchored({"docHash": tree.root})
    manifest_cid = None
    if store_manifest:
        manifest_cid = store_batch_manifest(
            session, tree, cert_type, record.region, department_id, expires_at, refs
        )
    function = certificates.anchor_batch(tree.root, cert_type.code, record.region, expires_at)
    deployment = session.deployment
    facts = BatchAnchored(
        tree=tree,
        kinds=tuple(kinds) if kinds is not None else tuple(DocumentKind.FILE for _ in leaves),
        manifest_cid=manifest_cid,
        region=record.region,
        chain_id=deployment.chain_id,
        registry=deployment.certificate_registry,
        holders=refs,
    )
    return PreparedWrite(function, Signer.department(department_id), facts)


def _holder_refs(holders: Sequence[bytes | None] | None, count: int) -> tuple[bytes | None, ...]:
    """One subject reference (or None) per leaf; refused before anything is stored when the
    list does not match the leaves or holds something that is not a reference."""
    if holders is None:
        return (None,) * count
    if len(holders) != count:
        raise ValidationError("a batch names one holder (or none) per document")
    if any(ref is not None and len(ref) != 32 for ref in holders):
        raise ValidationError("a holder is given by its 32-byte subject reference")
    return tuple(None if ref is None else bytes(ref) for ref in holders)


def store_batch_manifest(
    session: LedgerSession,
    tree: MerkleTree,
    cert_type: CertificateType,
    region: int,
    department_id: int,
    expires_at: datetime | None,
    holders: Sequence[bytes | None] | None = None,
) -> str:
    """Store the batch's manifest (in clear: hashes and keyed holder tags only) and return its
    CID. Storing it again (with the same holders) gives the same CID, so a batch finished after
    a restart names the same manifest."""
    manifest = batch_manifest(tree, cert_type, region, department_id, expires_at, holders)
    return session.documents().store_document(manifest, encrypt=False).cid
