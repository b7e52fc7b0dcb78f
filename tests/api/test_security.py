"""Authentication and roles (api/security.py): citizen JWTs, external identity providers, and
every authenticated route against missing, bad and misplaced credentials.

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from api.app import create_app
from tests.support.http import assert_problem, bearer
from tests.support.routes import (
    UNREGISTERED,
    Api,
    claims,
    dev_key,
    ec_key,
    fresh_document,
    hex32,
    write_public_pem,
    wrong_check,
)
from tests.support.service import PreparedService

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
