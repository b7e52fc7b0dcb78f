"""``ledger bundle open|file|show`` and ``ledger verify --bundle`` as real subprocesses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.identity import make_citizen_id, make_uscc
from ledger.session import LedgerSession
from tests.integration.test_cli import (
    EXIT_INVALID,
    json_of,
    ledger,
    one_error_line,
    settings_for,
    succeeded,
)

MARKET, TAX = 21, 22
ENTERPRISE = make_uscc(organisation_code="MA0BUNDL3")
DEADLINE = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli-bundle") / "data"
    session, _ = LedgerSession.initialize(settings_for(directory))
    with session:
        session.add_department(MARKET, 110101, "东城区市场监督管理局", [0x1000001])
        session.add_department(TAX, 110101, "东城区税务局", [0x1000002])
    return directory


def anchored(data_dir: Path, folder: Path, name: str, type_name: str, department: int) -> str:
    path = folder / name
    path.write_text(f"{type_name} {name}\n", "utf-8")
    result = ledger(
        data_dir,
        "--json",
        "anchor",
        str(path),
        "--type",
        type_name,
        "--subject",
        ENTERPRISE,
        "--subject-kind",
        "enterprise",
        "--department",
        str(department),
        "--no-store",
    )
    return str(json_of(result)["documentHash"])


def open_bundle(data_dir: Path) -> str:
    result = ledger(
        data_dir,
        "--json",
        "bundle",
        "open",
        "--enterprise",
        ENTERPRISE,
        "--deadline",
        DEADLINE,
        "--part",
        f"{MARKET}:business-licence",
        "--part",
        f"{TAX}:tax-registration",
        "--department",
        str(MARKET),
    )
    opened = json_of(result)
    assert opened["lead"] == MARKET
    assert len(opened["parts"]) == 2
    return str(opened["bundleId"])


def test_bundle_is_valid_only_complete_and_with_no_revoked_part(
    data_dir: Path, tmp_path: Path
) -> None:
    licence = anchored(data_dir, tmp_path, "licence.txt", "business-licence", MARKET)
    registration = anchored(data_dir, tmp_path, "tax.txt", "tax-registration", TAX)
    bundle_id = open_bundle(data_dir)
    filed = json_of(
        ledger(data_dir, "--json", "bundle", "file", bundle_id, "0", licence, "--department", "21")
    )
    assert (filed["filed"], filed["parts"], filed["completed"]) == (1, 2, False)

    missing = ledger(data_dir, "verify", "--bundle", bundle_id)
    assert missing.returncode == EXIT_INVALID, missing.stderr
    assert f"[FAIL] bundle.parts             part 1 (tax-registration of department {TAX})" in (
        missing.stdout
    )
    assert "part 1: department 22, tax-registration: NOT FILED" in missing.stdout

    output = succeeded(
        ledger(data_dir, "bundle", "file", bundle_id, "1", registration, "--department", "22")
    )
    assert output.strip().endswith("2 of 2 filed, bundle complete")
    verified = succeeded(ledger(data_dir, "verify", "--bundle", bundle_id))
    assert verified.startswith(f"VALID  {bundle_id}")
    assert "[ok  ] bundle.parts" in verified
    shown = json_of(ledger(data_dir, "--json", "bundle", "show", bundle_id))
    assert shown["complete"] is True
    assert [part["documentHash"] for part in shown["parts"]] == [licence, registration]

    succeeded(ledger(data_dir, "revoke", registration, "--reason", "fraud", "--department", "22"))
    revoked = ledger(data_dir, "--json", "verify", "--bundle", bundle_id)
    assert revoked.returncode == EXIT_INVALID
    report = json_of(revoked)
    failed = [check for check in report["checks"] if check["outcome"] == "failed"]
    assert [check["name"] for check in failed] == ["bundle.parts"]
    assert "is INVALID (status.current: revoked (reason: fraud))" in failed[0]["detail"]
    assert [part["verdict"] for part in report["parts"]] == ["VALID", "INVALID"]
    assert json_of(ledger(data_dir, "--json", "bundle", "show", bundle_id))["complete"] is False


def test_bundle_refusals(data_dir: Path, tmp_path: Path) -> None:
    bundle_id = open_bundle(data_dir)
    licence = anchored(data_dir, tmp_path, "refusals.txt", "business-licence", MARKET)
    cases: list[tuple[tuple[str, ...], int, str]] = [
        (("bundle", "show", "0x" + "ab" * 32), 3, "no bundle with this id"),
        (("bundle", "show", "0x1234"), 2, "a bundle id is 64 hex digits"),
        (("verify", "--bundle", "nonsense"), 2, "a bundle id is 64 hex digits"),
        (("verify", "--bundle", bundle_id, "--hash", licence), 2, "give one of FILE"),
        (
            (
                "bundle",
                "open",
                "--enterprise",
                ENTERPRISE,
                "--deadline",
                DEADLINE,
                "--part",
                "market:business-licence",
                "--department",
                "21",
            ),
            2,
            "expected DEPARTMENT:TYPE",
        ),
        (
            (
                "bundle",
                "open",
                "--enterprise",
                ENTERPRISE,
                "--deadline",
                DEADLINE,
                "--part",
                "21:no-such-type",
                "--department",
                "21",
            ),
            2,
            "certificate type",
        ),
        (
            (
                "bundle",
                "open",
                "--enterprise",
                ENTERPRISE,
                "--deadline",
                "2001-01-01",
                "--part",
                "21:business-licence",
                "--department",
                "21",
            ),
            2,
            "deadline has already passed",
        ),
        (
            (
                "bundle",
                "open",
                "--enterprise",
                ENTERPRISE,
                "--deadline",
                DEADLINE,
                "--part",
                "21:business-licence",
                "--part",
                "21:business-licence",
                "--department",
                "21",
            ),
            2,
            "names each (department, certificate type) once",
        ),
        (
            ("bundle", "file", bundle_id, "0", licence, "--department", "22"),
            4,
            "LicenceBundlesWrongDepartment",
        ),
        (("bundle", "file", bundle_id, "7", licence, "--department", "21"), 3, "UnknownPart"),
        (
            ("bundle", "file", "0x" + "cd" * 32, "0", licence, "--department", "21"),
            3,
            "LicenceBundlesUnknownBundle",
        ),
        (
            ("bundle", "file", bundle_id, "1", licence, "--department", "22"),
            5,
            "LicenceBundlesPartMismatch",
        ),
    ]
    for args, code, message in cases:
        line = one_error_line(ledger(data_dir, *args), code)
        assert message in line, (args, line)
    succeeded(ledger(data_dir, "bundle", "file", bundle_id, "0", licence, "--department", "21"))
    again = ledger(data_dir, "bundle", "file", bundle_id, "0", licence, "--department", "21")
    assert "LicenceBundlesPartAlreadyFiled" in one_error_line(again, 5)


def test_a_citizen_cannot_be_given_a_bundle(data_dir: Path) -> None:
    from datetime import date

    citizen = make_citizen_id("110101", date(1990, 1, 1), 17)
    result = ledger(
        data_dir,
        "bundle",
        "open",
        "--enterprise",
        citizen,
        "--deadline",
        DEADLINE,
        "--part",
        f"{MARKET}:business-licence",
        "--department",
        str(MARKET),
    )
    line = one_error_line(result, 2)
    assert citizen not in line
    assert "credit code" in line
