"""``ledger services`` (ledger/cli/services.py), run as the real console script: the service
catalogue as a table and as the API's JSON, needing no ledger; an unknown code is one error line
and the not-found exit status."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from ledger.config import Settings
from ledger.services import SERVICES, SERVICES_VERSION
from tests.support.cli import json_of, ledger, one_error_line, succeeded

NOT_FOUND = 3  # ledger --help: "3  not found"


def _api_answer(path: str, tmp_path: Path) -> object:
    """What the API answers at ``path``: the catalogue routes read no chain or service, so the
    app's lifespan (which would open a ledger) is not started."""
    client = TestClient(create_app(Settings(data_dir=tmp_path / "api")))
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_table_lists_every_service_without_a_ledger(tmp_path: Path) -> None:
    data_dir = tmp_path / "none"
    text = succeeded(ledger(data_dir, "services"))
    lines = text.splitlines()
    assert lines[0].split() == ["CODE", "FOR", "REQUIRES", "SERVICE"]
    assert len(lines) == len(SERVICES) + 2
    for entry, line in zip(SERVICES, lines[1:-1], strict=True):
        assert line.startswith(entry.code + " ")
        assert line.endswith(f"({entry.title_zh})")
        assert entry.requires[0].name in line
    assert lines[-1] == f"{len(SERVICES)} services, catalogue version {SERVICES_VERSION}"
    assert not data_dir.exists()  # read from the package: nothing created


def test_json_is_what_the_api_answers(tmp_path: Path) -> None:
    data_dir = tmp_path / "none"
    listed = json_of(ledger(data_dir, "services", "--json"))
    assert listed == json_of(ledger(data_dir, "--json", "services"))
    assert listed["version"] == SERVICES_VERSION
    shown = json_of(ledger(data_dir, "services", "show", "enterprise-establishment", "--json"))
    assert shown == listed["services"][0]
    assert [part["type"] for part in shown["bundleParts"]] == [
        "business-licence",
        "tax-registration",
        "social-security-registration",
    ]
    assert listed == _api_answer("/v1/services", tmp_path)
    assert shown == _api_answer("/v1/services/enterprise-establishment", tmp_path)


def test_show_describes_one_service(tmp_path: Path) -> None:
    text = succeeded(ledger(tmp_path / "none", "services", "show", "restaurant-opening"))
    lines = text.splitlines()
    assert lines[0] == "开办餐饮店 / Opening a restaurant (restaurant-opening)"
    assert "requires: identity-card" in lines
    assert "content:  real-estate-certificate (stored copies the window may read)" in lines
    assert "bundle:   business-licence, food-business-licence (joint licensing, 多证联办)" in lines


def test_an_unknown_code_is_one_error_line(tmp_path: Path) -> None:
    for code in ("no-such-service", "Not_A_Code"):
        result = ledger(tmp_path / "none", "services", "show", code)
        line = one_error_line(result, NOT_FOUND)
        assert line == "error: no service has that code (see `ledger services`)"
    missing = ledger(tmp_path / "none", "services", "show")
    assert one_error_line(missing, 2).startswith("error: Missing argument 'CODE'")
