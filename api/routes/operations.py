"""``GET /v1/operations/{operationId}``: a journaled write as it is now (ADR 0012). The
journaled-write framework the write routes use is :mod:`api.writes`."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import ServiceDep, StaffDep
from api.problems import ProblemError, problem_responses
from api.schemas import OperationOut
from api.security import Admin
from api.service import Service
from api.writes import confirmed_result, operation_out
from ledger.service.journal import Operation

router = APIRouter(prefix="/operations", tags=["operations"])

OperationPath = Annotated[
    str, Path(pattern=r"^[0-9a-f]{32}$", description="operation id, 32 lower-case hex digits")
]


@router.get(
    "/{operation_id}",
    response_model=OperationOut,
    responses=problem_responses(401, 403, 404, 422, 429, 500, 503),
)
async def get_operation(
    operation_id: OperationPath, caller: StaffDep, service: ServiceDep
) -> OperationOut:
    """A journaled write: its state, transaction, confirmation, and its answer once confirmed.
    Only the department that asked for it, or governance; others get 404 as for an unknown id."""
    operation = await _read(service, operation_id)
    if operation is None or not (
        isinstance(caller, Admin) or operation.department_id == caller.department_id
    ):
        raise ProblemError(404, "not_found", "no such operation")
    if operation.state == "confirmed" and operation.result is None:
        confirmed = operation
        result = await service.read(lambda: confirmed_result(service, confirmed))
        operation = replace(operation, result=result)
    return operation_out(operation)


async def _read(service: Service, operation_id: str) -> Operation | None:
    return await service.read(lambda: service.journal.get(operation_id))
