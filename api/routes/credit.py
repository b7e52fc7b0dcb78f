"""Credit events: recorded, amended and resolved by departments, disputed by their subjects,
read by the subject and by departments accredited for the category."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, Protocol

from eth_utils.crypto import keccak
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from api.deps import (
    AdminDep,
    CitizenDep,
    DepartmentDep,
    JsonBody,
    ServiceDep,
    StaffDep,
    audit_note,
    audit_target,
    audited,
    department_for_write,
)
from api.problems import ProblemError, problem_responses
from api.schemas import (
    HASH_PATTERN,
    AmendIn,
    CreditEventIn,
    CreditEventOut,
    DisclosurePeriodIn,
    DisclosurePeriodListOut,
    DisclosurePeriodOut,
    DisputeIn,
    HistoryOut,
    RecordedOut,
    ResolveIn,
    ScoreOut,
    SubjectIn,
)
from api.security import DepartmentCaller
from api.service import Service
from api.views import credit_event_out, hex32
from api.writes import JOURNALED, Prepared, finisher, submit, submit_for_department
from ledger.catalogue import CREDIT_CATEGORIES, SECONDS_PER_DAY, ScopeKind, credit_category
from ledger.contracts import Amendment, CreditEvent, CreditLedgerClient, Polarity
from ledger.errors import CreditLedgerUnknownEvent, UnknownKeyError
from ledger.identity import SubjectKind, parse_subject
from ledger.parsing import parse_hash, parse_moment
from ledger.score import Audience, CreditView, event_disclosure, read_history
from ledger.service.journal import Operation
from ledger.session import LedgerSession
from ledger.writes import PreparedWrite
from ledger.writes import credit as writes
from ledger.writes.credit import Amended

router = APIRouter(tags=["credit"])

EventPath = Annotated[str, Path(pattern=HASH_PATTERN, description="event id, 0x + 64 hex")]
_WRITE_ERRORS: Final = problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 500, 503)
#: Domain tag of the reason hashes written with amendments (the text itself is not kept).
_REASON_DOMAIN: Final = b"gov-ledger/credit-reason/v1\x00"


def reason_hash(text: str) -> bytes:
    return keccak(_REASON_DOMAIN + text.strip().encode("utf-8"))


def history_out(kind: SubjectKind, view: CreditView) -> HistoryOut:
    """The history as its audience may see it (ADR 0020: ``ledger.score`` decides)."""
    score = view.score
    return HistoryOut(
        subject_kind=kind.value,
        as_of=view.as_of,
        events=[credit_event_out(item.event, item.disclosure) for item in view.events],
        score=ScoreOut(
            policy=score.policy, value=score.value, events=[hex32(e) for e in score.counted]
        ),
    )


@router.post(
    "/credit/events",
    status_code=201,
    response_model=RecordedOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("credit.record")), JsonBody],
)
async def record_event(
    body: CreditEventIn,
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
) -> JSONResponse:
    """Record a credit event about a citizen or enterprise (by the department's accreditation)."""
    category = credit_category(body.category)
    occurred = parse_moment(body.occurred_at, "occurredAt", end_of_day_for_dates=False)
    evidence = parse_hash(body.evidence_hash)
    kind = SubjectKind(body.subject_kind) if body.subject_kind else None
    polarity = Polarity.NEGATIVE if body.polarity == "negative" else Polarity.POSITIVE
    session = service.session
    subject = session.subject_ref(body.subject, kind)
    note = audit_note(request)
    if note is not None:
        note.subject_ref = subject
    event_id = CreditLedgerClient.event_id(subject, category.code, occurred, evidence)
    audit_target(request, hex32(event_id))

    def prepare() -> Prepared:
        write = writes.record(
            session,
            subject,
            category.code,
            polarity,
            body.severity,
            occurred,
            evidence,
            department_id=caller.department_id,
        )
        return Prepared(write, {"eventId": hex32(write.facts.event_id)})

    return await submit_for_department(
        request,
        service,
        caller,
        kind="credit.record",
        identity={
            "subjectRef": subject.hex(),
            "category": category.code,
            "polarity": int(polarity),
            "severity": body.severity,
            "occurredAt": occurred.isoformat(),
            "evidence": hex32(evidence),
        },
        prepare=prepare,
        model=RecordedOut.model_validate,
        status=201,
        location=lambda result: f"/v1/credit/events/{result['eventId']}",
    )


async def _amend(
    request: Request,
    service: Service,
    event_hex: str,
    status: Amendment,
    reason: str,
    department_id: int | None,
    prepare_write: Callable[[CreditEvent, bytes], PreparedWrite[Amended]],
    *,
    scope: str,
    kind: str,
) -> JSONResponse:
    """Journal the amendment ``prepare_write`` makes (a use case of :mod:`ledger.writes.credit`,
    given the event and the reason's hash) under the department that signs it:
    ``department_id`` acting, or, for a subject's dispute (None), the one that recorded the
    event."""
    event_id = parse_hash(event_hex)
    audit_target(request, hex32(event_id))
    session = service.session
    digest = reason_hash(reason)
    reader = session.credit()
    event = await service.read(lambda: reader.event(event_id))
    if event is None:
        raise CreditLedgerUnknownEvent({"eventId": event_id})
    signer_department = department_id if department_id is not None else event.recorder

    def prepare() -> Prepared:
        try:
            write = prepare_write(event, digest)
        except UnknownKeyError:
            raise ProblemError(
                409,
                "unknown_key",
                f"this service holds no key of department {signer_department}; "
                "file the dispute with the service of the recording department",
            ) from None
        return Prepared(write, {"eventId": hex32(write.facts.event_id)})

    return await submit(
        request,
        service,
        scope=scope,
        department_id=signer_department,
        kind=kind,
        identity={"eventId": hex32(event_id), "status": int(status), "reason": hex32(digest)},
        prepare=prepare,
        model=CreditEventOut.model_validate,
    )


class _EventChange(Protocol):
    """A department's change of an event: :func:`ledger.writes.credit.amend` or ``resolve``."""

    def __call__(
        self,
        session: LedgerSession,
        event_id: bytes,
        status: Amendment,
        reason_hash: bytes,
        /,
        *,
        department_id: int,
    ) -> PreparedWrite[Amended]: ...


async def _change_by_department(
    request: Request,
    service: Service,
    caller: DepartmentCaller,
    event_hex: str,
    status_name: str,
    reason: str,
    change: _EventChange,
    kind: str,
) -> JSONResponse:
    """Journal an amendment or a resolution (``change``, to ``status_name``) signed by the
    calling department, refused (403) while governance has it suspended."""
    session = service.session
    await service.read(lambda: department_for_write(session, caller))
    status = Amendment[status_name.upper()]
    return await _amend(
        request,
        service,
        event_hex,
        status,
        reason,
        caller.department_id,
        lambda event, digest: change(
            session, event.event_id, status, digest, department_id=caller.department_id
        ),
        scope=caller.actor,
        kind=kind,
    )


@finisher("credit.amend")
@finisher("credit.resolve")
@finisher("credit.dispute")
def _event_after_amendment(service: Service, operation: Operation) -> dict[str, Any]:
    event_id = parse_hash(str(operation.request["response"]["eventId"]))
    credit = service.session.credit()
    updated = credit.event_with_evidence(event_id)
    if updated is None:
        raise CreditLedgerUnknownEvent({"eventId": event_id})
    return credit_event_out(updated, event_disclosure(credit, updated)).model_dump(
        mode="json", by_alias=True
    )


@router.get(
    "/credit/events/{event_id}",
    response_model=CreditEventOut,
    responses=problem_responses(401, 403, 404, 422, 429, 500, 503),
)
async def get_event(event_id: EventPath, caller: StaffDep, service: ServiceDep) -> CreditEventOut:
    """An event by id, with its latest amendment (departments and governance; it names no
    subject, but a citizen's events are not for the public)."""
    digest = parse_hash(event_id)
    credit = service.session.credit()

    def read() -> CreditEventOut:
        event = credit.event_with_evidence(digest)
        if event is None:
            raise CreditLedgerUnknownEvent({"eventId": digest})
        return credit_event_out(event, event_disclosure(credit, event))

    return await service.read(read)


@router.post(
    "/credit/events/{event_id}/amend",
    response_model=CreditEventOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("credit.amend")), JsonBody],
)
async def amend_event(
    event_id: EventPath, body: AmendIn, request: Request, caller: DepartmentDep, service: ServiceDep
) -> JSONResponse:
    """Correct, withdraw or repair (信用修复) an event; the original stays on record."""
    return await _change_by_department(
        request, service, caller, event_id, body.status, body.reason, writes.amend, "credit.amend"
    )


