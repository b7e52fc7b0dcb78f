"""The citizens' access log (查询记录, ADR 0028) through the real app: the consent routes and the
credit lookup leave entries, only their subject reads them, an anchored entry's proof checks
against the chain, and an entry changed or deleted in the service database afterwards does not.

The module has a service of its own (``prepared``): its tamper tests edit the service database,
which no other module's checks should meet. They run last.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.access_log_anchoring import anchor_periodically
from ledger.contracts import AccessLogAnchorsClient
from ledger.service.access_log import Inclusion, check_inclusion
from ledger.session import LedgerSession
from tests.support.http import assert_problem, bearer
from tests.support.routes import Api
from tests.support.service import PreparedService, prepare_service

SERVICE = "residence-permit-endorsement"  # citizens only
WINDOW = "东城区政务服务中心 3号窗口"
#: Every body this module's requests were answered with, scanned at the end.
BODIES: list[bytes] = []


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("access-log"), rate_limit=0)


def _service(api: Api) -> Any:
    return api.client.app.state.service  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def window(api: Api) -> dict[str, str]:
    """A token of department 3 labelled as one of its windows."""
    issued = _service(api).tokens.issue("department", api.prepared.department_id, label=WINDOW)
    return bearer(issued.secret)


def call(api: Api, method: str, url: str, **kwargs: Any) -> httpx.Response:
    response: httpx.Response = api.client.request(method, url, **kwargs)
    BODIES.append(response.content)
    return response


def entries(api: Api, headers: dict[str, str] | None = None, **params: Any) -> dict[str, Any]:
    response = call(api, "GET", "/v1/me/access-log", headers=headers or api.citizen, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def anchor(api: Api) -> httpx.Response:
    return call(api, "POST", "/v1/access-log/anchors", headers=api.admin)


def anchored(api: Api) -> dict[str, Any]:
    """The batch ``POST /v1/access-log/anchors`` anchored now."""
    response = anchor(api)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    batch: dict[str, Any] = body["batch"]
    assert batch["state"] == "anchored"
    assert body["anchoredThrough"] == batch["lastSeq"]
    return batch


def proof_of(api: Api, seq: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return call(api, "GET", f"/v1/me/access-log/{seq}/proof", headers=headers or api.citizen)


def chain_check(api: Api, document: Any) -> Inclusion:
    """The inclusion check of ``document`` against the service's chain (through its session:
    the app holds the embedded chain)."""
    session: LedgerSession = _service(api).session
    client = AccessLogAnchorsClient(session.context)
    with _service(api).read_lock:
        return check_inclusion(document, client.anchor_of)


@pytest.fixture(scope="module")
def flow(api: Api, window: dict[str, str]) -> dict[str, Any]:
    """A consent granted, redeemed at the labelled window, revoked, and a credit lookup of the
    citizen: four entries of the citizen's."""
    grant = call(
        api,
        "POST",
        "/v1/me/consents",
        headers=api.citizen,
        json={"service": SERVICE, "departmentId": api.prepared.department_id, "mode": "visit"},
    )
    assert grant.status_code == 201, grant.text
    consent = grant.json()
    used = call(api, "POST", "/v1/window/consents", headers=window, json={"code": consent["code"]})
    assert used.status_code == 200, used.text
    revoked = call(api, "DELETE", f"/v1/me/consents/{consent['consentId']}", headers=api.citizen)
    assert revoked.status_code == 204, revoked.text
    lookup = call(
        api, "POST", "/v1/credit/lookup", headers=window, json={"subject": api.prepared.citizen}
    )
    assert lookup.status_code == 200, lookup.text
    return {"consent": consent, "events": [e["eventId"] for e in lookup.json()["events"]]}


