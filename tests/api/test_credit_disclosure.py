"""Disclosure periods through the API (ADR 0020): a department's lookup shows only the events
disclosed now, the subject sees every event marked, only disclosed events are scored, events
come oldest occurrence first, and governance sets the periods.

One prepared service for the module, on the embedded chain; its prepared false-information
event about the citizen occurred 30 days ago.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from fastapi.testclient import TestClient

from ledger.catalogue import credit_category
from tests.support.http import assert_problem, bearer
from tests.support.service import PreparedService, prepare_service

FALSE_INFORMATION: Final = credit_category("false-information")
DAY: Final = 86_400


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(Path(tmp_path_factory.mktemp("disclosure")), rate_limit=0)


def record(client: TestClient, prepared: PreparedService, days_ago: int, label: str) -> str:
    occurred = (datetime.now(UTC) - timedelta(days=days_ago)).date().isoformat()
    response = client.post(
        "/v1/credit/events",
        headers=bearer(prepared.department_token),
        json={
            "subject": prepared.citizen,
            "category": FALSE_INFORMATION.name,
            "polarity": "negative",
            "severity": 2,
            "occurredAt": occurred,
            "evidenceHash": "0x" + bytes(f"{label:<32}", "utf-8")[:32].hex(),
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["eventId"])


def test_lookup_hides_events_past_their_period_and_the_subject_sees_them_marked(
    client: TestClient, prepared: PreparedService
) -> None:
    session = client.app.state.service.session  # type: ignore[attr-defined]
    governance = session.governance_sender()
    governance.transact(session.credit().set_disclosure_period(FALSE_INFORMATION.code, 20 * DAY))
    # Recorded out of order: the 5-day-old fact first, then the 10-day-old one.
    five = record(client, prepared, 5, "five days ago")
    ten = record(client, prepared, 10, "ten days ago")
    expired = "0x" + prepared.event_id.hex()

    lookup = client.post(
        "/v1/credit/lookup",
        headers=bearer(prepared.department_token),
        json={"subject": prepared.citizen},
    )
    assert lookup.status_code == 200, lookup.text
    public = lookup.json()
    assert [e["eventId"] for e in public["events"]] == [ten, five]
    assert all(e["disclosed"] for e in public["events"])
    assert public["score"]["events"] == [ten, five]
    assert public["score"]["value"] == 100 - 5 - 5

    token = client.post("/v1/dev/token", json={"subject": prepared.citizen}).json()["token"]
    mine = client.get("/v1/me/credit", headers=bearer(token))
    assert mine.status_code == 200, mine.text
    own = mine.json()
    assert [e["eventId"] for e in own["events"]] == [expired, ten, five]
    assert [e["disclosed"] for e in own["events"]] == [False, True, True]
    first = own["events"][0]
    ended = datetime.fromisoformat(first["occurredAt"]) + timedelta(days=20)
    assert datetime.fromisoformat(first["disclosedUntil"]) == ended
    assert datetime.fromisoformat(own["events"][1]["disclosedUntil"]) > datetime.now(UTC)
    assert own["score"] == public["score"]
    assert datetime.fromisoformat(own["asOf"]) <= datetime.now(UTC)

    # The same event read by id says it is not disclosed.
    single = client.get(f"/v1/credit/events/{expired}", headers=bearer(prepared.admin_token))
    assert (single.json()["disclosed"], single.json()["disclosedUntil"]) == (
        False,
        first["disclosedUntil"],
    )


def periods(client: TestClient) -> dict[str, Any]:
    response = client.get("/v1/credit/disclosure-periods")
    assert response.status_code == 200, response.text
    return {item["category"]: item for item in response.json()["items"]}


def test_governance_sets_periods_through_the_api(
    client: TestClient, prepared: PreparedService
) -> None:
    before = periods(client)
    assert before["contract-default"] == {
        "category": "contract-default",
        "code": credit_category("contract-default").code,
        "days": 3 * 365,
        "seconds": 3 * 365 * DAY,
        "defaultDays": 3 * 365,
    }
    assert before["commendation"]["days"] == 0

    path = "/v1/credit/disclosure-periods/contract-default"
    response = client.put(path, headers=bearer(prepared.admin_token), json={"days": 400})
    assert response.status_code == 200, response.text
    assert (response.json()["days"], response.json()["seconds"]) == (400, 400 * DAY)
    assert periods(client)["contract-default"]["days"] == 400

    assert_problem(client.put(path, json={"days": 1}), 401, "unauthenticated")
    department = bearer(prepared.department_token)
    assert_problem(client.put(path, headers=department, json={"days": 1}), 403, "not_authorized")
    admin = bearer(prepared.admin_token)
    for body in (
        {"days": -1},
        {"days": 36_501},
        {"days": "10"},
        {"days": 1.5},
        {},
        {"days": 1, "x": 1},
    ):
        assert_problem(client.put(path, headers=admin, json=body), 422, "invalid")
    unknown = client.put("/v1/credit/disclosure-periods/gossip", headers=admin, json={"days": 10})
    assert_problem(unknown, 422, "invalid")
    assert "gossip" not in unknown.json()["detail"]
    assert periods(client)["contract-default"]["days"] == 400
