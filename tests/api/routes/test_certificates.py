"""The certificate routes (api/routes/certificates.py): anchor, read, status changes, supersede
and a department's list.

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from ledger.documents import document_hash_of
from ledger.identity import (
    make_citizen_id,
)
from ledger.parsing import end_of_day
from tests.support.http import assert_problem, bearer
from tests.support.routes import (
    HASH_LENGTH,
    LIMIT,
    ZERO_HASH,
    Api,
    check_outcome,
    fresh_document,
    hex32,
    moment,
    wrong_check,
)

# -- certificates -------------------------------------------------------------------------------


def test_anchor_certificate(api: Api) -> None:
    document = fresh_document("营业执照")
    response = api.anchor(document=document, expiresAt="2031-02-28")
    assert response.status_code == 201, response.text
    body = response.json()
    expected_hash = hex32(document_hash_of(document).hash)
    assert body["documentHash"] == expected_hash
    assert response.headers["location"] == f"/v1/certificates/{expected_hash}"
    assert body["type"] == "business-licence"
    assert (body["region"], body["departmentId"]) == (110101, 3)
    assert body["cid"].startswith("bafk")
    assert body["encrypted"] is False
    assert body["blockNumber"] > 0
    assert len(body["transactionHash"]) == HASH_LENGTH

    record = api.certificate(expected_hash)
    assert record["documentHash"] == expected_hash
    assert (record["departmentId"], record["type"], record["region"]) == (
        3,
        "business-licence",
        110101,
    )
    assert record["status"] == "active"
    assert record["reason"] is None
    assert record["successor"] is None
    assert record["anchoredBlock"] == body["blockNumber"]
    assert moment(record["expiresAt"]) == end_of_day(date(2031, 2, 28))

    report = api.client.post("/v1/verify", files={"file": ("licence.txt", document, "text/plain")})
    assert report.status_code == 200
    assert report.json()["verdict"] == "VALID"
    assert report.json()["record"]["issuer"] == 3


def test_anchor_personal_certificate_is_encrypted_and_held(api: Api) -> None:
    citizen = make_citizen_id("110101", date(1985, 6, 1), 314)
    response = api.anchor(
        document=fresh_document("居住证"),
        subject=citizen,
        subjectKind="citizen",
        type="residence-certificate",
        expiresAt="2030-06-30T23:59:59+08:00",
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["encrypted"] is True
    assert body["type"] == "residence-certificate"
    record = api.certificate(body["documentHash"])
    assert moment(record["expiresAt"]) == datetime(2030, 6, 30, 15, 59, 59, tzinfo=UTC)
    held = api.client.get("/v1/me/certificates", headers=bearer(api.dev_token(citizen)))
    assert held.status_code == 200
    [item] = held.json()["items"]
    assert item["documentHash"] == body["documentHash"]
    assert item["cid"] == body["cid"]


def test_anchor_without_stored_copy(api: Api) -> None:
    response = api.anchor(store="false")
    assert response.status_code == 201, response.text
    assert response.json()["cid"] is None
    assert response.json()["encrypted"] is False
    assert api.certificate(response.json()["documentHash"])["status"] == "active"


def test_anchor_same_document_twice_409(api: Api) -> None:
    document = fresh_document()
    first = api.anchor(document=document)
    assert first.status_code == 201
    assert_problem(api.anchor(document=document), 409, "duplicate")
    assert_problem(api.anchor(api.other, document=document), 409, "duplicate")
    assert api.certificate(first.json()["documentHash"])["departmentId"] == 3


def test_anchor_type_outside_scope_403(api: Api) -> None:
    document = fresh_document()
    assert_problem(api.anchor(document=document, type="tax-registration"), 403, "not_authorized")
    unknown = hex32(document_hash_of(document).hash)
    assert_problem(api.client.get(f"/v1/certificates/{unknown}"), 404, "not_found")


@pytest.mark.parametrize(
    "form",
    [
        pytest.param({"type": "no-such-type"}, id="unknown-type"),
        pytest.param({"expiresAt": "2031-02-30"}, id="nonexistent-date"),
        pytest.param({"expiresAt": "2031-01-01T00:00:00"}, id="time-without-offset"),
        pytest.param({"expiresAt": "2020-01-01"}, id="expiry-in-the-past"),
        pytest.param({"subjectKind": "robot"}, id="unknown-subject-kind"),
    ],
)
def test_anchor_invalid_422(api: Api, form: dict[str, str]) -> None:
    document = fresh_document()
    assert_problem(api.anchor(document=document, **form), 422, "invalid")
    unknown = hex32(document_hash_of(document).hash)
    assert_problem(api.client.get(f"/v1/certificates/{unknown}"), 404, "not_found")


@pytest.mark.parametrize("kind", ["citizen", "enterprise", None])
def test_anchor_wrong_check_character_422(api: Api, kind: str | None) -> None:
    identifier = api.prepared.enterprise if kind == "enterprise" else api.prepared.citizen
    form = {"subjectKind": kind} if kind else {}
    response = api.anchor(subject=wrong_check(identifier), **form)
    body = assert_problem(response, 422, "invalid_identifier")
    assert "check character" in body["detail"]
    assert identifier[:17] not in response.text


def test_anchor_missing_parts_422(api: Api) -> None:
    response = api.client.post(
        "/v1/certificates",
        headers=api.department,
        data={"type": "business-licence"},
        files={"note": ("note.txt", b"not the document", "text/plain")},
    )
    body = assert_problem(response, 422, "invalid")
    assert {tuple(error["loc"]) for error in body["errors"]} == {
        ("body", "file"),
        ("body", "subject"),
    }


def test_anchor_broken_multipart_400(api: Api) -> None:
    response = api.client.post(
        "/v1/certificates",
        headers={**api.department, "content-type": "multipart/form-data; boundary=xyz"},
        content=b"not multipart at all",
    )
    assert_problem(response, 400, "bad_request")


def test_anchor_document_over_limit_413(api: Api) -> None:
    document = b"x" * (LIMIT + 1)
    body = assert_problem(api.anchor(document=document), 413, "content_too_large")
    assert str(LIMIT) in body["detail"]
    assert_problem(
        api.client.get(f"/v1/certificates/{hex32(document_hash_of(document).hash)}"),
        404,
        "not_found",
    )
    assert api.anchor(document=b"y" * LIMIT).status_code == 201


def test_anchor_body_over_limit_413(api: Api) -> None:
    """A body past the document limit and the multipart allowance is refused unread."""
    response = api.anchor(document=b"z" * (LIMIT + 70 * 1024))
    body = assert_problem(response, 413, "content_too_large")
    assert str(LIMIT) in body["detail"]


def test_get_certificate(api: Api) -> None:
    record = api.certificate(hex32(api.prepared.doc_hash))
    assert record["documentHash"] == hex32(api.prepared.doc_hash)
    assert record["departmentId"] == 3
    assert record["type"] == "business-licence"
    assert record["status"] == "active"
    assert record["expiresAt"] is None
    assert moment(record["anchoredAt"]).tzinfo is not None
    assert record["anchoredBlock"] > 0
    assert record.get("cid") is None  # the public record names no stored copy


def test_get_unknown_certificate_404(api: Api) -> None:
    assert_problem(api.client.get(f"/v1/certificates/{ZERO_HASH}"), 404, "not_found")


@pytest.mark.parametrize(
    "value", ["0x1234", "ab" * 32, "0x" + "zz" * 32, "0x" + "ab" * 33], ids=str
)
def test_certificate_bad_hash_in_path_422(api: Api, value: str) -> None:
    body = assert_problem(api.client.get(f"/v1/certificates/{value}"), 422, "invalid")
    assert body["errors"][0]["loc"] == ["path", "document_hash"]
    for action in ("suspend", "revoke"):
        response = api.change(value, action, {"reason": "fraud"})
        assert_problem(response, 422, "invalid")
    assert_problem(api.change(value, "reinstate"), 422, "invalid")


def test_suspend_and_reinstate_certificate(api: Api) -> None:
    document = fresh_document()
    document_hash = api.anchored(document=document)
    response = api.change(document_hash, "suspend", {"reason": "investigation"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "suspended"
    assert response.json()["reason"] == "investigation"
    assert api.certificate(document_hash) == response.json()
    report = api.client.post("/v1/verify", json={"documentHash": document_hash}).json()
    assert report["verdict"] == "INVALID"
    assert check_outcome(report, "status.current") == "failed"
    assert_problem(api.change(document_hash, "suspend", {"reason": "fraud"}), 409, "conflict")

    reinstated = api.change(document_hash, "reinstate", {})
    assert reinstated.status_code == 200, reinstated.text
    assert reinstated.json()["status"] == "active"
    assert reinstated.json()["reason"] is None
    assert api.certificate(document_hash)["status"] == "active"
    report = api.client.post("/v1/verify", files={"file": ("d.txt", document, "text/plain")})
    assert report.json()["verdict"] == "VALID"


def test_reinstate_without_body(api: Api) -> None:
    document_hash = api.anchored()
    assert api.change(document_hash, "suspend", {"reason": "holder-request"}).status_code == 200
    response = api.client.post(
        f"/v1/certificates/{document_hash}/reinstate", headers=api.department
    )
    assert response.status_code == 200, response.text
    assert api.certificate(document_hash)["status"] == "active"


def test_reinstate_active_certificate_409(api: Api) -> None:
    assert_problem(api.change(api.anchored(), "reinstate", {}), 409, "conflict")


def test_reinstate_with_unexpected_member_422(api: Api) -> None:
    document_hash = api.anchored()
    body = assert_problem(api.change(document_hash, "reinstate", {"reason": "x"}), 422, "invalid")
    assert body["errors"][0]["loc"] == ["body", "reason"]


def test_revoke_certificate(api: Api) -> None:
    document = fresh_document()
    document_hash = api.anchored(document=document)
    response = api.change(document_hash, "revoke", {"reason": "fraud"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    assert response.json()["reason"] == "fraud"
    assert api.certificate(document_hash) == response.json()
    report = api.client.post("/v1/verify", files={"file": ("d.txt", document, "text/plain")})
    assert report.json()["verdict"] == "INVALID"
    assert report.json()["record"]["status"] == "revoked"


def test_revoke_revoked_certificate_409(api: Api) -> None:
    document_hash = api.anchored()
    assert api.change(document_hash, "revoke", {"reason": "issued-in-error"}).status_code == 200
    assert_problem(api.change(document_hash, "revoke", {"reason": "fraud"}), 409, "conflict")
    assert_problem(api.change(document_hash, "reinstate", {}), 409, "conflict")
    assert_problem(api.change(document_hash, "suspend", {"reason": "fraud"}), 409, "conflict")
    assert api.certificate(document_hash)["reason"] == "issued-in-error"


@pytest.mark.parametrize("action", ["suspend", "revoke"])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"reason": "no-such-reason"}, id="unknown-reason"),
        pytest.param({}, id="missing-reason"),
        pytest.param({"reason": ""}, id="empty-reason"),
        pytest.param({"reason": "fraud", "note": "x"}, id="extra-member"),
    ],
)
def test_status_change_invalid_422(api: Api, action: str, body: dict[str, str]) -> None:
    document_hash = hex32(api.prepared.doc_hash)
    assert_problem(api.change(document_hash, action, body), 422, "invalid")
    assert api.certificate(document_hash)["status"] == "active"


@pytest.mark.parametrize("action", ["suspend", "revoke", "reinstate"])
def test_status_change_unknown_certificate_404(api: Api, action: str) -> None:
    body = {} if action == "reinstate" else {"reason": "fraud"}
    assert_problem(api.change(ZERO_HASH, action, body), 404, "not_found")


def supersede(
    api: Api,
    old_hash: str,
    document: bytes,
    headers: dict[str, str] | None = None,
    **form: str,
) -> httpx.Response:
    fields = {"reason": "renewal", "subject": api.prepared.enterprise}
    fields.update(form)
    return api.client.post(
        f"/v1/certificates/{old_hash}/supersede",
        headers=api.department if headers is None else headers,
        files={"file": ("renewed.txt", document, "text/plain")},
        data=fields,
    )


def test_supersede_certificate(api: Api) -> None:
    old_document = fresh_document()
    old_hash = api.anchored(document=old_document)
    new_document = fresh_document("renewed")
    response = supersede(api, old_hash, new_document, expiresAt="2032-12-31")
    assert response.status_code == 201, response.text
    body = response.json()
    new_hash = hex32(document_hash_of(new_document).hash)
    assert body["documentHash"] == new_hash
    assert body["supersedes"] == old_hash
    assert body["type"] == "business-licence"
    assert (body["region"], body["departmentId"]) == (110101, 3)
    assert response.headers["location"] == f"/v1/certificates/{new_hash}"

    old = api.certificate(old_hash)
    assert (old["status"], old["reason"], old["successor"]) == ("superseded", "renewal", new_hash)
    new = api.certificate(new_hash)
    assert new["status"] == "active"
    assert moment(new["expiresAt"]) == end_of_day(date(2032, 12, 31))
    old_report = api.client.post(
        "/v1/verify", files={"file": ("o.txt", old_document, "text/plain")}
    )
    assert old_report.json()["record"]["status"] == "superseded"
    new_report = api.client.post(
        "/v1/verify", files={"file": ("n.txt", new_document, "text/plain")}
    )
    assert new_report.json()["verdict"] == "VALID"


def test_supersede_unknown_certificate_404(api: Api) -> None:
    document = fresh_document()
    assert_problem(supersede(api, ZERO_HASH, document), 404, "not_found")
    unknown = hex32(document_hash_of(document).hash)
    assert_problem(api.client.get(f"/v1/certificates/{unknown}"), 404, "not_found")


def test_supersede_with_anchored_document_409(api: Api) -> None:
    old_hash = api.anchored()
    taken = fresh_document()
    api.anchored(document=taken)
    assert_problem(supersede(api, old_hash, taken), 409, "duplicate")
    assert api.certificate(old_hash)["status"] == "active"


def test_supersede_revoked_certificate_409(api: Api) -> None:
    old_hash = api.anchored()
    assert api.change(old_hash, "revoke", {"reason": "fraud"}).status_code == 200
    document = fresh_document()
    assert_problem(supersede(api, old_hash, document), 409, "conflict")
    unknown = hex32(document_hash_of(document).hash)
    assert_problem(api.client.get(f"/v1/certificates/{unknown}"), 404, "not_found")


@pytest.mark.parametrize(
    "form",
    [
        pytest.param({"reason": "because"}, id="unknown-reason"),
        pytest.param({"expiresAt": "2031-02-30"}, id="nonexistent-date"),
    ],
)
def test_supersede_invalid_422(api: Api, form: dict[str, str]) -> None:
    old_hash = api.anchored()
    assert_problem(supersede(api, old_hash, fresh_document(), **form), 422, "invalid")
    assert api.certificate(old_hash)["status"] == "active"


def test_supersede_wrong_check_character_422(api: Api) -> None:
    old_hash = api.anchored()
    response = supersede(
        api, old_hash, fresh_document(), subject=wrong_check(api.prepared.enterprise)
    )
    assert_problem(response, 422, "invalid_identifier")
    assert api.certificate(old_hash)["status"] == "active"


def test_supersede_over_limit_413(api: Api) -> None:
    old_hash = api.anchored()
    assert_problem(supersede(api, old_hash, b"x" * (LIMIT + 1)), 413, "content_too_large")
    assert api.certificate(old_hash)["status"] == "active"


# -- a department's certificates ----------------------------------------------------------------


def test_list_certificates_pages_newest_first(api: Api) -> None:
    created = api.register()
    identifier = created["department"]["id"]
    token = bearer(created["token"]["token"])
    hashes = [api.anchored(headers=token) for _ in range(3)]
    path = f"/v1/departments/{identifier}/certificates"

    first = api.client.get(path, headers=token, params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert [item["documentHash"] for item in page["items"]] == hashes[:0:-1]
    assert all(item["departmentId"] == identifier for item in page["items"])
    assert page["items"][0]["status"] == "active"
    assert page["nextCursor"]

    second = api.client.get(path, headers=token, params={"limit": 2, "cursor": page["nextCursor"]})
    assert second.status_code == 200, second.text
    assert [item["documentHash"] for item in second.json()["items"]] == hashes[:1]
    assert second.json()["nextCursor"] is None

    everything = api.client.get(path, headers=api.admin)
    assert [item["documentHash"] for item in everything.json()["items"]] == hashes[::-1]
    assert everything.json()["nextCursor"] is None

    # A status change shows in the listing; the order stays.
    assert api.change(hashes[1], "revoke", {"reason": "fraud"}, headers=token).status_code == 200
    listed = api.client.get(path, headers=token).json()["items"]
    assert [item["status"] for item in listed] == ["active", "revoked", "active"]


def test_list_certificates_of_another_department_403(api: Api) -> None:
    response = api.client.get("/v1/departments/3/certificates", headers=api.other)
    assert_problem(response, 403, "not_authorized")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"limit": "0"}, id="limit-zero"),
        pytest.param({"limit": "201"}, id="limit-over-maximum"),
        pytest.param({"limit": "many"}, id="limit-not-a-number"),
        pytest.param({"cursor": "!!not-a-cursor!!"}, id="bad-cursor"),
        pytest.param({"cursor": "x" * 65}, id="long-cursor"),
    ],
)
def test_list_certificates_invalid_422(api: Api, query: dict[str, str]) -> None:
    response = api.client.get(
        "/v1/departments/3/certificates", headers=api.department, params=query
    )
    assert_problem(response, 422, "invalid")


def test_list_certificates_of_unknown_department_404(api: Api) -> None:
    response = api.client.get("/v1/departments/99999/certificates", headers=api.admin)
    assert_problem(response, 404, "not_found")
