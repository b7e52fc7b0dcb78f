"""Certificates: anchoring by upload, the public record, status changes, listings."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from api.deps import (
    DepartmentDep,
    ExpiresForm,
    JsonBody,
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
from api.problems import ProblemError, problem_responses
from api.schemas import (
    HASH_PATTERN,
    AnchoredOut,
    CertificateOut,
    CertificatePageOut,
    NoBodyIn,
    ReasonIn,
    RevokeIn,
)
from api.security import DepartmentCaller
from api.service import Service
from api.views import hex32, public_certificate
from api.writes import (
    JOURNALED,
    Prepared,
    answer,
    finisher,
    idempotency_key,
    preferred_wait,
    run_operation,
    submit_for_department,
)
from ledger.catalogue import CertificateType, certificate_type, reason_code
from ledger.contracts import CertificateRecord, CertificateRegistryClient, Department
from ledger.documents.batches import BatchProof
from ledger.errors import (
    CertificateRegistryUnknownCertificate,
    DepartmentRegistryUnknownDepartment,
    ValidationError,
)
from ledger.identity import Subject, SubjectKind, parse_subject
from ledger.parsing import parse_hash
from ledger.service.journal import Operation
from ledger.session import LedgerSession
from ledger.writes import PreparedWrite
from ledger.writes.certificates import (
    Changed,
    anchor,
    reinstate,
    revoke,
    revoke_leaf,
    suspend,
)

router = APIRouter(tags=["certificates"])

HashPath = Annotated[str, Path(pattern=HASH_PATTERN, description="document hash, 0x + 64 hex")]
_WRITE_ERRORS: Final = problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 500, 503)
#: Form fields of the upload routes (anchoring, superseding; the type and expiry, which batches
#: share, are in api.deps).
SubjectForm = Annotated[str, Form(max_length=64, description="holder's id number or credit code")]
SubjectKindForm = Annotated[Literal["citizen", "enterprise"] | None, Form(alias="subjectKind")]
StoreForm = Annotated[bool, Form()]
#: Journal kind of an anchoring through ``POST /v1/certificates``.
ANCHOR_KIND: Final = "certificate.anchor"
#: Journal kind of a replacement through ``POST /v1/certificates/{hash}/supersede``.
SUPERSEDE_KIND: Final = "certificate.supersede"
_UPLOAD_DESCRIPTION: Final = "the document as issued (any file, or a structured JSON certificate)"


def _public_record(certificates: CertificateRegistryClient, doc_hash: bytes) -> CertificateOut:
    record = certificates.certificate(doc_hash)
    if record is None:
        raise CertificateRegistryUnknownCertificate({"docHash": doc_hash})
    return public_certificate(certificates, record)


@router.post(
    "/certificates",
    status_code=201,
    response_model=AnchoredOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("certificate.anchor")), MultipartBody],
)
async def anchor_certificate(
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description=_UPLOAD_DESCRIPTION)],
    type: TypeForm,
    subject: SubjectForm,
    subject_kind: SubjectKindForm = None,
    expires_at: ExpiresForm = None,
    store: StoreForm = True,
) -> JSONResponse:
    """Store the document (encrypted when its holder is a natural person or its type personal)
    and anchor its hash for the holder.

    Journaled (ADR 0012): 201 once the anchor is confirmed, within ``Prefer: wait=N`` seconds
    (``LEDGER_WRITE_WAIT`` by default); 202 with the operation to poll if it is not by then, or
    at once with ``Prefer: respond-async``. The same ``Idempotency-Key`` with the same request
    answers the same operation, without anchoring twice."""
    data = await read_upload(file, settings.max_upload_bytes)
    kind = certificate_type(type)
    anchoring = _Anchoring(data, kind, subject, subject_kind, parse_expiry(expires_at), store)
    final = await _journal_anchor(request, service, caller, anchoring)
    audit_target(request, str(final.request["response"]["documentHash"]))
    return _answer_anchor(final)


@dataclass(frozen=True)
class _Anchoring:
    """What an upload asks to anchor (or to anchor as a replacement)."""

    data: bytes
    cert_type: CertificateType
    subject: str
    subject_kind: Literal["citizen", "enterprise"] | None
    expiry: datetime | None
    store: bool
    #: (old hash, reason code) for a replacement.
    supersedes: tuple[bytes, int] | None = None

    @property
    def kind(self) -> str:
        return ANCHOR_KIND if self.supersedes is None else SUPERSEDE_KIND

    def holder(self) -> Subject:
        return parse_subject(
            self.subject, SubjectKind(self.subject_kind) if self.subject_kind else None
        )

    def identity(self, session: LedgerSession) -> dict[str, Any]:
        """What makes two uploads the same request for their ``Idempotency-Key``: the document
        by its hash, the holder by its subject reference."""
        return {
            "document": hashlib.sha256(self.data).hexdigest(),
            "type": self.cert_type.name,
            "subjectRef": session.reference(self.holder()).hex(),
            "expiresAt": self.expiry.isoformat() if self.expiry else None,
            "store": self.store,
            "supersedes": None
            if self.supersedes is None
            else [hex32(self.supersedes[0]), self.supersedes[1]],
        }


def _prepare_anchor(
    session: LedgerSession, caller: DepartmentCaller, anchoring: _Anchoring, region: int
) -> Prepared:
    """The anchoring use case (:func:`ledger.writes.certificates.anchor`: checks, the stored
    copy, the call) and the fields its answer reports until it is confirmed."""
    write = anchor(
        session,
        anchoring.data,
        anchoring.cert_type,
        holder=anchoring.holder(),
        department_id=caller.department_id,
        region=region,
        expires_at=anchoring.expiry,
        store=anchoring.store,
        supersedes=anchoring.supersedes,
    )
    facts = write.facts
    fields = AnchoredOut(
        document_hash=hex32(facts.doc_hash),
        type=anchoring.cert_type.name,
        region=facts.region,
        department_id=caller.department_id,
        cid=facts.cid,
        encrypted=facts.encrypted,
        block_number=0,
        transaction_hash="",
        supersedes=None if anchoring.supersedes is None else hex32(anchoring.supersedes[0]),
    ).model_dump(by_alias=True, exclude={"block_number", "transaction_hash"})
    return Prepared(write, fields)


async def _journal_anchor(
    request: Request,
    service: Service,
    caller: DepartmentCaller,
    anchoring: _Anchoring,
    region: int | None = None,
) -> Operation:
    """Journal an anchoring (or replacement) like every write (:func:`api.writes.run_operation`);
    the operation once confirmed, failed, or still pending after the preferred wait. The
    certificate's region is the department's, or ``region`` (a replacement keeps the old one's).
    """
    session = service.session
    checked: list[Department] = []

    def identity() -> dict[str, Any]:
        # Authorization first (ADR 0023); the department read here serves prepare() as well.
        checked.append(department_for_write(session, caller))
        return anchoring.identity(session)

    def prepare() -> Prepared:
        own = checked[-1].region if region is None else region
        return _prepare_anchor(session, caller, anchoring, own)

    # Only reads, the document store and the journal here: the transaction manager sends.
    return await run_operation(
        service,
        key=idempotency_key(request),
        wait=preferred_wait(request, service.settings),
        scope=caller.actor,
        department_id=caller.department_id,
        kind=anchoring.kind,
        identity=identity,
        prepare=prepare,
    )


def _answer_anchor(final: Operation) -> JSONResponse:
    """201 with the new certificate's ``Location`` once confirmed, else 202 with the operation
    (or the operation's problem)."""
    document_hash = final.request["response"]["documentHash"]
    return answer(
        final,
        status=201,
        model=AnchoredOut.model_validate,
        headers={"Location": f"/v1/certificates/{document_hash}"},
    )


@router.get(
    "/certificates/{document_hash}",
    response_model=CertificateOut,
    responses=problem_responses(404, 422, 429, 500, 503),
)
async def get_certificate(document_hash: HashPath, service: ServiceDep) -> CertificateOut:
    """The public record of an anchored certificate: issuer, type, region, dates and status."""
    doc_hash = parse_hash(document_hash)
    certificates = service.session.certificates()
    return await service.read(lambda: _public_record(certificates, doc_hash))


async def _status_change(
    request: Request,
    caller: DepartmentCaller,
    service: Service,
    document_hash: str,
    change: Literal["suspend", "reinstate", "revoke"],
    reason: str | None,
) -> JSONResponse:
    doc_hash = parse_hash(document_hash)
    audit_target(request, hex32(doc_hash))
    code = int(reason_code(reason)) if reason is not None else 0
    session = service.session
    department_id = caller.department_id

    def build() -> PreparedWrite[Changed]:
        if change == "suspend":
            return suspend(session, doc_hash, code, department_id=department_id)
        if change == "reinstate":
            return reinstate(session, doc_hash, department_id=department_id)
        return revoke(session, doc_hash, code, department_id=department_id)

    identity = {"documentHash": hex32(doc_hash), "reason": code}
    return await _journal_change(request, caller, service, f"certificate.{change}", identity, build)


async def _journal_change(
    request: Request,
    caller: DepartmentCaller,
    service: Service,
    kind: str,
    identity: dict[str, Any],
    build: Callable[[], PreparedWrite[Changed]],
) -> JSONResponse:
    """Journal a change of a certificate's status that ``build`` prepares, by the calling
    department (refused while governance has it suspended); the answer is the changed record
    (for a batched certificate, its batch root's: it has none of its own)."""

    def prepare() -> Prepared:
        write = build()
        return Prepared(write, {"documentHash": hex32(write.facts.record)})

    return await submit_for_department(
        request,
        service,
        caller,
        kind=kind,
        identity=identity,
        prepare=prepare,
        model=CertificateOut.model_validate,
    )


@finisher("certificate.suspend")
@finisher("certificate.reinstate")
@finisher("certificate.revoke")
@finisher("certificate.revoke-leaf")
def _record_after_change(service: Service, operation: Operation) -> dict[str, Any]:
    """The public record of the changed certificate (for a leaf: of its batch root)."""
    doc_hash = parse_hash(str(operation.request["response"]["documentHash"]))
    record = _public_record(service.session.certificates(), doc_hash)
    return record.model_dump(mode="json", by_alias=True)


@router.post(
    "/certificates/{document_hash}/suspend",
    response_model=CertificateOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("certificate.suspend")), JsonBody],
)
async def suspend_certificate(
    document_hash: HashPath,
    body: ReasonIn,
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
) -> JSONResponse:
    """Suspend an active certificate (issuer or its supervisor); it can be reinstated."""
    return await _status_change(request, caller, service, document_hash, "suspend", body.reason)


