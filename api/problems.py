"""Errors as RFC 9457 problem documents (``application/problem+json``).

Every error the service answers with is a :class:`Problem`. Ledger errors map to a status by
intent (the categories of :mod:`ledger.errors`); request validation errors never echo the
submitted values; anything unexpected becomes a 500 problem that tells nothing of the internals.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.security import TokenRejectedError
from ledger.errors import (
    BacklogFullError,
    ChainUnavailableError,
    ConflictError,
    DuplicateError,
    InsufficientFundsError,
    InvalidDocumentError,
    InvalidIdentifierError,
    LedgerError,
    NotAuthorizedError,
    NotDeployedError,
    NotFoundError,
    TooManyAttemptsError,
    UnknownKeyError,
    ValidationError,
    error_class,
)
from ledger.storage import StorageUnavailableError

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "RETRY_AFTER_SECONDS",
    "FieldError",
    "Problem",
    "ProblemError",
    "install_problem_handlers",
    "problem_response",
    "problem_responses",
]

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
#: Seconds a client should wait before retrying when the chain is unavailable.
RETRY_AFTER_SECONDS: Final = 5

_log = logging.getLogger(__name__)

#: Ledger error intents, most specific first: (class, HTTP status).
_INTENTS: Final[tuple[tuple[type[LedgerError], int], ...]] = (
    (ChainUnavailableError, 503),
    (StorageUnavailableError, 503),
    (NotDeployedError, 503),
    (InsufficientFundsError, 503),
    (TokenRejectedError, 401),
    (BacklogFullError, 429),
    (TooManyAttemptsError, 429),
    (UnknownKeyError, 409),
    (NotAuthorizedError, 403),
    (NotFoundError, 404),
    (DuplicateError, 409),
    (ConflictError, 409),
    (ValidationError, 422),
    (InvalidDocumentError, 422),
    (InvalidIdentifierError, 422),
)


def status_of_error(class_name: str) -> tuple[int, str]:
    """HTTP status and problem code of a ledger error recorded by its class name (a journaled
    operation's failure), the status the error had when raised in a request.

    The class is found among every :class:`LedgerError` subclass wherever it is defined
    (:func:`ledger.errors.error_class`), not in ``ledger.errors`` alone. A name no class has
    any more (a journal written by another version of the service) is a 500 ``internal_error``:
    the write failed for a reason this service cannot classify, which is the server's fault,
    not the client's, so no 4xx would be true of it.
    """
    cls = error_class(class_name)
    if cls is None:
        return 500, "internal_error"
    return _status_of(cls), cls.code


#: Problem codes of plain HTTP errors (no ledger error behind them).
_HTTP_CODES: Final[dict[int, str]] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "request_timeout",
    413: "content_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class FieldError(BaseModel):
    """One invalid field of a request (its location and why; never its value)."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details, with the ledger's stable ``code`` as an extension member."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    code: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raised by routes to answer with a problem that no ledger error describes."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
) -> JSONResponse:
    """A ``application/problem+json`` response."""
    problem = Problem(
        type=f"/problems/{code}",
        title=_title(status),
        status=status,
        detail=detail,
        code=code,
        instance=_route_of(request),
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _route_of(request: Request) -> str | None:
    """The template of the route the request matched (``/v1/certificates/{document_hash}``,
    ``<unmatched>``), as the access log names it: a path as sent may carry an identity number
    or a name, and a problem document never echoes client text (ADR 0016)."""
    route = getattr(request.state, "route", None)
    return route if isinstance(route, str) else None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries declaring problem documents for ``statuses``."""
    return {
        status: {
            "model": Problem,
            "description": _title(status),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _status_of(cls: type[LedgerError]) -> int:
    """The HTTP status of a ledger error class: that of its first intent, else 500."""
    for kind, status in _INTENTS:
        if issubclass(cls, kind):
            return status
    return 500


async def _ledger_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    status = _status_of(type(exc))
    if status == 500:
        _log.error("unhandled ledger error %s", type(exc).__name__, exc_info=exc)
        return problem_response(request, 500, "internal_error", "internal server error")
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    if isinstance(exc, BacklogFullError | TooManyAttemptsError):
        headers = {"Retry-After": str(exc.retry_after)}
    # Ledger messages never carry personal data (ledger/errors.py), so they are shown as is.
    return problem_response(request, status, exc.code, str(exc), headers=headers)


async def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(request, exc.status, exc.code, exc.detail, headers=exc.headers)


#: A location part shown as sent: a field name (letters and underscores). Anything else a caller
#: chose (a JSON member named like an identity number, say) is not echoed back.
_FIELD_NAME: Final = re.compile(r"[A-Za-z_]{1,64}")


def _location_part(part: object) -> str | int | None:
    if isinstance(part, int):
        return part
    if isinstance(part, str):
        return part if _FIELD_NAME.fullmatch(part) else "<redacted>"
    return None


def field_errors(errors: Any) -> list[FieldError]:
    """Location, message and type of each validation error, dropping the submitted input."""
    return [
        FieldError(
            loc=[shown for shown in map(_location_part, error.get("loc", ())) if shown is not None],
            msg=str(error.get("msg", "invalid")),
            type=str(error.get("type", "invalid")),
        )
        for error in errors
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return problem_response(request, 400, "bad_request", "the body is not valid JSON")
    return problem_response(
        request,
        422,
        "invalid",
        "the request is invalid",
        errors=field_errors(errors),
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _HTTP_CODES.get(status, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request, status, code, detail, headers=headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error %s", type(exc).__name__, exc_info=exc)
    return problem_response(request, 500, "internal_error", "internal server error")


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem document."""
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
