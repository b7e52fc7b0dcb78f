"""A ledger data directory with one anchored document, for the API tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ledger.catalogue import certificate_type
from ledger.cli.departments import add_department
from ledger.config import Settings
from ledger.identity import make_uscc, parse_subject
from ledger.session import LedgerSession
from ledger.writes.certificates import anchor

DEPARTMENT: Final = 3
REGION: Final = 110101
LICENCE: Final = certificate_type("business-licence")
ENTERPRISE: Final = make_uscc(organisation_code="MA03CL7K5")


@dataclass(frozen=True)
class Prepared:
    settings: Settings
    document: bytes
    doc_hash: bytes


def prepare_ledger(root: Path, **settings_overrides: Any) -> Prepared:
    """Deploy, register a department, anchor one file; the session is closed on return."""
    settings = Settings(data_dir=root / "data", **settings_overrides)
    document = f"营业执照 {ENTERPRISE} 北京示例科技有限公司 API test\n".encode()
    session, _ = LedgerSession.initialize(settings)
    with session:
        add_department(session, DEPARTMENT, REGION, "东城区市场监督管理局", [LICENCE.code])
        write = anchor(
            session,
            document,
            LICENCE,
            holder=parse_subject(ENTERPRISE),
            department_id=DEPARTMENT,
            store=False,
        )
        session.send(write)
    return Prepared(settings, document, write.facts.doc_hash)
