"""``ledger window`` (ledger/cli/window.py) through a real ``ledger serve``: an officer with a
department token and no data directory checks an applicant's certificates under a consent code,
saves a stored copy the service needs, and gets one error line with a documented exit status
for every refusal, for a missing token and for a service that cannot be reached."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ledger.cli.app import EXIT_BUSY, EXIT_INVALID
from ledger.service.consents import MAX_FAILED_ATTEMPTS
from tests.support.cli import ledger, one_error_line
from tests.support.process import free_port
from tests.support.serve import ServeProcess
from tests.support.service import PreparedService, prepare_service

pytestmark = pytest.mark.slow

#: Requires residence-certificate (which the prepared citizen holds, from department 3) and
#: identity-card (which it does not); the window may read residence certificates' copies.
SERVICE = "residence-permit-endorsement"


@dataclass(frozen=True)
class Window:
    prepared: PreparedService
    server: ServeProcess
    citizen_token: str
    #: A directory with no ledger: the officer's.
    elsewhere: Path

    @property
    def data_dir(self) -> Path:
        return self.prepared.settings.data_dir

    @property
    def env(self) -> dict[str, str]:
        return {"LEDGER_TOKEN": self.prepared.department_token}

    def grant(self) -> dict[str, Any]:
        body = {"service": SERVICE, "departmentId": self.prepared.department_id, "mode": "visit"}
        response = httpx.post(
            f"{self.server.url}/v1/me/consents",
            headers={"Authorization": f"Bearer {self.citizen_token}"},
            json=body,
        )
        assert response.status_code == 201, response.text
        granted: dict[str, Any] = response.json()
        return granted


@pytest.fixture(scope="module")
def window(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Window]:
    root = tmp_path_factory.mktemp("cli-window")
    prepared = prepare_service(root)
    server = ServeProcess(
        prepared.settings.data_dir,
        root / "serve.log",
        environment={"LEDGER_RATE_LIMIT": "0", "LEDGER_DEV_ISSUER": "true"},
    )
    server.start()
    try:
        issued = httpx.post(f"{server.url}/v1/dev/token", json={"subject": prepared.citizen})
        assert issued.status_code == 200, issued.text
        elsewhere = root / "officer"
        elsewhere.mkdir()
        yield Window(prepared, server, issued.json()["token"], elsewhere)
    finally:
        server.stop()


def test_check_a_code_on_the_data_directorys_service(window: Window) -> None:
    granted = window.grant()
    result = ledger(window.data_dir, "window", "check", granted["code"], env=window.env)
    assert result.returncode == EXIT_INVALID, result.stderr  # identity-card is missing
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"service {SERVICE} for a citizen: consent {granted['consentId']}")
    (residence,) = [line for line in lines if line.startswith("residence-certificate")]
    assert "required" in residence
    assert "VALID" in residence
    assert "department 3, region 110101" in residence
    assert window.prepared.citizen_certificate_hash.hex()[:16] in residence
    assert residence.endswith("[stored copy]")
    (card,) = [line for line in lines if line.startswith("identity-card")]
    assert card.split()[1:] == ["required", "missing"]
    assert "missing: identity-card" in lines
    assert window.prepared.citizen not in result.stdout


def test_check_again_by_consent_id_as_json(window: Window, tmp_path: Path) -> None:
    granted = window.grant()
    token_file = tmp_path / "token"
    token_file.write_text(window.prepared.department_token + "\n", encoding="utf-8")
    # An officer's directory has no service: --service (or LEDGER_SERVICE_URL) names it.
    nowhere = ledger(window.elsewhere, "window", "check", granted["code"], env=window.env)
    assert "no service runs on data directory" in one_error_line(nowhere, 8)
    taken = ledger(
        window.elsewhere,
        "window",
        "check",
        granted["code"],
        "--service",
        window.server.url,
        "--token-file",
        str(token_file),
        "--json",
    )
    assert taken.returncode == EXIT_INVALID, taken.stderr
    again = ledger(
        window.elsewhere,
        "window",
        "check",
        "--consent",
        granted["consentId"].upper(),
        "--json",
        env={**window.env, "LEDGER_SERVICE_URL": window.server.url},
    )
    assert again.returncode == EXIT_INVALID, again.stderr
    answer = json.loads(again.stdout)
    assert answer["consentId"] == granted["consentId"]
    assert answer["missing"] == ["identity-card"]
    (residence,) = [
        item for item in answer["requirements"] if item["type"] == "residence-certificate"
    ]
    assert residence["satisfied"] is True
    assert residence["certificates"][0]["report"]["verdict"] == "VALID"


def test_copy_saves_the_stored_copy(window: Window, tmp_path: Path) -> None:
    consent_id = _taken(window)
    out = tmp_path / "copy.bin"
    doc_hash = "0x" + window.prepared.citizen_certificate_hash.hex()
    args = ("window", "copy", consent_id, doc_hash, "--out", str(out))
    result = ledger(window.data_dir, *args, env=window.env)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == window.prepared.citizen_certificate
    assert out.stat().st_mode & 0o077 == 0
    assert f"bytes to {out}" in result.stdout
    # Never over an existing file.
    assert "exists" in one_error_line(ledger(window.data_dir, *args, env=window.env), 2)


def _taken(window: Window) -> str:
    granted = window.grant()
    result = ledger(window.data_dir, "window", "check", granted["code"], env=window.env)
    assert result.returncode == EXIT_INVALID, result.stderr
    return str(granted["consentId"])


def test_refusals_are_one_line_with_their_exit_status(window: Window, tmp_path: Path) -> None:
    consent_id = _taken(window)
    out = str(tmp_path / "never.bin")

    def refused(*args: str, code: int, env: dict[str, str] | None = None) -> str:
        result = ledger(window.data_dir, *args, env=window.env if env is None else env)
        return one_error_line(result, code)

    # The service's refusals: the problem code is on the line.
    business_licence = "0x" + window.prepared.doc_hash.hex()
    line = refused("window", "copy", consent_id, business_licence, "--out", out, code=4)
    assert "403 consent_out_of_scope" in line
    line = refused("window", "copy", consent_id, "0x" + "ab" * 32, "--out", out, code=3)
    assert "404 document_not_found" in line
    fresh = window.grant()["consentId"]
    assert "consent_not_redeemed" in refused("window", "check", "--consent", fresh, code=4)
    assert "consent_not_found" in refused("window", "check", "00000-00000", code=4)
    bad_token = {"LEDGER_TOKEN": "gld_" + "0" * 40}
    assert "401 unauthenticated" in refused(
        "window", "check", "--consent", fresh, code=4, env=bad_token
    )
    assert not (tmp_path / "never.bin").exists()
    # Refused before any request.
    assert "32 hexadecimal digits" in refused("window", "check", "--consent", "nope", code=2)
    assert "one of them" in refused("window", "check", code=2)
    assert "LEDGER_TOKEN" in refused("window", "check", "--consent", fresh, code=8, env={})
    # No service here, and a service that does not answer.
    result = ledger(window.elsewhere, "window", "check", "--consent", fresh, env=window.env)
    assert "--service URL" in one_error_line(result, 8)
    nobody = f"http://127.0.0.1:{free_port()}"
    line = refused("window", "check", "--consent", fresh, "--service", nobody, code=6)
    assert line.startswith(f"error: cannot reach the service at {nobody}")


def test_too_many_failed_codes_is_its_own_exit_status(window: Window) -> None:
    headers = {"Authorization": f"Bearer {window.prepared.other_department_token}"}
    for _ in range(MAX_FAILED_ATTEMPTS):
        response = httpx.post(
            f"{window.server.url}/v1/window/checks", headers=headers, json={"code": "00000-00000"}
        )
        assert response.status_code == 403, response.text
    env = {"LEDGER_TOKEN": window.prepared.other_department_token}
    result = ledger(window.data_dir, "window", "check", "00000-00000", env=env)
    line = one_error_line(result, EXIT_BUSY)
    assert "429 too_many_attempts" in line
    assert "retry after" in line
