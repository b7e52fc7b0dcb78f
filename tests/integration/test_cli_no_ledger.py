"""Where there is no ledger, read-only commands create nothing (issue 13 item 14, ADR 0021).

``ledger verify FILE`` in a directory without a ledger used to create ``ledger-data/chain/`` and
then fail. Every read-only command must leave the disk as it found it and say, in one line with
exit status 8, how to point at a chain.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Final

import pytest

from tests.support.cli import LEDGER

#: A syntactically valid pepper, so that commands get past it and reach the chain.
PEPPER: Final = "7f" * 8 + "a3" * 8 + "5c" * 8 + "e1" * 8
#: ... and a master key, so that the document commands get past theirs.
MASTER_KEY: Final = "3c" * 8 + "91" * 8 + "d4" * 8 + "08" * 8
HASH: Final = "0x" + "ab" * 32

READ_ONLY: Final = (
    ("verify", "document.txt"),
    ("verify", "--hash", HASH),
    ("status",),
    ("department", "list"),
    ("credit", "history", "--subject", "91350100M000100Y43"),
    ("bundle", "show", HASH),
    ("docs", "get", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", "-o", "out"),
    ("docs", "export", "--car", "out.car"),
)


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_PEPPER"] = PEPPER
    env["LEDGER_MASTER_KEY"] = MASTER_KEY
    return subprocess.run(
        [str(LEDGER), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: " ".join(c[:2]))
def test_read_only_commands_create_nothing(tmp_path: Path, command: tuple[str, ...]) -> None:
    (tmp_path / "document.txt").write_text("licence\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = _run(tmp_path, *command)  # the default data directory: ./ledger-data
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no ./ledger-data
    assert result.returncode == 8, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: no ledger")
    assert "--rpc URL" in lines[0]
    assert "--data-dir DIR" in lines[0]
    # An explicit data directory that does not exist is not created either.
    missing = tmp_path / "elsewhere"
    result = _run(tmp_path, "--data-dir", str(missing), *command)
    assert result.returncode == 8, result.stderr
    assert not missing.exists()


def test_init_still_creates_the_ledger(tmp_path: Path) -> None:
    result = _run(tmp_path, "--data-dir", str(tmp_path / "data"), "init")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "chain" / "chain.sqlite3").is_file()
    assert _run(tmp_path, "--data-dir", str(tmp_path / "data"), "status").returncode == 0
