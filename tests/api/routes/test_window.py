"""The window's check through the real app (api/routes/window.py): a window enters an
applicant's code and sees each certificate of the service's types verified, from departments of
two regions; reads a stored copy the service needs; and is refused, each time with its own code,
without a live consent of its own, for what the service does not cover, past the attempt limit,
for a body that is not JSON and for any caller but a department. What it did is in the
applicant's access log.

They run against the shared service of tests/api/conftest.py (``api``), with an applicant of
their own; department 3 is the window, two departments registered here issue the certificates.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ledger.identity import make_citizen_id
from ledger.service.access_log import AccessEntry
from ledger.service.consents import MAX_FAILED_ATTEMPTS, ConsentStore
from tests.support.http import assert_problem, bearer
from tests.support.routes import Api

#: Requires identity-card and household-register, accepts marriage-certificate and
#: real-estate-certificate; the window may read copies of the last three.
SERVICE = "household-transfer"
CHECKS = "/v1/window/checks"
WINDOW_LABEL = "东城区政务服务中心 3号窗口"


@dataclass(frozen=True)
class Applicant:
    citizen: str
    token: str
    identity_card: str
    real_estate: str
    real_estate_copy: bytes
    revoked_marriage: str
    #: A certificate of a type outside the service.
    qualification: str
    #: Department 3's window, by a token with a label.
    window: dict[str, str]
    home_region: int
    away_region: int


def _department(api: Api, region: int, scopes: list[str]) -> tuple[int, dict[str, str]]:
    """A department registered now, and a token of it."""
    department = int(api.register(region=region, scopes=scopes)["department"]["id"])
    issued = api.client.post(f"/v1/departments/{department}/tokens", headers=api.admin)
    assert issued.status_code == 201, issued.text
    return department, bearer(issued.json()["token"])


def _issuer(api: Api, region: int, scopes: list[str]) -> dict[str, str]:
    return _department(api, region, scopes)[1]


def _anchored(api: Api, headers: dict[str, str], kind: str, subject: str, data: bytes) -> str:
    return api.anchored(headers=headers, document=data, subject=subject, type=kind)


@pytest.fixture(scope="module")
def applicant(api: Api) -> Applicant:
    citizen = make_citizen_id(sequence=417)
    token = api.client.post("/v1/dev/token", json={"subject": citizen}).json()["token"]
    home = _issuer(
        api, 110105, ["identity-card", "marriage-certificate", "professional-qualification"]
    )
    away = _issuer(api, 310105, ["real-estate-certificate"])
    copy = "不动产权证书 沪(2026)黄浦区不动产权第0417号 window route test\n".encode()
    marriage = _anchored(api, home, "marriage-certificate", citizen, b"marriage, route test\n")
    revoked = api.change(marriage, "revoke", {"reason": "issued-in-error"}, headers=home)
    assert revoked.status_code in (200, 201), revoked.text
    service = api.client.app.state.service  # type: ignore[attr-defined]
    label = service.tokens.issue("department", api.prepared.department_id, label=WINDOW_LABEL)
    return Applicant(
        citizen=citizen,
        token=token,
        identity_card=_anchored(api, home, "identity-card", citizen, b"identity, route test\n"),
        real_estate=_anchored(api, away, "real-estate-certificate", citizen, copy),
        real_estate_copy=copy,
        revoked_marriage=marriage,
        qualification=_anchored(
            api, home, "professional-qualification", citizen, b"qualification, route test\n"
        ),
        window=bearer(label.secret),
        home_region=110105,
        away_region=310105,
    )


def _store(api: Api) -> ConsentStore:
    consents: ConsentStore = api.client.app.state.service.consents  # type: ignore[attr-defined]
    return consents


def _grant(api: Api, applicant: Applicant, **overrides: Any) -> dict[str, Any]:
    body = {"service": SERVICE, "departmentId": api.prepared.department_id, **overrides}
    response = api.client.post("/v1/me/consents", headers=bearer(applicant.token), json=body)
    assert response.status_code == 201, response.text
    granted: dict[str, Any] = response.json()
    return granted


def _check(api: Api, body: dict[str, str], headers: dict[str, str]) -> httpx.Response:
    response: httpx.Response = api.client.post(CHECKS, headers=headers, json=body)
    return response


def _copy_url(consent_id: str, doc_hash: str) -> str:
    return f"/v1/window/consents/{consent_id}/documents/{doc_hash}"


def _log(api: Api, citizen: str) -> list[AccessEntry]:
    service = api.client.app.state.service  # type: ignore[attr-defined]
    entries: list[AccessEntry] = service.access_log.of_subject(service.session.subject_ref(citizen))
    return entries


# -- the check ----------------------------------------------------------------------------------


def test_the_window_sees_the_services_types_verified(api: Api, applicant: Applicant) -> None:
    granted = _grant(api, applicant)
    response = _check(api, {"code": granted["code"]}, applicant.window)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {key: body[key] for key in ("consentId", "service", "subjectKind", "mode")} == {
        "consentId": granted["consentId"],
        "service": SERVICE,
        "subjectKind": "citizen",
        "mode": "single",
    }
    assert body["expiresAt"] == granted["expiresAt"].replace("Z", "+00:00")
    requirements = {item["type"]: item for item in body["requirements"]}
    assert [(item["type"], item["required"]) for item in body["requirements"]] == [
        ("identity-card", True),
        ("household-register", True),
        ("marriage-certificate", False),
        ("real-estate-certificate", False),
    ]
    (card,) = requirements["identity-card"]["certificates"]
    assert card["documentHash"] == applicant.identity_card
    assert card["report"]["verdict"] == "VALID"
    assert card["report"]["record"]["region"] == applicant.home_region
    assert card["storedCopy"] is False
    (title,) = requirements["real-estate-certificate"]["certificates"]
    assert (title["documentHash"], title["storedCopy"]) == (applicant.real_estate, True)
    assert title["report"]["verdict"] == "VALID"
    assert title["report"]["record"]["region"] == applicant.away_region  # another region's
    (marriage,) = requirements["marriage-certificate"]["certificates"]
    assert marriage["report"]["verdict"] == "INVALID"
    assert [item["satisfied"] for item in body["requirements"]] == [True, False, False, True]
    assert body["missing"] == ["household-register"]
    shown = {cert["documentHash"] for item in body["requirements"] for cert in item["certificates"]}
    assert applicant.qualification not in shown

    # Each report is what POST /v1/verify answers for that hash.
    verified = api.client.post("/v1/verify", json={"documentHash": applicant.real_estate}).json()
    del verified["checkedAt"], title["report"]["checkedAt"]
    assert title["report"] == verified

    # The code was redeemed here: the single-use consent is used, and stays live for the visit.
    assert_problem(_check(api, {"code": granted["code"]}, applicant.window), 403, "consent_used")
    again = _check(api, {"consentId": granted["consentId"]}, applicant.window)
    assert again.status_code == 200, again.text
    assert again.json()["missing"] == ["household-register"]

    # The applicant's access log, newest first: the second check, the first, the code it took.
    latest = _log(api, applicant.citizen)[:3]
    assert [entry.action for entry in latest] == ["window.check", "window.check", "consent.used"]
    for entry in latest:
        assert (entry.department_id, entry.window, entry.service) == (
            api.prepared.department_id,
            WINDOW_LABEL,
            SERVICE,
        )
    assert set(latest[0].records) == set(latest[1].records) == shown
    assert latest[2].records == ()  # consent entries name no records (ADR 0028)


def test_the_stored_copy_the_service_needs(api: Api, applicant: Applicant) -> None:
    consent_id = _redeemed(api, _grant(api, applicant, mode="visit"))
    response = api.client.get(_copy_url(consent_id, applicant.real_estate), headers=api.department)
    assert response.status_code == 200, response.text
    assert response.content == applicant.real_estate_copy
    assert response.headers["content-type"] == "application/octet-stream"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment")
    assert applicant.real_estate[2:18] in disposition
    reads = [entry for entry in _log(api, applicant.citizen) if entry.action == "document.read"]
    assert reads[0].records == (applicant.real_estate,)
    assert reads[0].department_id == api.prepared.department_id


def _redeemed(api: Api, granted: dict[str, Any]) -> str:
    """The id of the ``granted`` consent once department 3's window took its code."""
    taken = api.client.post(
        "/v1/window/consents", headers=api.department, json={"code": granted["code"]}
    )
    assert taken.status_code == 200, taken.text
    return str(granted["consentId"])


