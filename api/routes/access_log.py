"""The access log a citizen or enterprise reads (查询记录, ADR 0028): its entries at
``/me/access-log``, an entry's inclusion proof at ``/me/access-log/{seq}/proof``, and
governance's ``POST /access-log/anchors`` to anchor the entries not anchored yet now.

Thin: the entries, batches and proofs are :mod:`ledger.service.access_log`'s, the anchoring
:mod:`api.access_log_anchoring`'s. The answers' models are here, as they are this router's alone.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from api.access_log_anchoring import anchor_now
from api.deps import AdminDep, CitizenDep, ServiceDep, SettingsDep, audit_target, audited
from api.problems import ProblemError, problem_responses, status_of_error
from api.service import Service
from api.views import hex32
from api.writes import preferred_wait
from ledger.errors import ValidationError
from ledger.service.access_log import AccessBatch, AccessEntry, EntryProof, entry_object

__all__ = ["router"]

router = APIRouter(tags=["access log"])

_log = logging.getLogger(__name__)

#: Sequence numbers are SQLite integers.
_SEQ_LIMIT: Final = 1 << 63
#: A cursor is the base64url of the last sequence number shown, as plain decimals.
_CURSOR_TEXT: Final = re.compile(r"[1-9][0-9]{0,18}", re.ASCII)


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class AccessDepartmentOut(_Camel):
    id: int
    #: The name this service knows for it (None for a department registered elsewhere).
    name: str | None


class AccessEntryOut(_Camel):
    """One access to the subject's records: who, when, under which service, what was read."""

    seq: int
    at: datetime
    action: str
    #: The department that acted or, for a consent the subject granted or revoked, the one the
    #: consent names; None for an entry without one.
    department: AccessDepartmentOut | None
    #: The label of the department's token: the window (office, counter); empty when none.
    window: str
    service: str | None
    #: What was read: document hashes, credit event ids (``0x`` hex).
    records: list[str]
    #: Whether the entry's batch is anchored on chain (its proof can be asked for).
    anchored: bool


class AccessLogPageOut(_Camel):
    items: list[AccessEntryOut]
    next_cursor: str | None


class AccessAnchorOut(_Camel):
    """Where the batch's root is anchored: the contract, the chain, the batch's range."""

    contract: str
    chain_id: int
    first_seq: int
    last_seq: int


class AccessProofOut(_Camel):
    """An entry's inclusion proof (docs/api.md gives the checker's algorithm)."""

    #: The entry object the leaf is hashed from.
    entry: dict[str, Any]
    #: Its RFC 8785 text; the leaf is keccak256(keccak256(UTF-8 of this text)).
    canonical: str
    leaf: str
    proof: list[str]
    #: The root the proof leads to, rebuilt from the batch's entries as they are now.
    root: str
    anchor: AccessAnchorOut


class AccessBatchOut(_Camel):
    """A batch of the access log and its anchoring."""

    root: str
    first_seq: int
    last_seq: int
    state: Literal["pending", "anchored"]
    operation_id: str | None
    block_number: int | None


def _cursor(text: str | None) -> int | None:
    """The sequence number a cursor of :func:`_encode_cursor` stands for; 422 for anything this
    service could not have handed out."""
    if text is None:
        return None
    refused = ValidationError("cursor is not one this service handed out")
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
        match = _CURSOR_TEXT.fullmatch(decoded.decode("ascii"))
    except (ValueError, binascii.Error):
        raise refused from None
    if match is None or int(match[0]) >= _SEQ_LIMIT or _encode_cursor(int(match[0])) != text:
        raise refused
    return int(match[0])


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def _departments(service: Service, entries: list[AccessEntry]) -> dict[int, AccessDepartmentOut]:
    """The departments named by ``entries``, with the names this service keeps (chain reads)."""
    registry = service.session.registry()
    named: dict[int, AccessDepartmentOut] = {}
    for identifier in {e.department_id for e in entries if e.department_id is not None}:
        department = registry.department(identifier)
        name = (
            None if department is None else service.names.name_of(identifier, department.name_hash)
        )
        named[identifier] = AccessDepartmentOut(id=identifier, name=name)
    return named


def _page(service: Service, subject_ref: bytes, limit: int, before: int | None) -> AccessLogPageOut:
    log = service.access_log
    entries = log.of_subject(subject_ref, limit=limit + 1, before=before)
    shown = entries[:limit]
    through = log.anchored_through()
    departments = _departments(service, shown)
    items = [
        AccessEntryOut(
            seq=entry.seq,
            at=datetime.fromtimestamp(entry.at, UTC),
            action=entry.action,
            department=None if entry.department_id is None else departments[entry.department_id],
            window=entry.window,
            service=entry.service,
            records=list(entry.records),
            anchored=entry.seq <= through,
        )
        for entry in shown
    ]
    more = len(entries) > limit
    return AccessLogPageOut(
        items=items, next_cursor=_encode_cursor(shown[-1].seq) if more else None
    )


