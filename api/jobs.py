"""The batch job runner (ADR 0010): a job accepted by ``POST /v1/certificates/batches``
(:mod:`api.routes.batches`) is anchored in the background through the journal, retried while
the chain or the store is down, and resumed at the next start (``resume_jobs``, called by
:mod:`api.app`). Kept apart from the routes, which only route."""

from __future__ import annotations

import asyncio
import functools
from typing import Final

from api.problems import status_of_error
from api.service import Service
from api.views import hex32
from api.writes import request_digest
from ledger.catalogue import certificate_type
from ledger.contracts import CertificateRecord, RecordKind
from ledger.documents.batches import proofs_for
from ledger.documents.merkle import MerkleTree
from ledger.errors import CertificateRegistryAlreadyAnchored, ChainUnavailableError, LedgerError
from ledger.service.batch_jobs import BatchJob
from ledger.service.calls import Call
from ledger.service.holdings import record_batch_holders
from ledger.service.journal import BATCH_ANCHOR, Operation
from ledger.storage import StorageUnavailableError
from ledger.writes.certificates import anchor_hashes, store_batch_manifest

__all__ = ["BATCH_KIND", "journal_job", "resume_jobs", "settle_job", "start_job"]

#: A job whose chain or store does not answer is retried this many times, with growing pauses
#: (then it waits, still accepted, for the next start).
_ATTEMPTS: Final = 20
_RETRY_SECONDS: Final = 2.0

#: Journal kind of a batch job's anchoring; the job id is its idempotency key.
BATCH_KIND: Final = BATCH_ANCHOR
_JOB_SCOPE: Final = "batch-job"


def journal_job(service: Service, job: BatchJob) -> tuple[Operation | None, str | None]:
    """Step one of a job: settle it if its root is anchored already (a run a crash interrupted,
    or the same documents sent again), else store the manifest and journal the anchoring, once
    (the job id is the operation's idempotency key). Returns (the operation, the manifest CID),
    or (None, None) when the job was settled here."""
    session = service.session
    kind = certificate_type(job.cert_type)
    earlier = service.journal.find(_JOB_SCOPE, job.job_id)
    if earlier is not None:
        return earlier, earlier.request["response"].get("manifest")
    # The batch anchoring use case (shared with ``ledger anchor-batch``): checks, the stored
    # manifest, the call. A root anchored already is the one refusal a job settles on.
    try:
        write = anchor_hashes(
            session,
            job.leaves,
            kind,
            department_id=job.department_id,
            expires_at=job.expires_at,
            holders=job.holders,
        )
    except CertificateRegistryAlreadyAnchored:
        tree = MerkleTree.build(list(job.leaves))
        record = session.certificates().certificate(tree.root)
        if record is None:  # the chain answered both ways: let the job's retry ask again
            raise
        _settle_anchored(service, job, tree, record)
        return None, None
    tree = write.facts.tree
    manifest = write.facts.manifest_cid
    call = Call.from_function(write.function, session.deployment, write.signer.to_json())
    try:
        operation, created = service.journal.accept(
            BATCH_KIND,
            {"call": call.to_json(), "response": {"root": hex32(tree.root), "manifest": manifest}},
            department_id=job.department_id,
            idempotency=(_JOB_SCOPE, job.job_id, request_digest(BATCH_KIND, {"job": job.job_id})),
        )
    except BaseException as failure:
        write.failed(failure)
        raise
    if not created:
        write.dropped()
    return operation, manifest


def _settle_anchored(
    service: Service, job: BatchJob, tree: MerkleTree, record: CertificateRecord
) -> None:
    """Settle a job whose root is anchored already: done when it was anchored with the job's
    terms by its department (its manifest stored again: the same CID), else failed as a
    duplicate."""
    kind = certificate_type(job.cert_type)
    same_terms = (
        record.kind is RecordKind.BATCH_ROOT
        and record.issuer == job.department_id
        and record.cert_type == kind.code
        and record.expires_at == job.expires_at
    )
    if not same_terms:
        service.jobs.fail(
            job.job_id,
            "duplicate",
            "these documents are already anchored as a batch (with other terms, or by "
            "another department)",
        )
        return
    manifest = store_batch_manifest(
        service.session, tree, kind, record.region, job.department_id, job.expires_at, job.holders
    )
    _record_holders(service, job, manifest, record.anchored_block)
    service.jobs.finish(
        job.job_id,
        root=tree.root,
        manifest=manifest,
        block=record.anchored_block,
        transaction_hash=None,
    )


def settle_job(service: Service, job: BatchJob, operation: Operation, manifest: str | None) -> None:
    """Step two: record the journaled anchoring's outcome in the job."""
    if operation.state == "confirmed":
        assert operation.block is not None
        assert operation.tx_hash is not None
        _record_holders(service, job, manifest, operation.block)
        service.jobs.finish(
            job.job_id,
            root=MerkleTree.build(list(job.leaves)).root,
            manifest=manifest,
            block=operation.block,
            transaction_hash=hex32(operation.tx_hash),
        )
    elif operation.state == "failed":
        code = status_of_error(operation.error_code or "")[1]
        service.jobs.fail(job.job_id, code, operation.error or "the anchoring failed")


def _record_holders(service: Service, job: BatchJob, manifest: str | None, block: int) -> None:
    """Index the holders of a job's anchored batch (ADR 0026) before the job reads as done, so
    a holder who sees it done finds the certificate under ``/v1/me/certificates``."""
    if job.holders is None:
        return
    deployment = service.session.deployment
    proofs = proofs_for(
        MerkleTree.build(list(job.leaves)),
        deployment.chain_id,
        deployment.certificate_registry,
        manifest,
    )
    record_batch_holders(service.database, job.leaves, job.holders, proofs, block)


async def _run_with_retries(service: Service, job: BatchJob) -> None:
    """Journal the job's anchoring (retrying while the chain or the store is down), then wait
    for the transaction manager to finish it."""
    for attempt in range(_ATTEMPTS):
        try:
            operation, manifest = await service.read(lambda: journal_job(service, job))
        except (ChainUnavailableError, StorageUnavailableError):
            await asyncio.sleep(min(_RETRY_SECONDS * (attempt + 1), 60))
            continue  # stays accepted: retried shortly, or at the next start
        except LedgerError as error:
            code, detail = error.code, str(error)
            await service.offload(functools.partial(service.jobs.fail, job.job_id, code, detail))
            return
        if operation is None:
            return
        service.transactions.wake()
        while True:
            final = await service.await_operation(operation.op_id, 60)
            if final.finished:
                await service.offload(functools.partial(settle_job, service, job, final, manifest))
                return


def start_job(service: Service, job: BatchJob) -> None:
    """Run ``job`` in the background (the task is kept until it ends)."""
    task = asyncio.get_running_loop().create_task(_run_with_retries(service, job))
    service.background.add(task)
    task.add_done_callback(service.background.discard)


def resume_jobs(service: Service) -> int:
    """Start every job a restart interrupted; returns how many."""
    unfinished = service.jobs.unfinished()
    for job in unfinished:
        start_job(service, job)
    return len(unfinished)
