"""A document handed over at the window, through the real app (api/routes/window_uploads.py,
ADR 0029): verified under the applicant's consent, and a forged one recorded as a
false-information event with its evidence encrypted, seen and disputed by the applicant.

Every refusal is tried: a department not accredited for false-information (answered before
anything else), a consent that is unknown, another department's, revoked, expired or not taken
yet, a valid document, no confirmation, an unknown reason, an oversized upload, the same document
twice. No identity number is left in an answer, a problem body or the service database.

They run against the shared service of tests/api/conftest.py (``api``); the applicant is the
prepared citizen, whose residence certificate (anchored by department 3) is altered into the
forged documents.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from eth_utils.crypto import keccak

from api.service import Service
from ledger.service.access_log import AccessEntry
from ledger.storage.vault import looks_sealed
from tests.support.http import assert_problem, bearer
from tests.support.privacy import Person, needles
from tests.support.routes import LIMIT, Api

SERVICE = "residence-permit-endorsement"
#: Every body this module's requests were answered with, scanned at the end.
BODIES: list[bytes] = []


def call(api: Api, method: str, url: str, **kwargs: Any) -> httpx.Response:
    response: httpx.Response = api.client.request(method, url, **kwargs)
    BODIES.append(response.content)
    return response


def service_of(api: Api) -> Service:
    service: Service = api.client.app.state.service  # type: ignore[attr-defined]
    return service


def consent(
    api: Api, department: dict[str, str] | None = None, department_id: int | None = None
) -> str:
    """A visit consent of the prepared citizen for ``department_id`` (3), taken by its window."""
    body = {
        "service": SERVICE,
        "departmentId": department_id or api.prepared.department_id,
        "mode": "visit",
    }
    granted = call(api, "POST", "/v1/me/consents", headers=api.citizen, json=body)
    assert granted.status_code == 201, granted.text
    taken = call(
        api,
        "POST",
        "/v1/window/consents",
        headers=department or api.department,
        json={"code": granted.json()["code"]},
    )
    assert taken.status_code == 200, taken.text
    return str(granted.json()["consentId"])


def forged(api: Api) -> bytes:
    """The citizen's residence certificate with its name changed: a document never anchored."""
    original = api.prepared.citizen_certificate
    altered = original.replace("张三".encode(), "李四".encode())
    assert altered != original
    return altered + f" {uuid.uuid4().hex}\n".encode()


def verify(
    api: Api, consent_id: str, data: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return call(
        api,
        "POST",
        f"/v1/window/consents/{consent_id}/verifications",
        headers=headers or api.department,
        files={"file": ("upload.txt", data, "text/plain")},
    )


def report(
    api: Api,
    consent_id: str,
    data: bytes,
    headers: dict[str, str] | None = None,
    **form: str,
) -> httpx.Response:
    fields = {"reason": "altered-document", "confirm": "true", **form}
    return call(
        api,
        "POST",
        f"/v1/window/consents/{consent_id}/false-information",
        headers=headers or api.department,
        files={"file": ("upload.txt", data, "text/plain")},
        data={name: value for name, value in fields.items() if value != "<absent>"},
    )


def entries(api: Api) -> list[AccessEntry]:
    service = service_of(api)
    subject_ref = service.session.subject_ref(api.prepared.citizen)
    return service.access_log.of_subject(subject_ref)


# -- verifying ------------------------------------------------------------------------------------


def test_a_valid_document_verifies_and_is_logged(api: Api) -> None:
    consent_id = consent(api)
    response = verify(api, consent_id, api.prepared.citizen_certificate)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["verdict"], body["forgerySuspected"]) == ("VALID", False)
    shown = "0x" + api.prepared.citizen_certificate_hash.hex()
    assert body["documentHash"] == shown
    [entry] = [e for e in entries(api) if e.action == "document.verified" and shown in e.records]
    assert (entry.department_id, entry.service) == (api.prepared.department_id, SERVICE)


