"""Journaled writes (ADR 0012): ``Idempotency-Key``, ``Prefer: wait=N`` / ``respond-async``,
and the answer of an operation; the framework every journaled route calls (:func:`submit`, or
:func:`submit_for_department` for a department's own write), kept apart from the routes so
that they only route. ``GET /v1/operations/{operationId}`` is in
:mod:`api.routes.operations`.

A journaled write is answered once its operation is in the journal: with the final answer (201
or 200) when it is confirmed within the wait, with its problem when it failed, and otherwise
with ``202 Accepted``, ``Location: /v1/operations/{id}`` and the operation, to be polled.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, NotRequired, TypedDict, Unpack

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import department_for_write
from api.problems import ProblemError, status_of_error
from api.schemas import OperationErrorOut, OperationOut
from api.security import DepartmentCaller
from api.service import Service
from api.views import hex32
from ledger.config import Settings
from ledger.service.calls import Call
from ledger.service.journal import Operation
from ledger.writes import PreparedWrite

IDEMPOTENCY_HEADER: Final = "idempotency-key"
#: Printable ASCII without spaces at either end, as the IETF draft recommends (a UUID fits).
_KEY_PATTERN: Final = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,253}[\x21-\x7e]$|^[\x21-\x7e]$")
_WAIT_PATTERN: Final = re.compile(r"(?:^|[;,\s])wait\s*=\s*(\d{1,6})(?:$|[;,\s])")


#: The ``202`` of a journaled write, for its OpenAPI ``responses``.
JOURNALED: Final[dict[int | str, dict[str, Any]]] = {
    202: {
        "model": OperationOut,
        "description": "In the journal, not confirmed within the wait: poll the operation at "
        "its Location",
    }
}


def idempotency_key(request: Request) -> str | None:
    """The request's ``Idempotency-Key`` (1 to 255 printable characters), or None."""
    value = request.headers.get(IDEMPOTENCY_HEADER)
    if value is None:
        return None
    if not _KEY_PATTERN.match(value):
        raise ProblemError(
            400, "bad_request", "Idempotency-Key must be 1 to 255 printable ASCII characters"
        )
    return value


def preferred_wait(request: Request, settings: Settings) -> float:
    """Seconds to wait for confirmation: ``Prefer: respond-async`` none, ``Prefer: wait=N`` N
    (at most ``LEDGER_WRITE_WAIT``), otherwise ``LEDGER_WRITE_WAIT``."""
    prefer = ",".join(request.headers.getlist("prefer")).lower()
    if "respond-async" in prefer:
        return 0.0
    found = _WAIT_PATTERN.search(prefer)
    if found is not None:
        return min(float(found.group(1)), settings.write_wait)
    return settings.write_wait


