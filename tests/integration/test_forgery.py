"""Reporting false information (ledger/service/forgery.py, ADR 0029) on a real embedded chain:
refusals before anything is stored, the evidence encrypted, and one event per document under one
consent even when two reports are prepared before either lands (the event id is fixed by the
visit, so the contract refuses the second and its evidence copy is discarded)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_utils.crypto import keccak

from ledger.catalogue import certificate_type, scope_codes
from ledger.cli.departments import add_department
from ledger.errors import (
    DocumentValidError,
    DuplicateError,
    FalseInformationRecordedError,
    NotAuthorizedError,
)
from ledger.identity import SubjectKind, make_citizen_id, parse_subject
from ledger.service.consents import ConsentRecord, ConsentStore
from ledger.service.database import ServiceDatabase
from ledger.service.forgery import false_information_event_id, report_false_information
from ledger.session import LedgerSession
from ledger.storage.embedded import EmbeddedStore
from ledger.storage.vault import DocumentErasedError, looks_sealed
from ledger.verification import AnchorOptions
from ledger.writes.certificates import anchor
from tests.integration.conftest import open_backend

WINDOW, OTHER = 31, 32
SERVICE = "residence-permit-endorsement"


@dataclass(frozen=True)
class Visit:
    session: LedgerSession
    consent: ConsentRecord
    certificate: bytes


@pytest.fixture(scope="module")
def visit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Visit]:
    root = tmp_path_factory.mktemp("forgery")
    citizen = make_citizen_id(sequence=411)
    with open_backend("embedded", root) as backend:
        session = backend.session
        add_department(
            session,
            WINDOW,
            110101,
            "东城区政务服务中心",
            scope_codes(("residence-certificate", "false-information")),
        )
        add_department(session, OTHER, 110101, "东城区税务局", scope_codes(("tax-violation",)))
        certificate = f"居住证 {citizen} forgery test\n".encode()
        session.send(
            anchor(
                session,
                certificate,
                certificate_type("residence-certificate"),
                holder=parse_subject(citizen),
                department_id=WINDOW,
            )
        )
        with ServiceDatabase(backend.data_dir / "forgery-test.db") as database:
            consents = ConsentStore(database, b"k" * 32)
            reference = session.subject_ref(citizen)
            consent, _code = consents.grant(reference, SubjectKind.CITIZEN, SERVICE, WINDOW)
            yield Visit(session, consent, certificate)


def _options(visit: Visit) -> AnchorOptions:
    return {"confirmations": 0, "documents": visit.session.documents(), "encrypted_types": []}


def _pins(visit: Visit) -> list[str]:
    store = visit.session.documents().store
    assert isinstance(store, EmbeddedStore)
    return store.pins()


def test_refusals_store_nothing(visit: Visit) -> None:
    forged = visit.certificate.replace(b"forgery", b"FORGERY")
    before = _pins(visit)
    with pytest.raises(NotAuthorizedError):
        report_false_information(
            visit.session, visit.consent, forged, department_id=OTHER, options=_options(visit)
        )
    with pytest.raises(DocumentValidError):
        report_false_information(
            visit.session,
            visit.consent,
            visit.certificate,
            department_id=WINDOW,
            options=_options(visit),
        )
    assert _pins(visit) == before


def test_two_reports_at_once_make_one_event(visit: Visit) -> None:
    session = visit.session
    forged = visit.certificate.replace(b"test", b"TEST")
    first, second = (
        report_false_information(
            session, visit.consent, forged, department_id=WINDOW, options=_options(visit)
        )
        for _ in range(2)
    )
    assert first.facts.event_id == second.facts.event_id
    assert first.facts.event_id == false_information_event_id(visit.consent, forged)
    assert first.facts.evidence_hash == keccak(forged)
    assert first.facts.evidence_cid != second.facts.evidence_cid  # each under its own key
    documents = session.documents()
    assert looks_sealed(documents.store.get(first.facts.evidence_cid))

    session.send(first)
    with pytest.raises(DuplicateError):
        session.send(second)
    # The losing report's copy is taken back; the recorded one stays readable.
    with pytest.raises(DocumentErasedError):
        documents.fetch_document(second.facts.evidence_cid)
    assert documents.fetch_document(first.facts.evidence_cid) == forged

    event = session.credit().event_with_evidence(first.facts.event_id)
    assert event is not None
    assert (event.recorder, event.evidence_hash) == (WINDOW, keccak(forged))
    with pytest.raises(FalseInformationRecordedError):
        report_false_information(
            session, visit.consent, forged, department_id=WINDOW, options=_options(visit)
        )
