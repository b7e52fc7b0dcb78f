"""``ledger window verify`` and ``ledger window report-false-information`` as real subprocesses
against a real ``ledger serve`` (ADR 0029): a document handed over is verified under the
applicant's consent, a forged one recorded with its evidence, and every refusal of the service is
one error line with the exit status of its kind. No identity number in any output.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_utils.crypto import keccak

from tests.support.cli import json_of, ledger, one_error_line
from tests.support.serve import ServeProcess
from tests.support.service import PreparedService, prepare_service

# One worker runs the module: one server for all of it.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cli-window-uploads")]

SERVICE = "residence-permit-endorsement"


@dataclass(frozen=True)
class Window:
    prepared: PreparedService
    server: ServeProcess
    citizen: dict[str, str]
    consent_id: str
    files: Path

    def run(self, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        data_dir = self.prepared.settings.data_dir
        result = ledger(
            data_dir,
            *args,
            env={"LEDGER_TOKEN": token or self.prepared.department_token},
        )
        # No identity number in any output, checked at every command (whatever order runs).
        citizen = self.prepared.citizen
        for output in (result.stdout, result.stderr):
            assert citizen not in output
            assert citizen.lower() not in output
        return result

    def forged(self) -> Path:
        original = self.prepared.citizen_certificate
        altered = original.replace("张三".encode(), "李四".encode()) + uuid.uuid4().bytes
        path = self.files / f"forged-{uuid.uuid4().hex[:8]}.txt"
        path.write_bytes(altered)
        return path


def _consent(url: str, citizen: dict[str, str], department: str, department_id: int) -> str:
    body = {"service": SERVICE, "departmentId": department_id, "mode": "visit"}
    granted = httpx.post(f"{url}/v1/me/consents", headers=citizen, json=body, timeout=60)
    assert granted.status_code == 201, granted.text
    taken = httpx.post(
        f"{url}/v1/window/consents",
        headers={"Authorization": f"Bearer {department}"},
        json={"code": granted.json()["code"]},
        timeout=60,
    )
    assert taken.status_code == 200, taken.text
    return str(granted.json()["consentId"])


@pytest.fixture(scope="module")
def window(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Window]:
    root = tmp_path_factory.mktemp("cli-window-uploads")
    prepared = prepare_service(root)
    server = ServeProcess(
        prepared.settings.data_dir,
        root / "serve.log",
        environment={"LEDGER_RATE_LIMIT": "0", "LEDGER_DEV_ISSUER": "true"},
    )
    server.start()
    try:
        login = httpx.post(
            f"{server.url}/v1/dev/token", json={"subject": prepared.citizen}, timeout=60
        )
        assert login.status_code == 200, login.text
        citizen = {"Authorization": f"Bearer {login.json()['token']}"}
        consent_id = _consent(
            server.url, citizen, prepared.department_token, prepared.department_id
        )
        files = root / "files"
        files.mkdir()
        yield Window(prepared, server, citizen, consent_id, files)
    finally:
        server.stop()


def test_verify_a_valid_and_a_forged_document(window: Window) -> None:
    valid = window.files / "valid.txt"
    valid.write_bytes(window.prepared.citizen_certificate)
    result = window.run("window", "verify", window.consent_id, str(valid))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("VALID")

    forged = window.forged()
    result = window.run("--json", "window", "verify", window.consent_id, str(forged))
    assert result.returncode == 10, result.stderr
    answer: dict[str, Any] = json_of(result)
    assert (answer["verdict"], answer["forgerySuspected"]) == ("INVALID", True)
    text = window.run(
        "window", "verify", window.consent_id, str(forged), "--service", window.server.url
    )
    assert text.returncode == 10
    assert "forgery suspected" in text.stdout


def test_report_a_forged_document(window: Window) -> None:
    forged = window.forged()
    result = window.run(
        "--json",
        "window",
        "report-false-information",
        window.consent_id,
        str(forged),
        "--reason",
        "forged-document",
        "--confirm",
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json_of(result)
    assert answer["evidenceHash"] == "0x" + keccak(forged.read_bytes()).hex()
    mine = httpx.get(f"{window.server.url}/v1/me/credit", headers=window.citizen, timeout=60)
    [event] = [e for e in mine.json()["events"] if e["eventId"] == answer["eventId"]]
    assert (event["evidenceCid"], event["departmentId"]) == (
        answer["evidenceCid"],
        window.prepared.department_id,
    )
    again = window.run(
        "window",
        "report-false-information",
        window.consent_id,
        str(forged),
        "--reason",
        "forged-document",
        "--confirm",
    )
    assert "false_information_recorded" in one_error_line(again, 5)


def test_refusals(window: Window) -> None:
    forged = str(window.forged())
    report = ("window", "report-false-information", window.consent_id)
    line = one_error_line(window.run(*report, forged, "--reason", "altered-document"), 2)
    assert "--confirm" in line
    assert window.run(*report, forged, "--reason", "lies", "--confirm").returncode == 2
    one_error_line(
        window.run(
            *report[:2], "not-a-consent", forged, "--reason", "altered-document", "--confirm"
        ),
        2,
    )

    valid = window.files / "valid-again.txt"
    valid.write_bytes(window.prepared.citizen_certificate)
    line = one_error_line(
        window.run(*report, str(valid), "--reason", "altered-document", "--confirm"), 5
    )
    assert "document_valid" in line

    # Department 4 is not accredited for false-information: refused first (403, exit 4).
    other = window.prepared.other_department_token
    line = one_error_line(
        window.run(*report, forged, "--reason", "altered-document", "--confirm", token=other), 4
    )
    assert "not_authorized" in line
    line = one_error_line(window.run("window", "verify", window.consent_id, forged, token=other), 4)
    assert "consent_other_department" in line
    line = one_error_line(window.run("window", "verify", "0" * 32, forged), 4)
    assert "consent_not_found" in line
