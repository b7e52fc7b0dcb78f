"""Authorization answers come before existence (issue 13, item 7).

A department that may not write something hears that, whatever the state of the record it
names: not "duplicate" for a hash it could never anchor, not "conflict" for an event it could
never resolve. One that acts on another department's record hears that it is not the record's
issuer (or recorder), not a reason about its own accreditation.

Department 3 issued the records (region 110101; business licences, residence certificates,
false-information and contract-default events); department 4 (region 310101) holds business
licences and tax violations only.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Final

import httpx
import pytest
from fastapi.testclient import TestClient

from api.problems import PROBLEM_MEDIA_TYPE
from tests.support.http import assert_problem, bearer
from tests.support.service import PreparedService, prepare_service

FORBIDDEN: Final = (403, "not_authorized")


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def refused(response: httpx.Response) -> str:
    """The detail of a 403 ``not_authorized`` problem."""
    body = assert_problem(response, *FORBIDDEN)
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    detail = str(body["detail"])
    assert "Accreditation" not in detail, "a contract error name is not an answer"
    return detail


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("authorization-order"), rate_limit=0)


@pytest.fixture(scope="module")
def mine(prepared: PreparedService) -> dict[str, str]:
    return bearer(prepared.department_token)


@pytest.fixture(scope="module")
def other(prepared: PreparedService) -> dict[str, str]:
    return bearer(prepared.other_department_token)


def test_anchoring_an_anchored_hash_without_accreditation_is_403_not_409(
    client: TestClient, prepared: PreparedService, other: dict[str, str]
) -> None:
    """Department 4 may not anchor residence certificates: that, not "duplicate", is the
    answer for a residence certificate department 3 already anchored."""
    response = client.post(
        "/v1/certificates",
        headers=other,
        files={"file": ("residence.txt", prepared.citizen_certificate, "text/plain")},
        data={"type": "residence-certificate", "subject": prepared.citizen},
    )
    assert "not accredited for residence-certificate" in refused(response)


def test_anchoring_an_anchored_hash_with_accreditation_is_still_409(
    client: TestClient, prepared: PreparedService, other: dict[str, str]
) -> None:
    """Department 4 may anchor business licences: for it, the hash taken is the answer."""
    response = client.post(
        "/v1/certificates",
        headers=other,
        files={"file": ("licence.txt", prepared.document, "text/plain")},
        data={"type": "business-licence", "subject": prepared.enterprise},
    )
    assert (response.status_code, response.json()["code"]) == (409, "duplicate"), response.text


@pytest.mark.parametrize("action", ["revoke", "suspend"])
@pytest.mark.parametrize("target", ["licence", "residence"])
def test_changing_another_departments_certificate_names_its_issuer(
    client: TestClient,
    prepared: PreparedService,
    other: dict[str, str],
    action: str,
    target: str,
) -> None:
    """Department 4 is told it is not the issuer: for the licence (a type it holds, in a
    region it does not serve) as for the residence certificate (a type it does not hold)."""
    doc_hash = prepared.doc_hash if target == "licence" else prepared.citizen_certificate_hash
    response = client.post(
        f"/v1/certificates/{hex32(doc_hash)}/{action}",
        headers=other,
        json={"reason": "fraud"},
    )
    detail = refused(response)
    assert "department 3 issued it" in detail
    assert "not accredited" not in detail
    assert client.get(f"/v1/certificates/{hex32(doc_hash)}").json()["status"] == "active"


def test_superseding_another_departments_certificate_with_an_anchored_document_is_403(
    client: TestClient, prepared: PreparedService, other: dict[str, str]
) -> None:
    """The replacement offered is already anchored; the caller's right is answered first."""
    response = client.post(
        f"/v1/certificates/{hex32(prepared.doc_hash)}/supersede",
        headers=other,
        files={"file": ("residence.txt", prepared.citizen_certificate, "text/plain")},
        data={"reason": "renewal", "subject": prepared.enterprise},
    )
    assert "department 3 issued it" in refused(response)


def test_unknown_certificate_is_still_404(client: TestClient, other: dict[str, str]) -> None:
    """With no record there is no issuer to ask about: 404, for anyone."""
    response = client.post(
        f"/v1/certificates/0x{secrets.token_hex(32)}/revoke",
        headers=other,
        json={"reason": "fraud"},
    )
    assert (response.status_code, response.json()["code"]) == (404, "not_found"), response.text


def test_recording_without_accreditation_says_so_in_words(
    client: TestClient, prepared: PreparedService, other: dict[str, str]
) -> None:
    response = client.post(
        "/v1/credit/events",
        headers=other,
        json={
            "subject": prepared.citizen,
            "category": "false-information",
            "polarity": "negative",
            "severity": 1,
            "occurredAt": "2024-06-01",
            "evidenceHash": "0x" + secrets.token_hex(32),
        },
    )
    assert "not accredited for false-information" in refused(response)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("amend", {"status": "withdrawn", "reason": "error"}, id="amend"),
        # Not disputed: the recorder would get 409; another department gets 403 first.
        pytest.param("resolve", {"outcome": "upheld", "reason": "checked"}, id="resolve"),
    ],
)
def test_changing_another_departments_event_names_its_recorder(
    client: TestClient,
    prepared: PreparedService,
    other: dict[str, str],
    path: str,
    body: dict[str, str],
) -> None:
    response = client.post(
        f"/v1/credit/events/{hex32(prepared.event_id)}/{path}", headers=other, json=body
    )
    detail = refused(response)
    assert "department 3 recorded it" in detail
    assert "not accredited" not in detail


def test_filing_another_departments_filed_part_is_403_not_409(
    client: TestClient, prepared: PreparedService, mine: dict[str, str], other: dict[str, str]
) -> None:
    """Part 0 is department 3's and already filed: department 4 hears it is not its part."""
    opened = client.post(
        "/v1/bundles",
        headers=mine,
        json={
            "enterprise": prepared.enterprise,
            "deadline": "2099-12-31",
            "parts": [
                {"department": 3, "certificateType": "business-licence"},
                {"department": 4, "certificateType": "business-licence"},
            ],
        },
    )
    assert opened.status_code == 201, opened.text
    bundle_id = opened.json()["bundleId"]
    filed = client.post(
        f"/v1/bundles/{bundle_id}/parts/0",
        headers=mine,
        json={"documentHash": hex32(prepared.doc_hash)},
    )
    assert filed.status_code == 200, filed.text
    again = client.post(
        f"/v1/bundles/{bundle_id}/parts/0",
        headers=other,
        json={"documentHash": hex32(prepared.doc_hash)},
    )
    assert "department 3's to file" in refused(again)
    unknown = client.post(
        f"/v1/bundles/0x{uuid.uuid4().hex * 2}/parts/0",
        headers=other,
        json={"documentHash": hex32(prepared.doc_hash)},
    )
    assert unknown.status_code == 404, unknown.text
