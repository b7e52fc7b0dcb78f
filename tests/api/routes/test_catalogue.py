"""``GET /v1/catalogue`` and ``GET /v1/whoami`` (api/routes/catalogue.py).

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

import pytest

from ledger.catalogue import CERTIFICATE_TYPES, CREDIT_CATEGORIES
from tests.support.http import assert_problem, bearer
from tests.support.routes import (
    Api,
)

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
