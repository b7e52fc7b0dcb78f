"""``GET /v1/services`` and ``GET /v1/services/{code}`` (api/routes/services.py): the service
catalogue of ledger/data/services.toml, public, answered exactly as the data says.

They run against the shared service of tests/api/conftest.py (``api``).
"""

from __future__ import annotations

import pytest

from ledger.catalogue import certificate_type
from ledger.services import SERVICES, SERVICES_VERSION
from tests.support.http import assert_problem
from tests.support.routes import Api


def _titled(names: list[str]) -> list[dict[str, str]]:
    """Type names as the API lists them: each with the catalogue's titles."""
    return [
        {"type": name, "titleZh": kind.title_zh, "titleEn": kind.title_en}
        for name, kind in ((name, certificate_type(name)) for name in names)
    ]


def test_the_list_is_the_data_file(api: Api) -> None:
    response = api.client.get("/v1/services")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == SERVICES_VERSION
    assert [entry["code"] for entry in body["services"]] == [entry.code for entry in SERVICES]
    for entry, answered in zip(SERVICES, body["services"], strict=True):
        assert answered == {
            "code": entry.code,
            "titleZh": entry.title_zh,
            "titleEn": entry.title_en,
            "summaryZh": entry.summary_zh,
            "summaryEn": entry.summary_en,
            "subjectKinds": [kind.value for kind in entry.subject_kinds],
            "requires": _titled([kind.name for kind in entry.requires]),
            "accepts": _titled([kind.name for kind in entry.accepts]),
            "content": _titled([kind.name for kind in entry.content]),
            "bundleParts": (
                None
                if entry.bundle_parts is None
                else _titled([kind.name for kind in entry.bundle_parts])
            ),
        }


def test_one_service(api: Api) -> None:
    response = api.client.get("/v1/services/enterprise-establishment")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["titleZh"] == "企业开办"
    assert body["requires"][0] == {
        "type": "identity-card",
        "titleZh": "居民身份证",
        "titleEn": "Resident identity card",
    }
    assert [part["type"] for part in body["bundleParts"]] == [
        "business-licence",
        "tax-registration",
        "social-security-registration",
    ]
    single = api.client.get("/v1/services/marriage-registration").json()
    assert single["bundleParts"] is None
    assert single["subjectKinds"] == ["citizen"]
    # The same entry as in the list.
    listed = api.client.get("/v1/services").json()["services"]
    assert body == next(entry for entry in listed if entry["code"] == body["code"])


def test_no_credential_is_needed(api: Api) -> None:
    anonymous = api.client.get("/v1/services/passport-issuance")
    assert anonymous.status_code == 200
    assert "www-authenticate" not in anonymous.headers
    citizen = api.client.get("/v1/services/passport-issuance", headers=api.citizen)
    assert citizen.json() == anonymous.json()
    assert api.client.get("/v1/services", headers=api.department).status_code == 200


def test_an_unknown_service_is_a_404_problem(api: Api) -> None:
    body = assert_problem(api.client.get("/v1/services/no-such-service"), 404, "unknown_service")
    assert "no-such-service" not in body.get("detail", "")


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("Marriage-Registration", id="upper-case"),
        pytest.param("marriage_registration", id="underscore"),
        pytest.param("marriage--registration", id="double-hyphen"),
        pytest.param("-marriage", id="leading-hyphen"),
        pytest.param("marriage-", id="trailing-hyphen"),
        pytest.param("结婚登记", id="not-ascii"),
        pytest.param("a" * 65, id="too-long"),
    ],
)
def test_a_malformed_code_is_a_422_problem(api: Api, code: str) -> None:
    assert_problem(api.client.get(f"/v1/services/{code}"), 422, "invalid")


def test_the_longest_code_is_looked_up(api: Api) -> None:
    assert_problem(api.client.get("/v1/services/" + "a" * 64), 404, "unknown_service")
