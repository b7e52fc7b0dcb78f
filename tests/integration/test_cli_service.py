"""``ledger token`` and ``ledger serve`` as real subprocesses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ledger.cli.departments import add_department
from ledger.service.database import ServiceDatabase
from ledger.service.tokens import TokenStore
from ledger.session import LedgerSession
from tests.support.cli import json_of, ledger, one_error_line, settings_for, succeeded

DEPARTMENT = 7


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli-service") / "data"
    session, _ = LedgerSession.initialize(settings_for(directory))
    with session:
        add_department(session, DEPARTMENT, 110101, "东城区税务局", [0x1000002])
    return directory


def test_issue_list_revoke(data_dir: Path) -> None:
    admin = json_of(ledger(data_dir, "token", "issue", "--admin", "--json"))
    department = json_of(
        ledger(
            data_dir, "--json", "token", "issue", "--department", str(DEPARTMENT), "--label", "x"
        )
    )
    assert admin["token"].startswith("gla_")
    assert department["token"].startswith("gld_")
    with ServiceDatabase(settings_for(data_dir).service_db_path) as database:
        store = TokenStore(database)
        record = store.authenticate(department["token"])
        assert record is not None
        assert record.department_id == DEPARTMENT
    listed = json_of(ledger(data_dir, "--json", "token", "list"))["tokens"]
    assert {t["tokenId"] for t in listed} >= {admin["tokenId"], department["tokenId"]}
    assert all("token" not in t for t in listed)
    succeeded(ledger(data_dir, "token", "revoke", department["tokenId"]))
    with ServiceDatabase(settings_for(data_dir).service_db_path) as database:
        assert TokenStore(database).authenticate(department["token"]) is None
    # The database holds digests only, never a token.
    raw = b"".join(
        path.read_bytes() for path in data_dir.glob("service.sqlite3*") if path.is_file()
    )
    for token in (admin["token"], department["token"]):
        # gl?_<16 hex>_<secret>: the secret is base64url and may itself hold underscores.
        secret = token.split("_", 2)[2]
        assert len(secret) >= 40
        assert secret.encode() not in raw
    with sqlite3.connect(data_dir / "service.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM tokens").fetchone()[0] >= 2


def test_token_errors(data_dir: Path) -> None:
    one_error_line(ledger(data_dir, "token", "issue"), 2)
    one_error_line(ledger(data_dir, "token", "issue", "--admin", "--department", "7"), 2)
    line = one_error_line(ledger(data_dir, "token", "issue", "--department", "999"), 3)
    assert "999" in line
    one_error_line(ledger(data_dir, "token", "revoke", "0123456789abcdef"), 3)


def test_token_needs_an_initialized_ledger(tmp_path: Path) -> None:
    one_error_line(ledger(tmp_path / "empty", "token", "issue", "--admin"), 8)


def test_serve_refuses_an_uninitialized_ledger(tmp_path: Path) -> None:
    line = one_error_line(ledger(tmp_path / "empty", "serve", "--port", "1"), 8)
    assert "init" in line
