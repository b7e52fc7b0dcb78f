"""The fast path of ``POST /v1/verify`` by hash (issue #7): reports served from the index, never
staler than the chain, with their time-dependent checks recomputed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.middleware import IndexFront
from ledger.documents import document_hash_of
from ledger.service.database import ServiceDatabase
from ledger.service.verification_index import VerificationIndex
from ledger.verification import refresh_report
from tests.support.anvil import start_anvil
from tests.support.http import bearer
from tests.support.service import PreparedService, prepare_service


@pytest.fixture(scope="module", params=["embedded", "anvil"])
def prepared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PreparedService]:
    """A service on the embedded chain, whose head is read directly under the chain's lock, and
    on anvil, a JSON-RPC node whose head is read once for the requests waiting together."""
    root = tmp_path_factory.mktemp("verify-index")
    if request.param == "embedded":
        yield prepare_service(root, rate_limit=0)
        return
    with start_anvil(log_path=root / "anvil.log") as node:
        yield prepare_service(root, rpc_url=node.url, rate_limit=0)


def verify(client: TestClient, doc_hash: str) -> dict[str, Any]:
    response = client.post("/v1/verify", json={"documentHash": doc_hash})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def failed(report: dict[str, Any]) -> list[str]:
    return [check["name"] for check in report["checks"] if check["outcome"] == "failed"]


def test_a_cached_report_follows_the_chain(client: TestClient, prepared: PreparedService) -> None:
    index = client.app.state.service.verify_index  # type: ignore[attr-defined]
    headers = bearer(prepared.department_token)
    anchored = client.post(
        "/v1/certificates",
        headers=headers,
        files={"file": ("l.txt", "营业执照 verify index\n".encode(), "text/plain")},
        data={"type": "business-licence", "subject": prepared.enterprise},
    )
    assert anchored.status_code == 201, anchored.text
    doc_hash = anchored.json()["documentHash"]
    unknown = "0x" + "5a" * 32
    assert failed(verify(client, unknown)) == ["anchor.exists"]
    first = verify(client, doc_hash)
    hits = index.hits
    again = verify(client, doc_hash)
    assert index.hits == hits + 1  # served from the index
    assert first["verdict"] == again["verdict"] == "VALID"
    assert [c for c in first["checks"] if c["name"] != "finality.confirmations"] == [
        c for c in again["checks"] if c["name"] != "finality.confirmations"
    ]
    revoked = client.post(
        f"/v1/certificates/{doc_hash}/revoke", headers=headers, json={"reason": "fraud"}
    )
    assert revoked.status_code == 200, revoked.text
    after = verify(client, doc_hash)  # the revocation's log dropped the cached report
    assert after["verdict"] == "INVALID"
    assert failed(after) == ["status.current"]
    # A hash cached as unknown is found as soon as it is anchored.
    later = "营业执照 verify index, anchored later\n".encode()
    later_hash = "0x" + document_hash_of(later).hash.hex()
    assert failed(verify(client, later_hash)) == ["anchor.exists"]
    assert failed(verify(client, later_hash)) == ["anchor.exists"]
    response = client.post(
        "/v1/certificates",
        headers=headers,
        files={"file": ("l.txt", later, "text/plain")},
        data={"type": "business-licence", "subject": prepared.enterprise},
    )
    assert response.status_code == 201, response.text
    assert verify(client, later_hash)["verdict"] == "VALID"


def test_time_dependent_checks_are_recomputed() -> None:
    anchored_at = datetime(2026, 1, 1, tzinfo=UTC)
    expires_at = anchored_at + timedelta(days=10)
    report = {
        "verdict": "VALID",
        "checkedAt": anchored_at.isoformat(),
        "checks": [
            {"name": "status.current", "outcome": "passed", "detail": "active"},
            {"name": "dates.valid", "outcome": "passed", "detail": "..."},
            {"name": "finality.confirmations", "outcome": "passed", "detail": "1 confirmation(s)"},
        ],
        "record": {
            "anchoredAt": anchored_at.isoformat(),
            "expiresAt": expires_at.isoformat(),
            "anchoredBlock": 10,
        },
    }
    later = refresh_report(report, head=14, now=expires_at + timedelta(seconds=1), confirmations=6)
    assert later["verdict"] == "INVALID"
    outcomes = {check["name"]: (check["outcome"], check["detail"]) for check in later["checks"]}
    assert outcomes["dates.valid"] == ("failed", f"expired at {expires_at.isoformat()}")
    assert outcomes["finality.confirmations"] == ("failed", "5 confirmation(s), 6 required")
    assert outcomes["status.current"] == ("passed", "active")
    earlier = refresh_report(report, head=20, now=anchored_at + timedelta(days=1), confirmations=6)
    assert earlier["verdict"] == "VALID"
    assert report["verdict"] == "VALID"  # the cached report itself is not changed
    assert report["checks"][1] == {"name": "dates.valid", "outcome": "passed", "detail": "..."}


def test_reports_in_memory_are_bounded_and_backed_by_rows(tmp_path: Path) -> None:
    """The most recent reports are kept parsed in memory, at most ``memory`` of them; the rest
    are read back from their rows (which also outlive the process)."""
    context = SimpleNamespace(deployment=SimpleNamespace(certificate_registry="0x" + "11" * 20))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    report = {"verdict": "VALID", "checkedAt": now.isoformat(), "checks": [], "record": None}
    computed: list[bytes] = []

    def compute(doc_hash: bytes) -> dict[str, Any]:
        computed.append(doc_hash)
        return {**report, "documentHash": "0x" + doc_hash.hex()}

    hashes = [bytes([n]) * 32 for n in range(3)]
    with ServiceDatabase(tmp_path / "service.db") as database:
        index = VerificationIndex(database, context, head=lambda: 5, memory=2)  # type: ignore[arg-type]
        for doc_hash in hashes:
            index.report(doc_hash, lambda d=doc_hash: compute(d), now=now)
        assert computed == hashes
        assert len(index._memory) == 2
        assert hashes[0] not in index._memory
        # The one pushed out of memory is answered from its row, then kept in memory again.
        found, _ = index.cached(hashes[0], now=now)
        assert found is not None
        assert found["documentHash"] == "0x" + hashes[0].hex()
        assert hashes[0] in index._memory
        assert len(index._memory) == 2
        # Another process (or a restart) reads the same rows.
        reopened = VerificationIndex(database, context, head=lambda: 5)  # type: ignore[arg-type]
        for doc_hash in hashes:
            again, _ = reopened.cached(doc_hash, now=now)
            assert again is not None
            assert again["documentHash"] == "0x" + doc_hash.hex()
        assert computed == hashes  # nothing computed twice


def index_front(client: TestClient) -> IndexFront:
    """The app's IndexFront, found down its middleware stack."""
    node: Any = client.app.middleware_stack  # type: ignore[attr-defined]
    while node is not None and not isinstance(node, IndexFront):
        node = getattr(node, "app", None)
    assert isinstance(node, IndexFront), "IndexFront is not in the middleware stack"
    return node