@router.get(
    "/me/access-log",
    response_model=AccessLogPageOut,
    responses=problem_responses(401, 403, 422, 429, 500, 503),
    tags=["me"],
    dependencies=[Depends(audited("access-log.read"))],
)
async def my_access_log(
    caller: CitizenDep,
    service: ServiceDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1)] = 50,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
) -> AccessLogPageOut:
    """Who used or read the caller's records, newest first (查询记录)."""
    if limit > settings.page_size_max:
        raise ValidationError(f"limit must be at most {settings.page_size_max}")
    before = _cursor(cursor)
    return await service.read(lambda: _page(service, caller.subject_ref, limit, before))


def _proof_out(service: Service, proof: EntryProof) -> AccessProofOut:
    deployment = service.session.deployment
    if not proof.intact:
        # Someone changed the batch's rows after it was anchored: the proof is answered as the
        # rows are (its check fails on chain), and the operator is told.
        _log.warning(
            "the access log's entries %d to %d no longer give their anchored root",
            proof.batch.first_seq,
            proof.batch.last_seq,
        )
    return AccessProofOut(
        entry=entry_object(proof.entry),
        canonical=proof.canonical,
        leaf=hex32(proof.leaf),
        proof=[hex32(sibling) for sibling in proof.proof],
        root=hex32(proof.root),
        anchor=AccessAnchorOut(
            contract=str(deployment.access_log),
            chain_id=service.session.connection.chain_id,
            first_seq=proof.batch.first_seq,
            last_seq=proof.batch.last_seq,
        ),
    )


@router.get(
    "/me/access-log/{seq}/proof",
    response_model=AccessProofOut,
    responses=problem_responses(401, 403, 404, 409, 422, 429, 500, 503),
    tags=["me"],
    dependencies=[Depends(audited("access-log.proof"))],
)
async def access_entry_proof(
    caller: CitizenDep,
    service: ServiceDep,
    seq: Annotated[int, Path(gt=0, lt=_SEQ_LIMIT)],
) -> AccessProofOut:
    """The inclusion proof of one of the caller's entries, to check against the chain
    (``ledger access-log verify``, or the citizen page). 404 for an entry that is not the
    caller's, 409 ``not_anchored_yet`` before its batch is anchored."""
    proof = await service.offload(lambda: service.access_log.proof(caller.subject_ref, seq))
    return _proof_out(service, proof)


class AccessAnchoringOut(_Camel):
    """What ``POST /access-log/anchors`` did."""

    #: The batch anchored now (``pending`` in a 202: still waiting for the chain), or None when
    #: no entry waited.
    batch: AccessBatchOut | None
    #: Every entry up to this sequence number is in an anchored batch (0: none yet).
    anchored_through: int


def _anchoring_out(batch: AccessBatch | None, through: int) -> dict[str, Any]:
    body = AccessAnchoringOut(
        batch=None
        if batch is None
        else AccessBatchOut(
            root=hex32(batch.root),
            first_seq=batch.first_seq,
            last_seq=batch.last_seq,
            state=batch.state,
            operation_id=batch.op_id,
            block_number=batch.block,
        ),
        anchored_through=through,
    )
    return body.model_dump(mode="json", by_alias=True)


@router.post(
    "/access-log/anchors",
    response_model=AccessAnchoringOut,
    responses={
        202: {
            "model": AccessAnchoringOut,
            "description": "Journaled, not confirmed within the wait: the batch is pending "
            "(its operation at the Location)",
        },
        **problem_responses(401, 403, 409, 429, 500, 503),
    },
    dependencies=[Depends(audited("access-log.anchor"))],
)
async def anchor_access_log(request: Request, _caller: AdminDep, service: ServiceDep) -> Response:
    """Anchor the entries not anchored yet now, as the periodic anchoring would (governance
    signs): 200 once confirmed (``batch`` null when no entry waited), 202 while the batch waits
    for the chain."""
    done = await anchor_now(service, preferred_wait(request, service.settings))
    through = await service.offload(service.access_log.anchored_through)
    if done is None:
        return JSONResponse(_anchoring_out(None, through))
    batch, operation = done
    audit_target(request, hex32(batch.root))
    if operation.state == "failed":
        status, code = status_of_error(operation.error_code or "")
        raise ProblemError(status, code, operation.error or "the anchoring failed")
    if batch.state == "anchored":
        return JSONResponse(_anchoring_out(batch, through))
    headers = {"Location": f"/v1/operations/{operation.op_id}", "Retry-After": "1"}
    return JSONResponse(_anchoring_out(batch, through), status_code=202, headers=headers)