def test_a_forged_document_is_invalid_and_suspected(api: Api) -> None:
    data = forged(api)
    response = verify(api, consent(api), data)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["verdict"], body["forgerySuspected"]) == ("INVALID", True)
    outcomes = {check["name"]: check["outcome"] for check in body["checks"]}
    assert outcomes["anchor.exists"] == "failed"
    assert body["documentHash"] == "0x" + keccak(data).hex()


def test_a_certificate_that_does_not_parse_is_not_suspected(api: Api) -> None:
    broken = b'{"version": "gov-ledger/cert/1", "fields": '
    body = verify(api, consent(api), broken).json()
    assert (body["verdict"], body["forgerySuspected"]) == ("INVALID", False)


def test_verification_refusals(api: Api) -> None:
    consent_id = consent(api)
    data = forged(api)
    assert_problem(verify(api, consent_id, data, api.citizen), 403, "not_authorized")
    assert_problem(verify(api, consent_id, data, api.other), 403, "consent_other_department")
    assert_problem(verify(api, consent_id, data, api.suspended), 403, "department_suspended")
    assert_problem(verify(api, "0" * 32, data), 403, "consent_not_found")
    assert_problem(verify(api, consent_id, b"x" * (LIMIT + 1)), 413, "content_too_large")
    url = f"/v1/window/consents/{consent_id}/verifications"
    response = call(api, "POST", url, headers=api.department, json={"documentHash": "0x00"})
    assert_problem(response, 415, "unsupported_media_type")


# -- reporting ------------------------------------------------------------------------------------


def test_a_forged_document_is_recorded_with_encrypted_evidence(api: Api) -> None:
    consent_id = consent(api)
    data = forged(api)
    response = report(api, consent_id, data, reason="forged-document")
    assert response.status_code == 201, response.text
    body = response.json()
    event_id = body["eventId"]
    assert response.headers["location"] == f"/v1/credit/events/{event_id}"
    assert body["evidenceHash"] == "0x" + keccak(data).hex()

    # The stored evidence is a ciphertext: neither the document nor the identity number.
    documents = service_of(api).session.documents()
    raw = documents.store.get(body["evidenceCid"])
    assert looks_sealed(raw)
    assert data not in raw
    assert api.prepared.citizen.encode() not in raw
    assert documents.fetch_document(body["evidenceCid"]) == data

    # The applicant sees it at once, with the evidence and the department.
    mine = call(api, "GET", "/v1/me/credit", headers=api.citizen).json()
    [event] = [e for e in mine["events"] if e["eventId"] == event_id]
    assert event["category"] == "false-information"
    assert (event["polarity"], event["severity"]) == ("negative", 3)
    assert event["departmentId"] == api.prepared.department_id
    assert (event["evidenceHash"], event["evidenceCid"]) == (
        body["evidenceHash"],
        body["evidenceCid"],
    )
    [entry] = [e for e in entries(api) if e.records[:1] == (event_id,)]
    assert (entry.action, entry.records) == (
        "credit.false-information",
        (event_id, "forged-document"),
    )
    assert (entry.department_id, entry.service) == (api.prepared.department_id, SERVICE)

    # The same document again, under this consent or another: one document, one event.
    assert_problem(report(api, consent_id, data), 409, "false_information_recorded")
    assert_problem(report(api, consent(api), data), 409, "false_information_recorded")

    # The applicant disputes it through the existing path; the department resolves it.
    disputed = api.amend(event_id, "dispute", {"reason": "I handed over what I got"}, api.citizen)
    assert disputed.status_code == 200, disputed.text
    assert disputed.json()["amendment"] == "disputed"
    due = datetime.fromisoformat(disputed.json()["amendedAt"]) + timedelta(days=30)
    assert datetime.fromisoformat(disputed.json()["resolveBy"]) == due
    resolved = api.amend(
        event_id, "resolve", {"outcome": "withdrawn", "reason": "download damaged"}, api.department
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["amendment"], resolved.json()["resolveBy"]) == ("withdrawn", None)


