"""Batch anchoring as an asynchronous job: ``POST /v1/certificates/batches`` answers 202 at once
with the job's location; the job anchors one Merkle root for every uploaded document
(ADR 0010) and its status resource then lists each document's proof."""

from __future__ import annotations

import asyncio
from typing import Annotated, Final

from fastapi import APIRouter, Depends, File, Path, Request, Response, UploadFile

from api.deps import (
    DepartmentDep,
    MultipartBody,
    ServiceDep,
    SettingsDep,
    StaffDep,
    audit_target,
    audited,
)
from api.problems import ProblemError, problem_responses
from api.routes.certificates import (
    ExpiresForm,
    TypeForm,
    department_for_write,
    parse_expiry,
    read_upload,
)
from api.schemas import BatchErrorOut, BatchItemOut, BatchJobOut
from api.security import DepartmentCaller
from api.service import Service
from api.views import hex32
from ledger.batches import anchor_hashes, proofs_for, store_batch_manifest
from ledger.batchjobs import BatchJob
from ledger.catalogue import certificate_type
from ledger.contracts import RecordKind
from ledger.documents import document_hash_of
from ledger.errors import ChainUnavailableError, LedgerError, ValidationError
from ledger.merkle import MerkleTree
from ledger.storage import StorageUnavailableError

router = APIRouter(tags=["certificates"])

JobPath = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$", description="batch job id")]
#: A job whose chain or store does not answer is retried this many times, with growing pauses
#: (then it waits, still accepted, for the next start).
_ATTEMPTS: Final = 20
_RETRY_SECONDS: Final = 2.0
_ERRORS: Final = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)


@router.post(
    "/certificates/batches",
    status_code=202,
    response_model=BatchJobOut,
    responses=_ERRORS,
    dependencies=[Depends(audited("certificate.batch")), MultipartBody],
)
async def submit_batch(
    request: Request,
    response: Response,
    caller: DepartmentDep,
    service: ServiceDep,
    settings: SettingsDep,
    files: Annotated[list[UploadFile], File(description="the documents (files or certificates)")],
    type: TypeForm,
    expires_at: ExpiresForm = None,
) -> BatchJobOut:
    """Accept a batch: every document is hashed now and the job recorded before the answer, so
    an accepted batch survives a restart; anchoring runs in the background."""
    kind = certificate_type(type)
    expiry = parse_expiry(expires_at)
    if len(files) > settings.max_batch_size:
        raise ValidationError(f"a batch holds at most {settings.max_batch_size} documents")
    names: list[str] = []
    leaves: list[bytes] = []
    kinds = []
    total = 0
    for upload in files:
        data = await read_upload(upload, settings.max_upload_bytes - total)
        total += len(data)
        digest = document_hash_of(data)
        names.append((upload.filename or f"document-{len(names) + 1}")[:200])
        leaves.append(digest.hash)
        kinds.append(digest.kind)
    if len(set(leaves)) != len(leaves):
        raise ValidationError("a document appears twice in the batch")
    session = service.session

    def admit() -> None:
        department_for_write(session, caller)
        if kind.code not in session.registry().scopes(caller.department_id):
            raise ProblemError(
                403,
                "not_authorized",
                f"department {caller.department_id} is not accredited for {kind.name}",
            )

    await service.read(admit)
    job = await service.offload(
        lambda: service.jobs.create(caller.department_id, kind.name, expiry, names, kinds, leaves)
    )
    audit_target(request, f"batch:{job.job_id}")
    start_job(service, job)
    response.headers["Location"] = f"/v1/certificates/batches/{job.job_id}"
    return job_out(service, job)


@router.get(
    "/certificates/batches/{job_id}",
    response_model=BatchJobOut,
    responses=problem_responses(401, 403, 404, 422, 429, 500, 503),
)
async def get_batch(job_id: JobPath, caller: StaffDep, service: ServiceDep) -> BatchJobOut:
    """The job: its status, and once done the batch root and every document's proof."""
    job = await service.offload(lambda: service.jobs.get(job_id))
    if job is None or (
        isinstance(caller, DepartmentCaller) and caller.department_id != job.department_id
    ):
        # Another department's job is as unknown as a job that never was.
        raise ProblemError(404, "not_found", "no batch job with this id")
    return job_out(service, job)


def job_out(service: Service, job: BatchJob) -> BatchJobOut:
    out = BatchJobOut(
        job_id=job.job_id,
        status=job.status,
        department_id=job.department_id,
        type=job.cert_type,
        count=len(job.leaves),
        created_at=job.created_at,
        updated_at=job.updated_at,
    )
    if job.status == "failed":
        out.error = BatchErrorOut(code=job.error_code or "failed", detail=job.error or "")
    if job.status == "done" and job.root is not None:
        tree = MerkleTree.build(list(job.leaves))
        proofs = proofs_for(service.session, tree, job.manifest)
        out.root = hex32(job.root)
        out.manifest = job.manifest
        out.block_number = job.block
        out.transaction_hash = job.transaction_hash
        out.items = [
            BatchItemOut(
                name=name, document_hash=hex32(leaf), kind=kind.value, proof=proof.to_json()
            )
            for name, leaf, kind, proof in zip(
                job.names, job.leaves, job.kinds, proofs, strict=True
            )
        ]
    return out


def run_job(service: Service, job: BatchJob) -> bool:
    """Anchor the job's batch (or find it anchored by a run a crash interrupted) and record the
    outcome; False when the chain or the store did not answer and the job should be retried.
    Runs under the service's write lock."""
    session = service.session
    kind = certificate_type(job.cert_type)
    tree = MerkleTree.build(list(job.leaves))
    try:
        record = session.certificates().certificate(tree.root)
        if record is not None:
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
                return True
            manifest = store_batch_manifest(
                session, tree, kind, record.region, job.department_id, job.expires_at
            )
            service.jobs.finish(
                job.job_id,
                root=tree.root,
                manifest=manifest,
                block=record.anchored_block,
                transaction_hash=None,
            )
            return True
        outcome = anchor_hashes(
            session,
            list(job.leaves),
            kind,
            department_id=job.department_id,
            expires_at=job.expires_at,
            kinds=list(job.kinds),
        )
    except (ChainUnavailableError, StorageUnavailableError):
        return False  # stays accepted: retried shortly, or at the next start
    except LedgerError as error:
        service.jobs.fail(job.job_id, error.code, str(error))
        return True
    receipt = outcome.receipt
    service.jobs.finish(
        job.job_id,
        root=outcome.root,
        manifest=outcome.manifest_cid,
        block=int(receipt["blockNumber"]),
        transaction_hash=hex32(bytes(receipt["transactionHash"])),
    )
    return True


async def _run_with_retries(service: Service, job: BatchJob) -> None:
    for attempt in range(_ATTEMPTS):
        if await service.write(lambda: run_job(service, job)):
            return
        await asyncio.sleep(min(_RETRY_SECONDS * (attempt + 1), 60))


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
