"""The command line as an HTTP client of a running service, for whoever has a department token
and no data directory: a window officer (``ledger window``).

The token comes from the environment (``LEDGER_TOKEN``) or a file (``--token-file``), never
from a command-line argument, which ``ps`` shows to every user of the machine. The service is
``--service URL`` (``LEDGER_SERVICE_URL``), else the service running on the data directory
(:func:`ledger.serving.running_service`).

A problem document the service answers becomes one error line with the exit status of its kind
(:data:`ledger.cli.app.EXIT_CODES`: 2 invalid, 3 not found, 4 not authorized, 5 conflict,
6 unavailable, 12 asked to wait); a service that cannot be reached is its own line (exit 6).

Not here: the commands (:mod:`ledger.cli.window` and the modules that add to its group).
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from ledger.cli.common import State
from ledger.errors import (
    ConfigurationError,
    ServiceAnswerError,
    ServiceBusyError,
    ServiceConflictError,
    ServiceInvalidError,
    ServiceNotFoundError,
    ServiceRefusedError,
    ServiceUnavailableError,
    ServiceUnreachableError,
    ValidationError,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "SERVICE_ENV",
    "TOKEN_ENV",
    "ServiceClient",
    "answer_error",
    "service_client",
    "service_options",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The environment variable holding the department token.
TOKEN_ENV: Final = "LEDGER_TOKEN"  # noqa: S105 - the variable's name, not a secret
#: The environment variable naming the service, like ``--service``.
SERVICE_ENV: Final = "LEDGER_SERVICE_URL"
#: Seconds a request may take (a check verifies several certificates on the chain).
TIMEOUT_SECONDS: Final = 60.0
_TOKEN_CHARACTERS: Final = frozenset(string.ascii_letters + string.digits + "-._~+/=")


_KINDS: Final[dict[int, type[ServiceAnswerError]]] = {
    400: ServiceInvalidError,
    401: ServiceRefusedError,
    403: ServiceRefusedError,
    404: ServiceNotFoundError,
    409: ServiceConflictError,
    413: ServiceInvalidError,
    415: ServiceInvalidError,
    422: ServiceInvalidError,
    429: ServiceBusyError,
    503: ServiceUnavailableError,
}


def answer_error(response: httpx.Response) -> ServiceAnswerError:
    """The error a refused request raises: its problem document's code and detail (or the
    status's reason when the body is no problem document, from a proxy say)."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        problem = {}
    code = problem.get("code")
    detail = problem.get("detail")
    code = code if isinstance(code, str) and code else f"http_{response.status_code}"
    detail = detail if isinstance(detail, str) and detail else response.reason_phrase
    retry = response.headers.get("retry-after", "")
    hint = f" (retry after {retry} s)" if retry.isdigit() else ""
    kind = _KINDS.get(response.status_code, ServiceAnswerError)
    return kind(response.status_code, code, " ".join(detail.split()), hint)


@dataclass(frozen=True)
class ServiceClient:
    """Requests to one service with one department token."""

    url: str
    token: str
    timeout: float = TIMEOUT_SECONDS

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer to ``method path`` (``kwargs`` as httpx takes them) when it is a success;
        otherwise the error of its kind (:func:`answer_error`), or ServiceUnreachableError."""
        import httpx

        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        try:
            with httpx.Client(base_url=self.url, timeout=self.timeout, headers=headers) as client:
                response = client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise ServiceUnreachableError(
                f"cannot reach the service at {self.url}: {reason}"
            ) from None
        if response.is_error:
            raise answer_error(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """The JSON object a successful request answers."""
        response = self.request(method, path, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ServiceUnreachableError(f"the service at {self.url} answered no JSON object")
        return body


def service_options(function: F) -> F:
    """``--service URL`` and ``--token-file FILE`` (see :func:`service_client`)."""
    function = click.option(
        "--token-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help=f"File holding the department token (else ${TOKEN_ENV}; never the token itself "
        "on the command line).",
    )(function)
    return click.option(
        "--service",
        "service_url",
        envvar=SERVICE_ENV,
        metavar="URL",
        help="The service's base URL, e.g. https://ledger.example.gov.cn "
        "(default: the service running on the data directory).",
    )(function)


def _token(token_file: Path | None) -> str:
    if token_file is not None:
        lines = token_file.read_text(encoding="utf-8", errors="replace").splitlines()
        token = lines[0].strip() if lines else ""
        where = f"{token_file}"
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        where = f"${TOKEN_ENV}"
    if not token:
        raise ConfigurationError(
            f"no department token: set {TOKEN_ENV} or give --token-file FILE "
            "(never the token itself on the command line)"
        )
    if not set(token) <= _TOKEN_CHARACTERS:
        raise ConfigurationError(f"{where} does not hold a token")
    return token


def service_client(state: State, service_url: str | None, token_file: Path | None) -> ServiceClient:
    """The client of ``service_url`` (else the service running on the data directory) with the
    token of ``token_file`` (else ``LEDGER_TOKEN``); ConfigurationError when either is missing."""
    from ledger.serving import running_service

    token = _token(token_file)
    if service_url is None:
        running = running_service(state.data_dir)
        if running is None:
            raise ConfigurationError(
                f"no service runs on data directory {state.data_dir}: give --service URL "
                f"(or ${SERVICE_ENV})"
            )
        service_url = running.url
    if not service_url.startswith(("http://", "https://")):
        raise ValidationError("--service must be an http:// or https:// URL")
    return ServiceClient(service_url.rstrip("/"), token)
