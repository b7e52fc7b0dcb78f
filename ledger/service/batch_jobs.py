"""Batch anchoring jobs of the service: accepted at once, anchored in the background, durable.

A job is written with its document hashes (the leaves) before the service answers 202, so the
documents themselves are not needed afterwards: only hashes go on chain, and the proofs are
computed from the leaves. A job left ``accepted`` by a crash is finished at the next start: if
its root is already anchored it is marked done (the transaction landed before the crash),
otherwise it is anchored then — never twice, since the contract refuses a root anchored before.

A job keeps no file name (ADR 0016): names such as ``<identity number>_<name>.txt`` are common
in offices, and whatever a client chose to call a file could carry personal data. Its documents
are known by their position in the upload (the index) and their hash, which is all a client
needs to match each proof to the file it sent.

A job given holders keeps them as subject references (ADR 0026), never as identifiers, from its
admission until it settles: the job's manifest tags each leaf for its holder, and the settled job
indexes them (:func:`ledger.service.holdings.record_batch_holders`).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ledger.documents import DocumentKind
from ledger.service.database import ServiceDatabase

__all__ = ["BatchJob", "BatchJobs", "JobStatus"]

JobStatus = Literal["accepted", "done", "failed"]


@dataclass(frozen=True)
class BatchJob:
    job_id: str
    department_id: int
    cert_type: str
    expires_at: datetime | None
    kinds: tuple[DocumentKind, ...]
    leaves: tuple[bytes, ...]
    status: JobStatus
    root: bytes | None
    manifest: str | None
    block: int | None
    transaction_hash: str | None
    error_code: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    #: Each leaf's holder (subject reference) or None; None when the batch named no holder.
    holders: tuple[bytes | None, ...] | None = None


_SELECT = (
    "SELECT job_id, department_id, cert_type, expires_at, kinds, leaves, status, root, "
    "manifest, block, transaction_hash, error_code, error, created_at, updated_at, holders "
    "FROM batch_jobs"
)


def _job(row: tuple[Any, ...]) -> BatchJob:
    (
        job_id, department_id, cert_type, expires_at, kinds, leaves, status, root,
        manifest, block, transaction_hash, error_code, error, created_at, updated_at, holders,
    ) = row  # fmt: skip
    raw = bytes(leaves)
    return BatchJob(
        job_id=str(job_id),
        department_id=int(department_id),
        cert_type=str(cert_type),
        expires_at=None if expires_at is None else datetime.fromtimestamp(expires_at, UTC),
        kinds=tuple(DocumentKind(kind) for kind in json.loads(str(kinds))),
        leaves=tuple(raw[i : i + 32] for i in range(0, len(raw), 32)),
        status=status,
        root=None if root is None else bytes(root),
        manifest=None if manifest is None else str(manifest),
        block=None if block is None else int(block),
        transaction_hash=None if transaction_hash is None else str(transaction_hash),
        error_code=None if error_code is None else str(error_code),
        error=None if error is None else str(error),
        created_at=datetime.fromtimestamp(int(created_at), UTC),
        updated_at=datetime.fromtimestamp(int(updated_at), UTC),
        holders=None
        if holders is None
        else tuple(None if ref is None else bytes.fromhex(ref) for ref in json.loads(holders)),
    )


class BatchJobs:
    """The ``batch_jobs`` table."""

    def __init__(self, database: ServiceDatabase) -> None:
        self._database = database

    def create(
        self,
        department_id: int,
        cert_type: str,
        expires_at: datetime | None,
        kinds: list[DocumentKind],
        leaves: list[bytes],
        holders: list[bytes | None] | None = None,
    ) -> BatchJob:
        job_id = secrets.token_hex(12)
        now = int(time.time())
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT INTO batch_jobs (job_id, department_id, cert_type, expires_at, kinds, "
                "leaves, status, created_at, updated_at, holders) "
                "VALUES (?, ?, ?, ?, ?, ?, 'accepted', ?, ?, ?)",
                (
                    job_id,
                    department_id,
                    cert_type,
                    int(expires_at.timestamp()) if expires_at else None,
                    json.dumps([str(kind) for kind in kinds]),
                    b"".join(leaves),
                    now,
                    now,
                    None
                    if holders is None
                    else json.dumps([None if ref is None else ref.hex() for ref in holders]),
                ),
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> BatchJob | None:
        rows = self._database.query(_SELECT + " WHERE job_id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def unfinished(self) -> list[BatchJob]:
        rows = self._database.query(_SELECT + " WHERE status = 'accepted' ORDER BY created_at")
        return [_job(row) for row in rows]

    def finish(
        self,
        job_id: str,
        *,
        root: bytes,
        manifest: str | None,
        block: int | None,
        transaction_hash: str | None,
    ) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                "UPDATE batch_jobs SET status = 'done', root = ?, manifest = ?, block = ?, "
                "transaction_hash = ?, updated_at = ? WHERE job_id = ?",
                (root, manifest, block, transaction_hash, int(time.time()), job_id),
            )

    def fail(self, job_id: str, code: str, message: str) -> None:
        with self._database.transaction() as connection:
            connection.execute(
                "UPDATE batch_jobs SET status = 'failed', error_code = ?, error = ?, "
                "updated_at = ? WHERE job_id = ?",
                (code, message, int(time.time()), job_id),
            )