@router.post(
    "/certificates/{document_hash}/reinstate",
    response_model=CertificateOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("certificate.reinstate"))],
)
async def reinstate_certificate(
    document_hash: HashPath,
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
    body: NoBodyIn | None = None,
) -> JSONResponse:
    """Reinstate a suspended certificate."""
    return await _status_change(request, caller, service, document_hash, "reinstate", None)


@router.post(
    "/certificates/{document_hash}/revoke",
    response_model=CertificateOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("certificate.revoke")), JsonBody],
)
async def revoke_certificate(
    document_hash: HashPath,
    body: RevokeIn,
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
) -> JSONResponse:
    """Revoke a certificate for good, with a reason verifiers will see. With ``proof`` (a batch
    proof), revoke the one certificate of a Merkle batch; the batch's other certificates stand,
    and the answer is the batch root's record."""
    if body.proof is None:
        return await _status_change(request, caller, service, document_hash, "revoke", body.reason)
    doc_hash = parse_hash(document_hash)
    proof = BatchProof.from_json(body.proof)
    code = int(reason_code(body.reason))
    audit_target(request, hex32(doc_hash))
    session = service.session
    return await _journal_change(
        request,
        caller,
        service,
        "certificate.revoke-leaf",
        {"documentHash": hex32(doc_hash), "root": hex32(proof.root), "reason": code},
        lambda: revoke_leaf(session, doc_hash, proof, code, department_id=caller.department_id),
    )


