"""Joint licensing through the API: open a bundle, file parts, read it, verify it; refusals."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Final

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.problems import PROBLEM_MEDIA_TYPE
from ledger.identity import make_uscc
from tests.support.http import assert_problem, bearer
from tests.support.service import PreparedService, file_foreign_part, prepare_service

DEADLINE: Final = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("bundles"), rate_limit=0)


def anchored(client: TestClient, token: str, enterprise: str) -> str:
    response = client.post(
        "/v1/certificates",
        headers=bearer(token),
        files={"file": ("licence.txt", f"营业执照 {uuid.uuid4()}\n".encode(), "text/plain")},
        data={"type": "business-licence", "subject": enterprise},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["documentHash"])


def open_bundle(client: TestClient, prepared: PreparedService, enterprise: str) -> dict[str, Any]:
    response = client.post(
        "/v1/bundles",
        headers=bearer(prepared.department_token),
        json={
            "enterprise": enterprise,
            "deadline": DEADLINE,
            "parts": [
                {"department": prepared.department_id, "certificateType": "business-licence"},
                {
                    "department": prepared.other_department_id,
                    "certificateType": "business-licence",
                },
            ],
        },
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/v1/bundles/{body['bundleId']}"
    return body


def file_part(client: TestClient, token: str, bundle_id: str, index: int, doc: str) -> Any:
    return client.post(
        f"/v1/bundles/{bundle_id}/parts/{index}",
        headers=bearer(token),
        json={"documentHash": doc},
    )


def verification(client: TestClient, bundle_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/bundles/{bundle_id}/verification")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["documentKind"] == "bundle"
    return body


def failed(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["name"], c["detail"]) for c in report["checks"] if c["outcome"] == "failed"]


def test_bundle_lifecycle_and_verification(client: TestClient, prepared: PreparedService) -> None:
    enterprise = make_uscc()
    mine = anchored(client, prepared.department_token, enterprise)
    theirs = anchored(client, prepared.other_department_token, enterprise)
    opened = open_bundle(client, prepared, enterprise)
    bundle_id = opened["bundleId"]
    assert opened["lead"] == prepared.department_id
    assert opened["complete"] is False
    assert [part["documentHash"] for part in opened["parts"]] == [None, None]
    assert enterprise not in str(opened)

    filed = file_part(client, prepared.department_token, bundle_id, 0, mine)
    assert filed.status_code == 200, filed.text
    assert filed.json()["parts"][0]["documentHash"] == mine
    missing = verification(client, bundle_id)
    assert missing["verdict"] == "INVALID"
    assert failed(missing) == [
        (
            "bundle.parts",
            f"part 1 (business-licence of department {prepared.other_department_id}) "
            "is not filed (not yet)",
        )
    ]
    assert [part["verdict"] for part in missing["parts"]] == ["VALID", None]

    complete = file_part(client, prepared.other_department_token, bundle_id, 1, theirs)
    assert complete.status_code == 200, complete.text
    assert complete.json()["complete"] is True
    assert complete.json()["completedAt"] is not None
    valid = verification(client, bundle_id)
    assert valid["verdict"] == "VALID", failed(valid)
    assert client.get(f"/v1/bundles/{bundle_id}").json()["complete"] is True

    revoke = client.post(
        f"/v1/certificates/{theirs}/revoke",
        headers=bearer(prepared.other_department_token),
        json={"reason": "fraud"},
    )
    assert revoke.status_code == 200, revoke.text
    revoked = verification(client, bundle_id)
    assert [name for name, _ in failed(revoked)] == ["bundle.parts"]
    assert "is INVALID (status.current: revoked (reason: fraud))" in failed(revoked)[0][1]
    assert client.get(f"/v1/bundles/{bundle_id}").json()["complete"] is False


def test_bundle_refusals(client: TestClient, prepared: PreparedService) -> None:
    enterprise = make_uscc()
    bundle_id = open_bundle(client, prepared, enterprise)["bundleId"]
    mine = anchored(client, prepared.department_token, enterprise)
    token = prepared.department_token
    unknown = "0x" + "ab" * 32

    assert_problem(client.get(f"/v1/bundles/{unknown}"), 404, "not_found")
    assert_problem(client.get("/v1/bundles/0x1234"), 422, "invalid")
    unknown_report = verification(client, unknown)
    assert [name for name, _ in failed(unknown_report)] == ["anchor.exists"]
    assert_problem(file_part(client, token, unknown, 0, mine), 404, "not_found")
    assert_problem(file_part(client, token, bundle_id, 9, mine), 404, "not_found")
    assert_problem(file_part(client, token, bundle_id, 256, mine), 422, "invalid")
    # Department 3's licence is no part 1: that part is department 4's.
    assert_problem(file_part(client, token, bundle_id, 1, mine), 403, "not_authorized")
    # An unknown certificate cannot be filed.
    assert_problem(file_part(client, token, bundle_id, 0, "0x" + "cd" * 32), 409, "conflict")
    assert file_part(client, token, bundle_id, 0, mine).status_code == 200
    assert_problem(file_part(client, token, bundle_id, 0, mine), 409, "duplicate")

    headers = bearer(token)
    good: dict[str, Any] = {
        "enterprise": enterprise,
        "deadline": DEADLINE,
        "parts": [{"department": prepared.department_id, "certificateType": "business-licence"}],
    }
    malformed = client.post(
        "/v1/bundles", headers={**headers, "content-type": "application/json"}, content=b"{"
    )
    assert_problem(malformed, 400, "bad_request")
    as_text = client.post(
        "/v1/bundles", headers={**headers, "content-type": "text/plain"}, content=b"enterprise"
    )
    assert_problem(as_text, 415, "unsupported_media_type")
    cases: list[tuple[dict[str, Any], str]] = [
        ({**good, "deadline": "2001-01-01"}, "deadline"),
        ({**good, "deadline": "tomorrow!!"}, "deadline"),
        ({**good, "parts": []}, "parts"),
        ({**good, "parts": good["parts"] * 17}, "parts"),
        ({**good, "parts": good["parts"] * 2}, "once"),
        ({**good, "parts": [{"department": 3, "certificateType": "no-such-type"}]}, "type"),
        ({**good, "parts": [{"department": 0, "certificateType": "business-licence"}]}, "dep"),
        ({**good, "extra": 1}, "extra"),
        ({**good, "enterprise": prepared.citizen}, "enterprise"),
    ]
    for body, label in cases:
        response = client.post("/v1/bundles", headers=headers, json=body)
        assert response.status_code == 422, (label, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
        assert prepared.citizen not in response.text
    # A part naming a department that does not exist is refused by the contract.
    nobody = {**good, "parts": [{"department": 4242, "certificateType": "business-licence"}]}
    assert_problem(client.post("/v1/bundles", headers=headers, json=nobody), 422, "invalid")


def test_a_part_held_by_another_enterprise_is_refused(
    client: TestClient, prepared: PreparedService
) -> None:
    """Issue 13 (4): a licence held by another enterprise is no part of this one's bundle. The
    filing is refused before any transaction with 409 ``bundle_holder_mismatch`` naming the part
    (index, type, department) and no identifier; the enterprise's own licence is then taken."""
    enterprise = make_uscc(organisation_code="MA0HLDR01")
    other = make_uscc(organisation_code="MA0HLDR02")
    bundle_id = open_bundle(client, prepared, enterprise)["bundleId"]
    theirs = anchored(client, prepared.department_token, other)

    for prefer in ({}, {"Prefer": "respond-async"}):
        response = client.post(
            f"/v1/bundles/{bundle_id}/parts/0",
            headers={**bearer(prepared.department_token), **prefer},
            json={"documentHash": theirs},
        )
        body = assert_problem(response, 409, "bundle_holder_mismatch")
        assert body["type"] == "/problems/bundle_holder_mismatch"
        assert body["detail"] == (
            f"part 0 (business-licence of department {prepared.department_id}): "
            "the certificate is not held by the bundle's enterprise"
        )
        assert enterprise not in response.text
        assert other not in response.text
    assert client.get(f"/v1/bundles/{bundle_id}").json()["parts"][0]["documentHash"] is None

    mine = anchored(client, prepared.department_token, enterprise)
    filed = file_part(client, prepared.department_token, bundle_id, 0, mine)
    assert filed.status_code == 200, filed.text
    assert filed.json()["parts"][0]["documentHash"] == mine


