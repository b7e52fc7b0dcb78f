"""Journaled writes through the API (ADR 0012): 202 and the operation resource, ``Prefer``,
``Idempotency-Key`` (same request, different request, concurrent duplicates), and refusals."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ledger.service.database import ServiceDatabase
from tests.support.http import assert_problem, bearer
from tests.support.service import PreparedService, prepare_service


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("operations"), rate_limit=0)


def document() -> bytes:
    return f"营业执照 {uuid.uuid4()} operations test\n".encode()


def anchor(
    client: TestClient,
    prepared: PreparedService,
    data: bytes,
    headers: dict[str, str] | None = None,
    *,
    subject: str | None = None,
) -> httpx.Response:
    return client.post(
        "/v1/certificates",
        headers={**bearer(prepared.department_token), **(headers or {})},
        files={"file": ("licence.txt", data, "text/plain")},
        data={"type": "business-licence", "subject": subject or prepared.enterprise},
    )


def anchors_in_journal(prepared: PreparedService, document_hash: str) -> list[tuple[Any, ...]]:
    with ServiceDatabase(prepared.settings.service_db_path) as database:
        rows = database.query("SELECT op_id, state, request FROM operations")
    return [row for row in rows if document_hash in row[2]]


def test_respond_async_answers_202_and_the_operation_confirms(
    client: TestClient, prepared: PreparedService
) -> None:
    response = anchor(client, prepared, document(), {"Prefer": "respond-async"})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["state"] in ("accepted", "sent", "confirmed")
    location = response.headers["location"]
    assert location == f"/v1/operations/{accepted['operationId']}"
    deadline = time.monotonic() + 30
    while True:
        operation = client.get(location, headers=bearer(prepared.department_token)).json()
        if operation["state"] == "confirmed":
            break
        assert time.monotonic() < deadline, operation
        time.sleep(0.05)
    result = operation["result"]
    assert result["departmentId"] == prepared.department_id
    assert result["blockNumber"] == operation["blockNumber"]
    assert result["transactionHash"] == operation["transactionHash"]
    assert operation["nonce"] is not None
    record = client.get(f"/v1/certificates/{result['documentHash']}").json()
    assert record["status"] == "active"
    # Only the department that asked (or governance) sees the operation.
    assert client.get(location, headers=bearer(prepared.admin_token)).status_code == 200
    other = client.get(location, headers=bearer(prepared.other_department_token))
    assert_problem(other, 404, "not_found")
    assert_problem(client.get(location), 401, "unauthenticated")
    unknown = f"/v1/operations/{'0' * 32}"
    assert_problem(client.get(unknown, headers=bearer(prepared.admin_token)), 404, "not_found")
    malformed = client.get("/v1/operations/xyz", headers=bearer(prepared.admin_token))
    assert_problem(malformed, 422, "invalid")


def test_waiting_answers_201(client: TestClient, prepared: PreparedService) -> None:
    response = anchor(client, prepared, document(), {"Prefer": "wait=20"})
    assert response.status_code == 201, response.text
    assert response.headers["location"].startswith("/v1/certificates/0x")


def test_same_key_same_request_is_answered_once(
    client: TestClient, prepared: PreparedService
) -> None:
    data = document()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = anchor(client, prepared, data, key)
    assert first.status_code == 201, first.text
    again = anchor(client, prepared, data, key)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert len(anchors_in_journal(prepared, first.json()["documentHash"])) == 1
    # The key is the caller's: another department's same key is another request.
    other_key = anchor(client, prepared, document(), key)
    assert_problem(other_key, 422, "idempotency_conflict")
    different = client.post(
        "/v1/certificates",
        headers={**bearer(prepared.other_department_token), **key},
        files={"file": ("licence.txt", document(), "text/plain")},
        data={"type": "business-licence", "subject": prepared.enterprise},
    )
    assert different.status_code == 201, different.text


def test_concurrent_duplicates_make_one_transaction(
    client: TestClient, prepared: PreparedService
) -> None:
    data = document()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def send() -> None:
        response = anchor(client, prepared, data, key)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [response.status_code for response in answers] == [201] * 6, [
        response.text for response in answers
    ]
    assert len({response.json()["transactionHash"] for response in answers}) == 1
    assert len(anchors_in_journal(prepared, answers[0].json()["documentHash"])) == 1


def test_the_same_document_under_two_keys_is_anchored_once(
    client: TestClient, prepared: PreparedService
) -> None:
    data = document()
    first = anchor(client, prepared, data, {"Idempotency-Key": str(uuid.uuid4())})
    assert first.status_code == 201
    second = anchor(client, prepared, data, {"Idempotency-Key": str(uuid.uuid4())})
    assert_problem(second, 409, "duplicate")


def test_malformed_idempotency_key(client: TestClient, prepared: PreparedService) -> None:
    for value in ("", " padded", "x" * 256, "tab\there"):
        response = anchor(client, prepared, document(), {"Idempotency-Key": value})
        assert_problem(response, 400, "bad_request")


def poll(client: TestClient, location: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        operation: dict[str, Any] = client.get(location, headers=bearer(token)).json()
        if operation["state"] in ("confirmed", "failed"):
            return operation
        assert time.monotonic() < deadline, operation
        time.sleep(0.05)


def anchored_hash(client: TestClient, prepared: PreparedService) -> str:
    response = anchor(client, prepared, document())
    assert response.status_code == 201, response.text
    return str(response.json()["documentHash"])


def test_every_journaled_write_can_answer_202(
    client: TestClient, prepared: PreparedService
) -> None:
    """Status changes, credit events, bundles and governance changes are journaled too: with
    ``Prefer: respond-async`` each answers 202, and its operation's result is the answer."""
    mine = bearer(prepared.department_token)
    later = {"Prefer": "respond-async"}
    certificate = anchored_hash(client, prepared)
    writes: list[tuple[str, dict[str, Any], dict[str, str], str, str]] = [
        (
            f"/v1/certificates/{certificate}/suspend",
            {"reason": "investigation"},
            mine,
            "status",
            "suspended",
        ),
        (f"/v1/certificates/{certificate}/reinstate", {}, mine, "status", "active"),
        (
            "/v1/credit/events",
            {
                "subject": prepared.enterprise,
                "category": "contract-default",
                "polarity": "negative",
                "severity": 2,
                "occurredAt": "2026-01-05",
                "evidenceHash": "0x" + uuid.uuid4().hex * 2,
            },
            mine,
            "eventId",
            "",
        ),
        (
            f"/v1/departments/{prepared.other_department_id}/suspend",
            {},
            bearer(prepared.admin_token),
            "suspended",
            "True",
        ),
        (
            f"/v1/departments/{prepared.other_department_id}/reinstate",
            {},
            bearer(prepared.admin_token),
            "suspended",
            "False",
        ),
        (
            "/v1/bundles",
            {
                "enterprise": prepared.enterprise,
                "deadline": "2099-01-01",
                "parts": [
                    {"department": prepared.department_id, "certificateType": "business-licence"}
                ],
            },
            mine,
            "bundleId",
            "",
        ),
    ]
    for path, body, headers, member, expected in writes:
        response = client.post(path, headers={**headers, **later}, json=body)
        assert response.status_code == 202, (path, response.text)
        operation = poll(client, response.headers["location"], headers["Authorization"][7:])
        assert operation["state"] == "confirmed", (path, operation)
        result = operation["result"]
        assert member in result, (path, result)
        if expected:
            assert str(result[member]) == expected, (path, result)
    # The same write again, waiting this time: the bundle was opened, the part is filed.
    bundle = operation["result"]["bundleId"]
    filed = client.post(
        f"/v1/bundles/{bundle}/parts/0", headers=mine, json={"documentHash": certificate}
    )
    assert filed.status_code == 200, filed.text
    assert filed.json()["complete"] is True


