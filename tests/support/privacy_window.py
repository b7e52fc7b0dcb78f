"""The window without paper (issue 15) as the privacy scan of tests/api/test_privacy.py drives
it: people whose identity numbers and names the scan searches for go through every route of the
window flow and every refusal of those routes, so that a leak on any of them (a log line, a
problem body, the service database, the chain, a stored block) is found by the same scan.

The flow: a batch naming its documents' holders (and malformed holders with an identity number
inside), consents granted by a citizen and an enterprise, a window's check by code, a stored copy
read, a forged upload (carrying the applicant's identity number and name) verified and recorded
as false information, the applicant's dispute, a credit lookup, the access log read page by page,
an anchoring by governance and an entry's proof; and each refusal: a wrong code, another
department, an expired consent (only where the test reaches the consent store's clock), one not
redeemed, a document out of the consent's scope, a department not accredited for
false-information, and a valid document reported as forged.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from tests.support.http import bearer

#: A citizen's service whose accepted residence certificate the window may read (``content``).
CITIZEN_SERVICE = "individual-business-registration"
#: An enterprise's service requiring the business licence.
ENTERPRISE_SERVICE = "food-business-licensing"
#: The audience of a stored copy the window reads under a consent: the document itself, given
#: to the department the applicant consented to, so its body is not scanned (its headers are).
STORED_COPY = "stored-copy"


class Recorder(Protocol):
    """What the scan keeps of every response (``Seen.add`` of tests/api/test_privacy.py)."""

    def add(self, response: httpx.Response, audience: str = "caller") -> httpx.Response: ...


@dataclass(frozen=True)
class WindowPeople:
    """Who goes through the window: tokens of the applicants, and what the scan searches for."""

    citizen: str
    citizen_token: dict[str, str]
    citizen_name: str
    #: The citizen's residence certificate (anchored by department 3, stored encrypted).
    residence: bytes
    residence_hash: str
    enterprise: str
    enterprise_token: dict[str, str]
    #: Another citizen, named in the batch's holders.
    other_citizen: str
    #: A certificate of a type outside the citizen's service (an enterprise's licence).
    out_of_scope_hash: str


def expect(seen: Recorder, response: httpx.Response, status: int, code: str | None = None) -> Any:
    """``response`` recorded and checked: its status and, for a problem, its code."""
    seen.add(response)
    assert response.status_code == status, (status, code, response.status_code, response.text)
    if code is not None:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code, response.text
    return response.json() if response.content else None


def window_flow(
    http: httpx.Client,
    seen: Recorder,
    tokens: dict[str, dict[str, str]],
    people: WindowPeople,
    department_id: int,
) -> None:
    """The whole window flow, refusals included (``tokens``: "department", "other", "admin")."""
    batch_with_holders(http, seen, tokens["department"], people)
    consent_id = citizen_at_the_window(http, seen, tokens, people, department_id)
    event_id = forged_upload(http, seen, tokens, people, consent_id)
    dispute = http.post(
        f"/v1/credit/events/{event_id}/dispute",
        headers=people.citizen_token,
        json={"reason": "这份材料不是我提交的"},
    )
    expect(seen, dispute, 200)
    enterprise_at_the_window(http, seen, tokens, people, department_id)
    lookup = http.post(
        "/v1/credit/lookup", headers=tokens["department"], json={"subject": people.citizen.lower()}
    )
    expect(seen, lookup, 200)
    access_log(http, seen, tokens["admin"], people.citizen_token)
    expect(seen, http.get("/v1/me/access-log", headers=people.enterprise_token), 200)


def batch_with_holders(
    http: httpx.Client, seen: Recorder, department: dict[str, str], people: WindowPeople
) -> None:
    """A batch naming its holders, and holders refused with an identity number inside."""
    run = uuid.uuid4().hex
    holders = [
        {"subject": people.citizen.lower(), "subjectKind": "citizen"},
        {"subject": people.other_citizen},
        None,
    ]
    files = [
        ("files", (f"{people.citizen}_{people.citizen_name}.txt", f"{run} 0".encode())),
        ("files", (f"{people.other_citizen}.txt", f"{run} 1".encode())),
        ("files", ("2.txt", f"{run} 2".encode())),
    ]
    form = {"type": "business-licence", "holders": json.dumps(holders, ensure_ascii=False)}
    response = http.post("/v1/certificates/batches", headers=department, files=files, data=form)
    expect(seen, response, 202)
    deadline = time.monotonic() + 60
    while (job := expect(seen, http.get(response.headers["location"], headers=department), 200))[
        "status"
    ] == "accepted":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["status"] == "done", job
    mine = expect(seen, http.get("/v1/me/certificates", headers=people.citizen_token), 200)
    assert len(json.dumps(mine)) > 2
    typo = people.citizen[:17] + ("0" if people.citizen[17] != "0" else "1")
    malformed = (
        ([{"subject": typo}, None, None], "invalid_identifier"),
        ([{"subject": people.citizen, "name": people.citizen_name}, None, None], "invalid"),
        ([people.citizen, None, None], "invalid"),
        ([{"subject": people.citizen}], "invalid"),
        ([{"subject": [people.citizen]}, None, None], "invalid"),
    )
    texts = [(json.dumps(h, ensure_ascii=False), code) for h, code in malformed]
    texts.append((f"[{{subject: {people.citizen} {people.citizen_name}", "invalid"))
    for text, code in texts:
        refused = http.post(
            "/v1/certificates/batches",
            headers=department,
            files=[("files", (f"{i}.txt", f"{uuid.uuid4().hex}".encode())) for i in range(3)],
            data={"type": "business-licence", "holders": text},
        )
        expect(seen, refused, 422, code)


def citizen_at_the_window(
    http: httpx.Client,
    seen: Recorder,
    tokens: dict[str, dict[str, str]],
    people: WindowPeople,
    department_id: int,
) -> str:
    """The citizen's consent used at department 3's window: a check by code, a check by id, the
    stored copy read; and the refusals. Returns the live consent's id."""
    window, other = tokens["department"], tokens["other"]
    grant = {"service": CITIZEN_SERVICE, "departmentId": department_id, "mode": "visit"}
    granted = expect(
        seen, http.post("/v1/me/consents", headers=people.citizen_token, json=grant), 201
    )
    consent_id = str(granted["consentId"])
    checks = "/v1/window/checks"
    # Refusals before the consent is redeemed: not redeemed, a wrong code.
    expect(
        seen,
        http.post(checks, headers=window, json={"consentId": consent_id}),
        403,
        "consent_not_redeemed",
    )
    expect(
        seen,
        http.post(checks, headers=window, json={"code": "00000-00000"}),
        403,
        "consent_not_found",
    )
    checked = expect(seen, http.post(checks, headers=window, json={"code": granted["code"]}), 200)
    shown = [c for r in checked["requirements"] for c in r["certificates"]]
    assert people.residence_hash in [c["documentHash"] for c in shown], checked
    expect(seen, http.post(checks, headers=window, json={"consentId": consent_id}), 200)
    expect(
        seen,
        http.post(checks, headers=other, json={"consentId": consent_id}),
        403,
        "consent_other_department",
    )
    copy = f"/v1/window/consents/{consent_id}/documents/"
    read = http.get(copy + people.residence_hash, headers=window)
    seen.add(read, STORED_COPY)
    assert read.status_code == 200, read.text
    assert read.content == people.residence
    expect(
        seen, http.get(copy + people.out_of_scope_hash, headers=window), 403, "consent_out_of_scope"
    )
    expect(
        seen, http.get(copy + people.residence_hash, headers=other), 403, "consent_other_department"
    )
    expired(http, seen, tokens, people, department_id)
    return consent_id


