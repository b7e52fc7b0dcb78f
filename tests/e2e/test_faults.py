"""Nothing lost, nothing twice (issue #6, ADR 0012): a real ``ledger serve`` process receiving
anchor requests from concurrent clients is killed with SIGKILL at random moments and restarted.

Each client sends its requests with an ``Idempotency-Key`` and, like any careful client, sends
the same request again (same key, same body) when the connection breaks or the service answers
503, until it gets an answer. Afterwards every request answered 2xx must be on chain exactly
once, no document anchored twice, the journal's nonces for the department key without a gap
(consecutive, ending where the chain's count ends), and no journal entry left unfinished.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from ledger.config import Settings
from ledger.service.database import ServiceDatabase
from ledger.session import LedgerSession
from tests.support.anvil import AnvilNode, start_anvil
from tests.support.serve import ServeProcess
from tests.support.service import PreparedService, prepare_service

pytestmark = pytest.mark.slow

CLIENTS: Final = 20
REQUESTS: Final = 200
KILLS: Final = 5


@dataclass
class Outcome:
    document_hash: str | None = None
    status: int | None = None
    attempts: int = 0


def send_until_answered(
    server: ServeProcess, token: str, enterprise: str, data: bytes, stop: threading.Event
) -> Outcome:
    """One anchoring, sent again with its key until the service answers (not 503)."""
    key = str(uuid.uuid4())
    outcome = Outcome()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not stop.is_set():
        outcome.attempts += 1
        try:
            response = httpx.post(
                f"{server.url}/v1/certificates",
                headers=headers,
                files={"file": ("licence.txt", data, "text/plain")},
                data={"type": "business-licence", "subject": enterprise},
                timeout=60,
            )
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if response.status_code == 503:
            time.sleep(0.2)
            continue
        if response.status_code == 202:
            body = response.json()
            operation = poll(server, token, response.headers["location"])
            if operation is None:
                continue  # the server died while polling: ask again with the key
            body = operation
            outcome.status = 201 if body["state"] == "confirmed" else 500
            outcome.document_hash = (body.get("result") or {}).get("documentHash")
            return outcome
        outcome.status = response.status_code
        if response.status_code == 201:
            outcome.document_hash = response.json()["documentHash"]
        return outcome
    return outcome


def poll(server: ServeProcess, token: str, location: str) -> dict[str, Any] | None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            response = httpx.get(
                f"{server.url}{location}", headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
        except httpx.TransportError:
            return None
        body: dict[str, Any] = response.json()
        if response.status_code == 200 and body["state"] in ("confirmed", "failed"):
            return body
        time.sleep(0.1)
    return None


@pytest.fixture(params=["embedded", "anvil"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnvilNode | None]:
    if request.param == "embedded":
        yield None
        return
    with start_anvil(log_path=tmp_path / "anvil.log") as node:
        yield node


def test_sigkill_loses_nothing_and_repeats_nothing(
    backend: AnvilNode | None, tmp_path: Path
) -> None:
    rpc_url = backend.url if backend is not None else None
    prepared: PreparedService = prepare_service(tmp_path, rpc_url=rpc_url)
    server = ServeProcess(prepared.settings.data_dir, tmp_path / "serve.log", rpc_url)
    server.start()
    random_source = random.Random(os.environ.get("FAULT_SEED", "6"))
    documents = [f"营业执照 fault {uuid.uuid4()}\n".encode() for _ in range(REQUESTS)]
    outcomes: list[Outcome] = []
    outcomes_lock = threading.Lock()
    stop = threading.Event()
    queue = list(enumerate(documents))
    queue_lock = threading.Lock()

    def client() -> None:
        while True:
            with queue_lock:
                if not queue:
                    return
                _index, data = queue.pop()
            outcome = send_until_answered(
                server, prepared.department_token, prepared.enterprise, data, stop
            )
            with outcomes_lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        kills = 0
        while kills < KILLS or any(thread.is_alive() for thread in threads):
            if not any(thread.is_alive() for thread in threads):
                break
            time.sleep(random_source.uniform(0.3, 2.0))
            if kills < KILLS:
                server.kill()
                kills += 1
                time.sleep(random_source.uniform(0.0, 0.5))
                server.start()
        for thread in threads:
            thread.join(timeout=600)
        assert kills >= KILLS, f"only {kills} kill(s): the requests finished too fast"
        # One more restart: recovery finishes whatever the last kill interrupted.
        server.kill()
        server.start()
        deadline = time.monotonic() + 120
        while unfinished(prepared.settings) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        server.stop()

    assert len(outcomes) == REQUESTS
    answered = [outcome for outcome in outcomes if outcome.status is not None]
    assert all(outcome.status == 201 for outcome in answered), [o.status for o in answered]
    assert len(answered) == REQUESTS
    assert sum(outcome.attempts for outcome in outcomes) > REQUESTS  # kills did cut requests
    assert unfinished(prepared.settings) == 0
    check_chain(prepared, [outcome.document_hash for outcome in answered], rpc_url)
    log = server.log.read_text(errors="replace")
    assert prepared.enterprise not in log


def unfinished(settings: Settings) -> int:
    with ServiceDatabase(settings.service_db_path) as database:
        rows = database.query("SELECT COUNT(*) FROM operations WHERE state IN ('accepted', 'sent')")
    return int(rows[0][0])


def check_chain(prepared: PreparedService, hashes: list[str | None], rpc_url: str | None) -> None:
    """Each answered hash anchored exactly once; the journal's nonces without a gap."""
    assert all(hashes)
    assert len(set(hashes)) == len(hashes)
    with ServiceDatabase(prepared.settings.service_db_path) as database:
        rows = database.query(
            "SELECT signer, nonce, state FROM operations WHERE nonce IS NOT NULL ORDER BY nonce"
        )
        states = dict(database.query("SELECT state, COUNT(*) FROM operations GROUP BY state"))
    assert states.get("failed", 0) == 0, states
    settings = prepared.settings.model_copy(update={"rpc_url": rpc_url})
    with LedgerSession.open(settings) as session:
        certificates = session.certificates()
        events = certificates.contract.events.CertificateAnchoredFor.get_logs(
            from_block=session.deployment.block
        )
        counts: dict[str, int] = {}
        for event in events:
            key = "0x" + bytes(event["args"]["docHash"]).hex()
            counts[key] = counts.get(key, 0) + 1
        for document_hash in hashes:
            assert counts.get(str(document_hash)) == 1, document_hash
        assert all(count == 1 for count in counts.values())
        signers = {str(row[0]) for row in rows}
        assert len(signers) == 1
        [signer] = signers
        nonces = [int(row[1]) for row in rows]
        assert nonces == list(range(nonces[0], nonces[0] + len(nonces))), "a nonce gap"
        web3 = session.connection.web3
        assert web3.eth.get_transaction_count(signer, "latest") == nonces[-1] + 1


