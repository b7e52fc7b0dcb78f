"""The OpenAPI schema: every route of docs/api.md, and the statuses each one declares.

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

from typing import Any, Final

import pytest
from fastapi.testclient import TestClient

from api.problems import PROBLEM_MEDIA_TYPE

# -- the OpenAPI schema -------------------------------------------------------------------------

DOCUMENTED_OPERATIONS: Final = {
    ("get", "/v1/health"),
    ("get", "/v1/ready"),
    ("get", "/v1/catalogue"),
    ("get", "/v1/services"),
    ("get", "/v1/services/{code}"),
    ("get", "/v1/stats"),
    ("post", "/v1/verify"),
    ("post", "/v1/certificates/batches"),
    ("get", "/v1/certificates/batches/{job_id}"),
    ("get", "/v1/certificates/{document_hash}"),
    ("get", "/v1/departments"),
    ("get", "/v1/departments/{department_id}"),
    ("get", "/v1/whoami"),
    ("post", "/v1/departments"),
    ("post", "/v1/departments/{department_id}/suspend"),
    ("post", "/v1/departments/{department_id}/reinstate"),
    ("post", "/v1/departments/{department_id}/rotate-key"),
    ("post", "/v1/departments/{department_id}/tokens"),
    ("post", "/v1/certificates"),
    ("post", "/v1/certificates/{document_hash}/suspend"),
    ("post", "/v1/certificates/{document_hash}/reinstate"),
    ("post", "/v1/certificates/{document_hash}/revoke"),
    ("post", "/v1/certificates/{document_hash}/supersede"),
    ("get", "/v1/departments/{department_id}/certificates"),
    ("post", "/v1/bundles"),
    ("get", "/v1/bundles/{bundle_id}"),
    ("post", "/v1/bundles/{bundle_id}/parts/{index}"),
    ("get", "/v1/bundles/{bundle_id}/verification"),
    ("get", "/v1/operations/{operation_id}"),
    ("post", "/v1/credit/events"),
    ("get", "/v1/credit/events/{event_id}"),
    ("post", "/v1/credit/events/{event_id}/amend"),
    ("post", "/v1/credit/events/{event_id}/resolve"),
    ("post", "/v1/credit/events/{event_id}/dispute"),
    ("post", "/v1/credit/lookup"),
    ("get", "/v1/credit/disclosure-periods"),
    ("put", "/v1/credit/disclosure-periods/{category}"),
    ("get", "/v1/me/certificates"),
    ("get", "/v1/me/credit"),
    ("post", "/v1/me/consents"),
    ("get", "/v1/me/consents"),
    ("delete", "/v1/me/consents/{consent_id}"),
    ("post", "/v1/window/consents"),
    ("post", "/v1/window/checks"),
    ("get", "/v1/window/consents/{consent_id}/documents/{document_hash}"),
    ("get", "/v1/me/access-log"),
    ("get", "/v1/me/access-log/{seq}/proof"),
    ("post", "/v1/access-log/anchors"),
    ("post", "/v1/window/consents/{consent_id}/verifications"),
    ("post", "/v1/window/consents/{consent_id}/false-information"),
    ("post", "/v1/rpc"),
    ("post", "/v1/dev/token"),
}
#: Orchestrator probes, never rate limited.
PROBES: Final = {"/v1/health", "/v1/ready"}
#: Routes that take any credential, so there is no wrong role to refuse.
ANY_CREDENTIAL: Final = {"/v1/whoami"}
#: Routes answering a verification report: an unknown id is an INVALID report (200), never 404.
REPORTS: Final = {"/v1/bundles/{bundle_id}/verification"}
#: JSON-RPC answers a malformed call with an error object in a 200 (JSON-RPC 2.0), never 422.
JSON_RPC: Final = {"/v1/rpc"}


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    schema: dict[str, Any] = client.get("/openapi.json").json()
    return schema


def test_openapi_lists_every_documented_route(openapi: dict[str, Any]) -> None:
    operations = {
        (method, path)
        for path, item in openapi["paths"].items()
        if path.startswith("/v1/")
        for method in item
    }
    assert operations == DOCUMENTED_OPERATIONS


@pytest.mark.parametrize(
    ("method", "path"),
    [pytest.param(m, p, id=f"{m}:{p}") for m, p in sorted(DOCUMENTED_OPERATIONS)],
)
def test_openapi_declares_every_status(openapi: dict[str, Any], method: str, path: str) -> None:
    operation = openapi["paths"][path][method]
    declared = set(operation["responses"])
    needed = {"500"}
    if operation.get("security"):
        needed.add("401")
        if path not in ANY_CREDENTIAL:
            needed.add("403")
    if path not in PROBES:
        needed.add("429")
    if (operation.get("parameters") or operation.get("requestBody")) and path not in JSON_RPC:
        needed.add("422")
    if operation.get("requestBody"):
        needed |= {"400", "413"}
    if "{" in path and path not in REPORTS:
        needed.add("404")
    assert needed <= declared, sorted(needed - declared)
    successes = {code for code in declared if code.startswith("2")}
    # One answer, and 202 beside it for a journaled write (ADR 0012); 204 for a deletion that
    # has nothing to answer (revoking a consent).
    assert len(successes - {"202"}) <= 1
    assert successes
    assert successes <= {"200", "201", "202", "204"}
    for code in declared - successes:
        content = operation["responses"][code]["content"]
        assert content[PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    problem = openapi["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code"} <= set(problem["required"])
