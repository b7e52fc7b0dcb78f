"""Every route of docs/api.md against a real embedded chain: the happy path (body, status and the
chain state it leaves, read back with a GET or ``POST /v1/verify``) and the errors that apply.

One prepared service is shared by the module (``client``); every test anchors its own documents,
records its own events and registers its own departments, so tests do not depend on each other
or on their order. Nothing here changes the prepared departments 3, 4 and 5 or their records.
Settings that need another app (rate limits, no development issuer, external identity
providers) run against a second data directory (``alternate``), one app at a time.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from api.app import create_app
from api.problems import PROBLEM_MEDIA_TYPE
from api.security import DEV_ISSUER, DEV_KEY_FILE
from ledger.catalogue import CERTIFICATE_TYPES, CREDIT_CATEGORIES
from ledger.config import Settings
from ledger.documents import document_hash_of
from ledger.identity import (
    USCC_ALPHABET,
    make_citizen_id,
    make_uscc,
    validate_uscc,
)
from ledger.parsing import end_of_day
from tests.support.http import assert_problem, bearer
from tests.support.service import PreparedService, prepare_service

#: The document limit of the shared app: small, so oversized uploads stay cheap.
LIMIT: Final = 4096
HASH_LENGTH: Final = 66
ZERO_HASH: Final = "0x" + "ab" * 32
#: A department id nobody registers.
UNREGISTERED: Final = 4242
#: Department ids registered by tests of this module (the prepared ones are 3, 4 and 5).
_department_ids = itertools.count(100)


# -- helpers ------------------------------------------------------------------------------------


def hex32(value: bytes) -> str:
    return "0x" + value.hex()


def fresh_document(label: str = "document") -> bytes:
    return f"{label} {uuid.uuid4()} route test\n".encode()


def fresh_evidence() -> str:
    return "0x" + secrets.token_hex(32)


def wrong_check(identifier: str) -> str:
    """``identifier`` with another check character: the rest is untouched, so only the check
    character makes it invalid."""
    alphabet = "0123456789X" if identifier[:17].isdigit() else USCC_ALPHABET
    replacement = next(char for char in alphabet if char != identifier[17])
    return identifier[:17] + replacement


def ambiguous_identifier() -> str:
    """An identifier that is valid both as a citizen identity number and as a credit code."""
    for sequence in range(1000):
        candidate = make_citizen_id("111101", date(1990, 1, 1), sequence)
        try:
            validate_uscc(candidate)
        except ValueError:
            continue
        return candidate
    raise AssertionError("no ambiguous identifier found")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def check_outcome(report: dict[str, Any], name: str) -> str:
    [outcome] = [check["outcome"] for check in report["checks"] if check["name"] == name]
    return str(outcome)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def claims(subject: str, *, issuer: str = DEV_ISSUER, lifetime: int = 600) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": issuer, "aud": "gov-ledger", "sub": subject, "iat": now, "exp": now + lifetime}


def dev_key(settings: Settings) -> Any:
    return serialization.load_pem_private_key(
        (settings.data_dir / DEV_KEY_FILE).read_bytes(), password=None
    )


def write_public_pem(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@dataclass
class Api:
    """The shared client with the prepared service and shortcuts for common calls."""

    client: TestClient
    prepared: PreparedService
    citizen_token: str
    enterprise_token: str

    @property
    def department(self) -> dict[str, str]:
        return bearer(self.prepared.department_token)

    @property
    def other(self) -> dict[str, str]:
        return bearer(self.prepared.other_department_token)

    @property
    def suspended(self) -> dict[str, str]:
        return bearer(self.prepared.suspended_department_token)

    @property
    def admin(self) -> dict[str, str]:
        return bearer(self.prepared.admin_token)

    @property
    def citizen(self) -> dict[str, str]:
        return bearer(self.citizen_token)

    def anchor(
        self,
        headers: dict[str, str] | None = None,
        *,
        document: bytes | None = None,
        subject: str | None = None,
        **form: str,
    ) -> httpx.Response:
        fields = {"type": "business-licence", "subject": subject or self.prepared.enterprise}
        fields.update(form)
        return self.client.post(
            "/v1/certificates",
            headers=self.department if headers is None else headers,
            files={"file": ("document.txt", document or fresh_document(), "text/plain")},
            data=fields,
        )

    def anchored(self, **kwargs: Any) -> str:
        response = self.anchor(**kwargs)
        assert response.status_code == 201, response.text
        return str(response.json()["documentHash"])

    def certificate(self, document_hash: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/certificates/{document_hash}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def change(
        self, document_hash: str, action: str, body: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        headers = kw.pop("headers", self.department)
        return self.client.post(
            f"/v1/certificates/{document_hash}/{action}", headers=headers, json=body, **kw
        )

    def event_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "subject": self.prepared.citizen,
            "category": "false-information",
            "polarity": "negative",
            "severity": 2,
            # Recent: an event past its category's disclosure period (3 years, set by `ledger
            # init`) is no longer in a department's lookup (ADR 0020).
            "occurredAt": (date.today() - timedelta(days=60)).isoformat(),
            "evidenceHash": fresh_evidence(),
        }
        body.update(overrides)
        return body

    def record(self, headers: dict[str, str] | None = None, **overrides: Any) -> httpx.Response:
        return self.client.post(
            "/v1/credit/events",
            headers=self.department if headers is None else headers,
            json=self.event_body(**overrides),
        )

    def recorded(self, **overrides: Any) -> str:
        response = self.record(**overrides)
        assert response.status_code == 201, response.text
        return str(response.json()["eventId"])

    def amend(
        self, event_id: str, action: str, body: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response:
        return self.client.post(
            f"/v1/credit/events/{event_id}/{action}", headers=headers, json=body
        )

    def event(self, event_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/credit/events/{event_id}", headers=self.department)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def lookup(self, subject: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post(
            "/v1/credit/lookup",
            headers=self.department if headers is None else headers,
            json={"subject": subject},
        )

    def events_seen_by(self, subject: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.lookup(subject, headers)
        assert response.status_code == 200, response.text
        return {event["eventId"]: event for event in response.json()["events"]}

    def dev_token(self, subject: str, **extra: str) -> str:
        response = self.client.post("/v1/dev/token", json={"subject": subject, **extra})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def register(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": next(_department_ids),
            "region": 110105,
            "name": "朝阳区市场监督管理局",
            "scopes": ["business-licence", "false-information"],
        }
        body.update(overrides)
        response = self.client.post("/v1/departments", headers=self.admin, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    return prepare_service(tmp_path_factory.mktemp("routes"), max_upload_bytes=LIMIT, rate_limit=0)


@pytest.fixture(scope="module")
def api(client: TestClient, prepared: PreparedService) -> Api:
    tokens = []
    for subject in (prepared.citizen, prepared.enterprise):
        response = client.post("/v1/dev/token", json={"subject": subject})
        assert response.status_code == 200, response.text
        tokens.append(response.json()["token"])
    return Api(client, prepared, *tokens)


@pytest.fixture(scope="module")
def alternate(tmp_path_factory: pytest.TempPathFactory) -> PreparedService:
    """A second data directory for apps with other settings (one open at a time)."""
    return prepare_service(tmp_path_factory.mktemp("alternate"))


# -- catalogue and whoami -----------------------------------------------------------------------


def test_catalogue(api: Api) -> None:
    response = api.client.get("/v1/catalogue")
    assert response.status_code == 200
    body = response.json()
    types = {entry["name"]: entry for entry in body["certificateTypes"]}
    assert list(types) == [entry.name for entry in CERTIFICATE_TYPES]
    assert types["business-licence"] == {
        "name": "business-licence",
        "code": 0x01000001,
        "titleZh": "营业执照",
        "titleEn": "Business licence",
        "personal": False,
    }
    assert types["residence-certificate"]["personal"] is True
    categories = {entry["name"]: entry for entry in body["creditCategories"]}
    assert list(categories) == [entry.name for entry in CREDIT_CATEGORIES]
    assert categories["false-information"]["disclosureDays"] == 3 * 365
    assert categories["commendation"]["disclosureDays"] == 0
    assert body["reasons"][:2] == ["issued-in-error", "fraud"]
    assert {"renewal", "licence-withdrawn", "other"} <= set(body["reasons"])


def test_whoami_department(api: Api) -> None:
    response = api.client.get("/v1/whoami", headers=api.department)
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "department"
    assert body["departmentId"] == 3
    assert body["region"] == 110101
    assert body["scopes"] == [
        "business-licence",
        "residence-certificate",
        "false-information",
        "contract-default",
    ]
    assert body["suspended"] is False


def test_whoami_suspended_department(api: Api) -> None:
    body = api.client.get("/v1/whoami", headers=api.suspended).json()
    assert (body["role"], body["departmentId"], body["suspended"]) == ("department", 5, True)


def test_whoami_admin(api: Api) -> None:
    response = api.client.get("/v1/whoami", headers=api.admin)
    assert response.status_code == 200
    assert response.json() == {"role": "admin"}


def test_whoami_citizen_and_enterprise(api: Api) -> None:
    citizen = api.client.get("/v1/whoami", headers=api.citizen)
    assert citizen.status_code == 200
    assert citizen.json() == {"role": "citizen"}
    enterprise = api.client.get("/v1/whoami", headers=bearer(api.enterprise_token))
    assert enterprise.status_code == 200
    assert enterprise.json() == {"role": "enterprise"}
    for response in (citizen, enterprise):
        assert api.prepared.citizen not in response.text
        assert api.prepared.enterprise not in response.text


def test_whoami_without_credentials_401(api: Api) -> None:
    assert_problem(api.client.get("/v1/whoami"), 401, "unauthenticated")


@pytest.mark.parametrize(
    "credential",
    [
        pytest.param("gld_0123456789abcdef_" + "A" * 43, id="unknown-api-token"),
        pytest.param("gla_not-a-token", id="malformed-api-token"),
        pytest.param("not.a.jwt", id="malformed-jwt"),
        pytest.param("", id="empty-bearer"),
    ],
)
def test_whoami_bad_credentials_401(api: Api, credential: str) -> None:
    response = api.client.get("/v1/whoami", headers={"Authorization": f"Bearer {credential}"})
    assert_problem(response, 401, "unauthenticated")


def test_whoami_revoked_token_401(api: Api) -> None:
    issued = api.client.post("/v1/departments/3/tokens", headers=api.admin)
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    assert api.client.get("/v1/whoami", headers=bearer(token)).status_code == 200
    api.client.app.state.service.tokens.revoke(issued.json()["tokenId"])  # type: ignore[attr-defined]
    assert_problem(api.client.get("/v1/whoami", headers=bearer(token)), 401, "unauthenticated")


def test_whoami_token_with_altered_secret_401(api: Api) -> None:
    token = api.prepared.department_token
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_problem(api.client.get("/v1/whoami", headers=bearer(altered)), 401, "unauthenticated")
    swapped = "gla_" + token.removeprefix("gld_")
    assert_problem(api.client.get("/v1/whoami", headers=bearer(swapped)), 401, "unauthenticated")


# -- departments: public reads ------------------------------------------------------------------


def test_list_departments(api: Api) -> None:
    response = api.client.get("/v1/departments")
    assert response.status_code == 200
    items = {item["id"]: item for item in response.json()["items"]}
    assert {3, 4, 5} <= set(items)
    assert items[3]["region"] == 110101
    assert items[4]["region"] == 310101
    # Names stay off chain; the service shows the ones it registered (they match the hash).
    assert items[3]["name"] == "东城区市场监督管理局"
    assert items[4]["name"] == "黄浦区市场监督管理局"
    assert items[4]["scopes"] == ["business-licence", "tax-violation"]
    assert [items[n]["suspended"] for n in (3, 4, 5)] == [False, False, True]
    for item in items.values():
        assert item["supervisor"] is None
        assert all(signer.startswith("0x") and len(signer) == 42 for signer in item["signers"])
    assert items[3]["signers"]


def test_get_department(api: Api) -> None:
    response = api.client.get("/v1/departments/4")
    assert response.status_code == 200
    listed = [i for i in api.client.get("/v1/departments").json()["items"] if i["id"] == 4]
    assert [response.json()] == listed


def test_get_unknown_department_404(api: Api) -> None:
    assert_problem(api.client.get("/v1/departments/99999"), 404, "not_found")


@pytest.mark.parametrize("identifier", ["0", "abc", str(1 << 32), "-3"])
def test_get_department_bad_id_422(api: Api, identifier: str) -> None:
    body = assert_problem(api.client.get(f"/v1/departments/{identifier}"), 422, "invalid")
    assert body["errors"][0]["loc"] == ["path", "department_id"]


# -- governance ---------------------------------------------------------------------------------


def test_register_department(api: Api) -> None:
    identifier = next(_department_ids)
    response = api.client.post(
        "/v1/departments",
        headers=api.admin,
        json={
            "id": identifier,
            "region": 110105,
            "name": "朝阳区市场监督管理局",
            "scopes": ["business-licence", "false-information"],
            "validUntil": "2035-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/departments/{identifier}"
    body = response.json()
    department = body["department"]
    assert department["id"] == identifier
    assert department["name"] == "朝阳区市场监督管理局"
    assert department["region"] == 110105
    assert department["scopes"] == ["business-licence", "false-information"]
    assert department["suspended"] is False
    assert department["signers"] == [body["signer"]]
    issued = body["token"]
    assert issued["departmentId"] == identifier
    token = issued["token"]
    assert token.startswith(f"gld_{issued['tokenId']}_")
    # The chain has it, and the token acts for it at once.
    assert api.client.get(f"/v1/departments/{identifier}").json() == department
    whoami = api.client.get("/v1/whoami", headers=bearer(token)).json()
    assert (whoami["role"], whoami["departmentId"]) == ("department", identifier)
    anchored = api.anchor(bearer(token))
    assert anchored.status_code == 201, anchored.text
    assert anchored.json()["region"] == 110105
    assert api.certificate(anchored.json()["documentHash"])["departmentId"] == identifier


def test_register_existing_department_409(api: Api) -> None:
    body = {"id": 3, "region": 110101, "name": "东城区市场监督管理局", "scopes": ["commendation"]}
    response = api.client.post("/v1/departments", headers=api.admin, json=body)
    assert_problem(response, 409, "duplicate")
    assert api.client.get("/v1/departments/3").json()["scopes"] == [
        "business-licence",
        "residence-certificate",
        "false-information",
        "contract-default",
    ]
    created = api.register()
    identifier = created["department"]["id"]
    for region in (110105, 310101):
        again = api.client.post(
            "/v1/departments",
            headers=api.admin,
            json={"id": identifier, "region": region, "name": "x", "scopes": ["commendation"]},
        )
        assert_problem(again, 409, "duplicate")
    assert api.client.get(f"/v1/departments/{identifier}").json() == created["department"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"scopes": ["no-such-scope"]}, id="unknown-scope"),
        pytest.param({"scopes": []}, id="no-scopes"),
        pytest.param({"scopes": ["business-licence", "business-licence"]}, id="scope-twice"),
        pytest.param({"region": 12345}, id="region-five-digits"),
        pytest.param({"id": 0}, id="id-zero"),
        pytest.param({"name": ""}, id="empty-name"),
        pytest.param({"validUntil": "2031-02-30T00:00:00Z"}, id="nonexistent-date"),
        pytest.param({"unexpected": True}, id="extra-member"),
    ],
)
def test_register_department_invalid_422(api: Api, change: dict[str, Any]) -> None:
    identifier = next(_department_ids)
    body = {"id": identifier, "region": 110105, "name": "n", "scopes": ["business-licence"]}
    body.update(change)
    assert_problem(api.client.post("/v1/departments", headers=api.admin, json=body), 422, "invalid")
    assert_problem(api.client.get(f"/v1/departments/{identifier}"), 404, "not_found")


def test_register_department_blank_name_422(api: Api) -> None:
    identifier = next(_department_ids)
    body = {"id": identifier, "region": 110105, "name": "   ", "scopes": ["commendation"]}
    assert_problem(api.client.post("/v1/departments", headers=api.admin, json=body), 422, "invalid")
    assert_problem(api.client.get(f"/v1/departments/{identifier}"), 404, "not_found")


def test_register_department_refused_validity_leaves_nothing(api: Api) -> None:
    identifier = next(_department_ids)
    body = {
        "id": identifier,
        "region": 110105,
        "name": "n",
        "scopes": ["business-licence"],
        "validUntil": "2035-01-01T00:00:00",
    }
    assert_problem(api.client.post("/v1/departments", headers=api.admin, json=body), 422, "invalid")
    assert_problem(api.client.get(f"/v1/departments/{identifier}"), 404, "not_found")


def test_register_department_oversized_json_413(api: Api) -> None:
    body = {"id": 7777, "region": 110105, "name": "n" * 70_000, "scopes": ["business-licence"]}
    response = api.client.post("/v1/departments", headers=api.admin, json=body)
    assert_problem(response, 413, "content_too_large")


def test_suspend_and_reinstate_department(api: Api) -> None:
    created = api.register()
    identifier = created["department"]["id"]
    token = bearer(created["token"]["token"])

    suspended = api.client.post(f"/v1/departments/{identifier}/suspend", headers=api.admin)
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["suspended"] is True
    assert suspended.json()["id"] == identifier
    assert api.client.get(f"/v1/departments/{identifier}").json()["suspended"] is True
    # It keeps its token, but its writes are refused.
    assert api.client.get("/v1/whoami", headers=token).json()["suspended"] is True
    assert_problem(api.anchor(token), 403, "department_suspended")
    again = api.client.post(f"/v1/departments/{identifier}/suspend", headers=api.admin)
    assert_problem(again, 409, "conflict")

    reinstated = api.client.post(f"/v1/departments/{identifier}/reinstate", headers=api.admin)
    assert reinstated.status_code == 200, reinstated.text
    assert reinstated.json()["suspended"] is False
    assert api.client.get(f"/v1/departments/{identifier}").json()["suspended"] is False
    assert api.anchor(token).status_code == 201
    again = api.client.post(f"/v1/departments/{identifier}/reinstate", headers=api.admin)
    assert_problem(again, 409, "conflict")


@pytest.mark.parametrize("action", ["suspend", "reinstate", "rotate-key", "tokens"])
def test_governance_unknown_department_404(api: Api, action: str) -> None:
    response = api.client.post(f"/v1/departments/99999/{action}", headers=api.admin)
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("action", ["suspend", "reinstate", "rotate-key", "tokens"])
def test_governance_bad_department_id_422(api: Api, action: str) -> None:
    response = api.client.post(f"/v1/departments/0/{action}", headers=api.admin)
    assert_problem(response, 422, "invalid")


def test_rotate_key(api: Api) -> None:
    created = api.register()
    identifier = created["department"]["id"]
    old_signer = created["signer"]
    response = api.client.post(f"/v1/departments/{identifier}/rotate-key", headers=api.admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["retired"] == old_signer
    assert body["signer"] != old_signer
    assert body["signer"].startswith("0x")
    assert api.client.get(f"/v1/departments/{identifier}").json()["signers"] == [body["signer"]]
    # The department signs with the new key; what it anchored before stays valid.
    token = bearer(created["token"]["token"])
    document = fresh_document()
    assert api.anchor(token, document=document).status_code == 201
    report = api.client.post("/v1/verify", files={"file": ("d.txt", document, "text/plain")})
    assert report.json()["verdict"] == "VALID"
    assert check_outcome(report.json(), "issuer.accredited") == "passed"


def test_issue_department_token(api: Api) -> None:
    response = api.client.post("/v1/departments/4/tokens", headers=api.admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token"].startswith(f"gld_{body['tokenId']}_")
    whoami = api.client.get("/v1/whoami", headers=bearer(body["token"])).json()
    assert (whoami["role"], whoami["departmentId"]) == ("department", 4)
    # The token is stored hashed: the service lists it without its secret.
    records = api.client.app.state.service.tokens.tokens(4)  # type: ignore[attr-defined]
    assert body["tokenId"] in {record.token_id for record in records}


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


# -- malformed bodies ---------------------------------------------------------------------------

JSON_ROUTES: Final = (
    ("department", "/v1/credit/events"),
    ("department", "/v1/credit/lookup"),
    ("department", "/v1/credit/events/{event}/amend"),
    ("department", "/v1/credit/events/{event}/resolve"),
    ("citizen", "/v1/credit/events/{event}/dispute"),
    ("department", "/v1/certificates/{hash}/suspend"),
    ("department", "/v1/certificates/{hash}/revoke"),
    ("admin", "/v1/departments"),
    ("anonymous", "/v1/dev/token"),
    ("anonymous", "/v1/verify"),
)


def json_route(api: Api, caller: str, template: str) -> tuple[str, dict[str, str]]:
    path = template.format(event=hex32(api.prepared.event_id), hash=hex32(api.prepared.doc_hash))
    headers = {
        "department": api.department,
        "citizen": api.citizen,
        "admin": api.admin,
        "anonymous": {},
    }[caller]
    return path, headers


@pytest.mark.parametrize(("caller", "template"), JSON_ROUTES, ids=[t for _, t in JSON_ROUTES])
def test_malformed_json_400(api: Api, caller: str, template: str) -> None:
    path, headers = json_route(api, caller, template)
    response = api.client.post(
        path, headers={**headers, "content-type": "application/json"}, content=b'{"subject": '
    )
    assert_problem(response, 400, "bad_request")


@pytest.mark.parametrize(("caller", "template"), JSON_ROUTES, ids=[t for _, t in JSON_ROUTES])
def test_malformed_json_is_refused_without_effect(api: Api, caller: str, template: str) -> None:
    """Whatever the status (see test_malformed_json_400), it is a problem document, it names no
    submitted value, and nothing changed."""
    path, headers = json_route(api, caller, template)
    response = api.client.post(
        path,
        headers={**headers, "content-type": "application/json"},
        content=b'{"reason": "secret-input", ',
    )
    code = {400: "bad_request", 422: "invalid"}.get(response.status_code, "unexpected")
    assert_problem(response, response.status_code, code)
    assert "secret-input" not in response.text
    assert api.certificate(hex32(api.prepared.doc_hash))["status"] == "active"
    assert api.event(hex32(api.prepared.event_id))["amendment"] == "none"


def test_malformed_content_length_400(api: Api) -> None:
    response = api.client.post(
        "/v1/credit/lookup",
        headers={**api.department, "content-type": "application/json", "content-length": "ten"},
        content=b"{}",
    )
    assert_problem(response, 400, "bad_request")


@pytest.mark.parametrize(
    ("path", "content_type", "content"),
    [
        pytest.param("/v1/credit/lookup", "text/plain", b"x", id="text-to-json-route"),
        pytest.param("/v1/certificates", "application/json", b"{}", id="json-to-upload-route"),
    ],
)
def test_unsupported_media_type_415(api: Api, path: str, content_type: str, content: bytes) -> None:
    response = api.client.post(
        path, headers={**api.department, "content-type": content_type}, content=content
    )
    assert_problem(response, 415, "unsupported_media_type")


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


# -- the development identity provider ----------------------------------------------------------


def test_dev_token(api: Api) -> None:
    response = api.client.post("/v1/dev/token", json={"subject": api.prepared.citizen})
    assert response.status_code == 200, response.text
    body = response.json()
    expires = moment(body["expiresAt"])
    assert timedelta(minutes=55) < expires - datetime.now(UTC) <= timedelta(hours=1)
    claims_seen = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims_seen["iss"] == DEV_ISSUER
    assert claims_seen["aud"] == "gov-ledger"
    assert claims_seen["exp"] == int(expires.timestamp())
    mine = api.client.get("/v1/me/certificates", headers=bearer(body["token"]))
    assert hex32(api.prepared.citizen_certificate_hash) in {
        item["documentHash"] for item in mine.json()["items"]
    }


def test_dev_token_normalizes_the_subject(api: Api) -> None:
    lower = api.dev_token(api.prepared.enterprise.lower())
    upper = api.dev_token(f"  {api.prepared.enterprise}  ")
    first = api.client.get("/v1/me/certificates", headers=bearer(lower)).json()
    second = api.client.get("/v1/me/certificates", headers=bearer(upper)).json()
    assert first == second
    assert first["items"]


def test_dev_token_ambiguous_subject(api: Api) -> None:
    identifier = ambiguous_identifier()
    response = api.client.post("/v1/dev/token", json={"subject": identifier})
    assert_problem(response, 422, "invalid_identifier")
    for kind in ("enterprise", "citizen"):
        token = api.dev_token(identifier, subjectKind=kind)
        mine = api.client.get("/v1/me/credit", headers=bearer(token))
        assert mine.json()["subjectKind"] == kind


@pytest.mark.parametrize("case", ["wrong-check-character", "nonexistent-birth-date"])
def test_dev_token_invalid_subject_422(api: Api, case: str) -> None:
    subject = (
        wrong_check(api.prepared.citizen)
        if case == "wrong-check-character"
        else "110101199002301230"
    )
    response = api.client.post("/v1/dev/token", json={"subject": subject})
    assert_problem(response, 422, "invalid_identifier")
    assert subject[:17] not in response.text


def test_dev_token_schema_errors_422(api: Api) -> None:
    for body in ({}, {"subject": ""}, {"subject": api.prepared.citizen, "subjectKind": "x"}):
        assert_problem(api.client.post("/v1/dev/token", json=body), 422, "invalid")


def test_dev_token_absent_without_dev_issuer(alternate: PreparedService) -> None:
    settings = alternate.settings.model_copy(update={"dev_issuer": False})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert_problem(
            client.post("/v1/dev/token", json={"subject": alternate.citizen}), 404, "not_found"
        )
        assert "/v1/dev/token" not in client.get("/openapi.json").json()["paths"]
        # Tokens naming the development issuer are not trusted any more.
        token = jwt.encode(claims(alternate.citizen), ec_key(), algorithm="ES256")
        assert_problem(client.get("/v1/me/credit", headers=bearer(token)), 401, "unauthenticated")


# -- citizen JWTs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["wrong-audience", "expired", "untrusted-issuer", "wrong-key", "no-subject", "bad-subject"],
)
def test_citizen_jwt_rejected_401(api: Api, case: str) -> None:
    key = dev_key(api.prepared.settings)
    payload = claims(api.prepared.citizen)
    if case == "wrong-audience":
        payload["aud"] = "another-service"
    elif case == "expired":
        payload["exp"] = int(time.time()) - 120
    elif case == "untrusted-issuer":
        payload["iss"] = "https://idp.untrusted.example"
    elif case == "wrong-key":
        key = ec_key()
    elif case == "no-subject":
        del payload["sub"]
    else:
        payload["sub"] = wrong_check(api.prepared.citizen)
    token = jwt.encode(payload, key, algorithm="ES256")
    for path in ("/v1/me/credit", "/v1/whoami"):
        response = api.client.get(path, headers=bearer(token))
        assert_problem(response, 401, "unauthenticated")
        assert api.prepared.citizen[:17] not in response.text
    dispute = api.amend(hex32(api.prepared.event_id), "dispute", {"reason": "x"}, bearer(token))
    assert_problem(dispute, 401, "unauthenticated")


def test_citizen_jwt_crafted_with_the_dev_key_is_accepted(api: Api) -> None:
    """The crafted tokens above differ from a valid one in one claim each."""
    token = jwt.encode(claims(api.prepared.citizen), dev_key(api.prepared.settings), "ES256")
    assert api.client.get("/v1/me/credit", headers=bearer(token)).status_code == 200


def test_external_provider_by_public_key(alternate: PreparedService, tmp_path: Path) -> None:
    issuer = "https://idp.example.test/realms/citizens"
    key = ec_key()
    settings = alternate.settings.model_copy(
        update={
            "oidc_issuer": issuer,
            "oidc_public_key_file": write_public_pem(tmp_path / "idp.pem", key),
            "rate_limit": 0,
        }
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        token = jwt.encode(claims(alternate.citizen, issuer=issuer), key, algorithm="ES256")
        response = client.get("/v1/me/credit", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert hex32(alternate.event_id) in {e["eventId"] for e in response.json()["events"]}
        assert client.get("/v1/whoami", headers=bearer(token)).json()["role"] == "citizen"
        # Another key under the same issuer, or the provider's key under another issuer: refused.
        forged = jwt.encode(claims(alternate.citizen, issuer=issuer), ec_key(), algorithm="ES256")
        assert_problem(client.get("/v1/me/credit", headers=bearer(forged)), 401, "unauthenticated")
        other = jwt.encode(claims(alternate.citizen, issuer="https://other"), key, "ES256")
        assert_problem(client.get("/v1/me/credit", headers=bearer(other)), 401, "unauthenticated")
        # The development issuer is still trusted (LEDGER_DEV_ISSUER is on for this directory).
        dev = client.post("/v1/dev/token", json={"subject": alternate.citizen}).json()["token"]
        assert client.get("/v1/me/credit", headers=bearer(dev)).status_code == 200


def test_external_provider_by_jwks(alternate: PreparedService, tmp_path: Path) -> None:
    issuer = "https://idp.example.test/realms/enterprises"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwks = {"keys": [{**jwk, "kid": "signing-2026", "use": "sig", "alg": "RS256"}]}
    (tmp_path / "jwks.json").write_text(json.dumps(jwks), encoding="utf-8")
    settings = alternate.settings.model_copy(
        update={"oidc_issuer": issuer, "oidc_jwks_file": tmp_path / "jwks.json", "rate_limit": 0}
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        payload = claims(alternate.enterprise, issuer=issuer)
        token = jwt.encode(payload, key, algorithm="RS256", headers={"kid": "signing-2026"})
        response = client.get("/v1/me/certificates", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert hex32(alternate.doc_hash) in {i["documentHash"] for i in response.json()["items"]}
        unknown_kid = jwt.encode(payload, key, algorithm="RS256", headers={"kid": "retired"})
        response = client.get("/v1/me/certificates", headers=bearer(unknown_kid))
        assert_problem(response, 401, "unauthenticated")
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(payload, other_key, algorithm="RS256", headers={"kid": "signing-2026"})
        response = client.get("/v1/me/certificates", headers=bearer(forged))
        assert_problem(response, 401, "unauthenticated")


def test_external_provider_token_of_another_key_type_401(
    alternate: PreparedService, tmp_path: Path
) -> None:
    issuer = "https://idp.example.test/realms/rsa"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = write_public_pem(tmp_path / "idp.pem", key)
    settings = alternate.settings.model_copy(
        update={"oidc_issuer": issuer, "oidc_public_key_file": pem, "rate_limit": 0}
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        token = jwt.encode(claims(alternate.citizen, issuer=issuer), ec_key(), algorithm="ES256")
        assert_problem(client.get("/v1/me/credit", headers=bearer(token)), 401, "unauthenticated")


# -- every authenticated route: missing, bad and misplaced credentials --------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    #: Who may call it: department, admin, citizen, staff (department or admin), any.
    role: str
    json: dict[str, Any] | None = None
    multipart: bool = False


def authenticated_routes() -> list[Route]:
    event = "{event}"
    certificate = "{hash}"
    return [
        Route("get", "/v1/whoami", "any"),
        Route(
            "post",
            "/v1/departments",
            "admin",
            {"id": UNREGISTERED, "region": 110105, "name": "n", "scopes": ["commendation"]},
        ),
        Route("post", "/v1/departments/4/suspend", "admin"),
        Route("post", "/v1/departments/5/reinstate", "admin"),
        Route("post", "/v1/departments/4/rotate-key", "admin"),
        Route("post", "/v1/departments/4/tokens", "admin"),
        Route("put", "/v1/credit/disclosure-periods/commendation", "admin", {"days": 1}),
        Route("post", "/v1/certificates", "department", multipart=True),
        Route("post", f"/v1/certificates/{certificate}/suspend", "department", {"reason": "fraud"}),
        Route("post", f"/v1/certificates/{certificate}/reinstate", "department", {}),
        Route("post", f"/v1/certificates/{certificate}/revoke", "department", {"reason": "fraud"}),
        Route("post", f"/v1/certificates/{certificate}/supersede", "department", multipart=True),
        Route("get", "/v1/departments/3/certificates", "staff"),
        Route("get", f"/v1/credit/events/{event}", "staff"),
        Route("post", "/v1/credit/events", "department", {"subject": "x", "category": "x"}),
        Route(
            "post",
            f"/v1/credit/events/{event}/amend",
            "department",
            {"status": "corrected", "reason": "x"},
        ),
        Route(
            "post",
            f"/v1/credit/events/{event}/resolve",
            "department",
            {"outcome": "upheld", "reason": "x"},
        ),
        Route("post", f"/v1/credit/events/{event}/dispute", "citizen", {"reason": "x"}),
        Route("post", "/v1/credit/lookup", "department", {"subject": "x"}),
        Route("get", "/v1/me/certificates", "citizen"),
        Route("get", "/v1/me/credit", "citizen"),
    ]


AUTHENTICATED: Final = authenticated_routes()


def call(api: Api, route: Route, headers: dict[str, str]) -> httpx.Response:
    path = route.path.format(event=hex32(api.prepared.event_id), hash=hex32(api.prepared.doc_hash))
    if route.multipart:
        return api.client.post(
            path,
            headers=headers,
            files={"file": ("d.txt", fresh_document(), "text/plain")},
            data={
                "type": "business-licence",
                "subject": api.prepared.enterprise,
                "reason": "renewal",
            },
        )
    return api.client.request(route.method, path, headers=headers, json=route.json)


def shared_state(api: Api) -> tuple[object, ...]:
    """What no refused call may change: the prepared records and departments, read from the
    chain directly (between requests; the service's chain lock is held)."""
    service = api.client.app.state.service  # type: ignore[attr-defined]
    with service.read_lock:
        session = service.session
        certificate = session.certificates().certificate(api.prepared.doc_hash)
        registry = session.registry()
        departments = [registry.department(n) for n in (3, 4, 5, UNREGISTERED)]
        signers = [registry.signers(n) for n in (3, 4, 5)]
        event = session.credit().event(api.prepared.event_id)
    assert certificate is not None
    assert event is not None
    return (
        certificate.status,
        certificate.reason_code,
        [department.suspended if department else None for department in departments],
        signers,
        event.amendment,
        event.amendment_count,
    )


@pytest.fixture(scope="module")
def baseline(api: Api) -> tuple[object, ...]:
    state = shared_state(api)
    assert state[2] == [False, False, True, None]
    return state


@pytest.fixture(scope="module")
def revoked_token(api: Api) -> str:
    issued = api.client.post("/v1/departments/3/tokens", headers=api.admin).json()
    api.client.app.state.service.tokens.revoke(issued["tokenId"])  # type: ignore[attr-defined]
    return str(issued["token"])


@pytest.mark.parametrize(
    "route", AUTHENTICATED, ids=[f"{r.method}:{r.path}" for r in AUTHENTICATED]
)
def test_invalid_credentials_401(
    api: Api, baseline: tuple[object, ...], revoked_token: str, route: Route
) -> None:
    """Each authenticated route refuses: no credential, another scheme, an unknown, a revoked
    or a malformed API token, and a JWT signed with a key nobody trusts."""
    credentials = {
        "none": {},
        "other-scheme": {"Authorization": "Basic ZGVwYXJ0bWVudDpzZWNyZXQ="},
        "unknown-api-token": bearer("gla_0123456789abcdef_" + "B" * 43),
        "revoked-api-token": bearer(revoked_token),
        "malformed-api-token": bearer("gld_" + "0" * 10),
        "forged-jwt": bearer(jwt.encode(claims(api.prepared.citizen), ec_key(), "ES256")),
        "garbage": bearer("garbage"),
    }
    for name, headers in credentials.items():
        response = call(api, route, headers)
        assert response.status_code == 401, (name, response.text)
        assert_problem(response, 401, "unauthenticated")
    assert shared_state(api) == baseline


WRONG_ROLES: Final = {
    "admin": ("department", "suspended-department", "citizen", "enterprise"),
    "department": ("admin", "citizen", "enterprise"),
    "citizen": ("department", "suspended-department", "admin"),
    "staff": ("citizen", "enterprise"),
}


@pytest.mark.parametrize(
    "route",
    [r for r in AUTHENTICATED if r.role in WRONG_ROLES],
    ids=[f"{r.method}:{r.path}" for r in AUTHENTICATED if r.role in WRONG_ROLES],
)
def test_wrong_role_403(api: Api, baseline: tuple[object, ...], route: Route) -> None:
    """Valid credentials of another role: 403, and nothing changes."""
    callers = {
        "department": api.department,
        "suspended-department": api.suspended,
        "admin": api.admin,
        "citizen": api.citizen,
        "enterprise": bearer(api.enterprise_token),
    }
    for caller in WRONG_ROLES[route.role]:
        response = call(api, route, callers[caller])
        assert response.status_code == 403, (caller, response.text)
        assert_problem(response, 403, "not_authorized")
    assert shared_state(api) == baseline


# -- request ids, audit rows and rate limits ----------------------------------------------------


def test_request_id_is_echoed_and_audited(api: Api) -> None:
    request_id = str(uuid.uuid4())
    response = api.anchor(headers={**api.department, "X-Request-ID": request_id})
    assert response.status_code == 201
    assert response.headers["x-request-id"] == request_id
    rows = api.client.app.state.service.audit.entries(limit=100_000)  # type: ignore[attr-defined]
    [row] = [row for row in rows if row.request_id == request_id]
    assert (row.actor, row.action, row.outcome) == ("department:3", "certificate.anchor", 201)
    assert row.target == response.json()["documentHash"]


def test_request_id_on_problems_and_refusals_audited(api: Api) -> None:
    request_id = str(uuid.uuid4())
    response = api.anchor(headers={**api.other, "X-Request-ID": request_id}, type="no-such-type")
    assert_problem(response, 422, "invalid")
    assert response.headers["x-request-id"] == request_id
    rows = api.client.app.state.service.audit.entries(limit=100_000)  # type: ignore[attr-defined]
    [row] = [row for row in rows if row.request_id == request_id]
    assert (row.actor, row.action, row.outcome) == ("department:4", "certificate.anchor", 422)


@pytest.mark.parametrize(
    "offered",
    [
        "short",
        "has spaces in it",
        "x" * 65,
        "bad/slash!",
        "req-0123456789abcdef0123456789abcdef",
        # A free-form id could carry personal data into responses and audit rows.
        make_citizen_id(),
    ],
)
def test_request_id_other_than_a_uuid_is_replaced(api: Api, offered: str) -> None:
    response = api.client.get("/v1/catalogue", headers={"X-Request-ID": offered})
    generated = response.headers["x-request-id"]
    assert generated != offered
    assert uuid.UUID(generated).version == 4


def test_rate_limit_429(alternate: PreparedService) -> None:
    settings = alternate.settings.model_copy(update={"rate_limit": 1, "rate_burst": 2})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        department = bearer(alternate.department_token)
        for _ in range(2):
            assert client.get("/v1/whoami", headers=department).status_code == 200
        limited = client.get("/v1/whoami", headers=department)
        body = assert_problem(limited, 429, "too_many_requests")
        assert body["detail"]
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["x-request-id"]
        # Buckets are per token: another token and anonymous callers have their own.
        assert client.get("/v1/whoami", headers=bearer(alternate.admin_token)).status_code == 200
        for _ in range(2):
            assert client.get("/v1/catalogue").status_code == 200
        assert_problem(client.get("/v1/catalogue"), 429, "too_many_requests")
        assert_problem(
            client.post("/v1/verify", json={"documentHash": ZERO_HASH}), 429, "too_many_requests"
        )
        # Probes are never limited.
        for _ in range(5):
            assert client.get("/v1/health").status_code == 200


def test_rate_limit_counts_rejected_credentials_by_address(alternate: PreparedService) -> None:
    """A new made-up credential with every request does not escape the limit of the address."""
    settings = alternate.settings.model_copy(update={"rate_limit": 1, "rate_burst": 2})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        statuses = [
            client.get("/v1/whoami", headers=bearer(f"made-up-{n}")).status_code for n in range(4)
        ]
        assert statuses[:2] == [401, 401]
        assert 429 in statuses[2:]
        limited = client.get("/v1/me/credit", headers=bearer("gld_0123456789abcdef_" + "C" * 43))
        assert_problem(limited, 429, "too_many_requests")


def test_rate_limit_not_evaded_on_public_routes(alternate: PreparedService) -> None:
    settings = alternate.settings.model_copy(update={"rate_limit": 1, "rate_burst": 2})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        statuses = [
            client.post(
                "/v1/verify", headers=bearer(f"made-up-{n}"), json={"documentHash": ZERO_HASH}
            ).status_code
            for n in range(5)
        ]
        assert 429 in statuses


# -- the OpenAPI schema -------------------------------------------------------------------------

DOCUMENTED_OPERATIONS: Final = {
    ("get", "/v1/health"),
    ("get", "/v1/ready"),
    ("get", "/v1/catalogue"),
    ("post", "/v1/verify"),
    ("post", "/v1/certificates/batches"),
    ("get", "/v1/certificates/batches/{job_id}"),
    ("get", "/v1/certificates/{document_hash}"),
    ("get", "/v1/departments"),
    ("get", "/v1/departments/{department_id}"),
    ("get", "/v1/whoami"),
    ("post", "/v1/departments"),
    ("post", "/v1/departments/{department_id}/suspend"),
    ("post", "/v1/departments/{department_id}/reinstate"),
    ("post", "/v1/departments/{department_id}/rotate-key"),
    ("post", "/v1/departments/{department_id}/tokens"),
    ("post", "/v1/certificates"),
    ("post", "/v1/certificates/{document_hash}/suspend"),
    ("post", "/v1/certificates/{document_hash}/reinstate"),
    ("post", "/v1/certificates/{document_hash}/revoke"),
    ("post", "/v1/certificates/{document_hash}/supersede"),
    ("get", "/v1/departments/{department_id}/certificates"),
    ("post", "/v1/bundles"),
    ("get", "/v1/bundles/{bundle_id}"),
    ("post", "/v1/bundles/{bundle_id}/parts/{index}"),
    ("get", "/v1/bundles/{bundle_id}/verification"),
    ("get", "/v1/operations/{operation_id}"),
    ("post", "/v1/credit/events"),
    ("get", "/v1/credit/events/{event_id}"),
    ("post", "/v1/credit/events/{event_id}/amend"),
    ("post", "/v1/credit/events/{event_id}/resolve"),
    ("post", "/v1/credit/events/{event_id}/dispute"),
    ("post", "/v1/credit/lookup"),
    ("get", "/v1/credit/disclosure-periods"),
    ("put", "/v1/credit/disclosure-periods/{category}"),
    ("get", "/v1/me/certificates"),
    ("get", "/v1/me/credit"),
    ("post", "/v1/rpc"),
    ("post", "/v1/dev/token"),
}
#: Orchestrator probes, never rate limited.
PROBES: Final = {"/v1/health", "/v1/ready"}
#: Routes that take any credential, so there is no wrong role to refuse.
ANY_CREDENTIAL: Final = {"/v1/whoami"}
#: Routes answering a verification report: an unknown id is an INVALID report (200), never 404.
REPORTS: Final = {"/v1/bundles/{bundle_id}/verification"}
#: JSON-RPC answers a malformed call with an error object in a 200 (JSON-RPC 2.0), never 422.
JSON_RPC: Final = {"/v1/rpc"}


@pytest.fixture(scope="module")
def openapi(client: TestClient) -> dict[str, Any]:
    schema: dict[str, Any] = client.get("/openapi.json").json()
    return schema


def test_openapi_lists_every_documented_route(openapi: dict[str, Any]) -> None:
    operations = {
        (method, path)
        for path, item in openapi["paths"].items()
        if path.startswith("/v1/")
        for method in item
    }
    assert operations == DOCUMENTED_OPERATIONS


@pytest.mark.parametrize(
    ("method", "path"),
    [pytest.param(m, p, id=f"{m}:{p}") for m, p in sorted(DOCUMENTED_OPERATIONS)],
)
def test_openapi_declares_every_status(openapi: dict[str, Any], method: str, path: str) -> None:
    operation = openapi["paths"][path][method]
    declared = set(operation["responses"])
    needed = {"500"}
    if operation.get("security"):
        needed.add("401")
        if path not in ANY_CREDENTIAL:
            needed.add("403")
    if path not in PROBES:
        needed.add("429")
    if (operation.get("parameters") or operation.get("requestBody")) and path not in JSON_RPC:
        needed.add("422")
    if operation.get("requestBody"):
        needed |= {"400", "413"}
    if "{" in path and path not in REPORTS:
        needed.add("404")
    assert needed <= declared, sorted(needed - declared)
    successes = {code for code in declared if code.startswith("2")}
    # One answer, and 202 beside it for a journaled write (ADR 0012).
    assert len(successes - {"202"}) <= 1
    assert successes
    assert successes <= {"200", "201", "202"}
    for code in declared - successes:
        content = operation["responses"][code]["content"]
        assert content[PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    problem = openapi["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code"} <= set(problem["required"])
