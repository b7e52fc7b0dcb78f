"""The authorization matrix: every write route against every kind of caller.

Department routes are called by the right department (3, which issued the record), another
department (4, in another region: it may anchor for itself, but not touch department 3's
records), a suspended department (5), a citizen, governance and no one. Governance routes are
called by governance, a department, a suspended department, a citizen and no one. The dispute
route is called by the event's subject, another citizen, a department, governance and no one.

Each case sends the same request for every caller: a caller that is allowed gets a fresh target
(a new certificate, event or department) and the test reads back the change; a caller that is
refused gets a shared target, and the test reads back that nothing changed. The test ids show
the matrix: ``test_revoke_certificate[other_department-403]``.
"""

from __future__ import annotations

import itertools
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

import httpx
import pytest
from fastapi.testclient import TestClient

from ledger.documents import document_hash_of
from ledger.identity import make_citizen_id
from tests.support.http import assert_problem, bearer
from tests.support.service import PreparedService, prepare_service

#: Ids of the departments and citizens this module creates.
_department_ids = itertools.count(200)
_citizens = itertools.count(1)

#: (status, problem code) a caller gets; None for a success.
Expected = tuple[int, str | None]
OK: Final = None
UNAUTHENTICATED: Final = (401, "unauthenticated")
FORBIDDEN: Final = (403, "not_authorized")
SUSPENDED: Final = (403, "department_suspended")


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def fresh_document() -> bytes:
    return f"营业执照 {uuid.uuid4()} authorization test\n".encode()


def fresh_citizen() -> str:
    return make_citizen_id("110101", date(1980, 1, 1), next(_citizens))


def matrix(**cases: Expected | int) -> list[Any]:
    """``pytest.param(caller, expected, id="caller-status")`` for each case; an int is the
    success status."""
    params = []
    for caller, expected in cases.items():
        status = expected if isinstance(expected, int) else expected[0]
        params.append(pytest.param(caller, expected, id=f"{caller}-{status}"))
    return params


def is_allowed(expected: Expected | int) -> bool:
    return isinstance(expected, int)


def check(response: httpx.Response, expected: Expected | int) -> None:
    if isinstance(expected, int):
        assert response.status_code == expected, response.text
    else:
        status, code = expected
        assert code is not None
        assert_problem(response, status, code)