@router.post(
    "/certificates/{document_hash}/supersede",
    status_code=201,
    response_model=AnchoredOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("certificate.supersede")), MultipartBody],
)
async def supersede_certificate(
    document_hash: HashPath,
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the replacement document")],
    reason: Annotated[str, Form(max_length=64, description="e.g. renewal, correction")],
    subject: SubjectForm,
    subject_kind: SubjectKindForm = None,
    expires_at: ExpiresForm = None,
    store: StoreForm = True,
) -> JSONResponse:
    """Anchor a replacement (renewal, correction) and mark the old certificate superseded by it,
    in one transaction. The replacement keeps the old one's type and region. Journaled like
    anchoring."""
    old_hash = parse_hash(document_hash)
    audit_target(request, hex32(old_hash))
    data = await read_upload(file, settings.max_upload_bytes)
    code = int(reason_code(reason))
    expiry = parse_expiry(expires_at)
    session = service.session

    def old_record() -> CertificateRecord:
        old = session.certificates().certificate(old_hash)
        if old is None:
            raise CertificateRegistryUnknownCertificate({"docHash": old_hash})
        return old

    old = await service.read(old_record)
    replacement = _Anchoring(
        data,
        certificate_type(old.cert_type),
        subject,
        subject_kind,
        expiry,
        store,
        (old_hash, code),
    )
    # The replacement keeps the old one's type and region.
    final = await _journal_anchor(request, service, caller, replacement, old.region)
    return _answer_anchor(final)


