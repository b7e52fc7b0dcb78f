"""The shared client of the route tests (tests/api/routes/ and the cross-cutting modules beside
them in tests/api/) and the helpers they write requests with: fresh documents and evidence,
identifiers with a wrong check character, crafted JWT claims, and ``Api``, the shortcuts for the
common calls. The fixtures that build it (``prepared``, ``api``, ``alternate``) are in
tests/api/conftest.py.

Every test anchors its own documents, records its own events and registers its own departments
(``Api.register`` draws ids from one counter for the whole session), so tests do not depend on
each other or on their order, nor on the module they are in.
"""

from __future__ import annotations

import itertools
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from api.security import DEV_ISSUER, DEV_KEY_FILE
from ledger.config import Settings
from ledger.identity import (
    USCC_ALPHABET,
    make_citizen_id,
    validate_uscc,
)
from tests.support.http import bearer
from tests.support.service import PreparedService

#: The document limit of the shared app: small, so oversized uploads stay cheap.
LIMIT: Final = 4096
HASH_LENGTH: Final = 66
ZERO_HASH: Final = "0x" + "ab" * 32
#: A department id nobody registers.
UNREGISTERED: Final = 4242
#: Department ids registered by the route tests (the prepared ones are 3, 4 and 5).
department_ids = itertools.count(100)


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
            "id": next(department_ids),
            "region": 110105,
            "name": "朝阳区市场监督管理局",
            "scopes": ["business-licence", "false-information"],
        }
        body.update(overrides)
        response = self.client.post("/v1/departments", headers=self.admin, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created
