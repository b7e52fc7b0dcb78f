"""The catalogue (what the API accepts by name) and ``whoami``."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import PrincipalDep, ServiceDep, unauthenticated
from api.problems import problem_responses
from api.schemas import CatalogueOut, CertificateTypeOut, CreditCategoryOut, WhoAmIOut
from api.security import Admin, Citizen
from api.views import scope_name
from ledger.catalogue import CERTIFICATE_TYPES, CREDIT_CATEGORIES, ReasonCode

router = APIRouter(tags=["catalogue"])


@router.get("/catalogue", response_model=CatalogueOut, responses=problem_responses(429, 500))
async def catalogue() -> CatalogueOut:
    """Certificate types, credit categories and status-change reasons."""
    # Each entry as its output model reads it: the model names the fields shown.
    return CatalogueOut(
        certificate_types=[
            CertificateTypeOut.model_validate(t, from_attributes=True) for t in CERTIFICATE_TYPES
        ],
        credit_categories=[
            CreditCategoryOut.model_validate(c, from_attributes=True) for c in CREDIT_CATEGORIES
        ],
        reasons=[reason.label for reason in ReasonCode],
    )


@router.get(
    "/whoami",
    response_model=WhoAmIOut,
    response_model_exclude_none=True,
    responses=problem_responses(401, 429, 500, 503),
)
async def whoami(principal: PrincipalDep, service: ServiceDep) -> WhoAmIOut:
    """Who the presented credential stands for."""
    if principal is None:
        raise unauthenticated("send a bearer credential to find out who it stands for")
    if isinstance(principal, Admin):
        return WhoAmIOut(role="admin")
    if isinstance(principal, Citizen):
        return WhoAmIOut(role=principal.kind.value)
    registry = service.session.registry()
    identifier = principal.department_id

    def read() -> WhoAmIOut:
        department = registry.department(identifier)
        scopes = [scope_name(code) for code in registry.scopes(identifier)] if department else []
        return WhoAmIOut(
            role="department",
            department_id=identifier,
            region=department.region if department else None,
            scopes=scopes,
            suspended=department.suspended if department else None,
        )

    return await service.read(read)
