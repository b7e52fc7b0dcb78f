"""``ledger bundle open|file|show`` and ``ledger verify --bundle`` as real subprocesses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from ledger.catalogue import certificate_type
from ledger.cli.departments import add_department
from ledger.documents import document_hash_of
from ledger.errors import BundleHolderMismatchError, LicenceBundlesPartMismatch
from ledger.identity import make_citizen_id, make_uscc
from ledger.session import LedgerSession
from ledger.writes.bundles import file_part
from tests.support.cli import (
    EXIT_INVALID,
    json_of,
    ledger,
    one_error_line,
    settings_for,
    succeeded,
)

MARKET, TAX = 21, 22
ENTERPRISE = make_uscc(organisation_code="MA0BUNDL3")
OTHER_ENTERPRISE = make_uscc(organisation_code="MA0BUNDL4")
DEADLINE = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli-bundle") / "data"
    session, _ = LedgerSession.initialize(settings_for(directory))
    with session:
        add_department(session, MARKET, 110101, "东城区市场监督管理局", [0x1000001])
        add_department(session, TAX, 110101, "东城区税务局", [0x1000002])
    return directory


def anchored(
    data_dir: Path,
    folder: Path,
    name: str,
    type_name: str,
    department: int,
    *,
    subject: str = ENTERPRISE,
) -> str:
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
        subject,
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
            "is department 21's to file, not department 22's",
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


def test_a_part_must_be_held_by_the_bundles_enterprise(data_dir: Path, tmp_path: Path) -> None:
    """Issue 13 (4): ``bundle file`` refuses another enterprise's licence in one line (exit 5)
    naming the part, and nothing is filed; a part filed around the library (straight to the
    contract, which cannot see holders) makes ``verify --bundle`` INVALID naming the part."""
    bundle_id = open_bundle(data_dir)
    foreign = anchored(
        data_dir, tmp_path, "foreign.txt", "business-licence", MARKET, subject=OTHER_ENTERPRISE
    )
    refused = ledger(data_dir, "bundle", "file", bundle_id, "0", foreign, "--department", "21")
    line = one_error_line(refused, 5)
    assert line == (
        f"error: part 0 (business-licence of department {MARKET}): "
        "the certificate is not held by the bundle's enterprise"
    )
    assert OTHER_ENTERPRISE not in line
    assert ENTERPRISE not in line
    shown = json_of(ledger(data_dir, "--json", "bundle", "show", bundle_id))
    assert shown["parts"][0]["documentHash"] is None

    session = LedgerSession.open(settings_for(data_dir))
    with session:
        # A certificate anchored bare (no holder at all) is refused by the same check.
        bare = document_hash_of(b"bare tax registration").hash
        tax_type = certificate_type("tax-registration").code
        session.department_sender(TAX).transact(
            session.certificates().anchor(bare, tax_type, 110101)
        )
        with pytest.raises(BundleHolderMismatchError, match="anchored without a holder"):
            session.send(file_part(session, TAX, bytes.fromhex(bundle_id[2:]), 1, bare))
        # A batch root has no holder either, and no batched certificate is a record of its own:
        # the contract takes documents only, so a batch never becomes a part.
        root = document_hash_of(b"a batch of business licences").hash
        licence_type = certificate_type("business-licence").code
        session.department_sender(MARKET).transact(
            session.certificates().anchor_batch(root, licence_type, 110101)
        )
        with pytest.raises(LicenceBundlesPartMismatch):
            session.send(file_part(session, MARKET, bytes.fromhex(bundle_id[2:]), 0, root))
        # Straight to the contract: it takes both.
        session.department_sender(MARKET).transact(
            session.bundles().file_part(bytes.fromhex(bundle_id[2:]), 0, bytes.fromhex(foreign[2:]))
        )
        session.department_sender(TAX).transact(
            session.bundles().file_part(bytes.fromhex(bundle_id[2:]), 1, bare)
        )
    assert json_of(ledger(data_dir, "--json", "bundle", "show", bundle_id))["complete"] is True
    verified = ledger(data_dir, "verify", "--bundle", bundle_id)
    assert verified.returncode == EXIT_INVALID, verified.stderr
    assert (
        f"[FAIL] bundle.parts             part 0 (business-licence of department {MARKET}) "
        f"{foreign}: the certificate is not held by the bundle's enterprise; "
        f"part 1 (tax-registration of department {TAX}) 0x{bare.hex()}: the certificate was "
        "anchored without a holder, not for the bundle's enterprise"
    ) in verified.stdout
    assert OTHER_ENTERPRISE not in verified.stdout


def test_bundle_show_prints_the_deadline_day_given(data_dir: Path) -> None:
    """Issue 13 (7): ``--deadline D`` is the last day to file, through 23:59:59 China time, and
    ``bundle show`` and ``verify --bundle`` print D (they printed the day after: the deadline was
    the midnight after D, read in China time)."""
    bundle_id = open_bundle(data_dir)
    day = date.fromisoformat(DEADLINE)
    last_second = datetime.combine(day, time(23, 59, 59), timezone(timedelta(hours=8)))
    shown = succeeded(ledger(data_dir, "bundle", "show", bundle_id))
    assert shown.splitlines()[0] == (
        f"bundle {bundle_id}: led by department {MARKET}, due {DEADLINE} (China time), incomplete"
    )
    data = json_of(ledger(data_dir, "--json", "bundle", "show", bundle_id))
    assert data["lastDay"] == DEADLINE
    assert datetime.fromisoformat(data["deadline"]) == last_second
    verified = ledger(data_dir, "verify", "--bundle", bundle_id)
    assert f"2 part(s) due by {DEADLINE} (China time)" in verified.stdout


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
