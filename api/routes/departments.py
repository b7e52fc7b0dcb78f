"""Departments: registration and lifecycle by governance; public listing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from api.deps import AdminDep, JsonBody, ServiceDep, audit_target, audited
from api.problems import problem_responses
from api.schemas import (
    DepartmentCreatedOut,
    DepartmentIn,
    DepartmentListOut,
    DepartmentOut,
    KeyRotationOut,
    TokenOut,
)
from api.security import Admin
from api.service import Service
from api.views import department_out
from api.writes import (
    JOURNALED,
    Prepared,
    answer,
    finisher,
    idempotency_key,
    preferred_wait,
    run_operation,
    submit,
)
from ledger.catalogue import scope_codes
from ledger.errors import DepartmentRegistryUnknownDepartment
from ledger.names import name_hash
from ledger.service.journal import Operation
from ledger.writes import departments

router = APIRouter(prefix="/departments", tags=["departments"])

DepartmentPath = Annotated[int, Path(gt=0, lt=1 << 32, description="department id")]
_GOVERNANCE_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 500, 503)


@router.get("", response_model=DepartmentListOut, responses=problem_responses(429, 500, 503))
async def list_departments(service: ServiceDep) -> DepartmentListOut:
    """Every registered department, with scopes and signing keys (public information)."""
    registry = service.session.registry()

    def read() -> DepartmentListOut:
        items: list[DepartmentOut] = []
        for identifier in registry.department_ids():
            department = registry.department(identifier)
            if department is not None:
                items.append(department_out(registry, department, service.names))
        return DepartmentListOut(items=items)

    return await service.read(read)


@router.get(
    "/{department_id}",
    response_model=DepartmentOut,
    responses=problem_responses(404, 422, 429, 500, 503),
)
async def get_department(department_id: DepartmentPath, service: ServiceDep) -> DepartmentOut:
    """One department."""
    registry = service.session.registry()

    def read() -> DepartmentOut:
        department = registry.department(department_id)
        if department is None:
            raise DepartmentRegistryUnknownDepartment({"departmentId": department_id})
        return department_out(registry, department, service.names)

    return await service.read(read)


@router.post(
    "",
    status_code=201,
    response_model=DepartmentCreatedOut,
    responses={**_GOVERNANCE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("department.register")), JsonBody],
)
async def register_department(
    body: DepartmentIn, request: Request, admin: AdminDep, service: ServiceDep
) -> JSONResponse:
    """Register a department, create its signing key on this server, and issue its first token.

    Two journaled transactions: the registration, then the key's accreditation (ADR 0012). If
    they are not confirmed within the wait, the answer is 202 with the pending one; sending the
    same request again with the same ``Idempotency-Key`` carries on where it stopped. The token
    is in the final answer only (the server keeps a hash of it), so a repeated request is
    answered with a further token for the department, never the first one again.
    """
    audit_target(request, f"department:{body.id}")
    codes = scope_codes(body.scopes)
    digest = name_hash(body.name)  # a blank name is refused here, before anything is sent
    session = service.session
    key = idempotency_key(request)
    wait = preferred_wait(request, service.settings)
    identity = {
        "id": body.id,
        "region": body.region,
        "nameHash": digest.hex(),
        "scopes": codes,
        "validUntil": body.valid_until.isoformat() if body.valid_until else None,
    }

    def register() -> Prepared:
        write = departments.register(
            session, body.id, body.region, body.name, codes, valid_until=body.valid_until
        )
        return Prepared(write, {"id": body.id})

    def accredit_key() -> Prepared:
        write = departments.accredit_key(
            session, body.id, body.region, valid_until=body.valid_until
        )
        return Prepared(write, {"signer": write.facts.signer})

    journaled = await _journal_registration(
        service, admin, body, key, wait, identity, register, accredit_key
    )
    if journaled.state != "confirmed":
        return answer(journaled, status=201, model=DepartmentCreatedOut.model_validate)
    signer = str(journaled.request["response"]["signer"])
    created = await _created(service, body, signer)
    return JSONResponse(
        created.model_dump(mode="json", by_alias=True),
        201,
        headers={"Location": f"/v1/departments/{body.id}"},
    )


async def _journal_registration(
    service: Service,
    admin: Admin,
    body: DepartmentIn,
    key: str | None,
    wait: float,
    identity: dict[str, Any],
    register: Callable[[], Prepared],
    accredit_key: Callable[[], Prepared],
) -> Operation:
    """Journal the registration, then the key's accreditation, each under its own derived
    ``Idempotency-Key``; the first operation that is not confirmed within the wait, or the
    confirmed accreditation."""
    session = service.session
    resumed = await service.read(lambda: departments.half_registered(session, body.id, body.region))
    first_key = None if key is None else key + "#register"
    journaled = first_key is not None and (
        await service.read(lambda: service.journal.find(admin.actor, first_key or "") is not None)
    )
    # Registered already but without a key (an earlier request stopped half-way, or the CLI
    # did it), and not by this request's own journaled step: only the key is left to accredit.
    if journaled or not resumed:
        first = await run_operation(
            service,
            key=first_key,
            wait=wait,
            scope=admin.actor,
            department_id=None,
            kind="department.register",
            identity=identity,
            prepare=register,
        )
        if first.state != "confirmed":
            return first
    return await run_operation(
        service,
        key=None if key is None else key + "#signer",
        wait=wait,
        scope=admin.actor,
        department_id=None,
        kind="department.accredit-key",
        identity=identity,
        prepare=accredit_key,
    )


async def _created(service: Service, body: DepartmentIn, signer: str) -> DepartmentCreatedOut:
    """The answer of a registration whose key is accredited: the department (its name kept off
    chain, where the service shows it: ledger/names.py), its key and a first token."""
    session = service.session
    await service.offload(lambda: service.names.remember(body.id, body.name))

    def read() -> DepartmentOut:
        registry = session.registry()
        department = registry.department(body.id)
        assert department is not None
        return department_out(registry, department, service.names)

    department = await service.read(read)
    issued = await service.offload(lambda: service.tokens.issue("department", body.id))
    return DepartmentCreatedOut(
        department=department,
        signer=signer,
        token=TokenOut(token=issued.secret, token_id=issued.record.token_id, department_id=body.id),
    )


async def _change(
    request: Request, admin: Admin, service: Service, department_id: int, suspend: bool
) -> JSONResponse:
    def prepare() -> Prepared:
        change = departments.suspend if suspend else departments.reinstate
        return Prepared(change(service.session, department_id), {"id": department_id})

    kind = "department.suspend" if suspend else "department.reinstate"
    return await submit(
        request,
        service,
        scope=admin.actor,
        department_id=None,
        kind=kind,
        identity={"department": department_id},
        prepare=prepare,
        model=DepartmentOut.model_validate,
    )


@finisher("department.suspend")
@finisher("department.reinstate")
def _department_after_change(service: Service, operation: Operation) -> dict[str, Any]:
    department_id = int(operation.request["response"]["id"])
    registry = service.session.registry()
    department = registry.department(department_id)
    if department is None:
        raise DepartmentRegistryUnknownDepartment({"departmentId": department_id})
    return department_out(registry, department, service.names).model_dump(
        mode="json", by_alias=True
    )


@router.post(
    "/{department_id}/suspend",
    response_model=DepartmentOut,
    responses={**_GOVERNANCE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("department.suspend"))],
)
async def suspend_department(
    department_id: DepartmentPath, request: Request, admin: AdminDep, service: ServiceDep
) -> JSONResponse:
    """Suspend a department: its writes are refused until reinstated; its records stand."""
    audit_target(request, f"department:{department_id}")
    return await _change(request, admin, service, department_id, suspend=True)


@router.post(
    "/{department_id}/reinstate",
    response_model=DepartmentOut,
    responses={**_GOVERNANCE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("department.reinstate"))],
)
async def reinstate_department(
    department_id: DepartmentPath, request: Request, admin: AdminDep, service: ServiceDep
) -> JSONResponse:
    """Reinstate a suspended department."""
    audit_target(request, f"department:{department_id}")
    return await _change(request, admin, service, department_id, suspend=False)


@router.post(
    "/{department_id}/rotate-key",
    response_model=KeyRotationOut,
    responses={**_GOVERNANCE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("department.rotate_key"))],
)
async def rotate_key(
    department_id: DepartmentPath, request: Request, admin: AdminDep, service: ServiceDep
) -> JSONResponse:
    """Replace the department's signing key; records signed with the old key stay valid. The new
    key is created here before the rotation is journaled (a rotation that fails leaves it
    unused in the keystore)."""
    audit_target(request, f"department:{department_id}")

    def prepare() -> Prepared:
        write = departments.rotate_key(service.session, department_id)
        return Prepared(write, {"retired": write.facts.retired, "signer": write.facts.signer})

    return await submit(
        request,
        service,
        scope=admin.actor,
        department_id=None,
        kind="department.rotate-key",
        identity={"department": department_id},
        prepare=prepare,
        model=KeyRotationOut.model_validate,
    )


@router.post(
    "/{department_id}/tokens",
    status_code=201,
    response_model=TokenOut,
    responses=_GOVERNANCE_ERRORS,
    dependencies=[Depends(audited("department.token"))],
)
async def issue_token(
    department_id: DepartmentPath, request: Request, admin: AdminDep, service: ServiceDep
) -> TokenOut:
    """Another API token for a registered department (shown once)."""
    audit_target(request, f"department:{department_id}")
    registry = service.session.registry()
    if await service.read(lambda: registry.department(department_id)) is None:
        raise DepartmentRegistryUnknownDepartment({"departmentId": department_id})
    issued = await service.offload(lambda: service.tokens.issue("department", department_id))
    return TokenOut(
        token=issued.secret, token_id=issued.record.token_id, department_id=department_id
    )
