"""A citizen's and an enterprise's own records (api/routes/me.py and ``GET /v1/me/credit``).

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

import pytest

from ledger.identity import (
    make_uscc,
)
from tests.support.http import assert_problem, bearer
from tests.support.routes import (
    Api,
    hex32,
)

# -- citizens and enterprises -------------------------------------------------------------------


def test_my_certificates(api: Api) -> None:
    response = api.client.get("/v1/me/certificates", headers=api.citizen)
    assert response.status_code == 200
    items = {item["documentHash"]: item for item in response.json()["items"]}
    residence = items[hex32(api.prepared.citizen_certificate_hash)]
    assert residence["type"] == "residence-certificate"
    assert residence["status"] == "active"
    assert residence["cid"].startswith("bafk")
    assert hex32(api.prepared.doc_hash) not in items

    enterprise = api.client.get("/v1/me/certificates", headers=bearer(api.enterprise_token))
    hashes = {item["documentHash"] for item in enterprise.json()["items"]}
    assert hex32(api.prepared.doc_hash) in hashes
    assert hex32(api.prepared.citizen_certificate_hash) not in hashes


def test_my_certificates_follow_status_changes(api: Api) -> None:
    holder = make_uscc(organisation_code="MA0H1LDER")
    document_hash = api.anchored(subject=holder)
    assert api.change(document_hash, "suspend", {"reason": "court-order"}).status_code == 200
    items = api.client.get("/v1/me/certificates", headers=bearer(api.dev_token(holder))).json()
    [item] = items["items"]
    assert (item["documentHash"], item["status"], item["reason"]) == (
        document_hash,
        "suspended",
        "court-order",
    )


def test_my_credit(api: Api) -> None:
    response = api.client.get("/v1/me/credit", headers=api.citizen)
    assert response.status_code == 200
    body = response.json()
    assert body["subjectKind"] == "citizen"
    events = {event["eventId"]: event for event in body["events"]}
    event = events[hex32(api.prepared.event_id)]
    for member in (
        "departmentId",
        "category",
        "polarity",
        "severity",
        "occurredAt",
        "recordedAt",
        "amendment",
        "amendedAt",
    ):
        assert member in event
    assert event["category"] == "false-information"
    assert body["score"]["policy"] == "gov-ledger/score/v1"
    assert hex32(api.prepared.event_id) in body["score"]["events"]


@pytest.mark.parametrize("path", ["/v1/me/certificates", "/v1/me/credit"])
def test_me_routes_refuse_others(api: Api, path: str) -> None:
    assert_problem(api.client.get(path), 401, "unauthenticated")
    assert_problem(api.client.get(path, headers=api.department), 403, "not_authorized")
    assert_problem(api.client.get(path, headers=api.admin), 403, "not_authorized")