def test_a_refused_write_is_a_failed_operation(
    client: TestClient, prepared: PreparedService
) -> None:
    mine = bearer(prepared.department_token)
    certificate = anchored_hash(client, prepared)
    revoke = {"reason": "fraud"}
    assert (
        client.post(f"/v1/certificates/{certificate}/revoke", headers=mine, json=revoke).status_code
        == 200
    )
    again = client.post(
        f"/v1/certificates/{certificate}/revoke",
        headers={**mine, "Prefer": "respond-async"},
        json=revoke,
    )
    assert again.status_code == 202, again.text
    operation = poll(client, again.headers["location"], prepared.department_token)
    assert operation["state"] == "failed"
    assert operation["error"]["code"] == "conflict"
    assert operation["nonce"] is None  # refused in simulation: no nonce spent
    waited = client.post(f"/v1/certificates/{certificate}/revoke", headers=mine, json=revoke)
    assert_problem(waited, 409, "conflict")


def test_a_retried_status_change_is_answered_from_the_journal(
    client: TestClient, prepared: PreparedService
) -> None:
    mine = bearer(prepared.department_token)
    certificate = anchored_hash(client, prepared)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    path = f"/v1/certificates/{certificate}/revoke"
    first = client.post(path, headers={**mine, **key}, json={"reason": "fraud"})
    again = client.post(path, headers={**mine, **key}, json={"reason": "fraud"})
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json() == first.json()
    other = client.post(path, headers={**mine, **key}, json={"reason": "court-order"})
    assert_problem(other, 422, "idempotency_conflict")


def test_registration_is_two_journaled_steps_and_resumes_with_its_key(
    client: TestClient, prepared: PreparedService
) -> None:
    admin = bearer(prepared.admin_token)
    body = {
        "id": 777,
        "region": 110105,
        "name": "朝阳区市场监督管理局",
        "scopes": ["business-licence"],
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    started = client.post(
        "/v1/departments", headers={**admin, **key, "Prefer": "respond-async"}, json=body
    )
    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "department.register"
    poll(client, started.headers["location"], prepared.admin_token)
    finished = client.post("/v1/departments", headers={**admin, **key}, json=body)
    assert finished.status_code == 201, finished.text
    again = client.post("/v1/departments", headers={**admin, **key}, json=body)
    assert again.status_code == 201, again.text
    first, second = finished.json(), again.json()
    assert (first["department"], first["signer"]) == (second["department"], second["signer"])
    assert first["token"]["token"] != second["token"]["token"]  # secrets are shown once
    for issued in (first, second):
        who = client.get("/v1/whoami", headers=bearer(issued["token"]["token"]))
        assert who.json()["departmentId"] == 777
    with ServiceDatabase(prepared.settings.service_db_path) as database:
        kinds = database.query(
            "SELECT kind, COUNT(*) FROM operations WHERE kind LIKE 'department.%' "
            "AND request LIKE '%777%' GROUP BY kind"
        )
    assert dict(kinds) == {"department.register": 1, "department.accredit-key": 1}
    changed = client.post(
        "/v1/departments", headers={**admin, **key}, json={**body, "region": 110106}
    )
    assert_problem(changed, 422, "idempotency_conflict")

    rotate_key = {"Idempotency-Key": str(uuid.uuid4())}
    rotated = client.post("/v1/departments/777/rotate-key", headers={**admin, **rotate_key})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["retired"] == first["signer"]
    repeated = client.post("/v1/departments/777/rotate-key", headers={**admin, **rotate_key})
    assert repeated.json() == rotated.json()
    department = client.get("/v1/departments/777").json()
    assert department["signers"] == [rotated.json()["signer"]]
