"""The development identity provider: citizen tokens for the demo and tests (off by default)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request

from api.deps import JsonBody, ServiceDep, audit_note, audited
from api.problems import ProblemError, problem_responses
from api.schemas import DevTokenIn, DevTokenOut
from ledger.identity import SubjectKind, parse_subject

router = APIRouter(prefix="/dev", tags=["development"])


@router.post(
    "/token",
    response_model=DevTokenOut,
    responses=problem_responses(400, 404, 413, 422, 429, 500),
    dependencies=[Depends(audited("dev.token")), JsonBody],
)
async def dev_token(body: DevTokenIn, request: Request, service: ServiceDep) -> DevTokenOut:
    """Issue a citizen token for an identity number or credit code (LEDGER_DEV_ISSUER only).

    Anyone who can reach this route can act as any citizen: it exists for demonstrations and
    tests, and answers 404 unless the development issuer is enabled.
    """
    issuer = service.dev_issuer
    if issuer is None:
        raise ProblemError(404, "not_found", "the development token issuer is not enabled")
    kind = SubjectKind(body.subject_kind) if body.subject_kind else None
    subject = parse_subject(body.subject, kind)
    note = audit_note(request)
    if note is not None:
        note.subject_ref = service.session.subject_ref(subject.normalized, subject.kind)
    token, expires = issuer.issue(subject)
    return DevTokenOut(token=token, expires_at=datetime.fromtimestamp(expires, UTC))