def without_moment(report: dict[str, Any]) -> dict[str, Any]:
    return {**report, "checkedAt": None}


def test_the_front_answers_a_hit_as_the_route_would(
    client: TestClient, prepared: PreparedService
) -> None:
    front = index_front(client)
    body = {"documentHash": "0x" + prepared.doc_hash.hex()}
    client.app.state.service.verify_index._memory.clear()  # type: ignore[attr-defined]
    with client.app.state.service.verify_index.database.transaction() as connection:  # type: ignore[attr-defined]
        connection.execute("DELETE FROM verify_index")
    answered = front.answered
    by_route = client.post("/v1/verify", json=body)  # a miss: the route computes it
    assert front.answered == answered
    by_front = client.post("/v1/verify", json=body)  # a hit: answered before routing
    assert front.answered == answered + 1
    assert by_route.status_code == by_front.status_code == 200
    assert by_front.headers["content-type"] == by_route.headers["content-type"]
    assert by_front.headers["x-request-id"]
    assert without_moment(by_front.json()) == without_moment(by_route.json())
    # A batch proof, even one for a hash the index holds, goes to the route.
    with_proof = client.post("/v1/verify", json={**body, "proof": {"root": "0x00"}})
    assert front.answered == answered + 1
    assert with_proof.status_code in (400, 422), with_proof.text


def test_the_front_leaves_a_busy_or_moved_chain_and_bad_bodies_to_the_route(
    client: TestClient, prepared: PreparedService
) -> None:
    front = index_front(client)
    service = client.app.state.service  # type: ignore[attr-defined]
    body = {"documentHash": "0x" + prepared.doc_hash.hex()}
    assert client.post("/v1/verify", json=body).status_code == 200  # now in the index
    answered = front.answered
    if service.shared_head is None:
        # The embedded chain is busy (a write holds its lock): the route waits in the thread
        # pool.
        held = threading.Event()

        def hold_the_chain() -> None:
            with service.read_lock:
                held.set()
                time.sleep(0.5)

        holder = threading.Thread(target=hold_the_chain)
        holder.start()
        held.wait(timeout=10)
        busy = client.post("/v1/verify", json=body)
        holder.join()
    else:
        # A block has passed on the node since the index's last log scan: the route scans.
        service.session.context.web3.provider.make_request("evm_mine", [])
        busy = client.post("/v1/verify", json=body)
    assert busy.status_code == 200
    assert busy.json()["verdict"] == "VALID"
    assert front.answered == answered
    assert client.post("/v1/verify", json=body).status_code == 200  # current again: the front
    assert front.answered == answered + 1
    answered = front.answered
    # Too deep, malformed, not a hash: the route's own problems, read from the replayed body.
    deep = b'{"documentHash": ' + b"[" * 40 + b"]" * 40 + b"}"
    assert len(deep) < 1024
    for content, status, code in (
        (deep, 400, "bad_request"),
        (b'{"documentHash": "0x12', 400, "bad_request"),
        (b'{"documentHash": "0x12"}', 422, "invalid"),
    ):
        response = client.post(
            "/v1/verify", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    assert front.answered == answered
    assert (
        "nested deeper than 32"
        in client.post(
            "/v1/verify", content=deep, headers={"content-type": "application/json"}
        ).json()["detail"]
    )