@router.post(
    "/credit/events/{event_id}/resolve",
    response_model=CreditEventOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("credit.resolve")), JsonBody],
)
async def resolve_event(
    event_id: EventPath,
    body: ResolveIn,
    request: Request,
    caller: DepartmentDep,
    service: ServiceDep,
) -> JSONResponse:
    """Resolve a dispute: uphold the event, or correct or withdraw it."""
    return await _change_by_department(
        request,
        service,
        caller,
        event_id,
        body.outcome,
        body.reason,
        writes.resolve,
        "credit.resolve",
    )


@router.post(
    "/credit/events/{event_id}/dispute",
    response_model=CreditEventOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("credit.dispute")), JsonBody],
)
async def dispute_event(
    event_id: EventPath, body: DisputeIn, request: Request, caller: CitizenDep, service: ServiceDep
) -> JSONResponse:
    """The subject disputes an event about it; the recording department must then resolve it."""
    session = service.session
    return await _amend(
        request,
        service,
        event_id,
        Amendment.DISPUTED,
        body.reason,
        None,
        lambda event, digest: writes.dispute(session, event, caller.subject_ref, digest),
        scope=caller.actor,
        kind="credit.dispute",
    )


@router.post(
    "/credit/lookup",
    response_model=HistoryOut,
    responses=problem_responses(400, 401, 403, 413, 422, 429, 500, 503),
    dependencies=[Depends(audited("credit.history.read")), JsonBody],
)
async def lookup_history(
    body: SubjectIn, request: Request, caller: DepartmentDep, service: ServiceDep
) -> HistoryOut:
    """A subject's history as a department may see it: the events disclosed now (ADR 0020),
    an enterprise's in every category (public information), a citizen's limited to the
    categories the department is accredited for. The lookup, with the events it showed, is an
    entry of the subject's access log (ADR 0028)."""
    kind = SubjectKind(body.subject_kind) if body.subject_kind else None
    session = service.session
    note = audit_note(request)

    def read() -> HistoryOut:
        subject = parse_subject(body.subject, kind)
        reference = session.subject_ref(subject.normalized, subject.kind)
        if note is not None:
            note.subject_ref = reference
        registry = session.registry()
        department_for_write(session, caller)  # a suspended department reads no histories
        categories = {
            code for code in registry.scopes(caller.department_id) if code >> 24 == ScopeKind.CREDIT
        }
        if not categories:
            raise ProblemError(
                403, "not_authorized", "the department is not accredited for any credit category"
            )
        view = read_history(
            session.credit(),
            reference,
            Audience.THIRD_PARTY,
            categories=categories if subject.kind is SubjectKind.CITIZEN else None,
        )
        service.access_log.record(
            reference,
            "credit.lookup",
            department_id=caller.department_id,
            window=caller.label,
            records=[hex32(item.event.event_id) for item in view.events],
        )
        return history_out(subject.kind, view)

    return await service.read(read)