@dataclass
class World:
    client: TestClient
    prepared: PreparedService
    callers: dict[str, dict[str, str]]
    #: Targets that refused callers are pointed at (created once, never changed).
    shared: dict[str, str] = field(default_factory=dict)

    def shared_target(self, name: str, make: Callable[[], str]) -> str:
        if name not in self.shared:
            self.shared[name] = make()
        return self.shared[name]

    @property
    def department(self) -> dict[str, str]:
        return self.callers["right_department"]

    @property
    def admin(self) -> dict[str, str]:
        return self.callers["admin"]

    def anchor(self, headers: dict[str, str], document: bytes) -> httpx.Response:
        return self.client.post(
            "/v1/certificates",
            headers=headers,
            files={"file": ("licence.txt", document, "text/plain")},
            data={"type": "business-licence", "subject": self.prepared.enterprise},
        )

    def anchored(self, *, suspended: bool = False) -> str:
        response = self.anchor(self.department, fresh_document())
        assert response.status_code == 201, response.text
        document_hash = str(response.json()["documentHash"])
        if suspended:
            assert self.change(document_hash, "suspend", self.department).status_code == 200
        return document_hash

    def change(self, document_hash: str, action: str, headers: dict[str, str]) -> httpx.Response:
        body = {} if action == "reinstate" else {"reason": "investigation"}
        return self.client.post(
            f"/v1/certificates/{document_hash}/{action}", headers=headers, json=body
        )

    def status_of(self, document_hash: str) -> str | None:
        response = self.client.get(f"/v1/certificates/{document_hash}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return str(response.json()["status"])

    def event_body(self, subject: str) -> dict[str, Any]:
        return {
            "subject": subject,
            "category": "false-information",
            "polarity": "negative",
            "severity": 1,
            # Recent: an event past its category's disclosure period (3 years, set by `ledger
            # init`) is no longer in a department's lookup (ADR 0020).
            "occurredAt": (date.today() - timedelta(days=60)).isoformat(),
            "evidenceHash": "0x" + secrets.token_hex(32),
        }

    def recorded(self, *, disputed: bool = False) -> str:
        response = self.client.post(
            "/v1/credit/events",
            headers=self.department,
            json=self.event_body(self.prepared.citizen),
        )
        assert response.status_code == 201, response.text
        event_id = str(response.json()["eventId"])
        if disputed:
            dispute = self.client.post(
                f"/v1/credit/events/{event_id}/dispute",
                headers=self.callers["citizen"],
                json={"reason": "not me"},
            )
            assert dispute.status_code == 200, dispute.text
        return event_id

    def amendment_of(self, event_id: str) -> str:
        response = self.client.get(f"/v1/credit/events/{event_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        return str(response.json()["amendment"])

    def history(self, subject: str) -> list[dict[str, Any]]:
        response = self.client.post(
            "/v1/credit/lookup", headers=self.department, json={"subject": subject}
        )
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def registered(self, *, suspended: bool = False) -> int:
        identifier = next(_department_ids)
        response = self.client.post(
            "/v1/departments",
            headers=self.admin,
            json={
                "id": identifier,
                "region": 110105,
                "name": "朝阳区市场监督管理局",
                "scopes": ["business-licence"],
            },
        )
        assert response.status_code == 201, response.text
        if suspended:
            suspend = self.client.post(f"/v1/departments/{identifier}/suspend", headers=self.admin)
            assert suspend.status_code == 200, suspend.text
        return identifier

    def department_record(self, identifier: int) -> dict[str, Any] | None:
        response = self.client.get(f"/v1/departments/{identifier}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("authorization"), rate_limit=0)


@pytest.fixture(scope="module")
def world(client: TestClient, prepared: PreparedService) -> World:

    def citizen_token(subject: str) -> str:
        response = client.post("/v1/dev/token", json={"subject": subject})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    callers = {
        "right_department": bearer(prepared.department_token),
        "other_department": bearer(prepared.other_department_token),
        "suspended_department": bearer(prepared.suspended_department_token),
        "no_token": {},
        "citizen": bearer(citizen_token(prepared.citizen)),
        "another_citizen": bearer(citizen_token(make_citizen_id(sequence=999))),
        "enterprise": bearer(citizen_token(prepared.enterprise)),
        "admin": bearer(prepared.admin_token),
    }
    return World(client, prepared, callers)


# -- department routes --------------------------------------------------------------------------

#: What every department write route answers to callers that are not departments in good
#: standing (the same for all of them).
REFUSED: Final[dict[str, Expected | int]] = {
    "no_token": UNAUTHENTICATED,
    "suspended_department": SUSPENDED,
    "citizen": FORBIDDEN,
    "enterprise": FORBIDDEN,
    "admin": FORBIDDEN,
}


@pytest.mark.parametrize(
    ("caller", "expected"), matrix(right_department=201, other_department=201, **REFUSED)
)
def test_anchor_certificate(world: World, caller: str, expected: Expected | int) -> None:
    document = fresh_document()
    response = world.anchor(world.callers[caller], document)
    check(response, expected)
    document_hash = hex32(document_hash_of(document).hash)
    if is_allowed(expected):
        record = world.client.get(f"/v1/certificates/{document_hash}").json()
        issuer = 3 if caller == "right_department" else 4
        assert (record["departmentId"], record["status"]) == (issuer, "active")
        assert record["region"] == (110101 if issuer == 3 else 310101)
    else:
        assert world.status_of(document_hash) is None


def status_change(
    world: World, action: str, before: str, after: str, caller: str, expected: Expected | int
) -> None:
    suspended = before == "suspended"
    if is_allowed(expected):
        document_hash = world.anchored(suspended=suspended)
    else:
        document_hash = world.shared_target(
            f"certificate-{before}", lambda: world.anchored(suspended=suspended)
        )
    response = world.change(document_hash, action, world.callers[caller])
    check(response, expected)
    assert world.status_of(document_hash) == (after if is_allowed(expected) else before)
    if is_allowed(expected):
        assert response.json()["status"] == after


CERTIFICATE_CHANGE: Final = matrix(right_department=200, other_department=FORBIDDEN, **REFUSED)


@pytest.mark.parametrize(("caller", "expected"), CERTIFICATE_CHANGE)
def test_suspend_certificate(world: World, caller: str, expected: Expected | int) -> None:
    status_change(world, "suspend", "active", "suspended", caller, expected)


@pytest.mark.parametrize(("caller", "expected"), CERTIFICATE_CHANGE)
def test_reinstate_certificate(world: World, caller: str, expected: Expected | int) -> None:
    status_change(world, "reinstate", "suspended", "active", caller, expected)


@pytest.mark.parametrize(("caller", "expected"), CERTIFICATE_CHANGE)
def test_revoke_certificate(world: World, caller: str, expected: Expected | int) -> None:
    status_change(world, "revoke", "active", "revoked", caller, expected)


@pytest.mark.parametrize(
    ("caller", "expected"), matrix(right_department=201, other_department=FORBIDDEN, **REFUSED)
)
def test_supersede_certificate(world: World, caller: str, expected: Expected | int) -> None:
    if is_allowed(expected):
        old_hash = world.anchored()
    else:
        old_hash = world.shared_target("certificate-active", world.anchored)
    document = fresh_document()
    response = world.client.post(
        f"/v1/certificates/{old_hash}/supersede",
        headers=world.callers[caller],
        files={"file": ("renewed.txt", document, "text/plain")},
        data={"reason": "renewal", "subject": world.prepared.enterprise},
    )
    check(response, expected)
    new_hash = hex32(document_hash_of(document).hash)
    if is_allowed(expected):
        assert world.status_of(old_hash) == "superseded"
        assert world.status_of(new_hash) == "active"
    else:
        assert world.status_of(old_hash) == "active"
        assert world.status_of(new_hash) is None


def open_bundle(world: World, headers: dict[str, str]) -> httpx.Response:
    """A bundle needing a licence of department 3 and one of department 4."""
    return world.client.post(
        "/v1/bundles",
        headers=headers,
        json={
            "enterprise": world.prepared.enterprise,
            "deadline": "2099-12-31",
            "parts": [
                {"department": 3, "certificateType": "business-licence"},
                {"department": 4, "certificateType": "business-licence"},
            ],
        },
    )


@pytest.mark.parametrize(
    ("caller", "expected"), matrix(right_department=201, other_department=201, **REFUSED)
)
def test_open_bundle(world: World, caller: str, expected: Expected | int) -> None:
    """Any department in good standing may lead a bundle; it is recorded as the lead."""
    response = open_bundle(world, world.callers[caller])
    check(response, expected)
    if is_allowed(expected):
        bundle = world.client.get(response.headers["location"]).json()
        assert bundle["lead"] == (3 if caller == "right_department" else 4)
    else:
        assert "location" not in response.headers


@pytest.mark.parametrize(
    ("caller", "expected"), matrix(right_department=200, other_department=FORBIDDEN, **REFUSED)
)
def test_file_bundle_part(world: World, caller: str, expected: Expected | int) -> None:
    """Part 0 is department 3's: only department 3 may file it (with its own licence)."""

    def opened() -> str:
        response = open_bundle(world, world.department)
        assert response.status_code == 201, response.text
        return str(response.json()["bundleId"])

    bundle_id = opened() if is_allowed(expected) else world.shared_target("bundle", opened)
    licence = world.shared_target("bundle-licence", world.anchored)
    response = world.client.post(
        f"/v1/bundles/{bundle_id}/parts/0",
        headers=world.callers[caller],
        json={"documentHash": licence},
    )
    check(response, expected)
    filed = world.client.get(f"/v1/bundles/{bundle_id}").json()["parts"][0]["documentHash"]
    assert filed == (licence if is_allowed(expected) else None)


@pytest.mark.parametrize(
    ("caller", "expected"), matrix(right_department=201, other_department=FORBIDDEN, **REFUSED)
)
def test_record_credit_event(world: World, caller: str, expected: Expected | int) -> None:
    """Department 4 is not accredited for false-information (it holds tax-violation)."""
    subject = fresh_citizen()
    response = world.client.post(
        "/v1/credit/events", headers=world.callers[caller], json=world.event_body(subject)
    )
    check(response, expected)
    events = world.history(subject)
    if is_allowed(expected):
        assert [event["eventId"] for event in events] == [response.json()["eventId"]]
    else:
        assert events == []


@pytest.mark.parametrize(
    ("caller", "expected"), matrix(right_department=200, other_department=FORBIDDEN, **REFUSED)
)
def test_amend_credit_event(world: World, caller: str, expected: Expected | int) -> None:
    if is_allowed(expected):
        event_id = world.recorded()
    else:
        event_id = world.shared_target("event-none", world.recorded)
    response = world.client.post(
        f"/v1/credit/events/{event_id}/amend",
        headers=world.callers[caller],
        json={"status": "corrected", "reason": "amount was wrong"},
    )
    check(response, expected)
    assert world.amendment_of(event_id) == ("corrected" if is_allowed(expected) else "none")


@pytest.mark.parametrize(
    ("caller", "expected"), matrix(right_department=200, other_department=FORBIDDEN, **REFUSED)
)
def test_resolve_credit_event(world: World, caller: str, expected: Expected | int) -> None:
    if is_allowed(expected):
        event_id = world.recorded(disputed=True)
    else:
        event_id = world.shared_target("event-disputed", lambda: world.recorded(disputed=True))
    response = world.client.post(
        f"/v1/credit/events/{event_id}/resolve",
        headers=world.callers[caller],
        json={"outcome": "upheld", "reason": "records checked"},
    )
    check(response, expected)
    assert world.amendment_of(event_id) == ("upheld" if is_allowed(expected) else "disputed")


_LOOKUP_SUSPENDED: Final = pytest.param(
    "suspended_department",
    SUSPENDED,
    id="suspended_department-403",
)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        *matrix(right_department=200, other_department=200),
        _LOOKUP_SUSPENDED,
        *matrix(no_token=UNAUTHENTICATED, citizen=FORBIDDEN, enterprise=FORBIDDEN, admin=FORBIDDEN),
    ],
)
def test_credit_lookup(world: World, caller: str, expected: Expected | int) -> None:
    """A read, but it names a person: departments only, each limited to its categories."""
    event_id = hex32(world.prepared.event_id)
    response = world.client.post(
        "/v1/credit/lookup",
        headers=world.callers[caller],
        json={"subject": world.prepared.citizen},
    )
    check(response, expected)
    if is_allowed(expected):
        seen = {event["eventId"] for event in response.json()["events"]}
        # Department 4 is not accredited for false-information: it sees none of these events.
        assert (event_id in seen) == (caller == "right_department")


# -- department reads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected"),
    matrix(
        right_department=200,
        admin=200,
        other_department=FORBIDDEN,
        suspended_department=FORBIDDEN,
        no_token=UNAUTHENTICATED,
        citizen=FORBIDDEN,
        enterprise=FORBIDDEN,
    ),
)
def test_list_department_certificates(world: World, caller: str, expected: Expected | int) -> None:
    response = world.client.get(
        "/v1/departments/3/certificates", headers=world.callers[caller], params={"limit": 200}
    )
    check(response, expected)
    if is_allowed(expected):
        hashes = {item["documentHash"] for item in response.json()["items"]}
        assert hex32(world.prepared.doc_hash) in hashes


