"""``ledger verify`` against JSON-RPC nodes alone: --confirmations, and --rpc given twice.

The second node is a lagging replica of the first: a small JSON-RPC proxy in front of the same
anvil that reports an older head, so every read pinned to "its" head sees the chain as it was
before a revocation, exactly as a node that fell behind (or an out-of-date mirror) would.
"""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from ledger.catalogue import ReasonCode, certificate_type
from ledger.cli.departments import add_department
from ledger.config import Settings
from ledger.identity import make_uscc, parse_subject
from ledger.session import LedgerSession
from ledger.writes.bundles import open_bundle
from ledger.writes.certificates import anchor
from tests.support.anvil import AnvilNode
from tests.support.cli import EXIT_INVALID, ledger, succeeded

DEPARTMENT = 12
LICENCE = certificate_type("business-licence")


class LaggingNode:
    """A JSON-RPC proxy that answers ``eth_blockNumber`` with a fixed, older block."""

    def __init__(self, upstream: str, head: int) -> None:
        self.upstream = upstream
        self.head = head
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = json.loads(body)
                if isinstance(request, dict) and request.get("method") == "eth_blockNumber":
                    answer = {"jsonrpc": "2.0", "id": request.get("id"), "result": hex(node.head)}
                    payload = json.dumps(answer).encode()
                else:
                    payload = requests.post(
                        node.upstream,
                        data=body,
                        headers={"content-type": "application/json"},
                        timeout=30,
                    ).content
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LaggingNode:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def issued(anvil: AnvilNode, tmp_path: Path) -> tuple[Path, Path, Path, int]:
    """Two anchored licences, the first revoked afterwards; yields (deployments file, revoked
    file, valid file, the head before the revocation)."""
    data_dir = tmp_path / "issuer"
    settings = Settings(data_dir=data_dir, rpc_url=anvil.url)
    session, _ = LedgerSession.initialize(settings)
    revoked, valid = tmp_path / "revoked.txt", tmp_path / "valid.txt"
    revoked.write_text("营业执照 trustless revoked\n", "utf-8")
    valid.write_text("营业执照 trustless valid\n", "utf-8")
    with session:
        add_department(session, DEPARTMENT, 110101, "东城区市场监督管理局", [LICENCE.code])
        holder = parse_subject(make_uscc())
        hashes = []
        for path in (revoked, valid):
            write = anchor(
                session,
                path.read_bytes(),
                LICENCE,
                holder=holder,
                department_id=DEPARTMENT,
                store=False,
            )
            session.send(write)
            hashes.append(write.facts.doc_hash)
        before = session.chain_head()
        sender = session.department_sender(DEPARTMENT)
        sender.transact(session.certificates().revoke(hashes[0], ReasonCode.FRAUD))
    return data_dir / "deployments.json", revoked, valid, before


def test_two_nodes_that_agree(
    anvil: AnvilNode, issued: tuple[Path, Path, Path, int], tmp_path: Path
) -> None:
    deployments, _revoked, valid, _before = issued
    # The same node under two names is two nodes that agree.
    other_name = anvil.url.replace("127.0.0.1", "localhost")
    output = succeeded(
        ledger(
            tmp_path / "verifier",
            "verify",
            str(valid),
            "--rpc",
            anvil.url,
            "--rpc",
            other_name,
            "--deployments",
            str(deployments),
        )
    )
    assert output.startswith("VALID")
    assert "[ok  ] chain.agreement          2 nodes report the same" in output


def test_two_nodes_that_disagree_are_invalid(
    anvil: AnvilNode, issued: tuple[Path, Path, Path, int], tmp_path: Path
) -> None:
    deployments, revoked, valid, before = issued
    with LaggingNode(anvil.url, before) as lagging:
        # The lagging node alone still sees the licence as valid ...
        alone = ledger(
            tmp_path / "verifier",
            "verify",
            str(revoked),
            "--rpc",
            lagging.url,
            "--deployments",
            str(deployments),
        )
        assert alone.returncode == 0, alone.stdout
        # ... but asked together with an up-to-date node, the disagreement is the verdict.
        both = ledger(
            tmp_path / "verifier",
            "verify",
            str(revoked),
            "--rpc",
            anvil.url,
            "--rpc",
            lagging.url,
            "--deployments",
            str(deployments),
        )
        assert both.returncode == EXIT_INVALID
        assert "[FAIL] chain.agreement" in both.stdout
        assert f"{lagging.url} disagrees with {anvil.url}: status.current is passed" in both.stdout
        # A licence both nodes see alike is still VALID through both.
        agreed = ledger(
            tmp_path / "verifier",
            "verify",
            str(valid),
            "--rpc",
            anvil.url,
            "--rpc",
            lagging.url,
            "--deployments",
            str(deployments),
        )
        assert agreed.returncode == 0, agreed.stdout