def test_fifty_clients_twenty_anchors_each_on_anvil(tmp_path: Path) -> None:
    """1,000 anchors from 50 concurrent clients through one department key: every one 201,
    no 5xx, no nonce error in the log, every transaction its own consecutive nonce."""
    with start_anvil(log_path=tmp_path / "anvil.log") as node:
        prepared = prepare_service(tmp_path, rpc_url=node.url)
        server = ServeProcess(prepared.settings.data_dir, tmp_path / "serve.log", node.url)
        server.start()
        statuses: list[int] = []
        lock = threading.Lock()

        def client(number: int) -> None:
            with httpx.Client(base_url=server.url, timeout=120) as http:
                for index in range(20):
                    response = http.post(
                        "/v1/certificates",
                        headers={"Authorization": f"Bearer {prepared.department_token}"},
                        files={
                            "file": (
                                "l.txt",
                                f"营业执照 load {number} {index}\n".encode(),
                                "text/plain",
                            )
                        },
                        data={"type": "business-licence", "subject": prepared.enterprise},
                    )
                    with lock:
                        statuses.append(response.status_code)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=900)
        finally:
            server.stop()
        assert len(statuses) == 1000
        assert statuses.count(201) == 1000, {s: statuses.count(s) for s in set(statuses)}
        log = server.log.read_text(errors="replace").lower()
        assert "nonce" not in log, log[-2000:]
        with ServiceDatabase(prepared.settings.service_db_path) as database:
            states = dict(database.query("SELECT state, COUNT(*) FROM operations GROUP BY state"))
            replaced = database.query(
                "SELECT COUNT(*) FROM operations WHERE replaced IS NOT NULL AND replaced != '[]'"
            )
        assert states == {"confirmed": 1000}
        assert replaced[0][0] == 0
        check_chain(prepared, hashes_of(prepared), node.url)


def hashes_of(prepared: PreparedService) -> list[str | None]:
    with ServiceDatabase(prepared.settings.service_db_path) as database:
        rows = database.query("SELECT request FROM operations WHERE state = 'confirmed'")
    return [json.loads(row[0])["response"]["documentHash"] for row in rows]
