"""Request ids, audit rows and rate limits (api/middleware/guard.py).

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.identity import (
    make_citizen_id,
)
from tests.support.http import assert_problem, bearer
from tests.support.routes import (
    ZERO_HASH,
    Api,
)
from tests.support.service import PreparedService

# -- request ids, audit rows and rate limits ----------------------------------------------------


def test_request_id_is_echoed_and_audited(api: Api) -> None:
    request_id = str(uuid.uuid4())
    response = api.anchor(headers={**api.department, "X-Request-ID": request_id})
    assert response.status_code == 201
    assert response.headers["x-request-id"] == request_id
    rows = api.client.app.state.service.audit.entries(limit=100_000)  # type: ignore[attr-defined]
    [row] = [row for row in rows if row.request_id == request_id]
    assert (row.actor, row.action, row.outcome) == ("department:3", "certificate.anchor", 201)
    assert row.target == response.json()["documentHash"]


def test_request_id_on_problems_and_refusals_audited(api: Api) -> None:
    request_id = str(uuid.uuid4())
    response = api.anchor(headers={**api.other, "X-Request-ID": request_id}, type="no-such-type")
    assert_problem(response, 422, "invalid")
    assert response.headers["x-request-id"] == request_id
    rows = api.client.app.state.service.audit.entries(limit=100_000)  # type: ignore[attr-defined]
    [row] = [row for row in rows if row.request_id == request_id]
    assert (row.actor, row.action, row.outcome) == ("department:4", "certificate.anchor", 422)


@pytest.mark.parametrize(
    "offered",
    [
        "short",
        "has spaces in it",
        "x" * 65,
        "bad/slash!",
        "req-0123456789abcdef0123456789abcdef",
        # A free-form id could carry personal data into responses and audit rows.
        make_citizen_id(),
    ],
)
def test_request_id_other_than_a_uuid_is_replaced(api: Api, offered: str) -> None:
    response = api.client.get("/v1/catalogue", headers={"X-Request-ID": offered})
    generated = response.headers["x-request-id"]
    assert generated != offered
    assert uuid.UUID(generated).version == 4


def test_rate_limit_429(alternate: PreparedService) -> None:
    settings = alternate.settings.model_copy(update={"rate_limit": 1, "rate_burst": 2})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        department = bearer(alternate.department_token)
        for _ in range(2):
            assert client.get("/v1/whoami", headers=department).status_code == 200
        limited = client.get("/v1/whoami", headers=department)
        body = assert_problem(limited, 429, "too_many_requests")
        assert body["detail"]
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["x-request-id"]
        # Buckets are per token: another token and anonymous callers have their own.
        assert client.get("/v1/whoami", headers=bearer(alternate.admin_token)).status_code == 200
        for _ in range(2):
            assert client.get("/v1/catalogue").status_code == 200
        assert_problem(client.get("/v1/catalogue"), 429, "too_many_requests")
        assert_problem(
            client.post("/v1/verify", json={"documentHash": ZERO_HASH}), 429, "too_many_requests"
        )
        # Probes are never limited.
        for _ in range(5):
            assert client.get("/v1/health").status_code == 200


def test_rate_limit_counts_rejected_credentials_by_address(alternate: PreparedService) -> None:
    """A new made-up credential with every request does not escape the limit of the address."""
    settings = alternate.settings.model_copy(update={"rate_limit": 1, "rate_burst": 2})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        statuses = [
            client.get("/v1/whoami", headers=bearer(f"made-up-{n}")).status_code for n in range(4)
        ]
        assert statuses[:2] == [401, 401]
        assert 429 in statuses[2:]
        limited = client.get("/v1/me/credit", headers=bearer("gld_0123456789abcdef_" + "C" * 43))
        assert_problem(limited, 429, "too_many_requests")


def test_rate_limit_not_evaded_on_public_routes(alternate: PreparedService) -> None:
    settings = alternate.settings.model_copy(update={"rate_limit": 1, "rate_burst": 2})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        statuses = [
            client.post(
                "/v1/verify", headers=bearer(f"made-up-{n}"), json={"documentHash": ZERO_HASH}
            ).status_code
            for n in range(5)
        ]
        assert 429 in statuses
