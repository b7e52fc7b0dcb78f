"""The window's check (一窗受理, ADR 0027): ``POST /window/checks`` and the stored copies under
``/window/consents/{consentId}/documents``.

Thin: what is shown and what may be read is :mod:`ledger.service.window`'s; the consent's rules
are :mod:`ledger.service.consents`'. Here are who may call (a department's token, refused
while governance has the department suspended), the verification options the service verifies
with (those of ``POST /v1/verify``), the citizen-visible access log entries, and the shapes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from api.deps import (
    DepartmentDep,
    JsonBody,
    ServiceDep,
    SettingsDep,
    audit_target,
    audited,
)
from api.problems import problem_responses
from api.routes.verify import verify_options
from api.schemas import CONSENT_ID_PATTERN, HASH_PATTERN, WindowCheckIn, WindowCheckOut
from api.window import live_consent, log_window_act, redeem_code
from ledger.service.window import WindowCheck, check_window, read_stored_copy

__all__ = ["router"]

router = APIRouter(prefix="/window", tags=["window"])

ConsentIdPath = Annotated[str, Path(pattern=CONSENT_ID_PATTERN, description="the consent's id")]
HashPath = Annotated[str, Path(pattern=HASH_PATTERN, description="the certificate's hash")]
#: The stored copy is answered as bytes; what it is, the certificate's record says.
_COPY_MEDIA_TYPE: Final = "application/octet-stream"


def _check_out(check: WindowCheck) -> dict[str, Any]:
    """The answer's JSON, each report exactly as ``POST /v1/verify`` answers it."""
    consent = check.consent
    return {
        "consentId": consent.consent_id,
        "service": consent.service,
        "subjectKind": consent.subject_kind.value,
        "mode": consent.mode,
        "expiresAt": datetime.fromtimestamp(consent.expires_at, UTC).isoformat(),
        "requirements": [
            {
                "type": item.cert_type.name,
                "required": item.required,
                "certificates": [
                    {
                        "documentHash": "0x" + cert.doc_hash.hex(),
                        "report": cert.report.to_json(),
                        "storedCopy": cert.stored_copy,
                    }
                    for cert in item.certificates
                ],
                "satisfied": item.satisfied,
            }
            for item in check.requirements
        ],
        "missing": list(check.missing),
    }


@router.post(
    "/checks",
    response_model=WindowCheckOut,
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 500, 503),
    dependencies=[Depends(audited("window.check")), JsonBody],
)
async def check(
    request: Request,
    caller: DepartmentDep,
    body: WindowCheckIn,
    service: ServiceDep,
    settings: SettingsDep,
) -> Response:
    """The applicant's certificates of the consent's service's types, each verified as
    ``POST /v1/verify`` verifies a hash; a ``code`` is redeemed (one use counted), a
    ``consentId`` must name a consent this department redeemed and may still act under."""
    if body.code is not None:
        consent = await redeem_code(service, caller, body.code)
    else:
        assert body.consent_id is not None
        consent = await live_consent(service, caller, body.consent_id)
    audit_target(request, consent.consent_id)
    options = verify_options(service, settings)
    options.pop("proof", None)
    documents = options.get("documents")
    checked = await service.read(
        lambda: check_window(service.session, service.database, documents, consent, options)
    )
    await log_window_act(
        service, caller, consent, "window.check", ["0x" + shown.hex() for shown in checked.shown]
    )
    return JSONResponse(_check_out(checked))


@router.get(
    "/consents/{consent_id}/documents/{document_hash}",
    response_class=Response,
    responses={
        200: {
            "description": "the stored copy, decrypted",
            "content": {_COPY_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        **problem_responses(401, 403, 404, 422, 429, 500, 503),
    },
    dependencies=[Depends(audited("window.document"))],
)
async def stored_copy(
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
    consent_id: ConsentIdPath,
    document_hash: HashPath,
) -> Response:
    """The stored copy of one of the applicant's certificates, when the consent's service needs
    its content (its ``content`` list); decrypted by the service's vault."""
    audit_target(request, document_hash.lower())
    consent = await live_consent(service, caller, consent_id)
    doc_hash = bytes.fromhex(document_hash[2:])
    documents = service.session.documents()
    data = await service.read(
        lambda: read_stored_copy(service.session, service.database, documents, consent, doc_hash)
    )
    await log_window_act(service, caller, consent, "document.read", ["0x" + doc_hash.hex()])
    return Response(
        data,
        media_type=_COPY_MEDIA_TYPE,
        headers={
            # A name of the service's making: the document's own name could say who it is about.
            "Content-Disposition": f'attachment; filename="{doc_hash.hex()[:16]}.bin"',
            "Cache-Control": "no-store",
        },
    )
