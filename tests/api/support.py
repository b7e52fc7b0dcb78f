"""A ledger data directory with one anchored document, for the API tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ledger.catalogue import certificate_type
from ledger.config import Settings
from ledger.identity import make_uscc, parse_subject
from ledger.session import LedgerSession

DEPARTMENT: Final = 3
REGION: Final = 110101
LICENCE: Final = certificate_type("business-licence")
ENTERPRISE: Final = make_uscc(organisation_code="MA03CL7K5")


@dataclass(frozen=True)
class Prepared:
    settings: Settings
    document: bytes
    doc_hash: bytes


def prepare_ledger(root: Path) -> Prepared:
    """Deploy, register a department, anchor one file; the session is closed on return."""
    settings = Settings(data_dir=root / "data")
    document = f"营业执照 {ENTERPRISE} 北京示例科技有限公司 API test\n".encode()
    session, _ = LedgerSession.initialize(settings)
    with session:
        session.add_department(DEPARTMENT, REGION, "东城区市场监督管理局", [LICENCE.code])
        outcome = session.anchor_document(
            document,
            LICENCE,
            holder=parse_subject(ENTERPRISE),
            department_id=DEPARTMENT,
            store=False,
        )
    return Prepared(settings, document, outcome.doc_hash)


def names_its_route(instance: object, path: str) -> bool:
    """Whether a problem's ``instance`` is the template of the route ``path`` matched
    (``/v1/certificates/{document_hash}`` for ``/v1/certificates/0x…``), or ``<unmatched>``.
    Problems name the template, not the path, which may carry personal data; that they never
    echo it is what tests/api/test_privacy.py searches for."""
    if instance == "<unmatched>":
        return True
    if not isinstance(instance, str):
        return False
    parts = re.split(r"\{[^/{}]+\}", instance)
    return re.fullmatch("[^/]+".join(re.escape(part) for part in parts), path) is not None
