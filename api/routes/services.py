"""The service catalogue (政务服务事项清单): ``GET /v1/services`` and ``GET /v1/services/{code}``.

Public, like ``GET /v1/catalogue``: which certificates a service asks for is no secret, and the
``/services`` page reads it before anyone logs in. The data and its JSON shape are
:mod:`ledger.services`'; this module only serves them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.problems import problem_responses
from api.schemas import ServiceListOut, ServiceOut
from ledger.services import (
    SERVICE_CODE_MAX_LENGTH,
    SERVICE_CODE_PATTERN,
    catalogue_document,
    service,
    service_document,
)

router = APIRouter(tags=["services"])

CodePath = Annotated[
    str,
    Path(
        pattern=SERVICE_CODE_PATTERN,
        max_length=SERVICE_CODE_MAX_LENGTH,
        description="service code, kebab-case",
    ),
]


@router.get("/services", response_model=ServiceListOut, responses=problem_responses(429, 500))
async def list_services() -> ServiceListOut:
    """Every service of the catalogue and the certificates each asks for."""
    return ServiceListOut.model_validate(catalogue_document())


@router.get(
    "/services/{code}", response_model=ServiceOut, responses=problem_responses(404, 422, 429, 500)
)
async def one_service(code: CodePath) -> ServiceOut:
    """One service; 404 ``unknown_service`` when the catalogue has no such code."""
    return ServiceOut.model_validate(service_document(service(code)))
