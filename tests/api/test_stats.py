"""``GET /v1/stats`` through the real app over a seeded embedded chain (ADR 0030)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.config import Settings
from ledger.session import LedgerSession
from tests.support.stats_seed import seed_statistics


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root: Path = tmp_path_factory.mktemp("stats")
    settings = Settings(data_dir=root / "data", rate_limit=0)
    session, _ = LedgerSession.initialize(settings)
    with session:
        seed_statistics(session)
    return settings


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_statistics_are_public_and_stated_as_of_a_block(client: TestClient) -> None:
    response = client.get("/v1/stats")
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["asOf"]["block"] > 0
    assert document["asOf"]["chainId"] == 1337
    assert document["threshold"] == 5
    assert set(document) == {"asOf", "threshold", "certificates", "credit", "bundles", "window"}
    assert document["window"] == {"consents": 0, "checks": 0}
    certificates = document["certificates"]
    assert certificates["totals"]["anchored"] == 16
    assert certificates["totals"]["batches"] == "<5"
    # Guangdong has three certificates: "<5"; Beijing's 13, from which they could be subtracted
    # back, are withheld too, and not written "<5": they are not small.
    regions = {row["region"]: row for row in certificates["byRegion"]}
    assert regions[440000]["anchored"] == "<5"
    assert regions[110000]["anchored"] == "withheld"
    # Provinces by their official names (GB/T 2260, ledger/regions.py).
    assert (regions[440000]["nameZh"], regions[440000]["nameEn"]) == ("广东省", "Guangdong")
    assert regions[110000]["nameZh"] == "北京市"
    assert {row["type"] for row in certificates["byType"]} == {
        "business-licence",
        "residence-certificate",
    }


def test_every_count_is_an_integer_or_withheld(client: TestClient) -> None:
    def counts(value: object) -> Iterator[object]:
        if isinstance(value, dict):
            for key, item in value.items():
                if key not in ("asOf", "region", "department", "severity", "month", "type"):
                    yield from counts(item)
        elif isinstance(value, list):
            for item in value:
                yield from counts(item)
        elif not isinstance(value, str) or value in ("<5", "withheld") or value.isdigit():
            yield value

    found = list(counts(client.get("/v1/stats").json()))
    assert found
    for value in found:
        assert value is None or isinstance(value, (int, float)) or value in ("<5", "withheld")


def test_a_second_request_is_answered_from_the_index(client: TestClient) -> None:
    first = client.get("/v1/stats").json()
    second = client.get("/v1/stats").json()
    assert first == second


def test_the_threshold_is_validated() -> None:
    with pytest.raises(pydantic.ValidationError):
        Settings(stats_threshold=1)
    with pytest.raises(pydantic.ValidationError):
        Settings(stats_threshold=1_001)
    assert Settings(stats_threshold=3).stats_threshold == 3
