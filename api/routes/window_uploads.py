"""A document the applicant hands over at the window, under their consent (ADR 0029): verified
as ``POST /v1/verify`` verifies an upload, and, when it is forged or altered and the officer
confirms it, recorded as a ``false-information`` credit event with the document kept encrypted as
evidence.

Thin: the rules are :mod:`ledger.service.forgery` (who may report, when forgery may be
suspected, the duplicate, the encrypted evidence, the event's terms) and the consent's liveness
(:meth:`ledger.service.consents.ConsentStore.live`); the write is journaled as every department
write is (:func:`api.writes.submit_for_department`). Both routes add an entry to the subject's
access log (``document.verified``, ``credit.false-information``).
"""

from __future__ import annotations

from typing import Annotated, Final

import orjson
from eth_utils.crypto import keccak
from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.deps import (
    DepartmentDep,
    MultipartBody,
    ServiceDep,
    SettingsDep,
    audit_note,
    audit_target,
    audited,
    read_upload,
)
from api.problems import problem_responses
from api.routes.verify import verify_options, verify_upload
from api.schemas import FalseInformationOut, WindowVerificationOut
from api.security import DepartmentCaller
from api.views import JSON_MEDIA_TYPE, hex32
from api.window import live_consent, log_window_act
from api.writes import JOURNALED, Prepared, submit_for_department
from ledger.service.forgery import (
    Reason,
    false_information_event_id,
    forgery_suspected,
    report_false_information,
    require_reporting_right,
)

__all__ = ["router"]

router = APIRouter(prefix="/window/consents/{consent_id}", tags=["window"])

ConsentPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the consent's id")]
_ERRORS: Final = (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)
_FILE_DESCRIPTION: Final = "the document the applicant handed over (file bytes or a certificate)"


@router.post(
    "/verifications",
    response_model=WindowVerificationOut,
    responses=problem_responses(*_ERRORS),
    dependencies=[Depends(audited("window.document.verify")), MultipartBody],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "format": "binary",
                                "description": _FILE_DESCRIPTION,
                            },
                            "proof": {
                                "type": "string",
                                "format": "binary",
                                "description": "for a file anchored in a Merkle batch: its "
                                "batch proof (.proof.json)",
                            },
                        },
                    }
                }
            },
        }
    },
)
async def verify_at_window(
    request: Request,
    consent_id: ConsentPath,
    caller: DepartmentDep,
    service: ServiceDep,
    settings: SettingsDep,
) -> Response:
    """Verify a document the applicant hands over, as ``POST /v1/verify`` does, and say whether
    forgery may be suspected (the officer decides); the applicant's access log shows it."""
    audit_target(request, consent_id)
    consent = await live_consent(service, caller, consent_id)
    report = await verify_upload(request, service, settings)
    shown = [hex32(report.document_hash)] if report.document_hash is not None else []
    await log_window_act(service, caller, consent, "document.verified", shown)
    body = {**report.to_json(), "forgerySuspected": forgery_suspected(report)}
    return Response(orjson.dumps(body), media_type=JSON_MEDIA_TYPE)


async def _reporting_department(caller: DepartmentDep, service: ServiceDep) -> DepartmentCaller:
    """The caller, once its department may record false-information events: asked before the
    form is judged (ADR 0023), so a department without the right hears only that."""
    await service.read(lambda: require_reporting_right(service.session, caller.department_id))
    return caller


@router.post(
    "/false-information",
    status_code=201,
    response_model=FalseInformationOut,
    responses={**problem_responses(*_ERRORS), **JOURNALED},
    dependencies=[Depends(audited("credit.false-information")), MultipartBody],
)
async def report_at_window(
    request: Request,
    consent_id: ConsentPath,
    caller: Annotated[DepartmentCaller, Depends(_reporting_department)],
    service: ServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description=_FILE_DESCRIPTION)],
    reason: Annotated[Reason, Form(description="why the officer reports it")],
    confirm: Annotated[bool, Form(description="the officer confirms the report: true")],
) -> JSONResponse:
    """Record a ``false-information`` event against the consent's applicant for a document
    that verifies INVALID and that the officer confirms is forged or altered; the document is
    kept encrypted as evidence (its hash and CID on the event). Journaled (ADR 0012)."""
    if not confirm:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "confirm"),
                    "msg": "the officer must confirm the report (confirm=true)",
                    "type": "value_error",
                }
            ]
        )
    audit_target(request, consent_id)
    consent = await live_consent(service, caller, consent_id)
    note = audit_note(request)
    if note is not None:
        note.subject_ref = consent.subject_ref
    data = await read_upload(file, settings.max_upload_bytes)
    session = service.session

    def prepare() -> Prepared:
        write = report_false_information(
            session,
            consent,
            data,
            department_id=caller.department_id,
            options=verify_options(service, settings),
        )
        facts = write.facts
        return Prepared(
            write,
            {
                "eventId": hex32(facts.event_id),
                "evidenceHash": hex32(facts.evidence_hash),
                "evidenceCid": facts.evidence_cid,
            },
        )

    answer = await submit_for_department(
        request,
        service,
        caller,
        kind="credit.false-information",
        identity={"consentId": consent_id, "evidence": keccak(data).hex(), "reason": reason},
        prepare=prepare,
        model=FalseInformationOut.model_validate,
        status=201,
        location=lambda result: f"/v1/credit/events/{result['eventId']}",
    )
    event_id = hex32(false_information_event_id(consent, data))
    audit_target(request, event_id)
    await log_window_act(service, caller, consent, "credit.false-information", [event_id, reason])
    return answer
