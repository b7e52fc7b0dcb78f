"""``ledger access-log verify`` (ledger/cli/access_log.py), run as the real console script on
proofs the real app answered: an anchored entry is INCLUDED; after a row of its batch was
altered or deleted in the service database, the proof the service then answers is NOT INCLUDED
(exit status 10) with the reason; a file that is no proof is one error line (exit status 2).

The app runs first (it holds the embedded chain while it lives), then the command checks the
saved proofs against the data directory's chain.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.support.cli import json_of, ledger, one_error_line, succeeded
from tests.support.http import bearer
from tests.support.serve import ServeProcess
from tests.support.service import PreparedService, prepare_service

NOT_INCLUDED = 10  # ledger --help: "10 ... the entry is NOT INCLUDED"
INVALID_INPUT = 2


class Proofs:
    """Proof files saved from the app: ``good`` (an intact batch), ``altered`` (its entry's row
    was edited), ``neighbour_deleted`` (another row of its batch was deleted)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def save(self, name: str, document: dict[str, Any]) -> None:
        self.path(name).write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def _lookups(client: TestClient, prepared: PreparedService, count: int) -> list[int]:
    """``count`` credit lookups of the citizen by department 3, anchored in one batch; their
    sequence numbers, oldest first."""
    for _ in range(count):
        response = client.post(
            "/v1/credit/lookup",
            headers=bearer(prepared.department_token),
            json={"subject": prepared.citizen},
        )
        assert response.status_code == 200, response.text
    anchored = client.post("/v1/access-log/anchors", headers=bearer(prepared.admin_token))
    assert anchored.status_code == 200, anchored.text
    batch = anchored.json()["batch"]
    return list(range(batch["lastSeq"] - count + 1, batch["lastSeq"] + 1))


@pytest.fixture(scope="module")
def proofs(tmp_path_factory: pytest.TempPathFactory) -> tuple[PreparedService, Proofs]:
    prepared = prepare_service(tmp_path_factory.mktemp("access-log-cli"), rate_limit=0)
    saved = Proofs(tmp_path_factory.mktemp("proofs"))
    with TestClient(create_app(prepared.settings)) as client:
        token = client.post("/v1/dev/token", json={"subject": prepared.citizen}).json()["token"]

        def proof(seq: int) -> dict[str, Any]:
            response = client.get(f"/v1/me/access-log/{seq}/proof", headers=bearer(token))
            assert response.status_code == 200, response.text
            document: dict[str, Any] = response.json()
            return document

        [good] = _lookups(client, prepared, 1)
        altered, _ = _lookups(client, prepared, 2)
        kept, deleted = _lookups(client, prepared, 2)
        saved.save("good", proof(good))
        saved.save("before", proof(altered))
        with sqlite3.connect(prepared.settings.service_db_path) as connection:
            connection.execute("UPDATE access_log SET records = '[]' WHERE seq = ?", (altered,))
            connection.execute("DELETE FROM access_log WHERE seq = ?", (deleted,))
        saved.save("altered", proof(altered))
        saved.save("neighbour_deleted", proof(kept))
    return prepared, saved


def _verify(proofs: tuple[PreparedService, Proofs], name: str, *args: str) -> Any:
    prepared, saved = proofs
    return ledger(prepared.settings.data_dir, "access-log", "verify", str(saved.path(name)), *args)


def test_an_anchored_entry_is_included(proofs: tuple[PreparedService, Proofs]) -> None:
    text = succeeded(_verify(proofs, "good"))
    assert text.startswith("INCLUDED  entry ")
    report = json_of(_verify(proofs, "good", "--json"))
    assert report["included"] is True
    [check] = report["checks"]
    assert check["anchor"]["firstSeq"] <= report["seq"] <= check["anchor"]["lastSeq"]


def test_a_proof_saved_before_the_edit_stays_included(
    proofs: tuple[PreparedService, Proofs],
) -> None:
    """The chain keeps what the entry was: a proof saved earlier is still evidence of it."""
    assert succeeded(_verify(proofs, "before")).startswith("INCLUDED")