def test_grant_redeem_revoke_and_lookup_are_logged(api: Api, flow: dict[str, Any]) -> None:
    items = entries(api)["items"]
    assert [item["action"] for item in items[:4]] == [
        "credit.lookup",
        "consent.revoked",
        "consent.used",
        "consent.granted",
    ]
    lookup, revoked, used, granted = items[:4]
    department = {"id": api.prepared.department_id, "name": "东城区市场监督管理局"}
    assert lookup["department"] == department
    assert lookup["window"] == WINDOW
    assert lookup["records"] == flow["events"]
    assert "0x" + api.prepared.event_id.hex() in lookup["records"]
    assert lookup["service"] is None
    assert (used["window"], used["service"], used["department"]) == (WINDOW, SERVICE, department)
    for entry in (granted, revoked):
        assert (entry["window"], entry["service"], entry["department"]) == ("", SERVICE, department)
        assert entry["records"] == []
    assert all(item["anchored"] is False for item in items)
    assert [item["seq"] for item in items] == sorted((item["seq"] for item in items), reverse=True)


def test_another_subject_sees_none_and_gets_404(api: Api, flow: dict[str, Any]) -> None:
    mine = entries(api)["items"]
    others = entries(api, bearer(api.enterprise_token))["items"]
    assert not {item["seq"] for item in mine} & {item["seq"] for item in others}
    assert_problem(proof_of(api, mine[0]["seq"], bearer(api.enterprise_token)), 404,
                   "access_entry_not_found")  # fmt: skip
    assert_problem(proof_of(api, 1 << 40), 404, "access_entry_not_found")


def test_proof_before_anchoring_is_409(api: Api, flow: dict[str, Any]) -> None:
    latest = entries(api)["items"][0]
    assert_problem(proof_of(api, latest["seq"]), 409, "not_anchored_yet")


def test_only_governance_anchors(api: Api, window: dict[str, str]) -> None:
    url = "/v1/access-log/anchors"
    assert_problem(call(api, "POST", url), 401, "unauthenticated")
    assert_problem(call(api, "POST", url, headers=window), 403, "not_authorized")
    assert_problem(call(api, "POST", url, headers=api.citizen), 403, "not_authorized")


def test_paging_with_a_cursor(api: Api, flow: dict[str, Any]) -> None:
    every = [item["seq"] for item in entries(api)["items"]]
    first = entries(api, limit=2)
    assert [item["seq"] for item in first["items"]] == every[:2]
    second = entries(api, limit=2, cursor=first["nextCursor"])
    assert [item["seq"] for item in second["items"]] == every[2:4]
    last = entries(api, limit=len(every))
    assert last["nextCursor"] is None
    for cursor in ("MA", "bm90", "-1", "MDE", "x" * 33):
        response = call(api, "GET", "/v1/me/access-log", headers=api.citizen,
                        params={"cursor": cursor})  # fmt: skip
        assert_problem(response, 422, "invalid")
    too_many = call(api, "GET", "/v1/me/access-log", headers=api.citizen, params={"limit": 10_000})
    assert_problem(too_many, 422, "invalid")


def test_anchored_entry_verifies_against_the_chain(api: Api, flow: dict[str, Any]) -> None:
    batch = anchored(api)
    items = entries(api)["items"]
    assert all(item["anchored"] for item in items)
    assert batch["firstSeq"] <= min(item["seq"] for item in items)
    assert batch["lastSeq"] >= max(item["seq"] for item in items)
    nothing = anchor(api)  # nothing new
    assert nothing.status_code == 200
    assert nothing.json() == {"batch": None, "anchoredThrough": batch["lastSeq"]}
    response = proof_of(api, items[0]["seq"])
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["root"] == batch["root"]
    assert document["anchor"]["firstSeq"] == batch["firstSeq"]
    assert document["anchor"]["contract"] == _service(api).session.deployment.access_log
    assert document["entry"]["seq"] == items[0]["seq"]
    assert document["entry"]["action"] == "credit.lookup"
    inclusion = chain_check(api, document)
    assert inclusion.included, inclusion.reason


def test_an_anchoring_not_confirmed_within_the_wait_is_202_and_settles(
    api: Api, window: dict[str, str]
) -> None:
    lookup = call(
        api, "POST", "/v1/credit/lookup", headers=window, json={"subject": api.prepared.citizen}
    )
    assert lookup.status_code == 200
    seq = entries(api)["items"][0]["seq"]
    response = call(
        api, "POST", "/v1/access-log/anchors", headers={**api.admin, "Prefer": "respond-async"}
    )
    assert response.status_code == 202, response.text
    batch = response.json()["batch"]
    assert batch["state"] == "pending"
    assert batch["firstSeq"] <= seq <= batch["lastSeq"]
    assert response.headers["location"] == f"/v1/operations/{batch['operationId']}"
    deadline = time.monotonic() + 60
    while not entries(api)["items"][0]["anchored"]:
        assert time.monotonic() < deadline, "the pending batch was never settled"
        time.sleep(0.1)
    assert chain_check(api, proof_of(api, seq).json()).included


