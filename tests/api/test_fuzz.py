"""API fuzzing with Schemathesis (issue #7): every operation of the app's OpenAPI schema, with
valid credentials for it, against a real uvicorn server. Bounded examples a operation in the
default run; no answer may be a 5xx, and every answer must match the schema (status declared,
content type and body as documented)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.server import running_server
from tests.support.service import PreparedService, prepare_service

pytestmark = pytest.mark.slow

#: Examples generated for each operation in the default test run.
EXAMPLES: Final = 12
CHECKS: Final = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Governance routes (the admin token).
_GOVERNANCE: Final = ("/v1/departments/{department_id}/", "/v1/departments")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PreparedService, str]]:
    prepared = prepare_service(tmp_path_factory.mktemp("fuzz"), rate_limit=0, write_wait=5)
    with running_server(prepared.settings) as url:
        yield prepared, url


@pytest.fixture(scope="module")
def credentials(served: tuple[PreparedService, str]) -> dict[str, str]:
    prepared, url = served
    citizen = httpx.post(f"{url}/v1/dev/token", json={"subject": prepared.citizen}, timeout=30)
    citizen.raise_for_status()
    return {
        "department": prepared.department_token,
        "admin": prepared.admin_token,
        "citizen": str(citizen.json()["token"]),
    }


@pytest.fixture(scope="module")
def api_schema(served: tuple[PreparedService, str]) -> Any:
    _prepared, url = served
    return schemathesis.openapi.from_url(f"{url}/openapi.json").include(path_regex="^/v1/")


def credential_for(method: str, path: str) -> str:
    """Which valid credential an operation is called with."""
    if path.startswith("/v1/me/") or path.endswith("/dispute"):
        return "citizen"
    if method == "POST" and path.startswith(_GOVERNANCE) and not path.endswith("/certificates"):
        return "admin"
    return "department"


def operations() -> list[Any]:
    """Every ``/v1`` operation of the app's schema, as ``pytest.param(method, path)``."""
    from api.app import create_app
    from ledger.config import Settings

    document = create_app(Settings(dev_issuer=True)).openapi()
    return [
        pytest.param(method.upper(), path, id=f"{method.upper()} {path}")
        for path, item in sorted(document["paths"].items())
        if path.startswith("/v1/")
        for method in sorted(item)
    ]


@pytest.mark.parametrize(("method", "path"), operations())
def test_no_server_error_and_every_answer_matches_the_schema(
    method: str,
    path: str,
    api_schema: Any,
    served: tuple[PreparedService, str],
    credentials: dict[str, str],
) -> None:
    _prepared, url = served
    token = credentials[credential_for(method, path)]
    operation = api_schema[path][method]

    prepared = served[0]
    known = {
        "document_hash": "0x" + prepared.doc_hash.hex(),
        "event_id": "0x" + prepared.event_id.hex(),
        # Governance acts on department 4, so department 3's token keeps working.
        "department_id": prepared.other_department_id
        if credential_for(method, path) == "admin"
        else prepared.department_id,
    }

    @given(case=operation.as_strategy(), use_known=st.booleans())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any, use_known: bool) -> None:
        if use_known:  # half the cases reach a record that exists, not only the 404s
            for name in list(case.path_parameters or {}):
                if name in known:
                    case.path_parameters[name] = known[name]
        response = case.call_and_validate(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS, timeout=60
        )
        statuses.append(response.status_code)

    statuses: list[int] = []
    fuzz()
    assert statuses, "no request was made"
    assert all(status < 500 for status in statuses)
    print(f"{method} {path}: {len(statuses)} requests, statuses {sorted(set(statuses))}")