@pytest.mark.parametrize("name", ["altered", "neighbour_deleted"])
def test_an_entry_tampered_with_is_not_included(
    proofs: tuple[PreparedService, Proofs], name: str
) -> None:
    result = _verify(proofs, name)
    assert result.returncode == NOT_INCLUDED, (result.stdout, result.stderr)
    assert result.stdout.startswith("NOT INCLUDED  entry ")
    assert result.stdout.rstrip().endswith("the root is not anchored on chain")
    report = json_of(_verify(proofs, name, "--json"))
    assert report["included"] is False
    assert report["checks"][0]["reason"] == "the root is not anchored on chain"


def test_an_edited_proof_is_not_included(
    proofs: tuple[PreparedService, Proofs], tmp_path: Path
) -> None:
    prepared, saved = proofs
    document = json.loads(saved.path("good").read_text(encoding="utf-8"))
    document["entry"]["window"] = "somewhere else"
    forged = Proofs(tmp_path)
    forged.save("forged", document)
    result = ledger(prepared.settings.data_dir, "access-log", "verify", str(forged.path("forged")))
    assert result.returncode == NOT_INCLUDED
    assert "the canonical text is not the RFC 8785 text of the entry" in result.stdout


@pytest.mark.parametrize("content", ["not json", "[]", '{"entry": {"seq": 1}}'])
def test_a_file_that_is_no_proof_is_invalid_input(
    proofs: tuple[PreparedService, Proofs], tmp_path: Path, content: str
) -> None:
    prepared, _ = proofs
    path = tmp_path / "proof.json"
    path.write_text(content, encoding="utf-8")
    result = ledger(prepared.settings.data_dir, "access-log", "verify", str(path))
    one_error_line(result, INVALID_INPUT)


@pytest.mark.slow
def test_checked_through_a_running_service(tmp_path: Path) -> None:
    """While `ledger serve` holds the chain, the command reads it through the service's
    read-only /v1/rpc, by itself or named with --rpc-url; an entry edited in the running
    service's database then fails."""
    prepared = prepare_service(tmp_path / "served", rate_limit=0)
    data_dir = prepared.settings.data_dir
    server = ServeProcess(
        data_dir, tmp_path / "serve.log", environment={"LEDGER_DEV_ISSUER": "true"}
    )
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            token = client.post("/v1/dev/token", json={"subject": prepared.citizen}).json()
            lookup = client.post(
                "/v1/credit/lookup",
                headers=bearer(prepared.department_token),
                json={"subject": prepared.citizen},
            )
            assert lookup.status_code == 200, lookup.text
            anchored = client.post("/v1/access-log/anchors", headers=bearer(prepared.admin_token))
            assert anchored.status_code == 200, anchored.text
            seq = anchored.json()["batch"]["lastSeq"]

            def saved(name: str) -> Path:
                answer = client.get(
                    f"/v1/me/access-log/{seq}/proof", headers=bearer(token["token"])
                )
                assert answer.status_code == 200, answer.text
                path = tmp_path / f"{name}.json"
                path.write_text(answer.text, encoding="utf-8")
                return path

            good = saved("good")
            through = ledger(data_dir, "access-log", "verify", str(good))
            assert through.returncode == 0, (through.stdout, through.stderr)
            assert through.stdout.startswith("INCLUDED")
            assert "reading through the running service" in through.stderr
            named = ledger(
                data_dir, "access-log", "verify", str(good), "--rpc-url", f"{server.url}/v1/rpc"
            )
            assert succeeded(named).startswith("INCLUDED")
            with sqlite3.connect(prepared.settings.service_db_path) as connection:
                connection.execute("UPDATE access_log SET window = 'x' WHERE seq = ?", (seq,))
            altered = ledger(data_dir, "access-log", "verify", str(saved("altered")))
            assert altered.returncode == NOT_INCLUDED, (altered.stdout, altered.stderr)
            assert "the root is not anchored on chain" in altered.stdout
    finally:
        server.stop()
