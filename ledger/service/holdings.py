"""The certificates a subject holds: anchored for it one by one, or as a leaf of a batch.

A single certificate names its holder in its anchoring event (the subject reference is the
event's topic), so the chain answers "what does this subject hold". A batch anchors only a root;
its leaves' holders are kept off chain (ADR 0026): this module joins both.

Not here: verifying what is found (:mod:`ledger.verification`), the window's use of it
(:mod:`ledger.service.window`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.contracts import CertificateRegistryClient
from ledger.documents.batches import BatchProof
from ledger.service.database import ServiceDatabase
from ledger.storage.cid import cid_to_str

__all__ = ["Holding", "holdings_of", "record_batch_holders"]


@dataclass(frozen=True)
class Holding:
    """One certificate of a subject."""

    doc_hash: bytes
    #: The stored copy's CID anchored with it (single certificates); None when none was.
    cid: str | None
    #: For a batched certificate, its proof (root, path, chain, registry, manifest CID).
    proof: BatchProof | None = None


def record_batch_holders(
    database: ServiceDatabase,
    leaves: Sequence[bytes],
    holders: Sequence[bytes | None],
    proofs: Sequence[BatchProof],
    block: int,
) -> int:
    """Index the holders of an anchored batch: one row per leaf given a holder (``holders``
    are subject references aligned with ``leaves`` and ``proofs``, None for no holder). Called
    once the root is anchored, by the service's batch job and by ``ledger anchor-batch`` alike;
    recording the same batch again changes nothing. Returns the number of leaves with a
    holder."""
    rows = [
        (proof.registry, ref, leaf, proof.root, proof.dumps().decode(), block)
        for leaf, ref, proof in zip(leaves, holders, proofs, strict=True)
        if ref is not None
    ]
    if rows:
        with database.transaction() as connection:
            connection.executemany(
                "INSERT OR IGNORE INTO batch_holdings "
                "(registry, subject_ref, doc_hash, root, proof, block) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
    return len(rows)


def holdings_of(
    certificates: CertificateRegistryClient, database: ServiceDatabase, subject_ref: bytes
) -> list[Holding]:
    """Every certificate anchored for ``subject_ref``, oldest first: the single ones from the
    chain's anchoring events, the batched ones from the service database's index (of this
    deployment's registry), each with its proof. What is found is not verified here."""
    found: list[tuple[int, Holding]] = [
        (block, Holding(doc_hash, cid_to_str(cid) if cid else None))
        for doc_hash, cid, block in certificates.held_by(subject_ref)
    ]
    rows = database.query(
        "SELECT doc_hash, proof, block FROM batch_holdings WHERE registry = ? AND subject_ref = ? "
        "ORDER BY block, rowid",
        (str(certificates.context.deployment.certificate_registry), bytes(subject_ref)),
    )
    found.extend(
        (int(block), Holding(bytes(doc_hash), None, BatchProof.from_json(json.loads(proof))))
        for doc_hash, proof, block in rows
    )
    found.sort(key=lambda item: item[0])  # stable: a block's single certificates first
    return [holding for _block, holding in found]
