"""Open statistics recomputed by another region (ADR 0030): ``ledger stats --rpc`` against an
anvil node prints exactly what ``GET /v1/stats`` of the service on that node answers, less
the window's counts (the service's own, not on chain)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ledger.config import Settings
from ledger.session import DEPLOYMENTS_FILE, LedgerSession
from tests.support.anvil import AnvilNode, start_anvil
from tests.support.cli import json_of, ledger, succeeded
from tests.support.stats_seed import seed_statistics


def _advance(node: AnvilNode, seconds: int) -> None:
    node.rpc("evm_increaseTime", [seconds])
    node.rpc("evm_mine", [])


@pytest.mark.slow
def test_another_region_recomputes_the_published_statistics(tmp_path: Path) -> None:
    with start_anvil(log_path=tmp_path / "anvil.log") as node:
        settings = Settings(data_dir=tmp_path / "data", rpc_url=node.url, rate_limit=0)
        session, _ = LedgerSession.initialize(settings)
        with session:
            seeded = seed_statistics(session, lambda seconds: _advance(node, seconds))
        head = int(node.rpc("eth_blockNumber"), 16)
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            response = client.get("/v1/stats")
        assert response.status_code == 200, response.text
        published = response.json()
        assert published.pop("window") == {"consents": 0, "checks": 0}
        assert published["asOf"]["block"] == head
        # Another region: its own data directory holding only the deployments file.
        other = tmp_path / "other-region"
        other.mkdir()
        deployments = shutil.copy(settings.data_dir / DEPLOYMENTS_FILE, other / "deployments.json")
        arguments = ["stats", "--rpc", node.url, "--deployments", str(deployments), "--json"]
        recomputed = json_of(ledger(other, *arguments))
        assert recomputed == published
        # What the fixture wrote is there: a bundle overdue, disputes to each outcome, and the
        # province with three certificates withheld.
        assert published["certificates"]["totals"]["anchored"] == seeded.anchored
        assert published["bundles"]["totals"]["overdue"] == "<5"
        assert published["bundles"]["totals"]["opened"] == "<5"
        regions = {row["region"]: row for row in published["certificates"]["byRegion"]}
        assert regions[440000]["anchored"] == "<5"
        outcomes = {row["outcome"] for row in published["credit"]["disputes"]}
        assert outcomes == {"upheld", "withdrawn", "pending"}
        # At threshold 2 only ones are withheld: three bundles opened, two completed, and one
        # (under 2 and not 0) overdue.
        low = json_of(ledger(other, *arguments, "--threshold", "2"))
        assert low["bundles"]["totals"] == {"opened": 3, "completed": 2, "overdue": "<2"}
        assert low["asOf"] == published["asOf"]
        # A second run reads only new blocks: none, so the same document.
        again = succeeded(ledger(other, *arguments))
        assert again.strip()
        assert json_of(ledger(other, *arguments)) == recomputed


def test_the_readable_table_and_its_refusals(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    session, _ = LedgerSession.initialize(Settings(data_dir=data_dir))
    with session:
        seed_statistics(session)
    text = succeeded(ledger(data_dir, "stats"))
    assert text.startswith("As of block ")
    assert 'counts under 5 are shown "<5", and counts "withheld" would let one' in text
    assert "residence-certificate" in text
    assert (data_dir / "stats-cli.sqlite3").is_file()
    # Its own index file where asked, and the threshold from the environment.
    index = tmp_path / "elsewhere.sqlite3"
    shown = json_of(
        ledger(
            data_dir, "stats", "--json", "--index", str(index), env={"LEDGER_STATS_THRESHOLD": "3"}
        )
    )
    assert shown["threshold"] == 3
    assert index.is_file()
    refused = ledger(data_dir, "stats", "--threshold", "1")
    assert refused.returncode == 2
    assert "--threshold" in refused.stderr
    deployments = str(data_dir / DEPLOYMENTS_FILE)
    unreachable = ledger(
        data_dir, "stats", "--rpc", "http://127.0.0.1:9", "--deployments", deployments
    )
    assert unreachable.returncode == 6
    assert unreachable.stderr.strip() == "error: cannot reach the JSON-RPC node (ConnectionError)"
