"""The write journal's bookkeeping (no chain): states, idempotency keys, backlogs, rounds; the
encoding of the calls it keeps is tests/unit/test_calls.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.problems import status_of_error
from ledger.documents import DocumentKind
from ledger.service.batch_jobs import BatchJobs
from ledger.service.calls import encode_call
from ledger.service.database import ServiceDatabase, ServiceDatabaseError
from ledger.service.journal import (
    BATCH_ANCHOR,
    BacklogFullError,
    IdempotencyConflictError,
    Journal,
    Operation,
)
from ledger.service.transactions import RoundRobin


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with ServiceDatabase(tmp_path / "service.sqlite3") as database:
        yield Journal(database)


def request(signer: dict[str, object] | None = None) -> dict[str, object]:
    return {
        "call": encode_call(
            "CertificateRegistry", "revoke", [b"\x01" * 32, 3], signer or {"department": 7}
        )
    }


def test_states_move_forward_only(journal: Journal) -> None:
    operation, created = journal.accept("certificate.revoke", request(), department_id=7)
    assert created
    assert (operation.state, operation.nonce, operation.finished) == ("accepted", None, False)
    journal.mark_sent(operation, signer="0xabc", nonce=4, tx_hash=b"\x02" * 32, raw_tx=b"r")
    journal.mark_mined(operation.op_id, 9)
    sent = journal.get(operation.op_id)
    assert sent is not None
    assert (sent.state, sent.nonce, sent.block, sent.raw_tx) == ("sent", 4, 9, b"r")
    assert journal.highest_nonce("0xabc") == 4
    journal.mark_confirmed(operation.op_id, 9)
    journal.mark_failed(operation.op_id, "X", "too late")  # a finished operation stays as it is
    done = journal.get(operation.op_id)
    assert done is not None
    assert (done.state, done.error_code, done.finished) == ("confirmed", None, True)
    assert journal.unfinished() == []
    assert journal.counts() == {"confirmed": 1}


def test_a_replacement_keeps_the_hashes_it_replaced(journal: Journal) -> None:
    operation, _ = journal.accept("certificate.revoke", request(), department_id=7)
    journal.mark_sent(operation, signer="0xabc", nonce=1, tx_hash=b"\x01" * 32, raw_tx=b"a")
    current = journal.get(operation.op_id)
    assert current is not None
    journal.mark_sent(current, signer="0xabc", nonce=1, tx_hash=b"\x02" * 32, raw_tx=b"b")
    replaced = journal.get(operation.op_id)
    assert replaced is not None
    assert (replaced.tx_hash, replaced.replaced) == (b"\x02" * 32, (b"\x01" * 32,))
    journal.reset_to_accepted(operation.op_id)
    again = journal.get(operation.op_id)
    assert again is not None
    assert (again.state, again.nonce, again.tx_hash) == ("accepted", None, None)
    assert again.replaced == (b"\x01" * 32, b"\x02" * 32)


def test_one_nonce_is_never_given_to_two_operations(journal: Journal) -> None:
    first, _ = journal.accept("certificate.revoke", request(), department_id=7)
    second, _ = journal.accept("certificate.revoke", request(), department_id=7)
    journal.mark_sent(first, signer="0xabc", nonce=5, tx_hash=b"\x01" * 32, raw_tx=b"a")
    with pytest.raises(ServiceDatabaseError):
        journal.mark_sent(second, signer="0xabc", nonce=5, tx_hash=b"\x03" * 32, raw_tx=b"c")


def test_idempotency_keys(journal: Journal) -> None:
    key = ("department:7", "key-1", b"\x0a" * 32)
    first, created = journal.accept(
        "certificate.revoke", request(), department_id=7, idempotency=key
    )
    again, created_again = journal.accept(
        "certificate.revoke", request(), department_id=7, idempotency=key
    )
    assert (created, created_again, again.op_id) == (True, False, first.op_id)
    assert journal.find("department:7", "key-1") == first
    assert journal.find("department:8", "key-1") is None
    with pytest.raises(IdempotencyConflictError):
        journal.accept(
            "certificate.revoke",
            request(),
            department_id=7,
            idempotency=("department:7", "key-1", b"\x0b" * 32),
        )
    other_scope, created_other = journal.accept(
        "certificate.revoke",
        request(),
        department_id=8,
        idempotency=("department:8", "key-1", b"\x0b" * 32),
    )
    assert created_other
    assert other_scope.op_id != first.op_id


def test_recorded_errors_map_to_problems() -> None:
    assert status_of_error("CertificateRegistryAlreadyAnchored") == (409, "duplicate")
    assert status_of_error("LicenceBundlesNotAuthorized") == (403, "not_authorized")
    assert status_of_error("ChainUnavailableError") == (503, "chain_unavailable")
    assert status_of_error("NoSuchError") == (500, "internal_error")


# -- a department's backlog (ADR 0018) ------------------------------------------------------------


@pytest.fixture
def capped(journal: Journal) -> Journal:
    journal.max_unfinished = 3
    return journal


def test_a_departments_backlog_is_capped(capped: Journal) -> None:
    made = [capped.accept("certificate.revoke", request(), department_id=7)[0] for _ in range(3)]
    assert capped.backlog(7) == 3
    with pytest.raises(BacklogFullError) as refused:
        capped.accept("certificate.revoke", request(), department_id=7)
    assert (refused.value.code, refused.value.retry_after) == ("too_many_operations", 1)
    with pytest.raises(BacklogFullError):
        capped.check_room(7)
    assert capped.backlog(7) == 3  # the refused one was not journaled
    # Other departments and governance have room of their own.
    capped.accept("certificate.revoke", request({"department": 8}), department_id=8)
    capped.accept("department.suspend", request({"governance": True}), department_id=None)
    # Finished operations leave the backlog.
    capped.mark_failed(made[0].op_id, "X", "refused")
    capped.mark_sent(made[1], signer="0xabc", nonce=1, tx_hash=b"\x01" * 32, raw_tx=b"a")
    capped.mark_confirmed(made[1].op_id, 5)
    assert capped.backlog(7) == 1
    capped.accept("certificate.revoke", request(), department_id=7)


def test_a_retry_and_work_the_department_did_not_ask_for_pass_the_cap(capped: Journal) -> None:
    key = ("department:7", "key-1", b"\x0a" * 32)
    first, _ = capped.accept("certificate.revoke", request(), department_id=7, idempotency=key)
    for _ in range(2):
        capped.accept("certificate.revoke", request(), department_id=7)
    again, created = capped.accept(
        "certificate.revoke", request(), department_id=7, idempotency=key
    )
    assert (again.op_id, created) == (first.op_id, False)
    # A subject's dispute, signed with the department's key, is not held back; it is counted.
    capped.accept("credit.amend", request(), department_id=7, capped=False)
    assert capped.backlog(7) == 4


def test_a_batch_job_counts_once_from_its_acceptance(capped: Journal) -> None:
    jobs = BatchJobs(capped.database)
    with capped.admission(7):
        job = jobs.create(7, "business-licence", None, [DocumentKind.FILE], [b"\x01" * 32])
    assert capped.backlog(7) == 1
    # Its anchoring is admitted with the job: neither refused nor counted again.
    for _ in range(2):
        capped.accept("certificate.revoke", request(), department_id=7)
    capped.accept(BATCH_ANCHOR, request(), department_id=7)
    assert capped.backlog(7) == 3
    with pytest.raises(BacklogFullError), capped.admission(7):
        jobs.create(7, "business-licence", None, [DocumentKind.FILE], [b"\x02" * 32])
    assert len(jobs.unfinished()) == 1
    jobs.fail(job.job_id, "failed", "the anchoring failed")
    assert capped.backlog(7) == 2


def test_no_cap_when_it_is_zero(journal: Journal) -> None:
    for _ in range(50):
        journal.accept("certificate.revoke", request(), department_id=7)
    journal.check_room(7)
    assert journal.backlog(7) == 50


# -- round-robin across signing keys (ADR 0018) ---------------------------------------------------


def test_rounds_take_one_operation_of_each_key_in_acceptance_order(journal: Journal) -> None:
    def accept(signer: dict[str, object]) -> Operation:
        return journal.accept("x", request(signer), department_id=None)[0]

    flood = [accept({"department": 7}) for _ in range(4)]
    other = accept({"department": 8})
    governance = accept({"governance": True})
    rounds = RoundRobin(journal.unfinished())
    assert rounds.next_round() == [flood[0], other, governance]
    late = accept({"department": 8})
    rounds.add(journal.unfinished())  # what joined meanwhile; the rest is known
    assert rounds.next_round() == [flood[1], late]
    assert rounds.next_round() == [flood[2]]
    assert rounds.waiting
    assert rounds.next_round() == [flood[3]]
    assert not rounds.waiting
    assert rounds.next_round() == []
    assert journal.accepted_ids() == [op.op_id for op in journal.unfinished()]
