"""The CLI at the edges (issue 13, items 7 and 8): authorization is answered before existence,
and dates the chain cannot hold are one line and exit status 2, never a traceback.

Department 5 (region 110101) issued the records; department 6 (region 310101) holds business
licences only. Both keys are in one data directory, so ``--department`` picks who acts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, NamedTuple

import pytest
from eth_utils.crypto import keccak

from ledger.cli.departments import add_department
from ledger.contracts import Polarity
from ledger.documents import document_hash_of
from ledger.session import LedgerSession
from tests.integration.conftest import BUSINESS_LICENCE, RESIDENCE_CERTIFICATE, TAX_VIOLATION
from tests.support.cli import (
    CITIZEN,
    DEPARTMENT,
    ENTERPRISE,
    REGION,
    ledger,
    one_error_line,
    prepare,
    settings_for,
    write,
)
from tests.support.credit import record_event

OTHER: Final = 6
#: The exit statuses of ``ledger --help``.
INVALID, NOT_AUTHORIZED = 2, 4
#: Out of range: 9999-12-31 ends in the year 10000 (UTC), 0001-01-01 starts in the year 0.
FAR_FUTURE, FAR_PAST = "9999-12-31", "0001-01-01"


class Ledger(NamedTuple):
    data_dir: Path
    residence: Path
    residence_hash: str
    event_id: str
    evidence: Path
    fresh: Path


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    root = tmp_path_factory.mktemp("cli-edges")
    data_dir = root / "data"
    prepare(data_dir)
    residence = write(root / "residence.txt", "居住证 边界测试\n")
    evidence = write(root / "evidence.txt", "处罚决定书 边界测试\n")
    with LedgerSession.open(settings_for(data_dir)) as session:
        add_department(session, OTHER, 310101, "黄浦区市场监督管理局", [BUSINESS_LICENCE])
        digest = document_hash_of(residence).hash
        session.department_sender(DEPARTMENT).transact(
            session.certificates().anchor(
                digest, RESIDENCE_CERTIFICATE, REGION, subject_ref=session.subject_ref(CITIZEN)
            )
        )
        event_id, _receipt = record_event(
            session.department_sender(DEPARTMENT),
            session.credit(),
            session.subject_ref(CITIZEN),
            TAX_VIOLATION,
            Polarity.NEGATIVE,
            2,
            datetime.now(UTC) - timedelta(days=3),
            keccak(b"cli edges"),
        )
    return Ledger(
        data_dir,
        residence,
        "0x" + digest.hex(),
        "0x" + event_id.hex(),
        evidence,
        write(root / "fresh.txt", "尚未登记的营业执照 边界测试\n"),
    )


def test_anchoring_an_anchored_hash_without_accreditation_exits_4_not_5(shared: Ledger) -> None:
    line = one_error_line(
        ledger(
            shared.data_dir,
            *("anchor", str(shared.residence), "--type", "residence-certificate"),
            *("--subject", CITIZEN, "--department", str(OTHER)),
        ),
        NOT_AUTHORIZED,
    )
    assert "not accredited for residence-certificate" in line
    assert CITIZEN not in line


@pytest.mark.parametrize("action", ["revoke", "suspend"])
def test_changing_another_departments_certificate_names_its_issuer(
    shared: Ledger, action: str
) -> None:
    line = one_error_line(
        ledger(
            shared.data_dir,
            *(action, shared.residence_hash, "--reason", "fraud", "--department", str(OTHER)),
        ),
        NOT_AUTHORIZED,
    )
    assert f"department {DEPARTMENT} issued it" in line
    assert "not accredited" not in line
    assert "Accreditation" not in line


def test_amending_another_departments_event_names_its_recorder(shared: Ledger) -> None:
    line = one_error_line(
        ledger(
            shared.data_dir,
            *("credit", "amend", shared.event_id, "--status", "withdrawn"),
            *("--reason", str(shared.evidence), "--department", str(OTHER)),
        ),
        NOT_AUTHORIZED,
    )
    assert f"department {DEPARTMENT} recorded it" in line
    assert "Accreditation" not in line


Arguments = Callable[[Ledger], list[str]]


def _record(shared: Ledger, occurred: str) -> list[str]:
    return [
        *("credit", "record", "--subject", CITIZEN, "--category", "tax-violation"),
        *("--severity", "1", "--occurred", occurred, "--evidence", str(shared.evidence)),
        *("--department", str(DEPARTMENT)),
    ]


#: (arguments after the data directory, the option the one line names)
OUT_OF_RANGE: Final[dict[str, tuple[Arguments, str]]] = {
    "expires-9999": (
        lambda s: [
            *("anchor", str(s.fresh), "--type", "business-licence", "--subject", ENTERPRISE),
            *("--department", str(DEPARTMENT), "--expires", FAR_FUTURE),
        ],
        "--expires",
    ),
    "expires-0001": (
        lambda s: [
            *("anchor", str(s.fresh), "--type", "business-licence", "--subject", ENTERPRISE),
            *("--department", str(DEPARTMENT), "--expires", FAR_PAST),
        ],
        "--expires",
    ),
    "deadline-9999": (
        lambda s: [
            *("bundle", "open", "--enterprise", ENTERPRISE, "--deadline", FAR_FUTURE),
            *("--part", f"{DEPARTMENT}:business-licence", "--department", str(DEPARTMENT)),
        ],
        "--deadline",
    ),
    "occurred-0001": (lambda s: _record(s, FAR_PAST), "--occurred"),
    "occurred-1969": (lambda s: _record(s, "1969-12-31"), "--occurred"),
}


@pytest.mark.parametrize("name", list(OUT_OF_RANGE))
def test_dates_out_of_range_are_one_line_with_exit_2(shared: Ledger, name: str) -> None:
    arguments, option = OUT_OF_RANGE[name]
    line = one_error_line(ledger(shared.data_dir, *arguments(shared)), INVALID)
    assert f"{option} is out of range" in line
    assert ENTERPRISE not in line
    assert CITIZEN not in line
