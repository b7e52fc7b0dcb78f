"""The certificates a subject holds: anchored for it one by one, or as a leaf of a batch.

A single certificate names its holder in its anchoring event (the subject reference is the
event's topic), so the chain answers "what does this subject hold". A batch anchors only a root;
its leaves' holders are kept off chain (ADR 0026): this module joins both.

Not here: verifying what is found (:mod:`ledger.verification`), the window's use of it
(:mod:`ledger.service.window`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.contracts import CertificateRegistryClient
from ledger.documents.batches import BatchProof
from ledger.service.database import ServiceDatabase
from ledger.storage.cid import cid_to_str

__all__ = ["Holding", "holdings_of"]


@dataclass(frozen=True)
class Holding:
    """One certificate of a subject."""

    doc_hash: bytes
    #: The stored copy's CID anchored with it (single certificates); None when none was.
    cid: str | None
    #: For a batched certificate, its proof (root, path, chain, registry, manifest CID).
    proof: BatchProof | None = None


def holdings_of(
    certificates: CertificateRegistryClient, database: ServiceDatabase, subject_ref: bytes
) -> list[Holding]:
    """Every certificate anchored for ``subject_ref``, oldest first (chain reads)."""
    del database  # the holders of batched certificates: the next increment
    return [
        Holding(doc_hash, cid_to_str(cid) if cid else None)
        for doc_hash, cid, _block in certificates.held_by(subject_ref)
    ]