def test_confirmations_through_a_node(
    anvil: AnvilNode, issued: tuple[Path, Path, Path, int], tmp_path: Path
) -> None:
    deployments, _revoked, valid, _before = issued
    shallow = ledger(
        tmp_path / "verifier",
        "verify",
        str(valid),
        "--rpc",
        anvil.url,
        "--deployments",
        str(deployments),
        "--confirmations",
        "2",
    )
    assert shallow.returncode == 0, shallow.stdout
    deep = ledger(
        tmp_path / "verifier",
        "verify",
        str(valid),
        "--rpc",
        anvil.url,
        "--deployments",
        str(deployments),
        "--confirmations",
        "1000",
    )
    assert deep.returncode == EXIT_INVALID
    assert "[FAIL] finality.confirmations" in deep.stdout
    assert not (tmp_path / "verifier").exists()  # a trustless verifier needs no data directory


def test_a_bundle_through_nodes_alone(anvil: AnvilNode, tmp_path: Path) -> None:
    """A bundle verified with --rpc given twice and no data directory: VALID while complete,
    INVALID naming bundle.parts once a part is revoked, both nodes agreeing."""
    data_dir = tmp_path / "issuer"
    session, _ = LedgerSession.initialize(Settings(data_dir=data_dir, rpc_url=anvil.url))
    tax = certificate_type("tax-registration")
    with session:
        add_department(session, DEPARTMENT, 110101, "东城区市场监督管理局", [LICENCE.code])
        add_department(session, DEPARTMENT + 1, 110101, "东城区税务局", [tax.code])
        enterprise = make_uscc()
        holder = parse_subject(enterprise)
        hashes = []
        for kind, department in ((LICENCE, DEPARTMENT), (tax, DEPARTMENT + 1)):
            write = anchor(
                session,
                f"{kind.name} trustless bundle\n".encode(),
                kind,
                holder=holder,
                department_id=department,
                store=False,
            )
            session.send(write)
            hashes.append(write.facts.doc_hash)
        opening = open_bundle(
            session,
            DEPARTMENT,
            enterprise,
            datetime.now(UTC) + timedelta(days=30),
            [(DEPARTMENT, LICENCE.code), (DEPARTMENT + 1, tax.code)],
        )
        session.send(opening)
        bundle_id = opening.facts.bundle_id
        for index, (doc_hash, department) in enumerate(
            zip(hashes, (DEPARTMENT, DEPARTMENT + 1), strict=True)
        ):
            filer = session.department_sender(department)
            filer.transact(session.bundles().file_part(bundle_id, index, doc_hash))

        def verify() -> subprocess.CompletedProcess[str]:
            return ledger(
                tmp_path / "verifier",
                "verify",
                "--bundle",
                "0x" + bundle_id.hex(),
                "--rpc",
                anvil.url,
                "--rpc",
                anvil.url.replace("127.0.0.1", "localhost"),
                "--deployments",
                str(data_dir / "deployments.json"),
            )

        output = succeeded(verify())
        assert "[ok  ] bundle.parts             all 2 part(s) filed" in output
        assert "[ok  ] chain.agreement          2 nodes report the same" in output
        sender = session.department_sender(DEPARTMENT + 1)
        sender.transact(session.certificates().revoke(hashes[1], ReasonCode.FRAUD))
    revoked = verify()
    assert revoked.returncode == EXIT_INVALID
    assert "[FAIL] bundle.parts             part 1 (tax-registration of department 13)" in (
        revoked.stdout
    )
    assert not (tmp_path / "verifier").exists()