@pytest.mark.parametrize(
    ("caller", "expected"),
    matrix(
        right_department=200,
        other_department=200,
        suspended_department=200,
        admin=200,
        no_token=UNAUTHENTICATED,
        citizen=FORBIDDEN,
        enterprise=FORBIDDEN,
    ),
)
def test_get_credit_event(world: World, caller: str, expected: Expected | int) -> None:
    event_id = hex32(world.prepared.event_id)
    response = world.client.get(f"/v1/credit/events/{event_id}", headers=world.callers[caller])
    check(response, expected)
    if is_allowed(expected):
        assert response.json()["eventId"] == event_id


# -- governance routes --------------------------------------------------------------------------

GOVERNANCE_REFUSED: Final[dict[str, Expected | int]] = {
    "right_department": FORBIDDEN,
    "suspended_department": FORBIDDEN,
    "no_token": UNAUTHENTICATED,
    "citizen": FORBIDDEN,
    "enterprise": FORBIDDEN,
}


@pytest.mark.parametrize(("caller", "expected"), matrix(admin=201, **GOVERNANCE_REFUSED))
def test_register_department(world: World, caller: str, expected: Expected | int) -> None:
    identifier = next(_department_ids)
    response = world.client.post(
        "/v1/departments",
        headers=world.callers[caller],
        json={"id": identifier, "region": 110105, "name": "n", "scopes": ["business-licence"]},
    )
    check(response, expected)
    record = world.department_record(identifier)
    if is_allowed(expected):
        assert record is not None
        assert record["signers"] == [response.json()["signer"]]
    else:
        assert record is None