#: What a list cursor carries: ``<block>.<log index>``, two plain decimals of at most 18 digits
#: (SQLite's INTEGER, which the index compares them with, holds 63 bits).
_CURSOR_TEXT: Final = re.compile(r"(0|[1-9][0-9]{0,17})\.(0|[1-9][0-9]{0,17})", re.ASCII)


def _cursor(text: str | None) -> tuple[int, int] | None:
    """The (block, log index) a cursor of :func:`_encode_cursor` stands for. Anything else, a
    huge or negative number, another spelling of the same numbers, is refused with a 422: only
    cursors this service could have handed out reach the index."""
    if text is None:
        return None
    refused = ValidationError("cursor is not one this service handed out")
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        match = _CURSOR_TEXT.fullmatch(decoded.decode("ascii"))
    except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError
        raise refused from None
    if match is None:
        raise refused
    block, index = int(match[1]), int(match[2])
    if _encode_cursor(block, index) != text:
        raise refused
    return block, index


def _encode_cursor(block: int, index: int) -> str:
    return base64.urlsafe_b64encode(f"{block}.{index}".encode()).decode().rstrip("=")


@router.get(
    "/departments/{department_id}/certificates",
    response_model=CertificatePageOut,
    responses=problem_responses(401, 403, 404, 422, 429, 500, 503),
    tags=["departments"],
)
async def list_certificates(
    department_id: Annotated[int, Path(gt=0, lt=1 << 32)],
    caller: StaffDep,
    service: ServiceDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> CertificatePageOut:
    """The department's certificates, newest first (its own token, or governance)."""
    if isinstance(caller, DepartmentCaller) and caller.department_id != department_id:
        raise ProblemError(403, "not_authorized", "a department lists its own certificates only")
    if limit > settings.page_size_max:
        raise ValidationError(f"limit must be at most {settings.page_size_max}")
    before = _cursor(cursor)
    session = service.session
    certificates = session.certificates()

    def read() -> CertificatePageOut:
        if session.registry().department(department_id) is None:
            raise DepartmentRegistryUnknownDepartment({"departmentId": department_id})
        service.index.catch_up(session.chain_head())
        rows = service.index.by_issuer(department_id, limit=limit + 1, before=before)
        items = [_public_record(certificates, row.doc_hash) for row in rows[:limit]]
        more = len(rows) > limit
        last = rows[limit - 1] if more else None
        return CertificatePageOut(
            items=items,
            next_cursor=_encode_cursor(last.block, last.log_index) if last else None,
        )

    return await service.read(read)
