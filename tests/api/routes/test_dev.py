"""The development identity provider (api/routes/dev.py).

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import DEV_ISSUER
from tests.support.http import assert_problem, bearer
from tests.support.routes import (
    Api,
    ambiguous_identifier,
    claims,
    ec_key,
    hex32,
    moment,
    wrong_check,
)
from tests.support.service import PreparedService

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
