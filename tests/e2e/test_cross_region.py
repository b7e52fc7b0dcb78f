"""Two regions, one chain: region A's service issues, region B's service, web page and the CLI
verify what A issued and see A's revocation — with nothing asked of A's servers.

One anvil node; two data directories with their own keystores, tokens and API servers (real
uvicorn). They share what a consortium shares: the deployment (contract addresses) and the
subject-reference pepper, so a holder is the same subject in every region.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
import pytest
from playwright.sync_api import Browser, FilePayload, expect
from pydantic import SecretStr

from ledger.catalogue import certificate_type
from ledger.cli.departments import add_department
from ledger.config import Settings
from ledger.identity import make_uscc
from ledger.service.database import ServiceDatabase
from ledger.service.tokens import TokenStore
from ledger.session import LedgerSession, name_hash
from tests.e2e.browser import open_page, screenshot
from tests.support.anvil import AnvilNode, start_anvil
from tests.support.http import bearer
from tests.support.server import running_server

LEDGER: Final = Path(sys.executable).with_name("ledger")
LICENCE: Final = certificate_type("business-licence")
REGION_A: Final = (31, 310101, "黄浦区市场监督管理局")
REGION_B: Final = (44, 440305, "南山区市场监督管理局")


class Regions:
    def __init__(self, a: Settings, b: Settings, token_a: str, token_b: str, anvil: AnvilNode):
        self.a, self.b, self.token_a, self.token_b, self.anvil = a, b, token_a, token_b, anvil


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Regions]:
    root = tmp_path_factory.mktemp("regions")
    with start_anvil(log_path=root / "anvil.log") as anvil:
        settings_a = Settings(data_dir=root / "region-a", rpc_url=anvil.url)
        session_a, deployed = LedgerSession.initialize(settings_a)
        assert deployed
        with session_a:
            add_department(session_a, REGION_A[0], REGION_A[1], REGION_A[2], [LICENCE.code])
            pepper = session_a.settings.pepper_bytes().hex()
            # Region B joins: the consortium's deployment and pepper, keys of its own.
            settings_b = Settings(
                data_dir=root / "region-b", rpc_url=anvil.url, pepper=SecretStr(pepper)
            )
            settings_b.data_dir.mkdir(mode=0o700)
            shutil.copy(settings_a.data_dir / "deployments.json", settings_b.data_dir)
            session_b, deployed_b = LedgerSession.initialize(settings_b)
            assert not deployed_b
            with session_b:
                key_b = session_b.keystore.create_department_key(REGION_B[0])
                governance = session_a.governance_sender()
                registry = session_a.registry()
                governance.transact(
                    registry.register(
                        REGION_B[0], REGION_B[1], name_hash(REGION_B[2]), [LICENCE.code]
                    )
                )
                governance.transact(registry.add_signer(REGION_B[0], key_b.address))
                session_b.sender_for(key_b)  # funds the key on the development chain
        tokens = []
        for settings, department in ((settings_a, REGION_A[0]), (settings_b, REGION_B[0])):
            with ServiceDatabase(settings.service_db_path) as database:
                tokens.append(TokenStore(database).issue("department", department).secret)
        yield Regions(settings_a, settings_b, tokens[0], tokens[1], anvil)


def cli_verify(regions: Regions, document: Path) -> subprocess.CompletedProcess[str]:
    """A verifier with nothing but the node and the deployments file (no data directory)."""
    return subprocess.run(
        [
            str(LEDGER),
            "--data-dir",
            str(document.parent / "no-data-dir"),
            "verify",
            str(document),
            "--rpc",
            regions.anvil.url,
            "--deployments",
            str(regions.b.data_dir / "deployments.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def page_verdict(browser: Browser, base: str, name: str, content: bytes, shot: str) -> str:
    with open_page(browser) as (page, _problems):
        page.goto(base + "/")
        payload: FilePayload = {"name": name, "mimeType": "text/plain", "buffer": content}
        page.set_input_files("#file-input", files=payload)
        banner = page.locator("#verdict-banner")
        expect(banner).to_have_attribute("data-verdict", re.compile(r"^(VALID|INVALID)$"))
        verdict = banner.get_attribute("data-verdict") or ""
        screenshot(page, shot)
        return verdict


def test_region_b_verifies_what_region_a_issued_and_sees_its_revocation(
    regions: Regions, browser: Browser, tmp_path: Path
) -> None:
    content = f"营业执照 {make_uscc()} 上海示例贸易有限公司 cross-region\n".encode()
    document = tmp_path / "licence.txt"
    document.write_bytes(content)
    with (
        running_server(regions.a) as base_a,
        running_server(regions.b) as base_b,
        httpx.Client(timeout=60) as http,
    ):
        anchored = http.post(
            f"{base_a}/v1/certificates",
            headers=bearer(regions.token_a),
            files={"file": ("licence.txt", content, "text/plain")},
            data={"type": LICENCE.name, "subject": make_uscc()},
        )
        assert anchored.status_code == 201, anchored.text
        doc_hash = anchored.json()["documentHash"]

        # Region B's API: VALID, issued by A's department in A's region.
        report = http.post(
            f"{base_b}/v1/verify", files={"file": ("licence.txt", content, "text/plain")}
        ).json()
        assert report["verdict"] == "VALID", [
            c for c in report["checks"] if c["outcome"] == "failed"
        ]
        assert report["record"]["issuer"] == REGION_A[0]
        assert report["record"]["region"] == REGION_A[1]
        # B's page and the bare CLI agree.
        assert (
            page_verdict(browser, base_b, "licence.txt", content, "cross-region-b-valid") == "VALID"
        )
        assert cli_verify(regions, document).returncode == 0

        # B's department cannot revoke A's licence ...
        refused = http.post(
            f"{base_b}/v1/certificates/{doc_hash}/revoke",
            headers=bearer(regions.token_b),
            json={"reason": "fraud"},
        )
        assert refused.status_code == 403
        # ... A can, and B sees it at once.
        revoked = http.post(
            f"{base_a}/v1/certificates/{doc_hash}/revoke",
            headers=bearer(regions.token_a),
            json={"reason": "fraud"},
        )
        assert revoked.status_code == 200, revoked.text
        report = http.post(f"{base_b}/v1/verify", json={"documentHash": doc_hash}).json()
        assert report["verdict"] == "INVALID"
        [status] = [c for c in report["checks"] if c["name"] == "status.current"]
        assert status["detail"] == "revoked (reason: fraud)"
        assert (
            page_verdict(browser, base_b, "licence.txt", content, "cross-region-b-revoked")
            == "INVALID"
        )
        cli = cli_verify(regions, document)
        assert cli.returncode == 10
        assert "revoked (reason: fraud)" in cli.stdout
        # B's public record of A's certificate names A's department.
        record = http.get(f"{base_b}/v1/certificates/{doc_hash}").json()
        assert (record["departmentId"], record["status"]) == (REGION_A[0], "revoked")
        listed = http.get(f"{base_b}/v1/departments").json()["items"]
        assert {d["id"] for d in listed} == {REGION_A[0], REGION_B[0]}
    assert json.loads((regions.b.data_dir / "deployments.json").read_text())
