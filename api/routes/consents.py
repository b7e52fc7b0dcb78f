"""Consents (ADR 0025): a subject grants, lists and revokes them under ``/me/consents``; a
department's window redeems a code at ``/window/consents``.

Thin: the rules live in :mod:`ledger.service.consents`; here are only who may call, the chain
check of the named department, and the shapes. Each grant, revocation and redemption is one entry
of the subject's access log (查询记录, ADR 0028). The window's check of certificates is not here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Path, Request, Response

from api.deps import (
    CitizenDep,
    DepartmentDep,
    JsonBody,
    ServiceDep,
    audit_target,
    audited,
)
from api.problems import problem_responses
from api.schemas import (
    ConsentCodeIn,
    ConsentGrantedOut,
    ConsentIn,
    ConsentOut,
    ConsentRedeemedOut,
    ConsentsOut,
)
from api.window import redeem_code
from ledger.errors import ConsentDepartmentSuspendedError, DepartmentRegistryUnknownDepartment
from ledger.service.consents import ConsentRecord, format_code

router = APIRouter(tags=["consents"])

#: Prefix of the text a consent's QR code carries, so a scanner can tell it from anything else.
QR_PREFIX = "GLCONSENT:"


def _moment(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _consent_out(record: ConsentRecord, now: float) -> ConsentOut:
    return ConsentOut(
        consent_id=record.consent_id,
        service=record.service,
        department_id=record.department_id,
        mode=record.mode,
        state=record.state(now),
        uses=record.uses,
        created_at=datetime.fromtimestamp(record.created_at, UTC),
        expires_at=datetime.fromtimestamp(record.expires_at, UTC),
        revoked_at=_moment(record.revoked_at),
        last_used_at=_moment(record.last_used_at),
    )


@router.post(
    "/me/consents",
    status_code=201,
    response_model=ConsentGrantedOut,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503),
    dependencies=[Depends(audited("consent.grant")), JsonBody],
)
async def grant_consent(
    request: Request, body: ConsentIn, caller: CitizenDep, service: ServiceDep
) -> ConsentGrantedOut:
    """Consent to one department's window for one service; the code is answered here only."""
    session = service.session

    def check_department() -> None:
        department = session.registry().department(body.department_id)
        if department is None:
            raise DepartmentRegistryUnknownDepartment({"departmentId": body.department_id})
        if department.suspended:
            raise ConsentDepartmentSuspendedError(
                f"department {body.department_id} is suspended by governance and receives "
                "no consents"
            )

    await service.read(check_department)
    record, code = await service.offload(
        lambda: service.consents.grant(
            caller.subject_ref,
            caller.kind,
            body.service,
            body.department_id,
            mode=body.mode,
            minutes=body.minutes,
        )
    )
    audit_target(request, record.consent_id)
    await service.offload(
        lambda: service.access_log.record(
            caller.subject_ref,
            "consent.granted",
            department_id=record.department_id,
            service=record.service,
        )
    )
    shown = format_code(code)
    return ConsentGrantedOut(
        consent_id=record.consent_id,
        code=shown,
        qr_text=QR_PREFIX + shown,
        service=record.service,
        department_id=record.department_id,
        mode=record.mode,
        expires_at=datetime.fromtimestamp(record.expires_at, UTC),
    )


@router.get(
    "/me/consents",
    response_model=ConsentsOut,
    responses=problem_responses(401, 403, 429, 500, 503),
    dependencies=[Depends(audited("consent.list"))],
)
async def my_consents(caller: CitizenDep, service: ServiceDep) -> ConsentsOut:
    """The caller's consents, newest first, without their codes."""
    records = await service.offload(lambda: service.consents.of_subject(caller.subject_ref))
    now = service.consents.clock()
    return ConsentsOut(items=[_consent_out(record, now) for record in records])


@router.delete(
    "/me/consents/{consent_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 409, 422, 429, 500, 503),
    dependencies=[Depends(audited("consent.revoke"))],
)
async def revoke_consent(
    request: Request,
    caller: CitizenDep,
    service: ServiceDep,
    consent_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
) -> Response:
    """Revoke one of the caller's active consents at once."""
    audit_target(request, consent_id)
    record = await service.offload(lambda: service.consents.revoke(caller.subject_ref, consent_id))
    await service.offload(
        lambda: service.access_log.record(
            caller.subject_ref,
            "consent.revoked",
            department_id=record.department_id,
            service=record.service,
        )
    )
    return Response(status_code=204)


@router.post(
    "/window/consents",
    response_model=ConsentRedeemedOut,
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 500, 503),
    dependencies=[Depends(audited("consent.redeem")), JsonBody],
)
async def redeem_consent(
    request: Request, caller: DepartmentDep, body: ConsentCodeIn, service: ServiceDep
) -> ConsentRedeemedOut:
    """The window takes an applicant's consent code: one use of it is counted."""
    record = await redeem_code(service, caller, body.code)
    audit_target(request, record.consent_id)
    return ConsentRedeemedOut(
        consent_id=record.consent_id,
        service=record.service,
        subject_kind=record.subject_kind.value,
        mode=record.mode,
        expires_at=datetime.fromtimestamp(record.expires_at, UTC),
        uses=record.uses,
    )