@router.get(
    "/me/credit",
    response_model=HistoryOut,
    responses=problem_responses(401, 403, 429, 500, 503),
    tags=["me"],
    dependencies=[Depends(audited("credit.history.read"))],
)
async def my_credit(caller: CitizenDep, service: ServiceDep) -> HistoryOut:
    """The caller's own credit history and score: every event, those no longer disclosed to
    third parties marked so (ADR 0020)."""
    credit = service.session.credit()
    view = await service.read(lambda: read_history(credit, caller.subject_ref, Audience.SUBJECT))
    return history_out(caller.kind, view)


def _period_out(code: int, seconds: int) -> DisclosurePeriodOut:
    category = credit_category(code)
    return DisclosurePeriodOut(
        category=category.name,
        code=code,
        days=seconds // SECONDS_PER_DAY,
        seconds=seconds,
        default_days=category.disclosure_days,
    )


@router.get(
    "/credit/disclosure-periods",
    response_model=DisclosurePeriodListOut,
    responses=problem_responses(429, 500, 503),
)
async def list_disclosure_periods(service: ServiceDep) -> DisclosurePeriodListOut:
    """Each credit category's disclosure period as set on chain (public policy)."""
    credit = service.session.credit()

    def read() -> DisclosurePeriodListOut:
        periods = credit.disclosure_periods(c.code for c in CREDIT_CATEGORIES)
        return DisclosurePeriodListOut(
            items=[_period_out(c.code, periods[c.code]) for c in CREDIT_CATEGORIES]
        )

    return await service.read(read)


@router.put(
    "/credit/disclosure-periods/{category}",
    response_model=DisclosurePeriodOut,
    responses={**_WRITE_ERRORS, **JOURNALED},
    dependencies=[Depends(audited("credit.disclosure.set")), JsonBody],
)
async def set_disclosure_period(
    category: Annotated[str, Path(max_length=64, description="credit category name or code")],
    body: DisclosurePeriodIn,
    request: Request,
    admin: AdminDep,
    service: ServiceDep,
) -> JSONResponse:
    """Governance sets how long negative events of a category are disclosed (0: no limit).

    It applies at once to every event of the category, recorded before or after (ADR 0020)."""
    entry = credit_category(category)
    audit_target(request, f"credit-category:{entry.name}")  # never the client's text
    seconds = body.days * SECONDS_PER_DAY
    session = service.session

    def prepare() -> Prepared:
        write = writes.set_disclosure_period(session, entry.code, seconds)
        return Prepared(write, {"code": write.facts.category})

    return await submit(
        request,
        service,
        scope=admin.actor,
        department_id=None,
        kind="credit.disclosure.set",
        identity={"category": entry.code, "seconds": seconds},
        prepare=prepare,
        model=DisclosurePeriodOut.model_validate,
    )


@finisher("credit.disclosure.set")
def _period_after_change(service: Service, operation: Operation) -> dict[str, Any]:
    code = int(operation.request["response"]["code"])
    seconds = service.session.credit().disclosure_period(code)
    return _period_out(code, seconds).model_dump(mode="json", by_alias=True)
