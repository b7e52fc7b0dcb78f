"""Joint licensing (多证联办, ADR 0011): a lead department opens a bundle for an enterprise naming
the licences it needs, each department files its own, anyone reads and verifies the bundle."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from api.deps import (
    DepartmentDep,
    JsonBody,
    ServiceDep,
    SettingsDep,
    audit_note,
    audit_target,
    audited,
)
from api.problems import problem_responses
from api.schemas import (
    HASH_PATTERN,
    BundleIn,
    BundleOut,
    BundlePartOut,
    FilePartIn,
    VerificationOut,
)
from api.service import Service
from api.views import hex32
from api.writes import JOURNALED, Prepared, finisher, submit_for_department
from ledger.catalogue import ScopeKind, certificate_type, scope_name
from ledger.contracts import LicenceBundlesClient
from ledger.errors import LicenceBundlesUnknownBundle
from ledger.identity import SubjectKind
from ledger.parsing import parse_deadline, parse_hash
from ledger.service.journal import Operation
from ledger.verification import verify_bundle
from ledger.writes import bundles as bundle_writes

router = APIRouter(prefix="/bundles", tags=["joint licensing"])

BundlePath = Annotated[str, Path(pattern=HASH_PATTERN, description="bundle id, 0x + 64 hex")]
IndexPath = Annotated[int, Path(ge=0, le=255, description="part index, from 0")]
_WRITE_ERRORS: Final = problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)


def _type_name(code: int) -> str:
    """A part's certificate type by name (its hex code when not in the catalogue)."""
    return scope_name(code, ScopeKind.CERTIFICATE) or f"{code:#x}"


def bundle_out(client: LicenceBundlesClient, bundle_id: bytes) -> BundleOut:
    """The public view of a bundle, with whether it is complete now."""
    bundle = client.bundle(bundle_id)
    if bundle is None:
        raise LicenceBundlesUnknownBundle({"bundleId": bundle_id})
    return BundleOut(
        bundle_id=hex32(bundle_id),
        lead=bundle.lead,
        opened_at=bundle.opened_at,
        deadline=bundle.deadline,
        completed_at=bundle.completed_at,
        complete=client.is_complete(bundle_id),
        parts=[
            BundlePartOut(
                index=index,
                department=part.department_id,
                certificate_type=_type_name(part.cert_type),
                document_hash=hex32(part.doc_hash) if part.doc_hash else None,
            )
            for index, part in enumerate(bundle.parts)
        ],
    )


@router.post(
    "",
    status_code=201,
    response_model=BundleOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("bundle.open")), JsonBody],
)
async def open_bundle(
    body: BundleIn,
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
) -> JSONResponse:
    """Open a bundle for an enterprise, led by the calling department: the licences it needs
    (department and certificate type each) and the last day to file them."""
    deadline = parse_deadline(body.deadline, "deadline")
    parts = [(part.department, certificate_type(part.certificate_type).code) for part in body.parts]
    session = service.session
    reference = session.subject_ref(body.enterprise, SubjectKind.ENTERPRISE)
    note = audit_note(request)
    if note is not None:
        note.subject_ref = reference

    def prepare() -> Prepared:
        write = bundle_writes.open_bundle(
            session, caller.department_id, body.enterprise, deadline, parts
        )
        bundle_id = hex32(write.facts.bundle_id)
        if note is not None:
            note.target = bundle_id
        return Prepared(write, {"bundleId": bundle_id})

    return await submit_for_department(
        request,
        service,
        caller,
        kind="bundle.open",
        identity={
            "enterpriseRef": reference.hex(),
            "deadline": deadline.isoformat(),
            "parts": [list(part) for part in parts],
        },
        prepare=prepare,
        model=BundleOut.model_validate,
        status=201,
        location=lambda result: f"/v1/bundles/{result['bundleId']}",
    )


@finisher("bundle.open")
@finisher("bundle.file")
def _bundle_after_change(service: Service, operation: Operation) -> dict[str, Any]:
    bundle_id = parse_hash(str(operation.request["response"]["bundleId"]))
    return bundle_out(service.session.bundles(), bundle_id).model_dump(mode="json", by_alias=True)


@router.get(
    "/{bundle_id}",
    response_model=BundleOut,
    responses=problem_responses(404, 422, 429, 500, 503),
)
async def get_bundle(bundle_id: BundlePath, service: ServiceDep) -> BundleOut:
    """A bundle: its lead, deadline, the parts it needs, what was filed, whether complete."""
    digest = parse_hash(bundle_id)
    client = service.session.bundles()
    return await service.read(lambda: bundle_out(client, digest))


@router.post(
    "/{bundle_id}/parts/{index}",
    response_model=BundleOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("bundle.file")), JsonBody],
)
async def file_part(
    bundle_id: BundlePath,
    index: IndexPath,
    body: FilePartIn,
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
) -> JSONResponse:
    """File the calling department's anchored, active certificate as part ``index``."""
    digest = parse_hash(bundle_id)
    doc_hash = parse_hash(body.document_hash)
    audit_target(request, hex32(digest))
    session = service.session

    def prepare() -> Prepared:
        write = bundle_writes.file_part(session, caller.department_id, digest, index, doc_hash)
        return Prepared(write, {"bundleId": hex32(write.facts.bundle_id)})

    return await submit_for_department(
        request,
        service,
        caller,
        kind="bundle.file",
        identity={"bundleId": hex32(digest), "index": index, "documentHash": hex32(doc_hash)},
        prepare=prepare,
        model=BundleOut.model_validate,
    )


@router.get(
    "/{bundle_id}/verification",
    response_model=VerificationOut,
    responses=problem_responses(422, 429, 500, 503),
)
async def verify_bundle_route(
    bundle_id: BundlePath, service: ServiceDep, settings: SettingsDep
) -> VerificationOut:
    """Verify a bundle against the chain: every part filed, each certificate VALID (each
    part's own report is in ``parts``). VALID and INVALID are both answered with 200."""
    digest = parse_hash(bundle_id)
    context = service.session.context
    documents = await service.read(service.session.documents)
    encrypted = [certificate_type(name).code for name in settings.encrypt_types]
    local = service.local_departments()
    report = await service.read(
        lambda: verify_bundle(
            digest,
            context,
            confirmations=settings.confirmations,
            documents=documents,
            encrypted_types=encrypted,
            local_issuers=local,
        )
    )
    return VerificationOut.model_validate(report.to_json())
