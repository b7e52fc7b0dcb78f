"""The credit routes (api/routes/credit.py): record, read, amend, dispute, resolve and look up.

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ledger.identity import (
    make_citizen_id,
    make_uscc,
)
from tests.support.http import assert_problem, bearer
from tests.support.routes import (
    HASH_LENGTH,
    ZERO_HASH,
    Api,
    ambiguous_identifier,
    hex32,
    moment,
    wrong_check,
)

# -- credit -------------------------------------------------------------------------------------


def test_record_credit_event(api: Api) -> None:
    subject = make_citizen_id("110101", date(1979, 3, 4), 21)
    body = api.event_body(subject=subject.lower(), severity=3, occurredAt="2024-05-06")
    response = api.client.post("/v1/credit/events", headers=api.department, json=body)
    assert response.status_code == 201, response.text
    recorded = response.json()
    event_id = recorded["eventId"]
    assert len(event_id) == HASH_LENGTH
    assert response.headers["location"] == f"/v1/credit/events/{event_id}"
    assert recorded["blockNumber"] > 0
    assert len(recorded["transactionHash"]) == HASH_LENGTH

    [event] = api.events_seen_by(subject).values()
    assert event["eventId"] == event_id
    assert (event["departmentId"], event["category"]) == (3, "false-information")
    assert (event["polarity"], event["severity"]) == ("negative", 3)
    assert moment(event["occurredAt"]) == datetime(2024, 5, 5, 16, 0, tzinfo=UTC)
    assert event["amendment"] == "none"
    assert event["evidenceHash"] == body["evidenceHash"]
    # The event by its id (the Location) carries the evidence hash too.
    by_id = api.client.get(response.headers["location"], headers=api.department).json()
    assert by_id["evidenceHash"] == body["evidenceHash"]
    assert by_id["eventId"] == event_id
    # The subject sees it too, with the score it makes.
    mine = api.client.get("/v1/me/credit", headers=bearer(api.dev_token(subject))).json()
    assert [e["eventId"] for e in mine["events"]] == [event_id]
    assert mine["score"]["events"] == [event_id]
    assert mine["score"]["value"] < 100


def test_get_credit_event(api: Api) -> None:
    recorded = api.record(severity=4, occurredAt="2024-07-08T09:30:00+08:00")
    assert recorded.status_code == 201, recorded.text
    location = recorded.headers["location"]
    for headers in (api.department, api.other, api.admin):
        response = api.client.get(location, headers=headers)
        assert response.status_code == 200, response.text
        event = response.json()
        assert event["eventId"] == recorded.json()["eventId"]
        assert (event["departmentId"], event["category"], event["severity"]) == (
            3,
            "false-information",
            4,
        )
        assert moment(event["occurredAt"]) == datetime(2024, 7, 8, 1, 30, tzinfo=UTC)
        assert event["amendment"] == "none"
        assert event["amendedBy"] is None
        assert api.prepared.citizen not in response.text


def test_get_unknown_credit_event_404(api: Api) -> None:
    response = api.client.get(f"/v1/credit/events/{ZERO_HASH}", headers=api.department)
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("value", ["0x1234", "0x" + "g" * 64, "ab" * 32])
def test_get_credit_event_bad_id_422(api: Api, value: str) -> None:
    response = api.client.get(f"/v1/credit/events/{value}", headers=api.department)
    body = assert_problem(response, 422, "invalid")
    assert body["errors"][0]["loc"] == ["path", "event_id"]


def test_record_same_event_twice_409(api: Api) -> None:
    body = api.event_body()
    assert (
        api.client.post("/v1/credit/events", headers=api.department, json=body).status_code == 201
    )
    again = api.client.post("/v1/credit/events", headers=api.department, json=body)
    assert_problem(again, 409, "duplicate")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"category": "no-such-category"}, id="unknown-category"),
        pytest.param({"occurredAt": "2023-02-30"}, id="nonexistent-date"),
        pytest.param({"occurredAt": "2024-01-01T08:00:00"}, id="time-without-offset"),
        pytest.param({"occurredAt": (date.today() + timedelta(days=30)).isoformat()}, id="future"),
        pytest.param({"severity": 0}, id="severity-zero"),
        pytest.param({"severity": 6}, id="severity-six"),
        pytest.param({"polarity": "neutral"}, id="unknown-polarity"),
        pytest.param({"evidenceHash": "0x1234"}, id="bad-evidence-hash"),
        pytest.param({"subjectKind": "enterprise"}, id="citizen-number-as-enterprise"),
        pytest.param({"extra": 1}, id="extra-member"),
    ],
)
def test_record_invalid_422(api: Api, change: dict[str, Any]) -> None:
    subject = make_citizen_id("110101", date(1991, 9, 9), 777)
    body = api.event_body(subject=subject, **change)
    response = api.client.post("/v1/credit/events", headers=api.department, json=body)
    code = "invalid_identifier" if "subjectKind" in change else "invalid"
    assert_problem(response, 422, code)
    assert api.events_seen_by(subject) == {}


@pytest.mark.parametrize("kind", ["citizen", None])
def test_record_wrong_check_character_422(api: Api, kind: str | None) -> None:
    extra = {"subjectKind": kind} if kind else {}
    response = api.record(subject=wrong_check(api.prepared.citizen), **extra)
    body = assert_problem(response, 422, "invalid_identifier")
    assert "check character" in body["detail"]
    assert api.prepared.citizen[:17] not in response.text


def test_record_category_outside_accreditation_403(api: Api) -> None:
    assert_problem(api.record(category="tax-violation"), 403, "not_authorized")


def test_record_oversized_json_413(api: Api) -> None:
    body = api.event_body(padding="x" * 70_000)
    response = api.client.post("/v1/credit/events", headers=api.department, json=body)
    problem = assert_problem(response, 413, "content_too_large")
    assert "65536" in problem["detail"]


def test_oversized_json_without_content_length_413(api: Api) -> None:
    """A chunked body is counted while it is read."""

    def chunks() -> Iterator[bytes]:
        yield b'{"subject": "'
        for _ in range(20):
            yield b"a" * 4096
        yield b'"}'

    response = api.client.post(
        "/v1/credit/lookup",
        headers={**api.department, "content-type": "application/json"},
        content=chunks(),
    )
    assert "content-length" not in {key.lower() for key in response.request.headers}
    assert_problem(response, 413, "content_too_large")


def test_amend_credit_event(api: Api) -> None:
    event_id = api.recorded()
    response = api.amend(
        event_id, "amend", {"status": "corrected", "reason": "wrong amount"}, api.department
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["eventId"] == event_id
    assert (body["amendment"], body["amendedBy"]) == ("corrected", 3)
    assert moment(body["amendedAt"]) >= moment(body["recordedAt"])
    assert (body["disclosed"], body["disclosedUntil"]) == (False, body["amendedAt"])
    # A corrected event is no longer disclosed (ADR 0020): gone from a department's lookup,
    # still in the subject's own history, marked.
    assert event_id not in api.events_seen_by(api.prepared.citizen)
    mine = api.client.get("/v1/me/credit", headers=api.citizen).json()
    [seen] = [e for e in mine["events"] if e["eventId"] == event_id]
    assert (seen["amendment"], seen["amendedBy"], seen["disclosed"]) == ("corrected", 3, False)
    assert "wrong amount" not in json.dumps(seen)

    withdrawn = api.amend(event_id, "amend", {"status": "withdrawn", "reason": "x"}, api.department)
    assert withdrawn.json()["amendment"] == "withdrawn"
    # Withdrawn is final.
    again = api.amend(event_id, "amend", {"status": "corrected", "reason": "y"}, api.department)
    assert_problem(again, 409, "conflict")
    assert api.event(event_id)["amendment"] == "withdrawn"


def test_repair_positive_event_409(api: Api) -> None:
    event_id = api.recorded(category="contract-default", polarity="positive")
    response = api.amend(event_id, "amend", {"status": "repaired", "reason": "x"}, api.department)
    assert_problem(response, 409, "conflict")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"status": "disputed", "reason": "x"}, id="status-for-subjects"),
        pytest.param({"status": "erased", "reason": "x"}, id="unknown-status"),
        pytest.param({"status": "corrected"}, id="missing-reason"),
        pytest.param({"status": "corrected", "reason": ""}, id="empty-reason"),
    ],
)
def test_amend_invalid_422(api: Api, body: dict[str, str]) -> None:
    event_id = hex32(api.prepared.event_id)
    assert_problem(api.amend(event_id, "amend", body, api.department), 422, "invalid")


@pytest.mark.parametrize("action", ["amend", "resolve", "dispute"])
def test_credit_event_unknown_404(api: Api, action: str) -> None:
    body = {
        "amend": {"status": "corrected", "reason": "x"},
        "resolve": {"outcome": "upheld", "reason": "x"},
        "dispute": {"reason": "x"},
    }[action]
    headers = api.citizen if action == "dispute" else api.department
    assert_problem(api.amend(ZERO_HASH, action, body, headers), 404, "not_found")


@pytest.mark.parametrize("action", ["amend", "resolve", "dispute"])
def test_credit_event_bad_id_in_path_422(api: Api, action: str) -> None:
    body = {"status": "corrected", "outcome": "upheld", "reason": "x"}
    headers = api.citizen if action == "dispute" else api.department
    response = api.amend("0xevent", action, body, headers)
    body_out = assert_problem(response, 422, "invalid")
    assert ["path", "event_id"] in [error["loc"] for error in body_out["errors"]]


def test_dispute_and_resolve(api: Api) -> None:
    event_id = api.recorded()
    disputed = api.amend(event_id, "dispute", {"reason": "this was not me"}, api.citizen)
    assert disputed.status_code == 200, disputed.text
    assert disputed.json()["amendment"] == "disputed"
    # The dispute is recorded with the recording department's key.
    assert disputed.json()["amendedBy"] == 3
    mine = api.client.get("/v1/me/credit", headers=api.citizen).json()
    [event] = [e for e in mine["events"] if e["eventId"] == event_id]
    assert event["amendment"] == "disputed"
    again = api.amend(event_id, "dispute", {"reason": "still not me"}, api.citizen)
    assert_problem(again, 409, "conflict")

    resolved = api.amend(
        event_id, "resolve", {"outcome": "upheld", "reason": "records checked"}, api.department
    )
    assert resolved.status_code == 200, resolved.text
    assert (resolved.json()["amendment"], resolved.json()["amendedBy"]) == ("upheld", 3)
    assert api.events_seen_by(api.prepared.citizen)[event_id]["amendment"] == "upheld"


@pytest.mark.parametrize(
    "outcome",
    [
        "upheld",
        pytest.param("corrected"),
        pytest.param("withdrawn"),
    ],
)
def test_resolve_undisputed_event_409(api: Api, outcome: str) -> None:
    event_id = api.recorded()
    body = {"outcome": outcome, "reason": "x"}
    assert_problem(api.amend(event_id, "resolve", body, api.department), 409, "conflict")
    assert api.events_seen_by(api.prepared.citizen)[event_id]["amendment"] == "none"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"outcome": "repaired", "reason": "x"}, id="not-an-outcome"),
        pytest.param({"outcome": "upheld"}, id="missing-reason"),
    ],
)
def test_resolve_invalid_422(api: Api, body: dict[str, str]) -> None:
    event_id = hex32(api.prepared.event_id)
    assert_problem(api.amend(event_id, "resolve", body, api.department), 422, "invalid")


def test_dispute_by_another_citizen_403(api: Api) -> None:
    other = api.dev_token(make_citizen_id("310104", date(1970, 1, 1), 5))
    event_id = hex32(api.prepared.event_id)
    response = api.amend(event_id, "dispute", {"reason": "x"}, bearer(other))
    assert_problem(response, 403, "not_authorized")
    assert api.events_seen_by(api.prepared.citizen)[event_id]["amendment"] == "none"


def test_dispute_without_the_recording_department_key_here_409(api: Api) -> None:
    """A service holding no key of the department that recorded the event (as another region's
    service) refuses the subject's dispute with 409 ``unknown_key`` and says where to file it
    (docs/guide-citizen.md); nothing is journaled, the event stays as it was."""
    event_id = api.recorded()
    keys = sorted((api.prepared.settings.data_dir / "keys").glob("department-3-*.json"))
    assert keys
    held = [key.rename(key.with_suffix(".held")) for key in keys]
    try:
        response = api.amend(event_id, "dispute", {"reason": "not me"}, api.citizen)
    finally:
        for key, original in zip(held, keys, strict=True):
            key.rename(original)
    body = assert_problem(response, 409, "unknown_key")
    assert "file the dispute with the service of the recording department" in body["detail"]
    assert api.event(event_id)["amendment"] == "none"


def test_dispute_missing_reason_422(api: Api) -> None:
    response = api.amend(hex32(api.prepared.event_id), "dispute", {}, api.citizen)
    assert_problem(response, 422, "invalid")


def test_lookup_citizen_history(api: Api) -> None:
    response = api.lookup(api.prepared.citizen)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subjectKind"] == "citizen"
    assert hex32(api.prepared.event_id) in {event["eventId"] for event in body["events"]}
    assert body["score"]["policy"] == "gov-ledger/score/v1"
    assert 0 <= body["score"]["value"] <= 100
    # The same subject typed in lower case, with its kind, is the same history.
    same = api.client.post(
        "/v1/credit/lookup",
        headers=api.department,
        json={"subject": api.prepared.citizen.lower(), "subjectKind": "citizen"},
    )
    assert same.json()["events"] == body["events"]


def test_lookup_is_limited_to_the_department_categories(api: Api) -> None:
    """Department 4 holds tax-violation only: a citizen's false-information events are not its
    business, while an enterprise's whole history is public."""
    citizen_event = hex32(api.prepared.event_id)
    assert api.events_seen_by(api.prepared.citizen, api.other) == {}
    # The score is computed from the events shown.
    shown = api.lookup(api.prepared.citizen, api.other).json()["score"]
    assert (shown["value"], shown["events"]) == (100, [])
    assert citizen_event in api.events_seen_by(api.prepared.citizen)
    enterprise_event = api.recorded(subject=api.prepared.enterprise)
    seen = api.events_seen_by(api.prepared.enterprise, api.other)
    assert seen[enterprise_event]["category"] == "false-information"


