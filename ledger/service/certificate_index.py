"""An index of anchored certificates by issuing department, kept from chain events.

``CertificateAnchored`` events carry the document hash as data (ADR 0003 keeps anchoring cheap),
so "the certificates of department N" cannot be asked of a node directly. The index reads the
anchor events of new blocks, looks each record's issuer up once, and stores (hash, issuer, block,
log index) in the service database. It is a cache of the chain: deleting it loses nothing, and it
is keyed by the registry's address, so a new deployment starts a new index.

Only the service reads it (a department's certificate listing); the verification reports the
service keeps between requests are another cache, :mod:`ledger.service.verification_index`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ledger.contracts import CertificateRegistryClient
from ledger.service.database import ServiceDatabase

__all__ = ["CertificateIndex", "IndexedCertificate"]

#: Blocks read per ``eth_getLogs`` request while catching up.
_SPAN: Final = 5_000


@dataclass(frozen=True)
class IndexedCertificate:
    doc_hash: bytes
    issuer: int
    block: int
    log_index: int


class CertificateIndex:
    """Certificates by issuer, caught up with the chain on demand."""

    def __init__(self, database: ServiceDatabase, certificates: CertificateRegistryClient) -> None:
        self._database = database
        self._certificates = certificates
        self._registry = str(certificates.contract.address)
        self._start = certificates.context.deployment.block

    def _cursor(self) -> int:
        rows = self._database.query(
            "SELECT block FROM index_cursor WHERE registry = ?", (self._registry,)
        )
        return int(rows[0][0]) if rows else self._start - 1

    def catch_up(self, head: int) -> int:
        """Index anchors up to block ``head``; returns how many were added."""
        added = 0
        position = self._cursor()
        while position < head:
            last = min(head, position + _SPAN)
            found = self._certificates.anchored_between(position + 1, last)
            rows = []
            for doc_hash, block, log_index in found:
                record = self._certificates.certificate(doc_hash)
                if record is not None:
                    rows.append((self._registry, doc_hash, record.issuer, block, log_index))
            with self._database.transaction() as connection:
                connection.executemany(
                    "INSERT OR IGNORE INTO certificate_index "
                    "(registry, doc_hash, issuer, block, log_index) VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                connection.execute(
                    "INSERT INTO index_cursor (registry, block) VALUES (?, ?) "
                    "ON CONFLICT (registry) DO UPDATE SET block = excluded.block",
                    (self._registry, last),
                )
            added += len(rows)
            position = last
        return added

    def by_issuer(
        self, issuer: int, *, limit: int, before: tuple[int, int] | None = None
    ) -> list[IndexedCertificate]:
        """The issuer's certificates, newest first, strictly before (block, log index)."""
        sql = (
            "SELECT doc_hash, issuer, block, log_index FROM certificate_index "
            "WHERE registry = ? AND issuer = ?"
        )
        parameters: list[object] = [self._registry, issuer]
        if before is not None:
            sql += " AND (block < ? OR (block = ? AND log_index < ?))"
            parameters += [before[0], before[0], before[1]]
        sql += " ORDER BY block DESC, log_index DESC LIMIT ?"
        parameters.append(limit)
        return [
            IndexedCertificate(bytes(doc_hash), int(issuer_), int(block), int(log_index))
            for doc_hash, issuer_, block, log_index in self._database.query(sql, parameters)
        ]
