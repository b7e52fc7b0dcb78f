"""Dependencies shared by the routes (``Annotated`` aliases), and the checks and form fields
more than one route module uses (route modules do not import each other)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Form, Request, UploadFile
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.middleware import AuditNote
from api.problems import ProblemError
from api.security import Admin, Citizen, DepartmentCaller, Principal, TokenRejectedError
from api.service import Service
from ledger.config import Settings
from ledger.contracts import Department
from ledger.errors import ChainUnavailableError, DepartmentRegistryUnknownDepartment
from ledger.parsing import parse_moment
from ledger.service.tokens import looks_like_token
from ledger.session import LedgerSession

__all__ = [
    "AdminDep",
    "CitizenDep",
    "DepartmentDep",
    "ExpiresForm",
    "JsonBody",
    "MultipartBody",
    "PrincipalDep",
    "ServiceDep",
    "SettingsDep",
    "StaffDep",
    "TypeForm",
    "audit_note",
    "audit_target",
    "audited",
    "department_for_write",
    "parse_expiry",
    "read_upload",
    "unauthenticated",
]

_bearer = HTTPBearer(auto_error=False, description="An API token (gld_/gla_) or a citizen JWT")


def unauthenticated(detail: str) -> ProblemError:
    return ProblemError(
        401, "unauthenticated", detail, headers={"WWW-Authenticate": 'Bearer realm="gov-ledger"'}
    )


async def get_service(request: Request) -> Service:
    service: Service | None = getattr(request.app.state, "service", None)
    if service is None:
        raise ChainUnavailableError("the service is starting or stopping")
    return service


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServiceDep = Annotated[Service, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_principal(
    request: Request,
    service: ServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller, or None when no credential was sent; 401 for a credential that is not valid."""
    if credentials is None:
        return None
    token = credentials.credentials.strip()
    if looks_like_token(token):
        record = await service.offload(lambda: service.tokens.authenticate(token))
        if record is None:
            raise unauthenticated("the API token is not valid or was revoked")
        if record.role == "admin":
            return _identify(request, Admin(record.token_id))
        assert record.department_id is not None
        return _identify(
            request, DepartmentCaller(record.token_id, record.department_id, record.label)
        )
    try:
        return _identify(request, service.identity.authenticate(token))
    except TokenRejectedError as rejected:
        raise unauthenticated(str(rejected)) from None


PrincipalDep = Annotated[Principal | None, Depends(get_principal)]


def _forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "not_authorized", detail)


async def require_admin(principal: PrincipalDep) -> Admin:
    if principal is None:
        raise unauthenticated("this route needs the governance (admin) token")
    if not isinstance(principal, Admin):
        raise _forbidden("only governance may do this")
    return principal


async def require_department(principal: PrincipalDep) -> DepartmentCaller:
    if principal is None:
        raise unauthenticated("this route needs a department API token")
    if not isinstance(principal, DepartmentCaller):
        raise _forbidden("only a department may do this")
    return principal


async def require_citizen(principal: PrincipalDep) -> Citizen:
    if principal is None:
        raise unauthenticated("this route needs a token from the identity provider")
    if not isinstance(principal, Citizen):
        raise _forbidden("only the subject (a citizen or enterprise) may do this")
    return principal


async def require_department_or_admin(principal: PrincipalDep) -> Admin | DepartmentCaller:
    if principal is None:
        raise unauthenticated("this route needs a department or admin token")
    if isinstance(principal, Citizen):
        raise _forbidden("only a department or governance may do this")
    return principal


AdminDep = Annotated[Admin, Depends(require_admin)]
DepartmentDep = Annotated[DepartmentCaller, Depends(require_department)]
CitizenDep = Annotated[Citizen, Depends(require_citizen)]
StaffDep = Annotated[Admin | DepartmentCaller, Depends(require_department_or_admin)]


def audited(action: str) -> Callable[[Request], Awaitable[None]]:
    """A route dependency (listed first in ``dependencies=``) asking for an audit row for every
    call of the route, refused ones included; the actor is filled in once the caller is known."""

    async def mark(request: Request) -> None:
        request.state.audit = AuditNote(actor="unauthenticated", action=action)

    return mark


def audit_note(request: Request) -> AuditNote | None:
    """The audit row of this request, for the route to add its target and subject."""
    note = getattr(request.state, "audit", None)
    return note if isinstance(note, AuditNote) else None


def audit_target(request: Request, target: str) -> None:
    """Name what this request acts on in its audit row (a hash, an event, a department)."""
    note = audit_note(request)
    if note is not None:
        note.target = target


def _identify(request: Request, principal: Principal) -> Principal:
    note = audit_note(request)
    if note is not None:
        note.actor = principal.actor
        if isinstance(principal, Citizen):
            note.subject_ref = principal.subject_ref
    return principal


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def require_json(request: Request) -> None:
    """A route taking a JSON body refuses any other content type with 415 (not 422)."""
    media = _media_type(request)
    if media != "application/json" and not media.endswith("+json"):
        raise ProblemError(415, "unsupported_media_type", "send application/json")


async def require_multipart(request: Request) -> None:
    """A route taking an upload refuses any other content type with 415 (not 422)."""
    if _media_type(request) != "multipart/form-data":
        raise ProblemError(
            415, "unsupported_media_type", "send multipart/form-data with a 'file' part"
        )


JsonBody = Depends(require_json)
MultipartBody = Depends(require_multipart)


#: Form fields shared by the upload routes (anchoring, superseding, batches).
TypeForm = Annotated[str, Form(max_length=64, description="certificate type name")]
ExpiresForm = Annotated[str | None, Form(alias="expiresAt", max_length=40)]


def department_for_write(session: LedgerSession, caller: DepartmentCaller) -> Department:
    """The caller's department, refused with 403 while governance has it suspended."""
    department = session.registry().department(caller.department_id)
    if department is None:
        raise DepartmentRegistryUnknownDepartment({"departmentId": caller.department_id})
    if department.suspended:
        raise ProblemError(
            403,
            "department_suspended",
            f"department {caller.department_id} is suspended by governance; writes are refused",
        )
    return department


def parse_expiry(text: str | None) -> datetime | None:
    """``YYYY-MM-DD`` (valid through that day, China time) or an ISO time with an offset."""
    if text is None or not text.strip():
        return None
    return parse_moment(text, "expiresAt", end_of_day_for_dates=True)


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The part's bytes, refused with 413 past ``limit``: one byte more is read to know."""
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ProblemError(
            413, "content_too_large", f"the document exceeds the upload limit of {limit} bytes"
        )
    return data
