"""Consents through the real app (api/routes/consents.py): a subject grants, lists and revokes;
a department's window redeems; every refusal has its own code; and no identifier is left in the
service database, the log or any answer.

They run against the shared service of tests/api/conftest.py (``api``). Each refusal at the
window counts as a failed attempt of that department (at most 10 in 10 minutes), so the attempt
limit is tried on a department of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from ledger.service.consents import ATTEMPT_WINDOW_SECONDS, MAX_FAILED_ATTEMPTS, ConsentStore
from tests.support.http import assert_problem, bearer
from tests.support.privacy import Person, needles
from tests.support.routes import Api

CITIZEN_SERVICE = "residence-permit-endorsement"  # citizens only
ENTERPRISE_SERVICE = "food-business-licensing"  # enterprises only
#: Every body this module's requests were answered with, scanned at the end.
BODIES: list[bytes] = []
#: Every log record of this module's requests, scanned at the end.
LOG: list[str] = []


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        LOG.append(self.format(record) + (record.exc_text or ""))


@pytest.fixture(scope="module", autouse=True)
def collect_log() -> Iterator[None]:
    handler = _Collect(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def call(api: Api, method: str, url: str, **kwargs: Any) -> httpx.Response:
    response: httpx.Response = api.client.request(method, url, **kwargs)
    BODIES.append(response.content)
    return response


def store(api: Api) -> ConsentStore:
    consents: ConsentStore = api.client.app.state.service.consents  # type: ignore[attr-defined]
    return consents


def grant(api: Api, headers: dict[str, str] | None = None, **overrides: Any) -> httpx.Response:
    body = {"service": CITIZEN_SERVICE, "departmentId": api.prepared.department_id, **overrides}
    return call(api, "POST", "/v1/me/consents", headers=headers or api.citizen, json=body)


def granted(api: Api, **overrides: Any) -> dict[str, Any]:
    response = grant(api, **overrides)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def redeem(api: Api, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return call(
        api, "POST", "/v1/window/consents", headers=headers or api.department, json={"code": code}
    )


def listed(api: Api, consent_id: str) -> dict[str, Any]:
    response = call(api, "GET", "/v1/me/consents", headers=api.citizen)
    assert response.status_code == 200, response.text
    [item] = [item for item in response.json()["items"] if item["consentId"] == consent_id]
    assert "code" not in item
    return dict(item)


# -- granting -----------------------------------------------------------------------------------


def test_grant_redeem_once(api: Api) -> None:
    body = granted(api)
    code = body["code"]
    assert len(code) == 11
    assert code[5] == "-"
    assert body["qrText"] == f"GLCONSENT:{code}"
    assert (body["service"], body["departmentId"], body["mode"]) == (
        CITIZEN_SERVICE,
        api.prepared.department_id,
        "single",
    )
    assert len(body["consentId"]) == 32
    assert listed(api, body["consentId"])["state"] == "active"

    response = redeem(api, code.lower().replace("-", " "))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "consentId": body["consentId"],
        "service": CITIZEN_SERVICE,
        "subjectKind": "citizen",
        "mode": "single",
        "expiresAt": body["expiresAt"],
        "uses": 1,
    }
    item = listed(api, body["consentId"])
    assert (item["state"], item["uses"]) == ("used", 1)
    assert_problem(redeem(api, code), 403, "consent_used")


def test_visit_consent_serves_the_whole_visit(api: Api) -> None:
    body = granted(api, mode="visit", minutes=5)
    uses = [redeem(api, body["code"]).json()["uses"] for _ in range(3)]
    assert uses == [1, 2, 3]
    item = listed(api, body["consentId"])
    assert (item["state"], item["uses"], item["mode"]) == ("active", 3, "visit")


def test_list_is_newest_first_and_the_subjects_own(api: Api) -> None:
    first = granted(api)["consentId"]
    second = granted(api)["consentId"]
    items = call(api, "GET", "/v1/me/consents", headers=api.citizen).json()["items"]
    ids = [item["consentId"] for item in items]
    assert ids.index(second) < ids.index(first)
    theirs = call(api, "GET", "/v1/me/consents", headers=bearer(api.enterprise_token)).json()
    assert not {first, second} & {item["consentId"] for item in theirs["items"]}


def test_enterprise_grants_for_an_enterprise_service(api: Api) -> None:
    response = grant(api, bearer(api.enterprise_token), service=ENTERPRISE_SERVICE)
    assert response.status_code == 201, response.text
    redeemed = redeem(api, response.json()["code"])
    assert redeemed.json()["subjectKind"] == "enterprise"


def test_grant_refusals(api: Api) -> None:
    for headers in (api.department, api.admin):
        assert_problem(grant(api, headers), 403, "not_authorized")
    assert_problem(call(api, "POST", "/v1/me/consents", json={}), 401, "unauthenticated")
    assert_problem(grant(api, service="no-such-service"), 404, "unknown_service")
    assert_problem(grant(api, service=ENTERPRISE_SERVICE), 422, "service_not_for_subject")
    assert_problem(grant(api, departmentId=4_000_000), 404, "not_found")
    suspended = api.prepared.suspended_department_id
    assert_problem(grant(api, departmentId=suspended), 409, "department_suspended")
    assert_problem(grant(api, minutes=31), 422, "invalid")
    assert_problem(grant(api, minutes=0), 422, "invalid")
    assert_problem(grant(api, mode="forever"), 422, "invalid")


@pytest.mark.parametrize("minutes", [1, 30])
def test_minutes_from_one_to_the_setting_are_granted(api: Api, minutes: int) -> None:
    before = time.time()
    body = granted(api, minutes=minutes)
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00")).timestamp()
    assert before + minutes * 60 - 2 <= expires <= time.time() + minutes * 60 + 2


@pytest.mark.parametrize(
    "minutes", [0, -1, 31, 1441, 2**31, 2**63, 2**64, 10**30, 30.5, "30", True, [30]]
)
def test_minutes_out_of_range_or_not_an_integer_are_refused(api: Api, minutes: Any) -> None:
    """Past the setting (30 here) or not a JSON integer: ``true`` is not one minute."""
    assert_problem(grant(api, minutes=minutes), 422, "invalid")


def test_minutes_null_is_the_setting(api: Api) -> None:
    before = time.time()
    body = granted(api, minutes=None)
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00")).timestamp()
    assert before + 30 * 60 - 2 <= expires <= time.time() + 30 * 60 + 2


# -- revoking -----------------------------------------------------------------------------------


def test_revoke(api: Api) -> None:
    body = granted(api, mode="visit")
    url = f"/v1/me/consents/{body['consentId']}"
    other = bearer(api.enterprise_token)
    assert_problem(call(api, "DELETE", url, headers=other), 404, "consent_not_found")
    assert_problem(
        call(api, "DELETE", "/v1/me/consents/" + "0" * 32, headers=api.citizen),
        404,
        "consent_not_found",
    )
    assert_problem(call(api, "DELETE", url, headers=api.department), 403, "not_authorized")
    response = call(api, "DELETE", url, headers=api.citizen)
    assert response.status_code == 204
    assert response.content == b""
    assert listed(api, body["consentId"])["state"] == "revoked"
    assert_problem(call(api, "DELETE", url, headers=api.citizen), 409, "consent_not_active")
    assert_problem(redeem(api, body["code"]), 403, "consent_revoked")


def test_an_expired_consent(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    consents = store(api)
    monkeypatch.setattr(consents, "clock", lambda: time.time() - 120)
    body = granted(api, minutes=1)
    monkeypatch.undo()
    assert listed(api, body["consentId"])["state"] == "expired"
    url = f"/v1/me/consents/{body['consentId']}"
    assert_problem(call(api, "DELETE", url, headers=api.citizen), 409, "consent_not_active")
    assert_problem(redeem(api, body["code"]), 403, "consent_expired")


# -- the window ---------------------------------------------------------------------------------


def test_window_refusals(api: Api) -> None:
    body = granted(api, mode="visit")
    # Authorization before the code: a citizen or governance is refused whatever it sends.
    for headers in (api.citizen, api.admin):
        assert_problem(redeem(api, body["code"], headers), 403, "not_authorized")
    assert_problem(redeem(api, body["code"], api.other), 403, "consent_other_department")
    assert_problem(redeem(api, body["code"], api.suspended), 403, "department_suspended")
    assert_problem(redeem(api, "00000-00000"), 403, "consent_not_found")
    assert_problem(redeem(api, "UUUUU-UUUUU"), 403, "consent_not_found")
    assert_problem(
        call(api, "POST", "/v1/window/consents", headers=api.department, json={}), 422, "invalid"
    )
    assert redeem(api, body["code"]).json()["uses"] == 1


def test_guessing_is_limited_per_department(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    department = api.register(scopes=["business-licence"])["department"]["id"]
    issued = call(api, "POST", f"/v1/departments/{department}/tokens", headers=api.admin)
    assert issued.status_code == 201, issued.text
    window = bearer(issued.json()["token"])
    code = granted(api, departmentId=department, mode="visit")["code"]
    for _ in range(MAX_FAILED_ATTEMPTS):
        assert_problem(redeem(api, "00000-00000", window), 403, "consent_not_found")
    # Beyond the limit even the right code is refused, so guessing learns nothing more.
    limited = assert_problem(redeem(api, code, window), 429, "too_many_attempts")
    assert limited["detail"]
    retry_after = int(redeem(api, code, window).headers["retry-after"])
    assert 0 < retry_after <= ATTEMPT_WINDOW_SECONDS
    # Other departments are not held back.
    assert redeem(api, granted(api)["code"]).status_code == 200
    # Once the window has passed, the department may redeem again.
    monkeypatch.setattr(store(api), "clock", lambda: time.time() + ATTEMPT_WINDOW_SECONDS + 1)
    assert redeem(api, code, window).json()["uses"] == 1


# -- privacy ------------------------------------------------------------------------------------


def test_no_identifier_in_the_database_the_log_or_any_answer(api: Api) -> None:
    # A sequence of its own, so the scan holds whichever other tests ran before it here (under
    # xdist, the others may run on another worker): grants by both kinds, a list, a redemption,
    # refusals (one naming the identifier as a service), a revocation.
    enterprise = bearer(api.enterprise_token)
    citizen_grant = granted(api)
    enterprise_grant = grant(api, enterprise, service=ENTERPRISE_SERVICE).json()
    listed(api, citizen_grant["consentId"])
    redeem(api, enterprise_grant["code"])
    redeem(api, "00000-00000")
    grant(api, service=api.prepared.citizen)
    grant(api, enterprise, service=CITIZEN_SERVICE)
    call(api, "DELETE", f"/v1/me/consents/{citizen_grant['consentId']}", headers=api.citizen)
    people = [Person("", api.prepared.citizen), Person("", api.prepared.enterprise)]
    looked_for = {label: value for label, value in needles(people).items() if label[:3] == "id "}
    database = api.prepared.settings.service_db_path
    places = {
        "service database": database.read_bytes(),
        "its write-ahead log": database.with_name(database.name + "-wal").read_bytes(),
        "log": "\n".join(LOG).encode("utf-8"),
        "answers": b"\n".join(BODIES),
    }
    assert len(BODIES) >= 8
    assert LOG, "the service logged nothing: the scan would prove nothing"
    for place, content in places.items():
        found = [label for label, value in looked_for.items() if value in content]
        assert not found, f"{place} holds {found}"


def test_a_body_that_is_not_json_is_refused_with_415(api: Api) -> None:
    form = {"service": CITIZEN_SERVICE, "departmentId": str(api.prepared.department_id)}
    response = call(api, "POST", "/v1/me/consents", headers=api.citizen, data=form)
    assert_problem(response, 415, "unsupported_media_type")
    response = call(api, "POST", "/v1/window/consents", headers=api.department, data={"code": "x"})
    assert_problem(response, 415, "unsupported_media_type")