# -- refusals -----------------------------------------------------------------------------------


def test_the_stored_copy_only_in_scope_and_of_the_subject(api: Api, applicant: Applicant) -> None:
    consent_id = _redeemed(api, _grant(api, applicant, mode="visit"))
    for outside in (applicant.identity_card, applicant.qualification):  # not content; not a type
        response = api.client.get(_copy_url(consent_id, outside), headers=api.department)
        assert_problem(response, 403, "consent_out_of_scope")
    # A type outside the service is refused as such whoever holds it: the answer does not
    # tell whether the applicant holds it (this one is another citizen's).
    others = "0x" + api.prepared.citizen_certificate_hash.hex()
    response = api.client.get(_copy_url(consent_id, others), headers=api.department)
    assert_problem(response, 403, "consent_out_of_scope")
    # Another subject's certificate of a content type, and a hash nobody anchored.
    strangers_title = _anchored(
        api,
        _issuer(api, 310106, ["real-estate-certificate"]),
        "real-estate-certificate",
        make_citizen_id(sequence=418),
        b"a stranger's title, route test\n",
    )
    response = api.client.get(_copy_url(consent_id, strangers_title), headers=api.department)
    assert_problem(response, 404, "document_not_found")
    response = api.client.get(_copy_url(consent_id, "0x" + "ab" * 32), headers=api.department)
    assert_problem(response, 404, "document_not_found")
    # Another department, even with the right id.
    response = api.client.get(_copy_url(consent_id, applicant.real_estate), headers=api.other)
    assert_problem(response, 403, "consent_other_department")
    assert_problem(
        api.client.get(_copy_url(consent_id, "0xnothex"), headers=api.department), 422, "invalid"
    )