def request_digest(kind: str, fields: dict[str, Any]) -> bytes:
    """What identifies a request for its idempotency key: the operation kind and the fields
    that decide what it does (documents by their hash, subjects by their reference)."""
    canonical = json.dumps({"kind": kind, **fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()


@dataclass(frozen=True)
class Prepared:
    """A write made ready by its use case (:mod:`ledger.writes`), and the fields its answer
    reports until it is confirmed (JSON, as the journal keeps them)."""

    write: PreparedWrite[Any]
    fields: dict[str, Any] = field(default_factory=dict)


#: Per operation kind: the answer of a confirmed operation, read from the chain (e.g. the record
#: after a status change). Kinds without one answer with their journaled fields.
Finisher = Callable[[Service, Operation], dict[str, Any]]
_FINISHERS: dict[str, Finisher] = {}


def finisher(kind: str) -> Callable[[Finisher], Finisher]:
    """Register the function that builds the answer of a confirmed ``kind`` operation."""

    def register(function: Finisher) -> Finisher:
        _FINISHERS[kind] = function
        return function

    return register


def confirmed_result(service: Service, operation: Operation) -> dict[str, Any]:
    """The answer of a confirmed operation: the one kept, or built now (and kept)."""
    if operation.result is not None:
        return operation.result
    build = _FINISHERS.get(operation.kind)
    if build is None:
        return _result(operation)
    return service.journal.keep_result(operation.op_id, build(service, operation))


async def admit(service: Service, department_id: int, *, scope: str, key: str | None) -> None:
    """Refuse a department's new write with 429 while its backlog is full (ADR 0018): before
    the write does any work or waits for the chain's lock, so a flood's refusals cost others
    little. A retry of a write already journaled under ``key`` is always answered. The journal
    checks again as it takes the write (count and insert are one step)."""
    journal = service.journal
    if not journal.max_unfinished:
        return

    def check() -> None:
        if key is None or journal.find(scope, key) is None:
            journal.check_room(department_id)

    await service.offload(check)


async def run_operation(
    service: Service,
    *,
    key: str | None,
    wait: float,
    scope: str,
    department_id: int | None,
    kind: str,
    identity: dict[str, Any] | Callable[[], dict[str, Any]],
    prepare: Callable[[], Prepared],
) -> Operation:
    """Journal one write (or find the one journaled under ``key``) and wait for it up to
    ``wait`` seconds; the operation as it then is.

    A department asking for a write while its backlog is full is refused (429, ADR 0018)
    before ``prepare`` does any work; a write the department did not ask for itself (``scope``
    is another caller: a subject's dispute signed with the recording department's key) is not
    held back by that department's backlog. ``identity`` may be a function, for identities that
    need reads (it runs with them, after the backlog check)."""
    journal = service.journal
    own = department_id is not None and scope == f"department:{department_id}"
    if own:
        assert department_id is not None
        await admit(service, department_id, scope=scope, key=key)

    def accept() -> Operation:
        digest = request_digest(kind, identity() if callable(identity) else identity)
        if key is not None:
            earlier = journal.find(scope, key)
            if earlier is not None:
                return journal.check_same(earlier, kind, digest)
        prepared = prepare()
        write = prepared.write
        call = Call.from_function(
            write.function, service.session.deployment, write.signer.to_json()
        )
        try:
            operation, created = journal.accept(
                kind,
                {"call": call.to_json(), "response": prepared.fields},
                department_id=department_id,
                idempotency=None if key is None else (scope, key, digest),
                capped=own,
            )
        except BaseException as failure:
            write.failed(failure)
            raise
        if not created:  # a concurrent duplicate won the key: its write is the one
            write.dropped()
        return operation

    operation = await service.read(accept)
    service.transactions.wake()
    return await service.await_operation(operation.op_id, wait)


class Answering(TypedDict):
    """What a journaled write is and how it is answered, besides who writes it and its
    ``prepare`` (see :func:`submit`)."""

    kind: str
    identity: dict[str, Any]
    model: Callable[[dict[str, Any]], BaseModel]
    #: The status of the answer once confirmed (200 unless given).
    status: NotRequired[int]
    #: The ``Location`` of the answer once confirmed, from its result.
    location: NotRequired[Callable[[dict[str, Any]], str]]


async def submit(
    request: Request,
    service: Service,
    *,
    scope: str,
    department_id: int | None,
    prepare: Callable[[], Prepared],
    **answering: Unpack[Answering],
) -> JSONResponse:
    """Journal a write and answer it (ADR 0012).

    ``prepare`` runs every check that can refuse (its errors are the answer; nothing is
    journaled) and returns the use case's prepared write (:mod:`ledger.writes`).
    ``identity`` is what makes two requests the same one for their ``Idempotency-Key`` (hashes
    and references, never identifiers). Once confirmed, the answer is the kind's
    :func:`finisher` (e.g. the record after a status change); the first answer is kept in the
    journal, and a retry with the key gets it again.
    """
    model, status = answering["model"], answering.get("status", 200)
    final = await run_operation(
        service,
        key=idempotency_key(request),
        wait=preferred_wait(request, service.settings),
        scope=scope,
        department_id=department_id,
        kind=answering["kind"],
        identity=answering["identity"],
        prepare=prepare,
    )
    if final.state != "confirmed":
        return answer(final, status=status, model=model)
    result = await service.read(lambda: confirmed_result(service, final))
    body = model(result)
    location = answering.get("location")
    headers = {"Location": location(result)} if location is not None else None
    return JSONResponse(body.model_dump(mode="json", by_alias=True), status, headers=headers)


async def submit_for_department(
    request: Request,
    service: Service,
    caller: DepartmentCaller,
    *,
    prepare: Callable[[], Prepared],
    **answering: Unpack[Answering],
) -> JSONResponse:
    """:func:`submit` for a department's own write: under its scope and backlog, and refused
    (403) while governance has it suspended, before ``prepare`` runs."""
    session = service.session

    def checked() -> Prepared:
        department_for_write(session, caller)
        return prepare()

    return await submit(
        request,
        service,
        scope=caller.actor,
        department_id=caller.department_id,
        prepare=checked,
        **answering,
    )


def operation_out(operation: Operation) -> OperationOut:
    return OperationOut(
        operation_id=operation.op_id,
        kind=operation.kind,
        state=operation.state,
        department_id=operation.department_id,
        created_at=operation.created_at,
        updated_at=operation.updated_at,
        transaction_hash=hex32(operation.tx_hash) if operation.tx_hash else None,
        nonce=operation.nonce,
        block_number=operation.block,
        error=None
        if operation.error_code is None
        else OperationErrorOut(code=_problem_code(operation), detail=operation.error or ""),
        result=_result(operation) if operation.state == "confirmed" else None,
    )


def _problem_code(operation: Operation) -> str:
    return status_of_error(operation.error_code or "")[1]


def _result(operation: Operation) -> dict[str, Any]:
    if operation.result is not None:
        return dict(operation.result)
    result = dict(operation.request.get("response", {}))
    result["blockNumber"] = operation.block
    result["transactionHash"] = hex32(operation.tx_hash) if operation.tx_hash else None
    return result


def answer(
    operation: Operation,
    *,
    status: int,
    model: Callable[[dict[str, Any]], BaseModel],
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The response to a journaled write: the final answer, its problem, or 202."""
    if operation.state == "confirmed":
        body = model(_result(operation))
        return JSONResponse(
            body.model_dump(mode="json", by_alias=True), status_code=status, headers=headers
        )
    if operation.state == "failed":
        http_status, code = status_of_error(operation.error_code or "")
        raise ProblemError(http_status, code, operation.error or "the operation failed")
    location = f"/v1/operations/{operation.op_id}"
    return JSONResponse(
        operation_out(operation).model_dump(mode="json", by_alias=True),
        status_code=202,
        headers={"Location": location, "Retry-After": "1"},
    )
