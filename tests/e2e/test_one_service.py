"""One service per data directory, and the CLI beside it (issue 13 items 6 and 15, ADR 0021).

Real ``ledger serve`` processes: a second service on the same service database is refused at
start (on anvil, where no chain lock stops it), and while a service holds the embedded chain the
CLI's read-only commands read through its ``/v1/rpc`` and agree with the API; writes are refused
there (JSON-RPC) and by the CLI (exit 7, naming the service).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from ledger.chain.embedded import open_embedded_chain
from ledger.serving import SERVE_FILE, reader_key
from tests.support.anvil import AnvilNode
from tests.support.process import free_port
from tests.support.serve import LEDGER, ServeProcess, serving
from tests.support.service import PreparedService, prepare_service

pytestmark = pytest.mark.slow

#: A second service must be refused at once; on the old code it would run until killed.
REFUSAL_TIMEOUT: Final = 90


def _environment(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("LEDGER_") or k == "LEDGER_ANVIL"
    }
    return {**env, "LEDGER_RATE_LIMIT": "0", **extra}


def ledger(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LEDGER), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=REFUSAL_TIMEOUT,
        env=_environment(**env),
        check=False,
    )


def error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr[-2000:])
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# -- item 6: one service per service database ---------------------------------------------------


def test_a_second_service_on_one_service_database_is_refused(
    tmp_path: Path, anvil: AnvilNode
) -> None:
    prepared = prepare_service(tmp_path, rpc_url=anvil.url)
    data_dir = prepared.settings.data_dir
    first = ServeProcess(data_dir, tmp_path / "first.log", anvil.url)
    first.start()
    try:
        try:
            second = ledger(data_dir, "serve", "--port", str(free_port()), LEDGER_RPC_URL=anvil.url)
        except subprocess.TimeoutExpired:
            pytest.fail("a second `ledger serve` on the same data directory kept running")
        line = error_line(second, 7)
        assert "ledger serve" in line
        assert f"pid {first.pid}" in line
        # The first one still answers, alone.
        assert httpx.get(f"{first.url}/v1/ready", timeout=10).status_code == 200
        # Its /v1/rpc passes reads through to the node, and never a write.
        key = reader_key(prepared.settings.pepper_bytes())
        chain_id = _rpc(first.url, "eth_chainId", [], key).json()
        assert chain_id == {"jsonrpc": "2.0", "id": 7, "result": anvil.rpc("eth_chainId")}
        head = _rpc(first.url, "eth_getBlockByNumber", ["latest", False], key).json()["result"]
        assert int(head["number"], 16) == int(anvil.rpc("eth_blockNumber"), 16)
        sent = _rpc(first.url, "eth_sendTransaction", [{"from": "0x" + "11" * 20}], key).json()
        assert sent["error"]["code"] == -32601
    finally:
        first.kill()  # a crash: the kernel drops its lock, nothing to clean up
    again = ServeProcess(data_dir, tmp_path / "again.log", anvil.url)
    again.start()
    again.stop()


# -- item 15: reading while the service holds the embedded chain ---------------------------------


@pytest.fixture
def prepared(tmp_path: Path) -> PreparedService:
    return prepare_service(tmp_path)


def _rpc(url: str, method: str, params: list[Any], key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(
        f"{url}/v1/rpc",
        json={"jsonrpc": "2.0", "id": 7, "method": method, "params": params},
        headers=headers,
        timeout=30,
    )


def test_the_cli_reads_through_the_running_service(
    tmp_path: Path, prepared: PreparedService
) -> None:
    data_dir = prepared.settings.data_dir
    document = tmp_path / "licence.txt"
    document.write_bytes(prepared.document)
    with serving(data_dir) as server:
        verified = ledger(data_dir, "--json", "verify", str(document))
        assert verified.returncode == 0, verified.stderr
        assert json.loads(verified.stdout)["verdict"] == "VALID"
        assert f"{server.url}/v1/rpc" in verified.stderr  # it says where it read
        announced = json.loads((data_dir / SERVE_FILE).read_text())
        assert announced["pid"] == server.pid
        assert announced["rpc"] == f"{server.url}/v1/rpc"

        # An explicit --rpc to the service works too (the reader key goes with it).
        explicit = ledger(data_dir, "--rpc", f"{server.url}/v1/rpc", "--json", "status")
        assert explicit.returncode == 0, explicit.stderr
        assert json.loads(explicit.stdout)["chain"] == "rpc"

        history = ledger(data_dir, "--json", "credit", "history", "--subject", prepared.citizen)
        assert history.returncode == 0, history.stderr
        cli_events = [e["eventId"] for e in json.loads(history.stdout)["events"]]
        lookup = httpx.post(
            f"{server.url}/v1/credit/lookup",
            json={"subject": prepared.citizen},
            headers={"Authorization": f"Bearer {prepared.department_token}"},
            timeout=30,
        )
        assert lookup.status_code == 200, lookup.text
        assert cli_events == [e["eventId"] for e in lookup.json()["events"]]
        assert "0x" + prepared.event_id.hex() in cli_events

        listed = ledger(data_dir, "--json", "department", "list")
        assert listed.returncode == 0, listed.stderr
        api_departments = httpx.get(f"{server.url}/v1/departments", timeout=30).json()
        assert {d["departmentId"] for d in json.loads(listed.stdout)["departments"]} == {
            d["id"] for d in api_departments["items"]
        }

        # Writes: the CLI names the service and its API; exit 7 as before.
        refused = ledger(data_dir, "department", "suspend", str(prepared.department_id))
        line = error_line(refused, 7)
        assert server.url in line
        assert "API" in line

        # The endpoint: reads with the deployment's reader key or a staff token, never writes.
        key = reader_key(prepared.settings.pepper_bytes())
        assert _rpc(server.url, "eth_chainId", [], None).status_code == 401
        citizen_like = _rpc(server.url, "eth_chainId", [], "glr_" + "0" * 64)
        assert citizen_like.status_code == 401
        assert _rpc(server.url, "eth_chainId", [], key).json()["result"] == "0x539"
        staff = _rpc(server.url, "eth_blockNumber", [], prepared.admin_token).json()
        assert int(staff["result"], 16) > 0
        for method, params in (
            ("eth_sendRawTransaction", ["0x02f8"]),
            ("eth_sendTransaction", [{"from": "0x" + "11" * 20, "to": "0x" + "22" * 20}]),
            ("evm_mine", []),
            ("eth_sign", ["0x" + "11" * 20, "0x00"]),
        ):
            answer = _rpc(server.url, method, params, key)
            assert answer.status_code == 200
            body = answer.json()
            assert body["id"] == 7
            assert "result" not in body
            assert body["error"]["code"] == -32601
        head_before = int(_rpc(server.url, "eth_blockNumber", [], key).json()["result"], 16)
        assert _rpc(server.url, "eth_accounts", [], key).json()["result"] == []
        head_after = int(_rpc(server.url, "eth_blockNumber", [], key).json()["result"], 16)
        assert head_after == head_before
    # Stopped: the announcement is withdrawn and the CLI opens the chain itself again.
    assert not (data_dir / SERVE_FILE).exists()
    direct = ledger(data_dir, "--json", "status")
    assert direct.returncode == 0, direct.stderr
    assert json.loads(direct.stdout)["chain"] == "embedded"
    assert direct.stderr == ""


def test_a_stale_announcement_is_not_followed(prepared: PreparedService) -> None:
    """A ``serve.json`` whose pid does not hold the chain (a killed service's) is ignored: the
    command reports the chain's real holder, as without a service."""
    data_dir = prepared.settings.data_dir
    (data_dir / SERVE_FILE).write_text(
        json.dumps({"pid": 2**22 + 1, "url": "http://127.0.0.1:9", "rpc": "x"})
    )
    with open_embedded_chain(data_dir, create=False):  # held by this test's process
        line = error_line(ledger(data_dir, "status"), 7)
    assert f"pid {os.getpid()}" in line
    assert "127.0.0.1:9" not in line
