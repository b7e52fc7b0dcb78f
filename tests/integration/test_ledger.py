"""One behaviour suite for the ledger, run against the embedded chain and against anvil.

Every test below that takes ``ledger_session`` / ``ledger_backend`` runs twice (ids ``embedded``
and ``anvil``): anchoring and verification, the certificate lifecycle, accreditation (scope,
region, key rotation, department suspension), credit events, and a node that dies under the
verifier. ``test_contract_errors_are_identical_on_both_backends`` runs one scenario on both
chains and compares every error class and its arguments.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from ledger import errors
from ledger.catalogue import ReasonCode, certificate_type, credit_category
from ledger.chain.transactions import TransactionSender
from ledger.cli.departments import add_department, rotate_department_key
from ledger.contracts import (
    Amendment,
    CertificateStatus,
    Deployment,
    LeafStatus,
    LicenceBundlesClient,
    Polarity,
    RecordKind,
)
from ledger.documents import (
    DocumentKind,
    certificate_to_json,
    document_hash_of,
    dump_certificate,
    load_certificate,
    obfuscate,
    salt_fields,
)
from ledger.documents.batches import BatchProof, wrap_certificate
from ledger.documents.merkle import MerkleTree
from ledger.identity import SubjectKind, make_citizen_id, make_uscc
from ledger.names import name_hash
from ledger.session import LedgerSession
from ledger.verification import (
    Check,
    CheckName,
    Outcome,
    Verdict,
    VerificationReport,
    verify_bundle,
    verify_document,
    verify_hash,
)
from ledger.writes import departments
from ledger.writes.bundles import open_bundle
from ledger.writes.certificates import anchor_batch
from tests.integration.conftest import (
    BACKENDS,
    BUSINESS_LICENCE,
    COMMENDATION,
    CONTRACT_DEFAULT,
    DEPARTMENT_NAME,
    DEPARTMENT_REGION,
    DEPARTMENT_SCOPES,
    MARRIAGE_CERTIFICATE,
    RESIDENCE_CERTIFICATE,
    TAX_VIOLATION,
    Backend,
    BackendKind,
    RegisteredDepartment,
    open_backend,
)
from tests.support.credit import record_event

ENTERPRISE: Final = make_uscc(organisation_code="MA01TEQ7K")
CITIZEN: Final = make_citizen_id("310104", date(1988, 7, 14), 412)
#: Fixed secrets for the cross-backend comparison, so subject references and event ids agree.
FIXED_PEPPER: Final = "00912177b2b40f224a2f587e49ff836af9649aef4a5d4788e547788004e8593c"
FIXED_KEYSTORE_PASSWORD: Final = "ltqlg6vVki325kUkNQd6lvV_wsmJLHjO"
REASON_DOCUMENT: Final = keccak(text="decision 2024-117 of the credit review board")


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


def licence(serial: int) -> bytes:
    """A scanned business licence (the bytes of a file document)."""
    return f"%PDF-1.7 营业执照 serial {serial:06d} holder {ENTERPRISE}\n".encode()


def anchor_bytes(
    session: LedgerSession,
    content: bytes,
    *,
    cert_type: int = BUSINESS_LICENCE,
    region: int = DEPARTMENT_REGION,
    expires_at: datetime | None = None,
    sender: TransactionSender | None = None,
    subject: str = ENTERPRISE,
) -> bytes:
    """Anchor ``content`` for ``subject`` as the department's current key; returns its hash."""
    digest = document_hash_of(content).hash
    signer = sender or session.department_sender(1)
    receipt = signer.transact(
        session.certificates().anchor(
            digest, cert_type, region, expires_at, subject_ref=session.subject_ref(subject)
        )
    )
    assert receipt["status"] == 1
    return digest


def check(report: VerificationReport, name: CheckName) -> Check:
    return next(c for c in report.checks if c.name is name)


def assert_valid(report: VerificationReport) -> None:
    assert report.verdict is Verdict.VALID, report.failures
    for name in (CheckName.ANCHORED, CheckName.ACCREDITED, CheckName.STATUS, CheckName.DATES):
        assert check(report, name).outcome is Outcome.PASSED, check(report, name)


def only_failure(report: VerificationReport) -> Check:
    """The single failed check (anything else failing too is a test failure)."""
    assert report.verdict is Verdict.INVALID
    assert len(report.failures) == 1, report.failures
    return report.failures[0]


def verify(session: LedgerSession, content: bytes, **options: Any) -> VerificationReport:
    return verify_document(content, session.context, **options)


# ----------------------------------------------------------------------------------------------
# Anchoring and verification
# ----------------------------------------------------------------------------------------------