def expired(
    http: httpx.Client,
    seen: Recorder,
    tokens: dict[str, dict[str, str]],
    people: WindowPeople,
    department_id: int,
) -> None:
    """An expired consent, where the test reaches the consent store's clock (in process): the
    store's clock moved past the consent's end, then back."""
    app = getattr(http, "app", None)
    if app is None:
        return
    store = app.state.service.consents
    grant = {
        "service": CITIZEN_SERVICE,
        "departmentId": department_id,
        "mode": "visit",
        "minutes": 1,
    }
    granted = expect(
        seen, http.post("/v1/me/consents", headers=people.citizen_token, json=grant), 201
    )
    window = tokens["department"]
    expect(
        seen, http.post("/v1/window/checks", headers=window, json={"code": granted["code"]}), 200
    )
    clock = store.clock
    store.clock = lambda: time.time() + 120
    try:
        url = f"/v1/window/consents/{granted['consentId']}"
        expect(
            seen,
            http.post(
                "/v1/window/checks", headers=window, json={"consentId": granted["consentId"]}
            ),
            403,
            "consent_expired",
        )
        expect(
            seen,
            http.get(f"{url}/documents/{people.residence_hash}", headers=window),
            403,
            "consent_expired",
        )
        upload = {"file": ("upload.txt", people.residence, "text/plain")}
        expect(
            seen,
            http.post(f"{url}/verifications", headers=window, files=upload),
            403,
            "consent_expired",
        )
    finally:
        store.clock = clock


