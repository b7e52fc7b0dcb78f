"""A ledger data directory prepared for the service tests: departments with API tokens, an
admin token, an anchored licence, and a citizen with a certificate and a credit event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from eth_utils.crypto import keccak

from ledger.catalogue import certificate_type, credit_category, scope_codes
from ledger.cli.departments import add_department
from ledger.config import Settings
from ledger.contracts import Polarity
from ledger.documents import document_hash_of
from ledger.identity import make_citizen_id, make_uscc, parse_subject
from ledger.service.database import ServiceDatabase
from ledger.service.tokens import TokenStore
from ledger.session import LedgerSession
from ledger.writes import departments
from ledger.writes.bundles import open_bundle
from ledger.writes.certificates import anchor
from tests.support.credit import record_event

#: Department 3 (Dongcheng market regulation): the department most tests act as.
DEPARTMENT: Final = 3
REGION: Final = 110101
#: Department 4, another region: may anchor licences too, but not touch department 3's.
OTHER_DEPARTMENT: Final = 4
OTHER_REGION: Final = 310101
#: Department 5: registered and then suspended by governance.
SUSPENDED_DEPARTMENT: Final = 5
SUSPENDED_REGION: Final = 110102
SCOPES: Final = (
    "business-licence",
    "residence-certificate",
    "false-information",
    "contract-default",
)


@dataclass(frozen=True)
class PreparedService:
    settings: Settings
    admin_token: str
    department_id: int
    department_token: str
    other_department_id: int
    other_department_token: str
    suspended_department_id: int
    suspended_department_token: str
    #: A business licence of ``enterprise`` anchored by department 3 (stored in clear).
    document: bytes
    doc_hash: bytes
    #: A synthetic citizen with a residence certificate and one credit event (by department 3).
    citizen: str
    citizen_certificate: bytes
    citizen_certificate_hash: bytes
    event_id: bytes
    enterprise: str


def prepare_service(root: Path, **settings_overrides: object) -> PreparedService:
    """Deploy, register three departments with tokens, anchor and record; session closed."""
    settings = Settings(data_dir=root / "data", dev_issuer=True, **settings_overrides)
    citizen = make_citizen_id()
    enterprise = make_uscc()
    document = f"营业执照 {enterprise} 北京示例科技有限公司 service test\n".encode()
    residence = f"居住证 {citizen} 张三 service test\n".encode()
    session, _ = LedgerSession.initialize(settings)
    with session:
        add_department(session, DEPARTMENT, REGION, "东城区市场监督管理局", scope_codes(SCOPES))
        add_department(
            session,
            OTHER_DEPARTMENT,
            OTHER_REGION,
            "黄浦区市场监督管理局",
            scope_codes(("business-licence", "tax-violation")),
        )
        add_department(
            session,
            SUSPENDED_DEPARTMENT,
            SUSPENDED_REGION,
            "西城区市场监督管理局",
            scope_codes(("business-licence", "contract-default")),
        )
        session.send(departments.suspend(session, SUSPENDED_DEPARTMENT))
        licence = anchor(
            session,
            document,
            certificate_type("business-licence"),
            holder=parse_subject(enterprise),
            department_id=DEPARTMENT,
        )
        session.send(licence)
        residence_anchoring = anchor(
            session,
            residence,
            certificate_type("residence-certificate"),
            holder=parse_subject(citizen),
            department_id=DEPARTMENT,
        )
        session.send(residence_anchoring)
        event_id, _receipt = record_event(
            session.department_sender(DEPARTMENT),
            session.credit(),
            session.subject_ref(citizen),
            credit_category("false-information").code,
            Polarity.NEGATIVE,
            2,
            datetime.now(UTC) - timedelta(days=30),
            keccak(b"evidence: service test"),
        )
    with ServiceDatabase(settings.service_db_path) as database:
        tokens = TokenStore(database)
        admin = tokens.issue("admin").secret
        mine = tokens.issue("department", DEPARTMENT).secret
        other = tokens.issue("department", OTHER_DEPARTMENT).secret
        suspended = tokens.issue("department", SUSPENDED_DEPARTMENT).secret
    return PreparedService(
        settings=settings,
        admin_token=admin,
        department_id=DEPARTMENT,
        department_token=mine,
        other_department_id=OTHER_DEPARTMENT,
        other_department_token=other,
        suspended_department_id=SUSPENDED_DEPARTMENT,
        suspended_department_token=suspended,
        document=document,
        doc_hash=licence.facts.doc_hash,
        citizen=citizen,
        citizen_certificate=residence,
        citizen_certificate_hash=residence_anchoring.facts.doc_hash,
        event_id=event_id,
        enterprise=enterprise,
    )


@dataclass(frozen=True)
class ForeignPart:
    """A bundle whose part 0 holds another enterprise's licence (:func:`file_foreign_part`)."""

    bundle_id: bytes
    #: The filed licence's hash, and the enterprise that holds it.
    foreign: bytes
    holder: str


def file_foreign_part(prepared: PreparedService, organisation_code: str) -> ForeignPart:
    """A bundle of ``prepared.enterprise`` whose part 0 is filed, straight to the contract and
    around the library's holder check, with a licence another enterprise holds (what an old
    client or anyone's own code can do)."""
    other = make_uscc(organisation_code=organisation_code)
    assert other != prepared.enterprise
    licence = certificate_type("business-licence").code
    with LedgerSession.open(prepared.settings) as session:
        sender = session.department_sender(prepared.department_id)
        foreign = document_hash_of(f"营业执照 {uuid.uuid4()}\n".encode()).hash
        sender.transact(
            session.certificates().anchor(
                foreign, licence, REGION, subject_ref=session.subject_ref(other)
            )
        )
        opening = open_bundle(
            session,
            prepared.department_id,
            prepared.enterprise,
            datetime.now(UTC) + timedelta(days=30),
            [(prepared.department_id, licence)],
        )
        session.send(opening)
        bundle_id = opening.facts.bundle_id
        sender.transact(session.bundles().file_part(bundle_id, 0, foreign))
        assert session.bundles().is_complete(bundle_id)  # what the contract alone believes
    return ForeignPart(bundle_id, foreign, other)