def test_anchored_file_is_valid_and_a_modified_copy_is_not(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    content = licence(1)
    digest = anchor_bytes(ledger_session, content)

    report = verify(ledger_session, content)
    assert_valid(report)
    assert report.document_hash == digest
    assert report.document_kind == DocumentKind.FILE
    assert check(report, CheckName.PARSED).detail == "file"
    assert report.record is not None
    assert report.record.issuer == department.department_id
    assert report.record.cert_type == BUSINESS_LICENCE
    assert report.record.region == department.region
    assert report.record.status is CertificateStatus.ACTIVE
    assert report.record.expires_at is None
    assert f"by department {department.department_id}" in check(report, CheckName.ANCHORED).detail

    modified = content.replace(b"serial", b"Serial")
    failure = only_failure(verify(ledger_session, modified))
    assert failure.name is CheckName.ANCHORED
    assert failure.detail == "no anchor for this document hash"

    # The bare hash verifies like the document; an unknown hash does not.
    assert verify_hash(digest, ledger_session.context).verdict is Verdict.VALID
    assert only_failure(verify_hash(keccak(modified), ledger_session.context)).name is (
        CheckName.ANCHORED
    )


def test_structured_certificate_is_valid_also_with_hidden_fields(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    fields = {
        "name": "林晓燕",
        "idNumber": CITIZEN,
        "address": "上海市徐汇区漕溪北路 88 号",
        "validFrom": "2024-03-01",
    }
    certificate = salt_fields(fields, certificate_type="residence-certificate")
    wrapped = dump_certificate(certificate)
    digest = anchor_bytes(ledger_session, wrapped, cert_type=RESIDENCE_CERTIFICATE, subject=CITIZEN)

    report = verify(ledger_session, wrapped)
    assert_valid(report)
    assert report.document_kind == DocumentKind.CERTIFICATE
    assert check(report, CheckName.PARSED).detail == "structured certificate"
    assert report.record is not None
    assert report.record.cert_type == RESIDENCE_CERTIFICATE

    # Selective disclosure: hiding fields keeps the anchored hash.
    disclosed = dump_certificate(obfuscate(certificate, ["idNumber", "address"]))
    assert CITIZEN.encode() not in disclosed
    hidden_report = verify(ledger_session, disclosed)
    assert_valid(hidden_report)
    assert hidden_report.document_hash == digest

    # Same salts, one value changed: a different certificate.
    tampered = dump_certificate(
        salt_fields(
            {**fields, "address": "上海市徐汇区漕溪北路 89 号"},
            certificate_type="residence-certificate",
        )
    )
    assert only_failure(verify(ledger_session, tampered)).name is CheckName.ANCHORED


def test_revoked_certificate_is_invalid_and_names_the_reason(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    content = licence(2)
    digest = anchor_bytes(ledger_session, content)
    client = ledger_session.certificates()
    sender = ledger_session.department_sender(1)

    sender.transact(client.revoke(digest, ReasonCode.FRAUD))

    failure = only_failure(verify(ledger_session, content))
    assert failure.name is CheckName.STATUS
    assert failure.detail == "revoked (reason: fraud)"
    record = ledger_session.certificates().certificate(digest)
    assert record is not None
    assert (record.status, record.reason_code) == (CertificateStatus.REVOKED, ReasonCode.FRAUD)
    # Revocation is final.
    with pytest.raises(errors.CertificateRegistryInvalidStatus) as refused:
        sender.transact(client.reinstate(digest))
    assert refused.value.arguments == {"docHash": digest, "current": CertificateStatus.REVOKED}


def test_suspended_certificate_is_invalid_until_reinstated(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    content = licence(3)
    digest = anchor_bytes(ledger_session, content)
    client = ledger_session.certificates()
    sender = ledger_session.department_sender(1)

    sender.transact(client.suspend(digest, ReasonCode.INVESTIGATION))
    failure = only_failure(verify(ledger_session, content))
    assert failure.name is CheckName.STATUS
    assert failure.detail == "suspended (reason: investigation)"

    sender.transact(client.reinstate(digest))
    assert_valid(verify(ledger_session, content))
    with pytest.raises(errors.CertificateRegistryInvalidStatus) as refused:
        sender.transact(client.reinstate(digest))
    assert refused.value.arguments == {"docHash": digest, "current": CertificateStatus.ACTIVE}


def test_superseded_certificate_names_its_successor(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    old_content, new_content = licence(4), licence(5)
    old = anchor_bytes(ledger_session, old_content)
    new = document_hash_of(new_content).hash
    client = ledger_session.certificates()
    sender = ledger_session.department_sender(1)

    sender.transact(
        client.supersede(
            old, new, ReasonCode.RENEWAL, subject_ref=ledger_session.subject_ref(ENTERPRISE)
        )
    )

    failure = only_failure(verify(ledger_session, old_content))
    assert failure.name is CheckName.STATUS
    assert failure.detail == f"superseded by 0x{new.hex()} (reason: renewal)"
    assert client.successor(old) == new
    held = ledger_session.certificates().held_by(ledger_session.subject_ref(ENTERPRISE))
    assert [doc_hash for doc_hash, _cid, _block in held] == [old, new]
    renewed = verify(ledger_session, new_content)
    assert_valid(renewed)
    assert renewed.record is not None
    assert (renewed.record.cert_type, renewed.record.region) == (
        BUSINESS_LICENCE,
        DEPARTMENT_REGION,
    )


def test_expired_certificate_fails_the_date_check(
    ledger_backend: Backend, department: RegisteredDepartment
) -> None:
    session = ledger_backend.session
    # Relative to the chain's clock: the contract refuses an expiry at or before the block time.
    expires_at = ledger_backend.chain_time() + timedelta(seconds=120)
    content = licence(6)
    anchor_bytes(session, content, expires_at=expires_at)

    before = verify(session, content, now=expires_at - timedelta(seconds=1))
    assert_valid(before)
    assert before.record is not None
    assert before.record.expires_at == expires_at

    failure = only_failure(verify(session, content, now=expires_at))
    assert failure.name is CheckName.DATES
    assert failure.detail == f"expired at {expires_at.isoformat()}"
    assert only_failure(verify(session, content, now=expires_at + timedelta(days=365))).name is (
        CheckName.DATES
    )


def test_expiry_in_the_past_is_refused(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    expired = datetime(2001, 1, 1, tzinfo=UTC)
    with pytest.raises(errors.CertificateRegistryInvalidExpiry) as refused:
        anchor_bytes(ledger_session, licence(7), expires_at=expired)
    assert refused.value.arguments == {"expiresAt": int(expired.timestamp())}


def test_confirmations_beyond_the_depth_fail_finality(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    content = licence(8)
    anchor_bytes(ledger_session, content)
    anchor_bytes(ledger_session, licence(9))
    anchor_bytes(ledger_session, licence(10))
    record = ledger_session.certificates().certificate(document_hash_of(content).hash)
    assert record is not None
    depth = ledger_session.chain_head() - record.anchored_block + 1
    assert depth >= 3

    enough = verify(ledger_session, content, confirmations=depth)
    assert_valid(enough)
    assert check(enough, CheckName.FINALITY).outcome is Outcome.PASSED

    failure = only_failure(verify(ledger_session, content, confirmations=depth + 1))
    assert failure.name is CheckName.FINALITY
    assert failure.detail == f"{depth} confirmation(s), {depth + 1} required"


# ----------------------------------------------------------------------------------------------
# Accreditation
# ----------------------------------------------------------------------------------------------


def test_key_rotation_keeps_old_records_valid_and_retires_the_old_key(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    old_sender = ledger_session.department_sender(1)
    assert old_sender.address == department.signer
    signed_by_old = licence(11)
    old_digest = anchor_bytes(ledger_session, signed_by_old, sender=old_sender)

    old, new = rotate_department_key(ledger_session, 1)
    assert old == department.signer
    assert new != old
    new_sender = ledger_session.department_sender(1)
    assert new_sender.address == new
    registry = ledger_session.registry()
    assert registry.signers(1) == [new]
    retired = registry.signer_key(old)
    assert retired is not None
    assert retired.valid_until is not None

    signed_by_new = licence(12)
    anchor_bytes(ledger_session, signed_by_new, sender=new_sender)
    assert_valid(verify(ledger_session, signed_by_old))
    assert_valid(verify(ledger_session, signed_by_new))

    with pytest.raises(errors.AccreditationKeyExpired) as refused:
        anchor_bytes(ledger_session, licence(13), sender=old_sender)
    assert refused.value.arguments == {"signer": old.lower()}
    assert ledger_session.certificates().certificate(document_hash_of(licence(13)).hash) is None
    with pytest.raises(errors.AccreditationKeyExpired):
        old_sender.transact(ledger_session.certificates().revoke(old_digest, ReasonCode.FRAUD))

    # The department's new key manages what the old key anchored.
    certificates = ledger_session.certificates()
    new_sender.transact(certificates.suspend(old_digest, ReasonCode.INVESTIGATION))
    new_sender.transact(certificates.reinstate(old_digest))
    assert_valid(verify(ledger_session, signed_by_old))


def test_department_suspension_blocks_new_records_but_keeps_earlier_ones_valid(
    ledger_backend: Backend, department: RegisteredDepartment
) -> None:
    session = ledger_backend.session
    earlier = licence(14)
    anchor_bytes(session, earlier)
    sender = session.department_sender(1)

    # In a later second than the anchor, as on any real chain (the same-second case is
    # test_same_second_withdrawal_keeps_earlier_records_valid).
    ledger_backend.next_block_in_a_later_second()
    session.send(departments.suspend(session, 1))
    department_record = session.registry().department(1)
    assert department_record is not None
    assert department_record.suspended

    with pytest.raises(errors.AccreditationDepartmentSuspended) as refused:
        anchor_bytes(session, licence(15), sender=sender)
    assert refused.value.arguments == {"signer": department.signer.lower()}
    with pytest.raises(errors.AccreditationDepartmentSuspended):
        record_event(
            sender,
            session.credit(),
            session.subject_ref(ENTERPRISE),
            TAX_VIOLATION,
            Polarity.NEGATIVE,
            2,
            datetime(2024, 1, 1, tzinfo=UTC),
            keccak(b"evidence"),
        )
    with pytest.raises(errors.DepartmentRegistrySuspensionUnchanged) as unchanged:
        session.send(departments.suspend(session, 1))
    assert unchanged.value.arguments == {"departmentId": 1, "suspended": True}

    # Accreditation is judged at anchoring time: the earlier record stays valid.
    report = verify(session, earlier)
    assert_valid(report)
    assert check(report, CheckName.ACCREDITED).detail.startswith("department 1 was accredited")

    session.send(departments.reinstate(session, 1))
    later = licence(15)
    anchor_bytes(session, later, sender=sender)
    assert_valid(verify(session, later))
    assert_valid(verify(session, earlier))


def test_scope_withdrawal_blocks_new_records_but_keeps_earlier_ones_valid(
    ledger_backend: Backend, department: RegisteredDepartment
) -> None:
    session = ledger_backend.session
    earlier = licence(20)
    anchor_bytes(session, earlier)

    ledger_backend.next_block_in_a_later_second()  # see test_department_suspension_...
    session.governance_sender().transact(session.registry().revoke_scopes(1, [BUSINESS_LICENCE]))
    assert BUSINESS_LICENCE not in session.registry().scopes(1)

    with pytest.raises(errors.AccreditationScopeNotGranted) as refused:
        anchor_bytes(session, licence(21))
    assert refused.value.arguments == {
        "signer": department.signer.lower(),
        "scope": BUSINESS_LICENCE,
    }
    assert_valid(verify(session, earlier))


@pytest.mark.parametrize("ledger_backend", ["anvil"], indirect=True)
@pytest.mark.parametrize("withdrawal", ["suspension", "scope-withdrawal"])
def test_same_second_withdrawal_keeps_earlier_records_valid(
    ledger_backend: Backend, department: RegisteredDepartment, withdrawal: str
) -> None:
    session = ledger_backend.session
    web3 = session.connection.web3
    earlier = licence(16)
    digest = anchor_bytes(session, earlier)
    record = session.certificates().certificate(digest)
    assert record is not None

    ledger_backend.next_block_in_the_same_second()
    if withdrawal == "suspension":
        receipt = session.send(departments.suspend(session, 1))
    else:
        receipt = session.governance_sender().transact(
            session.registry().revoke_scopes(1, [BUSINESS_LICENCE])
        )
    withdrawn_at = web3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert receipt["blockNumber"] > record.anchored_block
    assert datetime.fromtimestamp(withdrawn_at, UTC) == record.anchored_at  # the precondition

    # The registry counts the whole second of a withdrawal on the earlier side (every record of
    # that second was made before it): valid at the anchor's second, withdrawn from the next.
    assert_valid(verify(session, earlier))
    registry = session.registry()
    second = record.anchored_at
    assert registry.is_department_authorized(1, BUSINESS_LICENCE, DEPARTMENT_REGION, second)
    assert not registry.is_department_authorized(
        1, BUSINESS_LICENCE, DEPARTMENT_REGION, second + timedelta(seconds=1)
    )

    # New records are refused at once, in that same second, with the precise reason. Fixed gas:
    # the transaction is mined (and reverts) in the withdrawal's second instead of being refused
    # by the gas estimate.
    ledger_backend.next_block_in_the_same_second()
    later = document_hash_of(licence(17)).hash
    certificates = session.certificates()
    terms = certificates.encode_terms(BUSINESS_LICENCE, DEPARTMENT_REGION, None)
    anchor = certificates.contract.functions.anchorCertificate(later, terms)
    refused: pytest.ExceptionInfo[errors.ContractError]
    if withdrawal == "suspension":
        with pytest.raises(errors.AccreditationDepartmentSuspended) as refused:
            session.department_sender(1).transact(anchor, gas=500_000)
        assert refused.value.arguments == {"signer": department.signer.lower()}
    else:
        with pytest.raises(errors.AccreditationScopeNotGranted) as refused:
            session.department_sender(1).transact(anchor, gas=500_000)
        assert refused.value.arguments == {
            "signer": department.signer.lower(),
            "scope": BUSINESS_LICENCE,
        }
    failed = web3.eth.get_block("latest")
    assert failed["number"] == receipt["blockNumber"] + 1
    assert failed["timestamp"] == withdrawn_at
    (failed_transaction,) = failed["transactions"]
    assert isinstance(failed_transaction, HexBytes)
    assert web3.eth.get_transaction_receipt(failed_transaction)["status"] == 0
    assert session.certificates().certificate(later) is None


@pytest.mark.parametrize("ledger_backend", ["anvil"], indirect=True)
def test_suspension_lifted_in_the_same_second_leaves_no_gap(
    ledger_backend: Backend, department: RegisteredDepartment
) -> None:
    session = ledger_backend.session
    web3 = session.connection.web3
    earlier = licence(18)
    record = session.certificates().certificate(anchor_bytes(session, earlier))
    assert record is not None

    ledger_backend.next_block_in_the_same_second()
    suspended = session.send(departments.suspend(session, 1))
    ledger_backend.next_block_in_the_same_second()
    reinstated = session.send(departments.reinstate(session, 1))
    assert reinstated["blockNumber"] > suspended["blockNumber"] > record.anchored_block
    changed_at = {
        datetime.fromtimestamp(web3.eth.get_block(receipt["blockNumber"])["timestamp"], UTC)
        for receipt in (suspended, reinstated)
    }
    assert changed_at == {record.anchored_at}

    # The suspension is recorded from the next second, the reinstatement from its own: an empty
    # window, so the department never counts as suspended.
    registry = session.registry()
    for offset in (0, 1):
        moment = record.anchored_at + timedelta(seconds=offset)
        assert registry.is_department_authorized(1, BUSINESS_LICENCE, DEPARTMENT_REGION, moment)
    assert_valid(verify(session, earlier))
    later = licence(19)
    anchor_bytes(session, later)
    assert_valid(verify(session, later))


def test_scope_not_granted_is_refused(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    assert MARRIAGE_CERTIFICATE not in department.scopes
    content = licence(17)
    with pytest.raises(errors.AccreditationScopeNotGranted) as refused:
        anchor_bytes(ledger_session, content, cert_type=MARRIAGE_CERTIFICATE, subject=CITIZEN)
    assert refused.value.arguments == {
        "signer": department.signer.lower(),
        "scope": MARRIAGE_CERTIFICATE,
    }
    assert isinstance(refused.value, errors.NotAuthorizedError)
    assert only_failure(verify(ledger_session, content)).name is CheckName.ANCHORED

    customs = credit_category("customs-violation").code
    with pytest.raises(errors.AccreditationScopeNotGranted) as refused_credit:
        record_event(
            ledger_session.department_sender(1),
            ledger_session.credit(),
            ledger_session.subject_ref(ENTERPRISE),
            customs,
            Polarity.NEGATIVE,
            1,
            datetime(2024, 2, 2, tzinfo=UTC),
            keccak(b"customs evidence"),
        )
    assert refused_credit.value.arguments == {"signer": department.signer.lower(), "scope": customs}


def test_region_not_covered_is_refused(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    for region in (110102, 310101):  # a neighbouring county, another province
        with pytest.raises(errors.AccreditationRegionNotCovered) as refused:
            anchor_bytes(ledger_session, licence(region), region=region)
        assert refused.value.arguments == {"signer": department.signer.lower(), "region": region}
        assert ledger_session.certificates().certificate(keccak(licence(region))) is None


def test_duplicate_anchor_is_refused_and_the_record_kept(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    content = licence(18)
    digest = anchor_bytes(ledger_session, content)
    before = ledger_session.certificates().certificate(digest)

    with pytest.raises(errors.CertificateRegistryAlreadyAnchored) as refused:
        anchor_bytes(ledger_session, content, expires_at=datetime(2031, 1, 1, tzinfo=UTC))
    assert refused.value.arguments == {"docHash": digest}
    assert isinstance(refused.value, errors.DuplicateError)
    assert ledger_session.certificates().certificate(digest) == before


# ----------------------------------------------------------------------------------------------
# Credit events
# ----------------------------------------------------------------------------------------------


def citizen_with_x_check() -> str:
    """A synthetic identity number whose check character is X."""
    numbers = (make_citizen_id("110105", date(1992, 3, 15), n) for n in range(1000))
    return next(number for number in numbers if number.endswith("X"))


def test_credit_history_lists_events_oldest_occurrence_first_with_amendments(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    citizen = citizen_with_x_check()
    subject = ledger_session.subject_ref(citizen)
    # The lower-case spelling is the same person.
    assert ledger_session.subject_ref(citizen.lower()) == subject
    assert ledger_session.subject_ref(citizen, SubjectKind.CITIZEN) == subject
    other = ledger_session.subject_ref(ENTERPRISE)
    sender = ledger_session.department_sender(1)
    credit = ledger_session.credit()

    plan = [
        (TAX_VIOLATION, Polarity.NEGATIVE, 3, datetime(2024, 6, 1, tzinfo=UTC), None),
        (CONTRACT_DEFAULT, Polarity.NEGATIVE, 2, datetime(2023, 1, 15, tzinfo=UTC), None),
        (COMMENDATION, Polarity.POSITIVE, 4, datetime(2024, 1, 10, tzinfo=UTC), b"bafy-evidence"),
    ]
    recorded: list[tuple[bytes, bytes, int]] = []
    for index, (category, polarity, severity, occurred_at, cid) in enumerate(plan):
        evidence = keccak(text=f"evidence {index}")
        event_id, receipt = record_event(
            sender,
            credit,
            subject,
            category,
            polarity,
            severity,
            occurred_at,
            evidence,
            evidence_cid=cid,
        )
        recorded.append((event_id, evidence, receipt["blockNumber"]))
    sender.transact(
        credit.record(
            other,
            TAX_VIOLATION,
            Polarity.NEGATIVE,
            1,
            datetime(2022, 5, 5, tzinfo=UTC),
            keccak(b"x"),
        )
    )

    history = ledger_session.credit().history(subject)
    # Oldest occurrence first (the second, third, then first recorded), not recording order.
    shown = [recorded[1], recorded[2], recorded[0]]
    assert [e.event_id for e in history] == [r[0] for r in shown]
    assert [e.block_number for e in history] == [r[2] for r in shown]
    assert [e.evidence_hash for e in history] == [r[1] for r in shown]
    assert [e.evidence_cid for e in history] == [None, b"bafy-evidence", None]
    planned = [plan[1], plan[2], plan[0]]
    for event, (category, polarity, severity, occurred_at, _cid) in zip(
        history, planned, strict=True
    ):
        assert (event.category, event.polarity, event.severity) == (category, polarity, severity)
        assert event.occurred_at == occurred_at
        assert event.recorder == department.department_id
        assert (event.amendment, event.amendment_count, event.amended_at) == (
            Amendment.NONE,
            0,
            None,
        )
    assert len(ledger_session.credit().history(other)) == 1

    first, second, third = (r[0] for r in recorded)
    sender.transact(credit.amend(first, Amendment.DISPUTED, REASON_DOCUMENT))
    sender.transact(credit.amend(first, Amendment.UPHELD, REASON_DOCUMENT))
    sender.transact(credit.amend(second, Amendment.WITHDRAWN, REASON_DOCUMENT))

    amended = ledger_session.credit().history(subject)
    assert [e.event_id for e in amended] == [second, third, first]  # amendments add no events
    assert [(e.amendment, e.amendment_count) for e in amended] == [
        (Amendment.WITHDRAWN, 1),
        (Amendment.NONE, 0),
        (Amendment.UPHELD, 2),
    ]
    assert amended[2].amended_by == department.department_id
    assert amended[2].amended_at is not None
    single = ledger_session.credit().event(first)
    assert single is not None
    assert single.amendment is Amendment.UPHELD


def test_credit_duplicates_and_invalid_transitions_are_refused(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    subject = ledger_session.subject_ref(ENTERPRISE)
    sender = ledger_session.department_sender(1)
    credit = ledger_session.credit()
    occurred_at = datetime(2024, 4, 1, tzinfo=UTC)
    negative, _ = record_event(
        sender,
        credit,
        subject,
        TAX_VIOLATION,
        Polarity.NEGATIVE,
        4,
        occurred_at,
        keccak(b"audit report"),
    )
    positive, _ = record_event(
        sender, credit, subject, COMMENDATION, Polarity.POSITIVE, 2, occurred_at, keccak(b"award")
    )

    with pytest.raises(errors.CreditLedgerDuplicateEvent) as duplicate:
        record_event(
            sender,
            credit,
            subject,
            TAX_VIOLATION,
            Polarity.NEGATIVE,
            4,
            occurred_at,
            keccak(b"audit report"),
        )
    assert duplicate.value.arguments == {"eventId": negative}
    assert isinstance(duplicate.value, errors.DuplicateError)

    sender.transact(credit.amend(negative, Amendment.WITHDRAWN, REASON_DOCUMENT))
    with pytest.raises(errors.CreditLedgerInvalidTransition) as final:
        sender.transact(credit.amend(negative, Amendment.CORRECTED, REASON_DOCUMENT))
    assert final.value.arguments == {
        "eventId": negative,
        "current": Amendment.WITHDRAWN,
        "requested": Amendment.CORRECTED,
    }
    with pytest.raises(errors.CreditLedgerInvalidTransition) as repair:
        # Only negatives are repaired.
        sender.transact(credit.amend(positive, Amendment.REPAIRED, REASON_DOCUMENT))
    assert repair.value.arguments == {
        "eventId": positive,
        "current": Amendment.NONE,
        "requested": Amendment.REPAIRED,
    }
    unknown = keccak(b"no such event")
    with pytest.raises(errors.CreditLedgerUnknownEvent) as missing:
        sender.transact(credit.amend(unknown, Amendment.DISPUTED, REASON_DOCUMENT))
    assert missing.value.arguments == {"eventId": unknown}

    history = ledger_session.credit().history(subject)
    assert [(e.event_id, e.amendment) for e in history] == [
        (negative, Amendment.WITHDRAWN),
        (positive, Amendment.NONE),
    ]


# ----------------------------------------------------------------------------------------------
# A node that is down
# ----------------------------------------------------------------------------------------------


def test_verification_against_a_dead_node_is_invalid(
    ledger_backend: Backend, department: RegisteredDepartment
) -> None:
    session = ledger_backend.session
    content = licence(19)
    digest = anchor_bytes(session, content)
    assert_valid(verify(session, content))

    if ledger_backend.node is not None:
        ledger_backend.node.kill()
        assert not ledger_backend.node.alive()
    else:
        session.connection.close()  # the embedded chain stops answering

    for report in (verify(session, content), verify_hash(digest, session.context)):
        assert report.verdict is Verdict.INVALID
        failure = only_failure(report)
        assert failure.name is CheckName.ANCHORED
        assert failure.detail.startswith("chain read failed:")
        assert report.record is None
        assert not any(
            c.outcome is Outcome.PASSED
            for c in report.checks
            if c.name not in (CheckName.PARSED, CheckName.HASH)
        )


# ----------------------------------------------------------------------------------------------
# The same errors on both backends
# ----------------------------------------------------------------------------------------------

ErrorRecord = tuple[str, str, dict[str, object]]


def _normalized(value: object, names: dict[str, str]) -> object:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.lower() in names:
        return names[value.lower()]
    return value


def error_scenario(session: LedgerSession) -> list[ErrorRecord]:
    """Provoke one of each contract refusal; return (step, error class, arguments).

    Signing keys are random per data directory, so addresses are replaced by their role.
    """
    dept1 = add_department(session, 1, DEPARTMENT_REGION, DEPARTMENT_NAME, list(DEPARTMENT_SCOPES))
    dept2 = add_department(session, 2, DEPARTMENT_REGION, "东城区税务局", [BUSINESS_LICENCE])
    stranger = Account.create()
    names: dict[str, str] = {
        dept1.lower(): "department-1-key-1",
        dept2.lower(): "department-2-key-1",
        stranger.address.lower(): "unregistered-key",
    }
    governance = session.governance_sender()
    registry = session.registry()
    sender1 = session.department_sender(1)
    certificates = session.certificates()
    credit = session.credit()
    subject = session.subject_ref(ENTERPRISE)
    digest = anchor_bytes(session, licence(100))
    past = datetime(2024, 3, 3, tzinfo=UTC)
    event_id, _ = record_event(
        sender1, credit, subject, TAX_VIOLATION, Polarity.NEGATIVE, 2, past, keccak(b"e")
    )

    steps: list[tuple[str, Callable[[], object]]] = [
        ("duplicate anchor", lambda: anchor_bytes(session, licence(100))),
        (
            "scope",
            lambda: anchor_bytes(session, licence(101), cert_type=MARRIAGE_CERTIFICATE),
        ),
        ("region", lambda: anchor_bytes(session, licence(102), region=310101)),
        (
            "expiry",
            lambda: anchor_bytes(
                session, licence(103), expires_at=datetime(2001, 1, 1, tzinfo=UTC)
            ),
        ),
        ("missing reason", lambda: sender1.transact(certificates.revoke(digest, 0))),
        (
            "unknown certificate",
            lambda: sender1.transact(certificates.revoke(keccak(b"nothing"), 2)),
        ),
        (
            "not issuer",
            lambda: session.department_sender(2).transact(certificates.revoke(digest, 2)),
        ),
        (
            "unregistered key",
            lambda: anchor_bytes(session, licence(104), sender=session.sender_for(stranger)),
        ),
        (
            "duplicate event",
            lambda: sender1.transact(
                credit.record(subject, TAX_VIOLATION, Polarity.NEGATIVE, 2, past, keccak(b"e"))
            ),
        ),
        (
            "severity",
            lambda: sender1.transact(
                credit.record(subject, TAX_VIOLATION, Polarity.NEGATIVE, 9, past, keccak(b"f"))
            ),
        ),
        (
            "future",
            lambda: sender1.transact(
                credit.record(
                    subject,
                    TAX_VIOLATION,
                    Polarity.NEGATIVE,
                    1,
                    datetime(2100, 1, 1, tzinfo=UTC),
                    keccak(b"g"),
                )
            ),
        ),
        (
            "transition",
            lambda: sender1.transact(credit.amend(event_id, Amendment.UPHELD, REASON_DOCUMENT)),
        ),
        (
            "duplicate department",
            lambda: governance.transact(registry.register(2, 110101, keccak(b"n"), [])),
        ),
        ("reinstate active", lambda: governance.transact(registry.reinstate(1))),
    ]

    def collect(step: str, call: Callable[[], object]) -> ErrorRecord:
        with pytest.raises(errors.ContractError) as caught:
            call()
        arguments = {k: _normalized(v, names) for k, v in caught.value.arguments.items()}
        return step, type(caught.value).__name__, arguments

    results = [collect(step, call) for step, call in steps]
    sender1.transact(certificates.revoke(digest, ReasonCode.FRAUD))
    results.append(
        collect("revoke twice", lambda: sender1.transact(certificates.revoke(digest, 2)))
    )
    rotate_department_key(session, 1)
    results.append(
        collect("rotated key", lambda: anchor_bytes(session, licence(105), sender=sender1))
    )
    governance.transact(registry.suspend(2))
    results.append(
        collect(
            "suspended",
            lambda: anchor_bytes(session, licence(106), sender=session.department_sender(2)),
        )
    )
    return results


def test_contract_errors_are_identical_on_both_backends(tmp_path: Path) -> None:
    outcomes: dict[BackendKind, list[ErrorRecord]] = {}
    for kind in BACKENDS:
        with open_backend(
            kind,
            tmp_path / kind,
            pepper=FIXED_PEPPER,
            keystore_password=FIXED_KEYSTORE_PASSWORD,
        ) as backend:
            outcomes[backend.kind] = error_scenario(backend.session)

    embedded, anvil = outcomes["embedded"], outcomes["anvil"]
    assert embedded == anvil
    classes = {step: name for step, name, _ in embedded}
    assert classes == {
        "duplicate anchor": "CertificateRegistryAlreadyAnchored",
        "scope": "AccreditationScopeNotGranted",
        "region": "AccreditationRegionNotCovered",
        "expiry": "CertificateRegistryInvalidExpiry",
        "missing reason": "CertificateRegistryMissingReason",
        "unknown certificate": "CertificateRegistryUnknownCertificate",
        "not issuer": "AccreditationNotIssuer",
        "unregistered key": "AccreditationUnknownSigner",
        "duplicate event": "CreditLedgerDuplicateEvent",
        "severity": "CreditLedgerInvalidSeverity",
        "future": "CreditLedgerOccurredInFuture",
        "transition": "CreditLedgerInvalidTransition",
        "duplicate department": "DepartmentRegistryDuplicateDepartment",
        "reinstate active": "DepartmentRegistrySuspensionUnchanged",
        "revoke twice": "CertificateRegistryInvalidStatus",
        "rotated key": "AccreditationKeyExpired",
        "suspended": "AccreditationDepartmentSuspended",
    }
    arguments = {step: args for step, _, args in embedded}
    assert arguments["scope"] == {"signer": "department-1-key-1", "scope": MARRIAGE_CERTIFICATE}
    assert arguments["not issuer"] == {"signer": "department-2-key-1", "issuer": 1}
    assert arguments["unregistered key"] == {"signer": "unregistered-key"}
    assert arguments["rotated key"] == {"signer": "department-1-key-1"}
    assert arguments["suspended"] == {"signer": "department-2-key-1"}
    assert arguments["transition"]["current"] == Amendment.NONE


def test_batch_of_certificates_under_one_root(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    """One anchored root stands for every certificate of the batch; revoking one leaf makes
    exactly that certificate revoked, on both backends."""
    documents = [licence(100 + index) for index in range(25)]
    tree = MerkleTree.build([document_hash_of(content).hash for content in documents])
    client = ledger_session.certificates()
    sender = ledger_session.department_sender(1)
    receipt = sender.transact(client.anchor_batch(tree.root, BUSINESS_LICENCE, DEPARTMENT_REGION))
    assert receipt["status"] == 1
    record = ledger_session.certificates().certificate(tree.root)
    assert record is not None
    assert record.kind is RecordKind.BATCH_ROOT
    for index in range(len(tree)):
        status = client.leaf_status(tree.root, tree.leaves[index], tree.proof(index))
        assert status == LeafStatus(CertificateStatus.ACTIVE, 0, None, None)

    sender.transact(client.revoke_leaf(tree.root, tree.leaves[7], tree.proof(7), ReasonCode.FRAUD))
    for index in range(len(tree)):
        status = client.leaf_status(tree.root, tree.leaves[index], tree.proof(index))
        if index == 7:
            assert (status.status, status.reason_code) == (CertificateStatus.REVOKED, 2)
            assert status.revoked_by == department.department_id
            assert status.revoked_at is not None
        else:
            assert status.status is CertificateStatus.ACTIVE
    with pytest.raises(errors.CertificateRegistryLeafAlreadyRevoked):
        sender.transact(
            client.revoke_leaf(tree.root, tree.leaves[7], tree.proof(7), ReasonCode.FRAUD)
        )
    with pytest.raises(errors.CertificateRegistryNotInBatch):
        sender.transact(
            client.revoke_leaf(tree.root, keccak(b"outsider"), tree.proof(3), ReasonCode.FRAUD)
        )
    # A proof that does not lead to the root is no status at all.
    forged = client.leaf_status(tree.root, tree.leaves[3], tree.proof(4))
    assert forged.status is CertificateStatus.NONE


def _wrapped_certificates(count: int) -> list[bytes]:
    return [
        dump_certificate(
            salt_fields(
                {
                    "enterprise": f"示例科技有限公司 {index}",
                    "creditCode": ENTERPRISE,
                    "scope": "软件开发",
                    "issuedOn": "2026-11-27",
                },
                certificate_type="business-licence",
            )
        )
        for index in range(count)
    ]


def test_batched_certificates_verify_and_every_tampering_is_named(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    """Acceptance of issue #5: a changed field, a changed salt, a forged proof, a proof for
    another root and a hidden field whose hash was altered are each INVALID with the failing
    check named; revoking one leaf makes exactly that certificate INVALID."""
    wrapped = _wrapped_certificates(6)
    files = [licence(300 + index) for index in range(3)]
    write = anchor_batch(
        ledger_session, [*wrapped, *files], certificate_type("business-licence"), department_id=1
    )
    ledger_session.send(write)
    outcome = write.facts
    assert outcome.manifest_cid is not None
    certificates = [wrap_certificate(data, outcome.proofs[i]) for i, data in enumerate(wrapped)]
    for index, certificate in enumerate(certificates):
        report = verify(ledger_session, certificate)
        assert_valid(report)
        assert check(report, CheckName.MERKLE).outcome is Outcome.PASSED
        assert report.document_hash == outcome.leaves[index]
    for offset, content in enumerate(files):
        proof = outcome.proofs[len(wrapped) + offset]
        assert_valid(verify(ledger_session, content, proof=BatchProof.loads(proof.dumps())))
        # Without its proof a batched file is not anchored on its own.
        assert only_failure(verify(ledger_session, content)).name is CheckName.ANCHORED

    loaded = load_certificate(certificates[0])
    # Selective disclosure keeps the proof valid.
    assert_valid(verify(ledger_session, dump_certificate(obfuscate(loaded, ["creditCode"]))))

    def named_failure(data: bytes, **options: Any) -> CheckName:
        return only_failure(verify(ledger_session, data, **options)).name

    changed_field = dict(certificate_to_json(loaded))
    changed_field["fields"] = {
        **loaded_fields(loaded),
        "scope": {"salt": loaded.fields["scope"].salt, "value": "房地产"},
    }
    assert named_failure(json_bytes(changed_field)) is CheckName.MERKLE
    changed_salt = dict(certificate_to_json(loaded))
    changed_salt["fields"] = {
        **loaded_fields(loaded),
        "scope": {"salt": "0" * 32, "value": loaded.fields["scope"].value},
    }
    assert named_failure(json_bytes(changed_salt)) is CheckName.MERKLE
    hidden = obfuscate(loaded, ["creditCode"])
    altered_hidden = dict(certificate_to_json(hidden))
    altered_hidden["obfuscated"] = ["ab" * 32]
    assert named_failure(json_bytes(altered_hidden)) is CheckName.MERKLE
    forged = outcome.proofs[0]
    forged_path = (bytes(32), *forged.path[1:])
    assert (
        named_failure(wrap_certificate(wrapped[0], replace(forged, path=forged_path)))
        is CheckName.MERKLE
    )
    other = anchor_batch(
        ledger_session,
        _wrapped_certificates(2),
        certificate_type("business-licence"),
        department_id=1,
    )
    ledger_session.send(other)
    assert named_failure(wrap_certificate(wrapped[0], other.facts.proofs[0])) is CheckName.MERKLE
    wrong_chain = replace(outcome.proofs[0], chain_id=outcome.proofs[0].chain_id + 1)
    assert named_failure(wrap_certificate(wrapped[0], wrong_chain)) is CheckName.MERKLE

    ledger_session.department_sender(1).transact(
        ledger_session.certificates().revoke_leaf(
            outcome.root, outcome.leaves[2], outcome.proofs[2].path, ReasonCode.FRAUD
        )
    )
    failure = only_failure(verify(ledger_session, certificates[2]))
    assert failure.name is CheckName.STATUS
    assert failure.detail == "revoked within its batch (reason: fraud)"
    for index, certificate in enumerate(certificates):
        if index != 2:
            assert_valid(verify(ledger_session, certificate))


def loaded_fields(certificate: Any) -> dict[str, Any]:
    return {
        name: {"salt": salted.salt, "value": salted.value}
        for name, salted in certificate.fields.items()
    }


def json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def test_joint_licensing_bundle(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    """Open a bundle of two licences from two departments, file both, see it complete; a part
    revoked later makes it incomplete (ADR 0011)."""
    tax_office = 2
    add_department(
        ledger_session,
        tax_office,
        DEPARTMENT_REGION,
        "东城区税务局",
        [certificate_type("tax-registration").code],
    )
    subject = ledger_session.subject_ref(ENTERPRISE)
    licence_hash = anchor_bytes(ledger_session, licence(900))
    tax_registration = document_hash_of(b"tax registration 900").hash
    ledger_session.department_sender(tax_office).transact(
        ledger_session.certificates().anchor(
            tax_registration,
            certificate_type("tax-registration").code,
            DEPARTMENT_REGION,
            subject_ref=subject,
        )
    )
    bundles = LicenceBundlesClient(ledger_session.context)
    lead = ledger_session.department_sender(1)
    tax = ledger_session.department_sender(tax_office)
    bundle_id = keccak(b"bundle: registration 900")
    deadline = datetime.now(UTC) + timedelta(days=30)
    parts = [
        (department.department_id, BUSINESS_LICENCE),
        (tax_office, certificate_type("tax-registration").code),
    ]
    lead.transact(bundles.open(bundle_id, subject, deadline, parts))
    opened = bundles.bundle(bundle_id)
    assert opened is not None
    assert (opened.lead, opened.subject_ref, opened.filed) == (department.department_id, subject, 0)
    lead.transact(bundles.file_part(bundle_id, 0, licence_hash))
    assert not bundles.is_complete(bundle_id)
    with pytest.raises(errors.LicenceBundlesWrongDepartment):
        lead.transact(bundles.file_part(bundle_id, 1, tax_registration))
    tax.transact(bundles.file_part(bundle_id, 1, tax_registration))
    complete = bundles.bundle(bundle_id)
    assert complete is not None
    assert complete.completed_at is not None
    assert [part.doc_hash for part in complete.parts] == [licence_hash, tax_registration]
    assert bundles.is_complete(bundle_id)
    ledger_session.department_sender(1).transact(
        ledger_session.certificates().revoke(licence_hash, ReasonCode.FRAUD)
    )
    assert not bundles.is_complete(bundle_id)


def test_bundle_verification_names_missing_and_revoked_parts(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    """A bundle verifies VALID only with every part filed and every filed certificate VALID;
    a missing part and a revoked part each make it INVALID naming ``bundle.parts`` alone."""
    tax_office, tax_type = 2, certificate_type("tax-registration").code
    add_department(ledger_session, tax_office, DEPARTMENT_REGION, "东城区税务局", [tax_type])
    licence_hash = anchor_bytes(ledger_session, licence(901))
    tax_hash = anchor_bytes(
        ledger_session,
        b"tax registration 901",
        cert_type=tax_type,
        sender=ledger_session.department_sender(tax_office),
    )
    with pytest.raises(errors.InvalidIdentifierError):
        open_bundle(
            ledger_session,
            1,
            CITIZEN,
            datetime.now(UTC) + timedelta(days=30),
            [(department.department_id, BUSINESS_LICENCE)],
        )
    with pytest.raises(errors.ValidationError, match="already passed"):
        open_bundle(
            ledger_session,
            1,
            ENTERPRISE,
            datetime.now(UTC) - timedelta(days=1),
            [(1, BUSINESS_LICENCE)],
        )
    opening = open_bundle(
        ledger_session,
        1,
        ENTERPRISE,
        datetime.now(UTC) + timedelta(days=30),
        [(department.department_id, BUSINESS_LICENCE), (tax_office, tax_type)],
    )
    receipt = ledger_session.send(opening)
    bundle_id = opening.facts.bundle_id
    assert receipt["status"] == 1
    assert ledger_session.bundles().bundle(bundle_id) is not None

    def bundle_failure() -> Check:
        report = verify_bundle(bundle_id, ledger_session.context)
        assert report.document_kind == "bundle"
        assert report.to_json()["parts"][0]["department"] == department.department_id
        return only_failure(report)

    ledger_session.department_sender(1).transact(
        ledger_session.bundles().file_part(bundle_id, 0, licence_hash)
    )
    missing = bundle_failure()
    assert missing.name is CheckName.BUNDLE
    assert missing.detail == (
        f"part 1 (tax-registration of department {tax_office}) is not filed (not yet)"
    )
    ledger_session.department_sender(tax_office).transact(
        ledger_session.bundles().file_part(bundle_id, 1, tax_hash)
    )
    complete = verify_bundle(bundle_id, ledger_session.context)
    assert complete.verdict is Verdict.VALID, complete.failures
    assert check(complete, CheckName.BUNDLE).detail == "all 2 part(s) filed, each certificate VALID"
    assert [part.report.verdict for part in complete.parts if part.report] == [Verdict.VALID] * 2
    finality = verify_bundle(bundle_id, ledger_session.context, confirmations=1000)
    assert only_failure(finality).name is CheckName.FINALITY

    ledger_session.department_sender(tax_office).transact(
        ledger_session.certificates().revoke(tax_hash, ReasonCode.FRAUD)
    )
    revoked = bundle_failure()
    assert revoked.name is CheckName.BUNDLE
    assert revoked.detail == (
        f"part 1 (tax-registration of department {tax_office}) 0x{tax_hash.hex()} is INVALID "
        "(status.current: revoked (reason: fraud))"
    )
    unknown = verify_bundle(keccak(b"no such bundle"), ledger_session.context)
    assert only_failure(unknown).name is CheckName.ANCHORED


def test_an_older_deployment_gets_the_bundles_contract_at_init(
    ledger_backend: Backend,
) -> None:
    session = ledger_backend.session
    path = session.settings.data_dir / "deployments.json"
    document = json.loads(path.read_text())
    [entry] = document.values()
    before = dict(entry)
    del entry["LicenceBundles"]
    path.write_text(json.dumps(document))
    session.close()
    upgraded, deployed = LedgerSession.initialize(session.settings)
    with upgraded:
        assert not deployed
        assert upgraded.deployment.licence_bundles is not None
        assert upgraded.deployment.licence_bundles != before["LicenceBundles"]
        assert upgraded.deployment.certificate_registry == before["CertificateRegistry"]
        [after] = json.loads(path.read_text()).values()
        assert after["LicenceBundles"] == upgraded.deployment.licence_bundles


def test_the_access_log_anchors_are_deployed_saved_and_anchor_through_the_session(
    ledger_session: LedgerSession,
) -> None:
    deployment = ledger_session.deployment
    assert deployment.access_log is not None
    [entry] = json.loads(
        (ledger_session.settings.data_dir / "deployments.json").read_text()
    ).values()
    assert entry["AccessLogAnchors"] == deployment.access_log
    assert Deployment.from_json(entry) == deployment
    assert "AccessLogAnchors" not in replace(deployment, access_log=None).to_json()

    anchors = ledger_session.access_log_anchors()
    assert anchors.contract.functions.owner().call() == ledger_session.keystore.governance().address
    root = keccak(b"access-log batch")
    ledger_session.governance_sender().transact(anchors.anchor(root, 1, 4))
    found = anchors.anchor_of(root)
    assert found is not None
    assert (found.first_seq, found.last_seq) == (1, 4)
    assert anchors.last_seq() == 4
    with pytest.raises(errors.AccessLogAnchorsRangeNotAfter):
        ledger_session.governance_sender().transact(anchors.anchor(keccak(b"again"), 4, 5))


def test_an_older_deployment_gets_the_access_log_anchors_at_init(
    ledger_backend: Backend,
) -> None:
    session = ledger_backend.session
    path = session.settings.data_dir / "deployments.json"
    document = json.loads(path.read_text())
    [entry] = document.values()
    before = dict(entry)
    del entry["AccessLogAnchors"]
    path.write_text(json.dumps(document))
    session.close()
    with (
        LedgerSession.open(session.settings) as older,
        pytest.raises(errors.NotDeployedError, match="ledger init"),
    ):
        older.access_log_anchors()
    upgraded, deployed = LedgerSession.initialize(session.settings)
    with upgraded:
        assert not deployed
        added = upgraded.deployment.access_log
        assert added is not None
        assert added != before["AccessLogAnchors"]
        assert upgraded.deployment.licence_bundles == before["LicenceBundles"]
        [after] = json.loads(path.read_text()).values()
        assert after == {**before, "AccessLogAnchors": added}
        anchors = upgraded.access_log_anchors()
        assert anchors.last_seq() == 0
        owner = anchors.contract.functions.owner().call()
        assert owner == upgraded.keystore.governance().address
    again, _ = LedgerSession.initialize(session.settings)
    with again:
        assert again.deployment.access_log == added


def test_add_department_finishes_a_registration_that_stopped_before_its_key(
    ledger_session: LedgerSession,
) -> None:
    """A registration that stopped after registering the department and creating its key, but
    before accrediting it, is finished by calling again: the same key is accredited, no other
    is created; a third call is a duplicate."""
    department_id, name = 7, "东城区民政局"
    registry = ledger_session.registry()
    ledger_session.governance_sender().transact(
        registry.register(department_id, DEPARTMENT_REGION, name_hash(name), [MARRIAGE_CERTIFICATE])
    )
    left = ledger_session.keystore.create_department_key(department_id).address
    assert departments.unaccredited_key(ledger_session, department_id) == left
    accredited = add_department(
        ledger_session, department_id, DEPARTMENT_REGION, name, [MARRIAGE_CERTIFICATE]
    )
    assert accredited == left
    assert [r.address for r in ledger_session.keystore.department_keys(department_id)] == [left]
    assert ledger_session.department_sender(department_id).address == left
    with pytest.raises(errors.DepartmentRegistryDuplicateDepartment):
        add_department(
            ledger_session, department_id, DEPARTMENT_REGION, name, [MARRIAGE_CERTIFICATE]
        )