def test_no_live_consent(api: Api, applicant: Applicant, monkeypatch: pytest.MonkeyPatch) -> None:
    window = applicant.window
    assert_problem(_check(api, {"consentId": "0" * 32}, window), 403, "consent_not_found")
    fresh = _grant(api, applicant, mode="visit")
    assert_problem(
        _check(api, {"consentId": fresh["consentId"]}, window), 403, "consent_not_redeemed"
    )
    url = _copy_url(fresh["consentId"], applicant.real_estate)
    assert_problem(api.client.get(url, headers=window), 403, "consent_not_redeemed")
    assert _check(api, {"code": fresh["code"]}, window).status_code == 200
    assert_problem(
        _check(api, {"consentId": fresh["consentId"]}, api.other), 403, "consent_other_department"
    )
    # Revoked by the applicant: nothing more under it.
    revoked = api.client.delete(
        f"/v1/me/consents/{fresh['consentId']}", headers=bearer(applicant.token)
    )
    assert revoked.status_code == 204, revoked.text
    assert_problem(_check(api, {"consentId": fresh["consentId"]}, window), 403, "consent_revoked")
    assert_problem(api.client.get(url, headers=window), 403, "consent_revoked")
    # Expired: the store's clock moved past its end.
    lasting = _grant(api, applicant, mode="visit", minutes=1)
    assert _check(api, {"code": lasting["code"]}, window).status_code == 200
    monkeypatch.setattr(_store(api), "clock", lambda: time.time() + 120)
    assert_problem(_check(api, {"consentId": lasting["consentId"]}, window), 403, "consent_expired")


def test_who_may_check(api: Api, applicant: Applicant) -> None:
    granted = _grant(api, applicant)
    body = {"code": granted["code"]}
    for headers in (bearer(applicant.token), api.admin):
        assert_problem(_check(api, body, headers), 403, "not_authorized")
    assert_problem(api.client.post(CHECKS, json=body), 401, "unauthenticated")
    assert_problem(_check(api, body, api.suspended), 403, "department_suspended")
    url = _copy_url(granted["consentId"], applicant.real_estate)
    assert_problem(api.client.get(url, headers=bearer(applicant.token)), 403, "not_authorized")
    assert_problem(api.client.get(url), 401, "unauthenticated")
    assert_problem(api.client.get(url, headers=api.suspended), 403, "department_suspended")
    # None of those took the code.
    assert _check(api, body, applicant.window).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"code": "x", "consentId": "0" * 32}, {"consentId": "not-an-id"}, {"code": ""}],
    ids=["neither", "both", "bad-id", "empty-code"],
)
def test_a_malformed_body(api: Api, applicant: Applicant, body: dict[str, str]) -> None:
    assert_problem(_check(api, body, applicant.window), 422, "invalid")


def test_a_body_that_is_not_json_is_refused_with_415(api: Api, applicant: Applicant) -> None:
    response = api.client.post(CHECKS, headers=applicant.window, data={"code": "x"})
    assert_problem(response, 415, "unsupported_media_type")


def test_guessing_is_limited(api: Api, applicant: Applicant) -> None:
    department, window = _department(api, 110107, ["business-licence"])
    granted = _grant(api, applicant, departmentId=department)
    for _ in range(MAX_FAILED_ATTEMPTS):
        assert_problem(_check(api, {"code": "00000-00000"}, window), 403, "consent_not_found")
    limited = _check(api, {"code": granted["code"]}, window)
    assert_problem(limited, 429, "too_many_attempts")
    assert int(limited.headers["retry-after"]) > 0
