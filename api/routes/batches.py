"""Batch anchoring as an asynchronous job: ``POST /v1/certificates/batches`` answers 202 at once
with the job's location; the job anchors one Merkle root for every uploaded document
(ADR 0010) and its status resource then lists each document's proof. The job itself runs in
:mod:`api.jobs`."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile

from api.deps import (
    DepartmentDep,
    ExpiresForm,
    MultipartBody,
    ServiceDep,
    SettingsDep,
    StaffDep,
    TypeForm,
    audit_target,
    audited,
    department_for_write,
    parse_expiry,
    read_upload,
)
from api.jobs import start_job
from api.problems import ProblemError, problem_responses
from api.schemas import BatchErrorOut, BatchItemOut, BatchJobOut
from api.security import DepartmentCaller
from api.service import Service
from api.views import hex32
from ledger.catalogue import certificate_type
from ledger.documents import document_hash_of
from ledger.documents.batches import proofs_for
from ledger.documents.merkle import MerkleTree
from ledger.documents.strict_json import parse_json
from ledger.errors import InvalidDocumentError, InvalidIdentifierError, ValidationError
from ledger.identity import SubjectKind, parse_subject
from ledger.service.batch_jobs import BatchJob

router = APIRouter(prefix="/certificates/batches", tags=["certificates"])

JobPath = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$", description="batch job id")]
#: The holders of a batch's documents (ADR 0026): one JSON field, so that a batch of
#: ``LEDGER_MAX_BATCH_SIZE`` documents stays within the multipart parser's 1,000 fields.
HoldersForm = Annotated[
    str | None,
    Form(
        max_length=200_000,
        description="JSON array, one entry per files part in order: null (no holder) or "
        '{"subject": identity number or credit code, "subjectKind"?: "citizen" | "enterprise"}',
    ),
]
_HOLDER_KEYS: Final = frozenset({"subject", "subjectKind"})
#: The holders field's 200,000 characters in UTF-8 at most.
_HOLDERS_MAX_BYTES: Final = 4 * 200_000
_ERRORS: Final = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)


@router.post(
    "",
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
    holders: HoldersForm = None,
) -> BatchJobOut:
    """Accept a batch: every document is hashed now and the job recorded before the answer, so
    an accepted batch survives a restart; anchoring runs in the background. The parts' file
    names are never read: the job knows each document by its index and hash (ADR 0016). The
    holders, when given, become subject references here and only references are kept
    (ADR 0026)."""
    kind = certificate_type(type)
    expiry = parse_expiry(expires_at)
    if len(files) > settings.max_batch_size:
        raise ValidationError(f"a batch holds at most {settings.max_batch_size} documents")
    refs = _holder_refs(service, holders, len(files))
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
            return service.jobs.create(caller.department_id, kind.name, expiry, kinds, leaves, refs)

    await service.read(admit)
    job = await service.offload(create)
    audit_target(request, f"batch:{job.job_id}")
    start_job(service, job)
    response.headers["Location"] = f"/v1/certificates/batches/{job.job_id}"
    return job_out(service, job)


def _holder_refs(service: Service, holders: str | None, count: int) -> list[bytes | None] | None:
    """The subject reference of each document's holder (None for a null entry), each identifier
    validated and dropped at once; refusals name the document's index, never the identifier."""
    if holders is None:
        return None
    try:
        # Strict and depth-bounded: json.loads on 100,000 "[" would crash the process.
        entries = parse_json(holders, _HOLDERS_MAX_BYTES)
    except InvalidDocumentError:
        raise ValidationError("holders must be a JSON array") from None
    if not isinstance(entries, list) or len(entries) != count:
        raise ValidationError("holders is a JSON array with one entry (or null) per document")
    refs: list[bytes | None] = []
    for index, entry in enumerate(entries):
        if entry is None:
            refs.append(None)
            continue
        if (
            not isinstance(entry, dict)
            or not {"subject"} <= entry.keys() <= _HOLDER_KEYS
            or not isinstance(entry["subject"], str)
            or entry.get("subjectKind") not in (None, *(k.value for k in SubjectKind))
        ):
            raise ValidationError(
                f"holder of document {index}: an object with subject and optional subjectKind "
                "(citizen or enterprise), or null"
            )
        kind = entry.get("subjectKind")
        try:
            subject = parse_subject(entry["subject"], SubjectKind(kind) if kind else None)
        except InvalidIdentifierError as error:
            raise InvalidIdentifierError(f"holder of document {index}: {error}") from None
        refs.append(service.session.reference(subject))
    return refs


@router.get(
    "/{job_id}",
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
        deployment = service.session.deployment
        proofs = proofs_for(
            tree, deployment.chain_id, deployment.certificate_registry, job.manifest
        )
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