def test_a_part_filed_around_the_library_fails_verification(tmp_path: Path) -> None:
    """Issue 13 (4): the bundle contract cannot see a certificate's holder, so a client that
    files straight to it (an old one, or anyone's own code) can complete a bundle with another
    enterprise's licence. Verification compares the holder from the chain (the anchor's event)
    and fails ``bundle.parts`` naming the part, though the certificate alone is VALID."""
    prepared = prepare_service(tmp_path, rate_limit=0)
    part = file_foreign_part(prepared, "MA0HLDR03")
    with TestClient(create_app(prepared.settings), raise_server_exceptions=False) as test_client:
        report = verification(test_client, "0x" + part.bundle_id.hex())
    assert report["verdict"] == "INVALID"
    assert failed(report) == [
        (
            "bundle.parts",
            f"part 0 (business-licence of department {prepared.department_id}) "
            f"0x{part.foreign.hex()}: the certificate is not held by the bundle's enterprise",
        )
    ]
    assert [filed["verdict"] for filed in report["parts"]] == ["VALID"]
    assert part.holder not in str(report)
    assert prepared.enterprise not in str(report)


def test_a_deadline_date_is_its_last_day_in_china_time(
    client: TestClient, prepared: PreparedService
) -> None:
    """Issue 13 (7): a deadline given as a date is the last day to file, China time: the
    bundle's ``deadline`` is 23:59:59+08:00 that day and ``lastDay`` is the date given (it was
    the midnight after, which reads as the next day). An ISO time on either side of midnight
    China time (16:00 UTC) falls on the day it names in China time."""
    china = timezone(timedelta(hours=8))
    day = (datetime.now(china) + timedelta(days=30)).date()
    after = day + timedelta(days=1)
    cases = [
        (day.isoformat(), datetime.combine(day, time(23, 59, 59), china), day),
        (f"{day}T15:59:59Z", datetime.combine(day, time(23, 59, 59), china), day),
        (f"{day}T16:00:01Z", datetime.combine(after, time(0, 0, 1), china), after),
        (f"{after}T00:00:01+08:00", datetime.combine(after, time(0, 0, 1), china), after),
    ]
    for given, deadline, last_day in cases:
        response = client.post(
            "/v1/bundles",
            headers=bearer(prepared.department_token),
            json={
                "enterprise": prepared.enterprise,
                "deadline": given,
                "parts": [
                    {"department": prepared.department_id, "certificateType": "business-licence"}
                ],
            },
        )
        assert response.status_code == 201, response.text
        for body in (response.json(), client.get(response.headers["location"]).json()):
            assert datetime.fromisoformat(body["deadline"]) == deadline, (given, body)
            assert body["lastDay"] == last_day.isoformat(), (given, body)
        report = verification(client, response.json()["bundleId"])
        opened = next(c for c in report["checks"] if c["name"] == "anchor.exists")
        assert f"due by {last_day.isoformat()} (China time)" in opened["detail"], given
