"""Document storage: content-addressed, IPFS-compatible (ADR 0008).

Two backends implement :class:`DocumentStore`: an embedded block store on disk that computes the
same CIDs as Kubo (``ipfs add --cid-version=1 --raw-leaves``, 256 KiB chunks, balanced DAG), and a
Kubo-RPC client for a real IPFS node or cluster. The chain anchors document hashes; the store keeps
the (encrypted, for natural persons) bytes and is addressed by CID.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ledger.errors import LedgerError, NotFoundError

__all__ = [
    "DocumentNotFoundError",
    "DocumentStat",
    "DocumentStore",
    "StorageError",
    "StorageUnavailableError",
]


class StorageError(LedgerError):
    """The document store failed."""

    code = "storage_error"


class StorageUnavailableError(StorageError, ConnectionError):
    """The IPFS node could not be reached or did not answer in time; safe to retry."""

    code = "storage_unavailable"
    retryable = True


class DocumentNotFoundError(StorageError, NotFoundError):
    """No content with this CID is in the store."""

    code = "document_not_found"


@dataclass(frozen=True)
class DocumentStat:
    """What the store knows about one stored document."""

    #: CIDv1 in base32 (``bafy...`` for DAG roots, ``bafk...`` for single raw blocks).
    cid: str
    #: Size of the document's bytes.
    size: int
    #: Number of blocks (1 for documents of at most one chunk).
    blocks: int
    #: Whether the store keeps it against garbage collection.
    pinned: bool


@runtime_checkable
class DocumentStore(Protocol):
    """Content-addressed storage of documents."""

    def put(self, data: bytes) -> str:
        """Store ``data`` (pinned) and return its CID, identical to Kubo's for the same bytes."""

    def get(self, cid: str) -> bytes:
        """The bytes stored under ``cid``; DocumentNotFoundError when absent."""

    def has(self, cid: str) -> bool:
        """Whether the whole document is present."""

    def pin(self, cid: str) -> None:
        """Keep ``cid`` against garbage collection; DocumentNotFoundError when absent."""

    def unpin(self, cid: str) -> None:
        """Allow ``cid`` to be collected (idempotent)."""

    def stat(self, cid: str) -> DocumentStat:
        """Size, block count and pin state; DocumentNotFoundError when absent."""