def test_lookup_unknown_subject_has_empty_history(api: Api) -> None:
    body = api.lookup(make_uscc(organisation_code="MA0LKUP12")).json()
    assert body["events"] == []
    assert body["score"]["value"] == 100
    assert body["subjectKind"] == "enterprise"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"subject": "12345"}, id="too-short"),
        pytest.param({"subject": "110101199002301230"}, id="nonexistent-birth-date"),
        pytest.param({"subject": ambiguous_identifier()}, id="ambiguous-without-kind"),
    ],
)
def test_lookup_invalid_identifier_422(api: Api, body: dict[str, str]) -> None:
    response = api.client.post("/v1/credit/lookup", headers=api.department, json=body)
    assert_problem(response, 422, "invalid_identifier")
    assert body["subject"] not in response.text


@pytest.mark.parametrize("kind", ["citizen", "enterprise", None])
def test_lookup_wrong_check_character_422(api: Api, kind: str | None) -> None:
    identifier = api.prepared.enterprise if kind == "enterprise" else api.prepared.citizen
    body: dict[str, str] = {"subject": wrong_check(identifier)}
    if kind:
        body["subjectKind"] = kind
    response = api.client.post("/v1/credit/lookup", headers=api.department, json=body)
    problem = assert_problem(response, 422, "invalid_identifier")
    assert "check character" in problem["detail"]
    assert identifier[:17] not in response.text


def test_lookup_ambiguous_identifier_with_kind(api: Api) -> None:
    identifier = ambiguous_identifier()
    for kind in ("citizen", "enterprise"):
        response = api.client.post(
            "/v1/credit/lookup",
            headers=api.department,
            json={"subject": identifier, "subjectKind": kind},
        )
        assert response.status_code == 200, response.text
        assert response.json()["subjectKind"] == kind


def test_lookup_schema_errors_422(api: Api) -> None:
    for body in ({}, {"subject": 123}, {"subject": "x" * 65}, {"subject": "x", "extra": 1}):
        response = api.client.post("/v1/credit/lookup", headers=api.department, json=body)
        assert_problem(response, 422, "invalid")
