"""The department routes (api/routes/departments.py): the public reads and governance.

They run against the shared service of tests/api/conftest.py (``api``, ``alternate``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.http import assert_problem, bearer
from tests.support.routes import (
    Api,
    check_outcome,
    department_ids,
    fresh_document,
)

# -- departments: public reads ------------------------------------------------------------------


def test_list_departments(api: Api) -> None:
    response = api.client.get("/v1/departments")
    assert response.status_code == 200
    items = {item["id"]: item for item in response.json()["items"]}
    assert {3, 4, 5} <= set(items)
    assert items[3]["region"] == 110101
    assert items[4]["region"] == 310101
    # The region's official name comes from the GB/T 2260 table (ledger/regions.py).
    assert (items[3]["regionName"], items[4]["regionName"]) == ("东城区", "黄浦区")
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
    identifier = next(department_ids)
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
    assert department["regionName"] == "朝阳区"
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


def test_department_of_an_unlisted_region_has_no_region_name(api: Api) -> None:
    # 990101 is a well-formed code the official list lacks: accepted, shown without a name.
    identifier = next(department_ids)
    body = {"id": identifier, "region": 990101, "name": "试点局", "scopes": ["business-licence"]}
    response = api.client.post("/v1/departments", headers=api.admin, json=body)
    assert response.status_code == 201, response.text
    department = response.json()["department"]
    assert (department["region"], department["regionName"]) == (990101, None)


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
    identifier = next(department_ids)
    body = {"id": identifier, "region": 110105, "name": "n", "scopes": ["business-licence"]}
    body.update(change)
    assert_problem(api.client.post("/v1/departments", headers=api.admin, json=body), 422, "invalid")
    assert_problem(api.client.get(f"/v1/departments/{identifier}"), 404, "not_found")


def test_register_department_blank_name_422(api: Api) -> None:
    identifier = next(department_ids)
    body = {"id": identifier, "region": 110105, "name": "   ", "scopes": ["commendation"]}
    assert_problem(api.client.post("/v1/departments", headers=api.admin, json=body), 422, "invalid")
    assert_problem(api.client.get(f"/v1/departments/{identifier}"), 404, "not_found")


def test_register_department_refused_validity_leaves_nothing(api: Api) -> None:
    identifier = next(department_ids)
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
