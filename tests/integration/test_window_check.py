"""The window's check (ledger/service/window.py) on a real embedded chain: an applicant's
certificates of the service's types from departments of two regions, single and batched, each
verified as ``ledger verify --hash`` verifies it; a revoked one INVALID, a missing required type
named, every other type left out; stored copies only of the service's ``content`` types."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ledger.catalogue import ReasonCode, certificate_type, scope_codes
from ledger.cli.departments import add_department
from ledger.errors import ConsentOutOfScopeError, NotFoundError
from ledger.identity import SubjectKind, make_citizen_id, parse_subject
from ledger.service.consents import ConsentRecord, ConsentStore
from ledger.service.database import ServiceDatabase
from ledger.service.holdings import holdings_of, record_batch_holders
from ledger.service.window import WindowCheck, check_window, read_stored_copy
from ledger.session import LedgerSession
from ledger.storage import DocumentNotFoundError
from ledger.verification import AnchorOptions, verify_hash
from ledger.writes.certificates import anchor, anchor_batch, revoke
from tests.integration.conftest import open_backend

#: Requires identity-card and household-register; accepts marriage-certificate and
#: real-estate-certificate; the content of the last three is what its window may read.
SERVICE = "household-transfer"
#: Beijing (Dongcheng): the identity card, the marriage certificate and the qualification.
HOME, HOME_REGION = 21, 110101
#: Shanghai (Huangpu): the real estate, single and batched.
AWAY, AWAY_REGION = 22, 310101


@dataclass(frozen=True)
class Applicant:
    session: LedgerSession
    database: ServiceDatabase
    consent: ConsentRecord
    identity_card: bytes
    real_estate: bytes
    real_estate_copy: bytes
    batched_real_estate: bytes
    revoked_marriage: bytes
    qualification: bytes
    #: A second title, whose stored copy a test erases.
    erasable: bytes
    #: Another citizen's real estate certificate.
    strangers: bytes


def _anchor(session: LedgerSession, data: bytes, kind: str, holder: str, department: int) -> bytes:
    write = anchor(
        session,
        data,
        certificate_type(kind),
        holder=parse_subject(holder),
        department_id=department,
    )
    session.send(write)
    return write.facts.doc_hash


@pytest.fixture(scope="module")
def applicant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applicant]:
    root = tmp_path_factory.mktemp("window")
    citizen, stranger = make_citizen_id(sequence=301), make_citizen_id(sequence=302)
    with open_backend("embedded", root) as backend:
        session = backend.session
        add_department(
            session,
            HOME,
            HOME_REGION,
            "东城区公安分局",
            scope_codes(("identity-card", "marriage-certificate", "professional-qualification")),
        )
        add_department(
            session,
            AWAY,
            AWAY_REGION,
            "黄浦区不动产登记中心",
            scope_codes(("real-estate-certificate",)),
        )
        real_estate_copy = "不动产权证书 沪(2026)黄浦区不动产权第0001号 window test\n".encode()
        identity_card = _anchor(
            session, b"identity card, window test\n", "identity-card", citizen, HOME
        )
        real_estate = _anchor(session, real_estate_copy, "real-estate-certificate", citizen, AWAY)
        marriage = _anchor(
            session, b"marriage, window test\n", "marriage-certificate", citizen, HOME
        )
        session.send(revoke(session, marriage, ReasonCode.ISSUED_IN_ERROR, department_id=HOME))
        qualification = _anchor(
            session, b"qualification, window test\n", "professional-qualification", citizen, HOME
        )
        erasable = _anchor(
            session, b"second title, window test\n", "real-estate-certificate", citizen, AWAY
        )
        strangers = _anchor(
            session, b"stranger's title, window test\n", "real-estate-certificate", stranger, AWAY
        )
        batch = anchor_batch(
            session,
            [b"batched title one, window test\n", b"batched title two, window test\n"],
            certificate_type("real-estate-certificate"),
            department_id=AWAY,
        )
        session.send(batch)
        database = ServiceDatabase(backend.data_dir / "window-test.db")
        reference = session.subject_ref(citizen)
        record_batch_holders(
            database,
            batch.facts.leaves,
            [reference, None],
            batch.facts.proofs,
            block=int(session.connection.web3.eth.block_number),
        )
        consents = ConsentStore(database, b"k" * 32)
        consent, _code = consents.grant(reference, SubjectKind.CITIZEN, SERVICE, HOME)
        try:
            yield Applicant(
                session,
                database,
                consent,
                identity_card,
                real_estate,
                real_estate_copy,
                batch.facts.leaves[0],
                marriage,
                qualification,
                erasable,
                strangers,
            )
        finally:
            database.close()


def _options(applicant: Applicant) -> AnchorOptions:
    return {
        "confirmations": 0,
        "documents": applicant.session.documents(),
        "encrypted_types": [],
        "local_issuers": None,
    }


def _check(applicant: Applicant) -> WindowCheck:
    documents = applicant.session.documents()
    return check_window(
        applicant.session, applicant.database, documents, applicant.consent, _options(applicant)
    )


def test_each_type_of_the_service_from_any_region(applicant: Applicant) -> None:
    check = _check(applicant)
    by_type = {item.cert_type.name: item for item in check.requirements}
    assert list(by_type) == [
        "identity-card",
        "household-register",
        "marriage-certificate",
        "real-estate-certificate",
    ]
    assert [item.required for item in check.requirements] == [True, True, False, False]

    (card,) = by_type["identity-card"].certificates
    assert card.doc_hash == applicant.identity_card
    assert card.report.verdict.value == "VALID"
    assert card.report.record is not None
    assert (card.report.record.issuer, card.report.record.region) == (HOME, HOME_REGION)
    assert card.stored_copy is False  # the service needs it valid, not what it says
    assert by_type["identity-card"].satisfied

    titles = {cert.doc_hash: cert for cert in by_type["real-estate-certificate"].certificates}
    assert set(titles) == {
        applicant.real_estate,
        applicant.batched_real_estate,
        applicant.erasable,
    }
    single, batched = titles[applicant.real_estate], titles[applicant.batched_real_estate]
    assert single.report.verdict.value == "VALID"
    assert single.report.record is not None
    assert (single.report.record.issuer, single.report.record.region) == (AWAY, AWAY_REGION)
    assert single.stored_copy is True
    assert batched.report.verdict.value == "VALID"
    assert batched.stored_copy is False  # a batched certificate has no stored copy of its own
    assert {check.name.value: check.outcome.value for check in batched.report.checks}[
        "merkle.proof"
    ] == "passed"

    (marriage,) = by_type["marriage-certificate"].certificates
    assert marriage.report.verdict.value == "INVALID"
    assert not by_type["marriage-certificate"].satisfied

    assert by_type["household-register"].certificates == ()
    assert check.missing == ("household-register",)
    # The qualification (no type of the service) and the stranger's title are never shown.
    assert set(check.shown) == {
        applicant.identity_card,
        applicant.real_estate,
        applicant.erasable,
        applicant.batched_real_estate,
        applicant.revoked_marriage,
    }


def test_reports_are_those_of_a_bare_hash(applicant: Applicant) -> None:
    check = _check(applicant)
    options = _options(applicant)
    for item in check.requirements:
        for cert in item.certificates:
            if cert.doc_hash == applicant.batched_real_estate:
                continue  # its proof is the holding's: checked above
            alone = verify_hash(cert.doc_hash, applicant.session.context, **options)
            mine, theirs = cert.report.to_json(), alone.to_json()
            del mine["checkedAt"], theirs["checkedAt"]
            assert mine == theirs


def _read(applicant: Applicant, doc_hash: bytes) -> bytes:
    return read_stored_copy(
        applicant.session,
        applicant.database,
        applicant.session.documents(),
        applicant.consent,
        doc_hash,
    )


def test_the_stored_copy_of_a_content_type_is_read_decrypted(applicant: Applicant) -> None:
    assert _read(applicant, applicant.real_estate) == applicant.real_estate_copy


@pytest.mark.parametrize("which", ["identity_card", "qualification"])
def test_a_stored_copy_outside_the_services_content_is_out_of_scope(
    applicant: Applicant, which: str
) -> None:
    with pytest.raises(ConsentOutOfScopeError) as refused:
        _read(applicant, getattr(applicant, which))
    assert refused.value.code == "consent_out_of_scope"


@pytest.mark.parametrize(
    "which", ["strangers", "batched_real_estate", "unknown"], ids=["another", "batched", "none"]
)
def test_no_stored_copy_of_what_the_subject_does_not_hold(applicant: Applicant, which: str) -> None:
    doc_hash = bytes(32) if which == "unknown" else getattr(applicant, which)
    with pytest.raises(NotFoundError):
        _read(applicant, doc_hash)


def test_a_copy_the_store_cannot_give_is_not_offered(
    applicant: Applicant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(applicant.session.documents().vault, "is_erased", lambda cid: True)
    titles = next(
        item for item in _check(applicant).requirements if item.cert_type.name.startswith("real")
    )
    assert titles.certificates
    assert not any(cert.stored_copy for cert in titles.certificates)


def test_an_erased_copy_is_neither_offered_nor_read(applicant: Applicant) -> None:
    reference = applicant.consent.subject_ref
    holdings = holdings_of(applicant.session.certificates(), applicant.database, reference)
    (holding,) = [item for item in holdings if item.doc_hash == applicant.erasable]
    assert holding.cid is not None
    applicant.session.documents().erase(holding.cid)
    titles = next(
        item for item in _check(applicant).requirements if item.cert_type.name.startswith("real")
    )
    erased = next(cert for cert in titles.certificates if cert.doc_hash == applicant.erasable)
    assert erased.stored_copy is False
    assert erased.report.verdict.value == "VALID"  # erasure is lawful: the anchor stands
    with pytest.raises(DocumentNotFoundError, match="erased"):
        _read(applicant, applicant.erasable)