def suspension(
    world: World, action: str, before: bool, caller: str, expected: Expected | int
) -> None:
    if is_allowed(expected):
        identifier = world.registered(suspended=before)
    else:
        identifier = int(
            world.shared_target(
                f"department-suspended-{before}", lambda: str(world.registered(suspended=before))
            )
        )
    response = world.client.post(
        f"/v1/departments/{identifier}/{action}", headers=world.callers[caller]
    )
    check(response, expected)
    record = world.department_record(identifier)
    assert record is not None
    assert record["suspended"] is (not before if is_allowed(expected) else before)


@pytest.mark.parametrize(("caller", "expected"), matrix(admin=200, **GOVERNANCE_REFUSED))
def test_suspend_department(world: World, caller: str, expected: Expected | int) -> None:
    suspension(world, "suspend", False, caller, expected)


@pytest.mark.parametrize(("caller", "expected"), matrix(admin=200, **GOVERNANCE_REFUSED))
def test_reinstate_department(world: World, caller: str, expected: Expected | int) -> None:
    suspension(world, "reinstate", True, caller, expected)


@pytest.mark.parametrize(("caller", "expected"), matrix(admin=200, **GOVERNANCE_REFUSED))
def test_rotate_key(world: World, caller: str, expected: Expected | int) -> None:
    if is_allowed(expected):
        identifier = world.registered()
    else:
        identifier = int(world.shared_target("department-active", lambda: str(world.registered())))
    record = world.department_record(identifier)
    assert record is not None
    response = world.client.post(
        f"/v1/departments/{identifier}/rotate-key", headers=world.callers[caller]
    )
    check(response, expected)
    after = world.department_record(identifier)
    assert after is not None
    if is_allowed(expected):
        assert after["signers"] == [response.json()["signer"]]
        assert response.json()["retired"] == record["signers"][0]
    else:
        assert after["signers"] == record["signers"]


