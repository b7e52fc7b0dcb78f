"""Batch anchoring as an asynchronous job: ``POST /v1/certificates/batches`` answers 202 at once
with the job's location; the job anchors one Merkle root for every uploaded document
(ADR 0010) and its status resource then lists each document's proof."""

from __future__ import annotations

import asyncio
import functools
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
from api.problems import ProblemError, problem_responses, status_of_error
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
from api.writes import request_digest
from ledger.batches import proofs_for, store_batch_manifest
from ledger.batchjobs import BatchJob
from ledger.catalogue import certificate_type
from ledger.contracts import RecordKind
from ledger.documents import document_hash_of
from ledger.errors import ChainUnavailableError, LedgerError, NotFoundError, ValidationError
from ledger.journal import BATCH_ANCHOR, Operation
from ledger.merkle import MerkleTree
from ledger.storage import StorageUnavailableError
from ledger.txmanager import Call, CallRecorder

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
    an accepted batch survives a restart; anchoring runs in the background. The parts' file
    names are never read: the job knows each document by its index and hash (ADR 0016)."""
    kind = certificate_type(type)
    expiry = parse_expiry(expires_at)
    if len(files) > settings.max_batch_size:
        raise ValidationError(f"a batch holds at most {settings.max_batch_size} documents")
    leaves: list[bytes] = []
    kinds = []
    total = 0
    for upload in files:
        data = await read_upload(upload, settings.max_upload_bytes - total)
        total += len(data)
        digest = document_hash_of(data)
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

    def create() -> BatchJob:
        # A job is one unit of the department's backlog (ADR 0018): 429 when it is full.
        with service.journal.admission(caller.department_id):
            return service.jobs.create(caller.department_id, kind.name, expiry, kinds, leaves)

    await service.read(admit)
    job = await service.offload(create)
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
                index=index, document_hash=hex32(leaf), kind=kind.value, proof=proof.to_json()
            )
            for index, (leaf, kind, proof) in enumerate(
                zip(job.leaves, job.kinds, proofs, strict=True)
            )
        ]
    return out


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
    tree = MerkleTree.build(list(job.leaves))
    earlier = service.journal.find(_JOB_SCOPE, job.job_id)
    if earlier is not None:
        return earlier, earlier.request["response"].get("manifest")
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
            return None, None
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
        return None, None
    department = session.registry().department(job.department_id)
    if department is None:
        raise NotFoundError(f"department {job.department_id} is not registered")
    manifest = store_batch_manifest(
        session, tree, kind, department.region, job.department_id, job.expires_at
    )
    recorder = CallRecorder(session.connection.web3)
    session.certificates(recorder).anchor_batch(
        tree.root, kind.code, department.region, job.expires_at
    )
    call = Call.from_function(
        recorder.only_call(), session.deployment, {"department": job.department_id}
    )
    operation, _created = service.journal.accept(
        BATCH_KIND,
        {"call": call.to_json(), "response": {"root": hex32(tree.root), "manifest": manifest}},
        department_id=job.department_id,
        idempotency=(_JOB_SCOPE, job.job_id, request_digest(BATCH_KIND, {"job": job.job_id})),
    )
    return operation, manifest


def settle_job(service: Service, job: BatchJob, operation: Operation, manifest: str | None) -> None:
    """Step two: record the journaled anchoring's outcome in the job."""
    if operation.state == "confirmed":
        assert operation.block is not None
        assert operation.tx_hash is not None
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
