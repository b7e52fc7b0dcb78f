"""Limits that one caller cannot talk its way around (issue 13, ADR 0018): one rate-limit bucket
per authenticated identity however the ``Authorization`` header is spelled, and a cap on each
department's unfinished operations (429 with ``Retry-After``), which a subject's dispute of the
department's event and a retry of a journaled write are not held back by.

The flood itself, and another department's latency under it, is measured against a real server
in ``tests/e2e/test_fairness.py``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.service import Service
from ledger.identity import parse_subject
from ledger.service.database import ServiceDatabase
from ledger.service.tokens import TokenStore
from tests.support.http import assert_problem, bearer
from tests.support.service import PreparedService, prepare_service


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("fairness"), rate_limit=0)


def spellings(token: str) -> list[str]:
    """One credential, as differently as ``Authorization: Bearer`` may be written."""
    return [
        f"Bearer {token}",
        f"bearer {token}",
        f"BEARER {token}",
        f"Bearer  {token}",
        f"bEaReR    {token}",
        f"Bearer \t{token}",
    ]


# -- one bucket per identity --------------------------------------------------------------------


def limited_client(prepared: PreparedService) -> TestClient:
    settings = prepared.settings.model_copy(update={"rate_limit": 1, "rate_burst": 3})
    return TestClient(create_app(settings), raise_server_exceptions=False)


def test_every_spelling_of_a_credential_shares_its_bucket(prepared: PreparedService) -> None:
    with limited_client(prepared) as client:
        statuses = [
            client.get("/v1/whoami", headers={"Authorization": header}).status_code
            for header in spellings(prepared.department_token) * 2
        ]
        assert statuses[:3] == [200, 200, 200]
        assert statuses[3:] == [429] * (len(statuses) - 3)
        limited = client.get(
            "/v1/whoami", headers={"Authorization": f"bearer   {prepared.department_token}"}
        )
        assert_problem(limited, 429, "too_many_requests")
        assert int(limited.headers["retry-after"]) >= 1
        # Another department has a bucket of its own.
        other = bearer(prepared.other_department_token)
        assert client.get("/v1/whoami", headers=other).status_code == 200


def test_a_department_has_one_bucket_whichever_of_its_tokens_it_uses(
    prepared: PreparedService,
) -> None:
    with ServiceDatabase(prepared.settings.service_db_path) as database:
        tokens = TokenStore(database)
        more = [tokens.issue("department", prepared.department_id).secret for _ in range(3)]
    with limited_client(prepared) as client:
        statuses = [
            client.get("/v1/whoami", headers=bearer(token)).status_code
            for token in [prepared.department_token, *more, *more]
        ]
    assert statuses[:3] == [200, 200, 200]
    assert set(statuses[3:]) == {429}


def test_a_citizen_has_one_bucket_whichever_of_its_tokens_it_uses(
    prepared: PreparedService,
) -> None:
    with limited_client(prepared) as client:
        service: Service = client.app.state.service  # type: ignore[attr-defined]
        assert service.dev_issuer is not None
        subject = parse_subject(prepared.citizen)
        tokens = [service.dev_issuer.issue(subject, lifetime=600 + n)[0] for n in range(6)]
        assert len(set(tokens)) == len(tokens)
        statuses = [client.get("/v1/whoami", headers=bearer(token)).status_code for token in tokens]
    assert statuses[:3] == [200, 200, 200]
    assert set(statuses[3:]) == {429}


def test_a_credential_that_is_not_valid_is_limited_by_address_in_any_spelling(
    prepared: PreparedService,
) -> None:
    with limited_client(prepared) as client:
        forged = "gld_0123456789abcdef_" + "C" * 43
        statuses = [
            client.get("/v1/catalogue", headers={"Authorization": header}).status_code
            for header in spellings(forged)
        ]
        assert statuses[:3] == [200, 200, 200]
        assert set(statuses[3:]) == {429}
        assert_problem(client.get("/v1/catalogue"), 429, "too_many_requests")


# -- a cap on each department's unfinished operations --------------------------------------------

CAP = 2


@pytest.fixture
def capped(prepared: PreparedService) -> Iterator[tuple[TestClient, Service]]:
    """A service with the cap, whose transaction manager is stopped: what is accepted stays
    unfinished until the test starts it again."""
    settings = prepared.settings.model_copy(update={"max_unfinished": CAP})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        service: Service = client.app.state.service  # type: ignore[attr-defined]
        service.transactions.stop()
        try:
            yield client, service
        finally:
            service.transactions.start()
            deadline = time.monotonic() + 60
            while service.journal.counts().keys() & {"accepted", "sent"}:
                assert time.monotonic() < deadline, service.journal.counts()
                time.sleep(0.05)


def anchor(client: TestClient, token: str, holder: str) -> httpx.Response:
    response: httpx.Response = client.post(
        "/v1/certificates",
        headers={**bearer(token), "Prefer": "respond-async"},
        files={"file": ("licence.txt", f"营业执照 {uuid.uuid4()}\n".encode(), "text/plain")},
        data={"type": "business-licence", "subject": holder},
    )
    return response


def test_past_its_cap_a_department_is_refused_with_429_and_retry_after(
    capped: tuple[TestClient, Service], prepared: PreparedService
) -> None:
    client, service = capped
    mine, holder = prepared.department_token, prepared.enterprise
    assert anchor(client, mine, holder).status_code == 202
    assert anchor(client, mine, holder).status_code == 202
    refused = anchor(client, mine, holder)
    body = assert_problem(refused, 429, "too_many_operations")
    assert str(CAP) in body["detail"]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-request-id"]
    assert service.journal.backlog(prepared.department_id) == CAP  # nothing journaled
    # A batch job is a unit of the backlog too.
    batch = client.post(
        "/v1/certificates/batches",
        headers=bearer(mine),
        files=[("files", ("a.txt", f"batch {uuid.uuid4()}".encode(), "text/plain"))],
        data={"type": "business-licence"},
    )
    assert_problem(batch, 429, "too_many_operations")
    # Another department is not held back by this one's backlog.
    assert anchor(client, prepared.other_department_token, holder).status_code == 202


def test_a_retry_with_its_key_is_answered_past_the_cap(
    capped: tuple[TestClient, Service], prepared: PreparedService
) -> None:
    client, _service = capped
    mine, holder = prepared.department_token, prepared.enterprise
    data = f"营业执照 {uuid.uuid4()}\n".encode()
    headers = {
        "Authorization": f"Bearer {mine}",
        "Prefer": "respond-async",
        "Idempotency-Key": str(uuid.uuid4()),
    }

    def send() -> httpx.Response:
        response: httpx.Response = client.post(
            "/v1/certificates",
            headers=headers,
            files={"file": ("licence.txt", data, "text/plain")},
            data={"type": "business-licence", "subject": holder},
        )
        return response

    first = send()
    assert first.status_code == 202, first.text
    assert anchor(client, mine, holder).status_code == 202
    assert_problem(anchor(client, mine, holder), 429, "too_many_operations")
    again = send()
    assert again.status_code == 202, again.text
    assert again.json()["operationId"] == first.json()["operationId"]


def test_a_subjects_dispute_is_not_held_back_by_the_departments_backlog(
    capped: tuple[TestClient, Service], prepared: PreparedService
) -> None:
    client, _service = capped
    for _ in range(CAP):
        assert anchor(client, prepared.department_token, prepared.enterprise).status_code == 202
    assert_problem(
        anchor(client, prepared.department_token, prepared.enterprise), 429, "too_many_operations"
    )
    token = client.post("/v1/dev/token", json={"subject": prepared.citizen}).json()["token"]
    dispute = client.post(
        f"/v1/credit/events/0x{prepared.event_id.hex()}/dispute",
        headers={**bearer(token), "Prefer": "respond-async"},
        json={"reason": "not mine"},
    )
    assert dispute.status_code in (200, 202), dispute.text


def test_the_backlog_empties_as_operations_finish(
    capped: tuple[TestClient, Service], prepared: PreparedService
) -> None:
    client, service = capped
    for _ in range(CAP):
        assert anchor(client, prepared.department_token, prepared.enterprise).status_code == 202
    assert_problem(
        anchor(client, prepared.department_token, prepared.enterprise), 429, "too_many_operations"
    )
    service.transactions.start()
    deadline = time.monotonic() + 60
    while service.journal.backlog(prepared.department_id):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert anchor(client, prepared.department_token, prepared.enterprise).status_code == 202