def test_a_department_not_accredited_is_refused_first(api: Api) -> None:
    other = api.prepared.other_department_id  # business licences and tax violations only
    consent_id = consent(api, api.other, other)
    data = forged(api)
    assert_problem(report(api, consent_id, data, api.other), 403, "not_authorized")
    # Authorization first: the form's faults are not even looked at.
    refused = report(api, consent_id, data, api.other, confirm="<absent>", reason="lies")
    assert_problem(refused, 403, "not_authorized")
    assert_problem(report(api, "0" * 32, data, api.other), 403, "not_authorized")
    assert_problem(report(api, consent_id, data, api.citizen), 403, "not_authorized")
    assert_problem(report(api, consent_id, data, api.suspended), 403, "not_authorized")


def test_consent_refusals(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    data = forged(api)
    assert_problem(report(api, "0" * 32, data), 403, "consent_not_found")

    # Another accredited department's consent.
    created = api.register()
    theirs = bearer(created["token"]["token"])
    assert_problem(report(api, consent(api), data, theirs), 403, "consent_other_department")

    # Granted, not taken by the window yet.
    granted = call(
        api,
        "POST",
        "/v1/me/consents",
        headers=api.citizen,
        json={"service": SERVICE, "departmentId": api.prepared.department_id},
    ).json()
    assert_problem(report(api, granted["consentId"], data), 403, "consent_not_redeemed")

    revoked = consent(api)
    gone = call(api, "DELETE", f"/v1/me/consents/{revoked}", headers=api.citizen)
    assert gone.status_code == 204
    assert_problem(report(api, revoked, data), 403, "consent_revoked")
    assert_problem(verify(api, revoked, data), 403, "consent_revoked")

    expiring = consent(api)
    monkeypatch.setattr(service_of(api).consents, "clock", lambda: time.time() + 3600)
    assert_problem(report(api, expiring, data), 403, "consent_expired")
    assert_problem(verify(api, expiring, data), 403, "consent_expired")


def test_form_and_document_refusals(api: Api) -> None:
    consent_id = consent(api)
    data = forged(api)
    assert_problem(report(api, consent_id, api.prepared.citizen_certificate), 409, "document_valid")
    for form in ({"confirm": "<absent>"}, {"confirm": "false"}, {"reason": "lies"}):
        assert_problem(report(api, consent_id, data, **form), 422, "invalid")
    assert_problem(report(api, consent_id, b"x" * (LIMIT + 1)), 413, "content_too_large")
    broken = b'{"version": "gov-ledger/cert/1", "fields": '
    assert_problem(report(api, consent_id, broken), 409, "forgery_not_suspected")
    # Nothing of these was recorded.
    mine = call(api, "GET", "/v1/me/credit", headers=api.citizen).json()
    assert "0x" + keccak(data).hex() not in {e["evidenceHash"] for e in mine["events"]}


# -- privacy ------------------------------------------------------------------------------------


def test_no_identity_number_in_answers_or_the_service_database(api: Api) -> None:
    # A flow of its own, so the scan holds whichever other tests ran before it here (under
    # xdist they may run on another worker): a consent taken, a forged document (it holds the
    # identity number) verified and recorded, a refusal.
    consent_id = consent(api)
    document = forged(api)
    assert verify(api, consent_id, document).status_code == 200
    assert report(api, consent_id, document, reason="no-such-reason").status_code == 422
    assert report(api, consent_id, document).status_code in (201, 202)
    looked_for = {
        label: value
        for label, value in needles([Person("", api.prepared.citizen)]).items()
        if label[:3] == "id "
    }
    database = api.prepared.settings.service_db_path
    places = {
        "service database": database.read_bytes(),
        "its write-ahead log": database.with_name(database.name + "-wal").read_bytes(),
        "answers": b"\n".join(BODIES),
    }
    assert len(BODIES) >= 5
    for place, content in places.items():
        found = [label for label, value in looked_for.items() if value in content]
        assert not found, f"{place} holds {found}"