def test_the_periodic_task_anchors_the_entries_waiting(api: Api, window: dict[str, str]) -> None:
    """The service's periodic anchoring (every LEDGER_ACCESS_LOG_ANCHOR_MINUTES), run here with
    an interval of half a second on the app's own event loop."""
    lookup = call(
        api, "POST", "/v1/credit/lookup", headers=window, json={"subject": api.prepared.citizen}
    )
    assert lookup.status_code == 200
    latest = entries(api)["items"][0]
    assert not latest["anchored"]
    portal: Any = api.client.portal
    task = portal.start_task_soon(anchor_periodically, _service(api), 0.5)
    try:
        deadline = time.monotonic() + 60
        while not entries(api)["items"][0]["anchored"]:
            assert time.monotonic() < deadline, "the periodic task anchored nothing"
            time.sleep(0.1)
    finally:
        task.cancel()
    assert chain_check(api, proof_of(api, latest["seq"]).json()).included


def _database(api: Api) -> Path:
    return Path(api.prepared.settings.service_db_path)


def test_an_entry_altered_after_anchoring_fails(api: Api, window: dict[str, str]) -> None:
    """THE TAMPER TEST: a row of an anchored batch is edited in the service database."""
    lookup = call(
        api, "POST", "/v1/credit/lookup", headers=window, json={"subject": api.prepared.citizen}
    )
    assert lookup.status_code == 200
    batch = anchored(api)
    seq = entries(api)["items"][0]["seq"]
    assert batch["firstSeq"] <= seq <= batch["lastSeq"]
    before = proof_of(api, seq).json()
    assert chain_check(api, before).included
    with sqlite3.connect(_database(api)) as connection:
        connection.execute("UPDATE access_log SET window = 'another window' WHERE seq = ?", (seq,))
    after = proof_of(api, seq).json()
    assert after["entry"]["window"] == "another window"
    assert after["root"] != batch["root"]
    inclusion = chain_check(api, after)
    assert not inclusion.included
    assert inclusion.reason == "the root is not anchored on chain"
    # The proof handed out before the edit names the entry as it was, not as it is now.
    assert before["entry"]["window"] == WINDOW


def test_an_entry_deleted_after_anchoring_fails(api: Api, window: dict[str, str]) -> None:
    """THE TAMPER TEST: one row of an anchored batch is deleted; its neighbours' proofs fail."""
    for _ in range(2):
        lookup = call(
            api, "POST", "/v1/credit/lookup", headers=window, json={"subject": api.prepared.citizen}
        )
        assert lookup.status_code == 200
    batch = anchored(api)
    kept, deleted = (item["seq"] for item in entries(api)["items"][:2])
    assert batch["firstSeq"] <= deleted < kept <= batch["lastSeq"]
    assert chain_check(api, proof_of(api, kept).json()).included
    with sqlite3.connect(_database(api)) as connection:
        connection.execute("DELETE FROM access_log WHERE seq = ?", (deleted,))
    assert_problem(proof_of(api, deleted), 404, "access_entry_not_found")
    inclusion = chain_check(api, proof_of(api, kept).json())
    assert not inclusion.included
    assert inclusion.reason == "the root is not anchored on chain"


def test_no_identifier_in_the_log_or_any_answer(api: Api, flow: dict[str, Any]) -> None:
    identifiers = [api.prepared.citizen, api.prepared.enterprise]
    for body in BODIES:
        text = body.decode("utf-8", "replace")
        assert not any(identifier in text for identifier in identifiers)
    with sqlite3.connect(_database(api)) as connection:
        rows = connection.execute("SELECT * FROM access_log").fetchall()
        rows += connection.execute("SELECT * FROM access_log_batches").fetchall()
    dump = repr(rows)
    assert rows
    assert not any(identifier in dump for identifier in identifiers)