@pytest.mark.parametrize(("caller", "expected"), matrix(admin=201, **GOVERNANCE_REFUSED))
def test_issue_department_token(world: World, caller: str, expected: Expected | int) -> None:
    tokens = world.client.app.state.service.tokens  # type: ignore[attr-defined]
    before = {record.token_id for record in tokens.tokens(4)}
    response = world.client.post("/v1/departments/4/tokens", headers=world.callers[caller])
    check(response, expected)
    after = {record.token_id for record in tokens.tokens(4)}
    if is_allowed(expected):
        assert after - before == {response.json()["tokenId"]}
        whoami = world.client.get("/v1/whoami", headers=bearer(response.json()["token"]))
        assert whoami.json()["departmentId"] == 4
    else:
        assert after == before


# -- the subject's dispute ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "expected"),
    matrix(
        citizen=200,
        another_citizen=FORBIDDEN,
        enterprise=FORBIDDEN,
        right_department=FORBIDDEN,
        admin=FORBIDDEN,
        no_token=UNAUTHENTICATED,
    ),
)
def test_dispute_credit_event(world: World, caller: str, expected: Expected | int) -> None:
    """``citizen`` is the event's subject."""
    if is_allowed(expected):
        event_id = world.recorded()
    else:
        event_id = world.shared_target("event-none", world.recorded)
    response = world.client.post(
        f"/v1/credit/events/{event_id}/dispute",
        headers=world.callers[caller],
        json={"reason": "this was not me"},
    )
    check(response, expected)
    assert world.amendment_of(event_id) == ("disputed" if is_allowed(expected) else "none")