def forged_upload(
    http: httpx.Client,
    seen: Recorder,
    tokens: dict[str, dict[str, str]],
    people: WindowPeople,
    consent_id: str,
) -> str:
    """A forged residence certificate (carrying the applicant's number and name) verified and
    recorded as false information; the refusals of both routes. Returns the event id."""
    window, other = tokens["department"], tokens["other"]
    url = f"/v1/window/consents/{consent_id}"
    forged = (
        f"居住证 {people.citizen} {people.citizen_name} 有效期至2099年 {uuid.uuid4().hex}\n"
    ).encode()

    def upload(data: bytes) -> dict[str, Any]:
        return {"file": ("upload.txt", data, "text/plain")}

    verified = expect(
        seen, http.post(f"{url}/verifications", headers=window, files=upload(forged)), 200
    )
    assert (verified["verdict"], verified["forgerySuspected"]) == ("INVALID", True), verified
    valid = expect(
        seen,
        http.post(f"{url}/verifications", headers=window, files=upload(people.residence)),
        200,
    )
    assert valid["verdict"] == "VALID", valid
    expect(
        seen,
        http.post(f"{url}/verifications", headers=other, files=upload(forged)),
        403,
        "consent_other_department",
    )
    report = {"reason": "forged-document", "confirm": "true"}
    # Department 4 is not accredited for false-information.
    expect(
        seen,
        http.post(f"{url}/false-information", headers=other, files=upload(forged), data=report),
        403,
        "not_authorized",
    )
    expect(
        seen,
        http.post(
            f"{url}/false-information", headers=window, files=upload(people.residence), data=report
        ),
        409,
        "document_valid",
    )
    expect(
        seen,
        http.post(
            f"{url}/false-information",
            headers=window,
            files=upload(forged),
            data={"reason": f"{people.citizen} {people.citizen_name}", "confirm": "true"},
        ),
        422,
        "invalid",
    )
    recorded = expect(
        seen,
        http.post(f"{url}/false-information", headers=window, files=upload(forged), data=report),
        201,
    )
    expect(
        seen,
        http.post(f"{url}/false-information", headers=window, files=upload(forged), data=report),
        409,
        "false_information_recorded",
    )
    credit = expect(seen, http.get("/v1/me/credit", headers=people.citizen_token), 200)
    assert recorded["eventId"] in [event["eventId"] for event in credit["events"]], credit
    return str(recorded["eventId"])


def enterprise_at_the_window(
    http: httpx.Client,
    seen: Recorder,
    tokens: dict[str, dict[str, str]],
    people: WindowPeople,
    department_id: int,
) -> None:
    """The enterprise's consent, checked by code at department 3's window, then revoked."""
    grant = {"service": ENTERPRISE_SERVICE, "departmentId": department_id}
    granted = expect(
        seen, http.post("/v1/me/consents", headers=people.enterprise_token, json=grant), 201
    )
    checked = expect(
        seen,
        http.post(
            "/v1/window/checks", headers=tokens["department"], json={"code": granted["code"]}
        ),
        200,
    )
    assert checked["subjectKind"] == "enterprise", checked
    expect(seen, http.get("/v1/me/consents", headers=people.enterprise_token), 200)
    again = {**grant, "mode": "visit"}
    revocable = expect(
        seen, http.post("/v1/me/consents", headers=people.enterprise_token, json=again), 201
    )
    revoked = http.delete(
        f"/v1/me/consents/{revocable['consentId']}", headers=people.enterprise_token
    )
    expect(seen, revoked, 204)


def access_log(
    http: httpx.Client, seen: Recorder, admin: dict[str, str], citizen: dict[str, str]
) -> None:
    """The citizen's access log page by page, an anchoring by governance, an entry's proof,
    and the proof's refusals."""
    first = expect(seen, http.get("/v1/me/access-log", headers=citizen, params={"limit": 2}), 200)
    assert len(first["items"]) == 2, first
    assert first["nextCursor"], first
    expect(
        seen,
        http.get("/v1/me/access-log", headers=citizen, params={"cursor": first["nextCursor"]}),
        200,
    )
    newest = first["items"][0]["seq"]
    expect(
        seen,
        http.get(f"/v1/me/access-log/{newest}/proof", headers=citizen),
        409,
        "not_anchored_yet",
    )
    anchored = expect(seen, http.post("/v1/access-log/anchors", headers=admin), 200)
    assert anchored["anchoredThrough"] >= newest, anchored
    proof = expect(seen, http.get(f"/v1/me/access-log/{newest}/proof", headers=citizen), 200)
    assert proof["entry"]["seq"] == newest, proof
    expect(seen, http.get("/v1/me/access-log/0/proof", headers=citizen), 422, "invalid")
    expect(
        seen,
        http.get(f"/v1/me/access-log/{10**9}/proof", headers=citizen),
        404,
        "access_entry_not_found",
    )
    expect(seen, http.get("/v1/me/access-log", headers=bearer("gld_not-a-token")), 401)
