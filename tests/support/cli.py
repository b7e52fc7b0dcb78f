"""The ``ledger`` console script run as a real subprocess, and a data directory made ready for it,
for the CLI tests of tests/integration.

Each subprocess costs a second or two of imports, so :func:`prepare` does ``ledger init`` and
``ledger department add`` through the library where those steps are not under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any, Final

from ledger.catalogue import certificate_type, credit_category
from ledger.cli.departments import add_department
from ledger.config import Settings
from ledger.identity import make_citizen_id, make_uscc
from ledger.session import LedgerSession

LEDGER: Final = Path(sys.executable).parent / "ledger"
#: The CLI's exit status for invalid input (``ledger --help`` lists them all).
EXIT_INVALID: Final = 10
COMMAND_TIMEOUT: Final = 120.0

#: The department :func:`prepare` registers, its region, and the subjects the CLI tests use.
DEPARTMENT: Final = 5
REGION: Final = 110101
ENTERPRISE: Final = make_uscc(organisation_code="MA02CL1K7")
CITIZEN: Final = make_citizen_id("320102", date(1979, 4, 30), 318)


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without ``LEDGER_*`` settings (``LEDGER_ANVIL`` only locates a binary),
    plus ``extra``: a command reads only the settings its test gives it."""
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("LEDGER_") or name == "LEDGER_ANVIL"
    }
    clean.update(extra or {})
    return clean


def ledger(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``ledger --data-dir DATA_DIR ARGS...`` with ``env`` added to a clean environment, and
    capture its output."""
    assert LEDGER.is_file(), f"console script not installed next to {sys.executable}"
    return subprocess.run(
        [str(LEDGER), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        env=environment(env),
        check=False,
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a command that succeeded (exit 0, nothing on stderr)."""
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    assert result.stderr == ""
    return result.stdout


def json_of(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """The error line of a failed command (exactly one line on stderr, nothing on stdout)."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stderr.endswith("\n")
    assert lines[0].startswith("error: ")
    return lines[0]


def settings_for(data_dir: Path, *, ipfs_api: str | None = None) -> Settings:
    """The settings a command run by :func:`ledger` has: ``data_dir``, nothing from the
    environment (an embedded chain, secrets generated in the data directory)."""
    return Settings(
        data_dir=data_dir, rpc_url=None, pepper=None, keystore_password=None, ipfs_api=ipfs_api
    )


def prepare(data_dir: Path, *, department: bool = True, ipfs_api: str | None = None) -> None:
    """``ledger init`` (and ``department add`` of :data:`DEPARTMENT`, accredited for business
    licences, residence certificates, tax violations and commendations) through the library."""
    session, _ = LedgerSession.initialize(settings_for(data_dir, ipfs_api=ipfs_api))
    with session:
        if department:
            add_department(
                session,
                DEPARTMENT,
                REGION,
                "东城区行政审批局",
                [
                    certificate_type("business-licence").code,
                    certificate_type("residence-certificate").code,
                    credit_category("tax-violation").code,
                    credit_category("commendation").code,
                ],
            )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
