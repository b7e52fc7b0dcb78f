"""The write journal and the transaction manager on both backends (ADR 0012): recovery from a
crash at every step, contract refusals, a nonce spent elsewhere; on anvil, a dropped
transaction and a reorganization before the confirmation depth."""

from __future__ import annotations

import contextlib
import functools
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ledger.chain.transactions import TransactionSender
from ledger.cli.departments import add_department
from ledger.service.calls import Call
from ledger.service.database import ServiceDatabase
from ledger.service.journal import Journal, Operation
from ledger.service.transactions import TransactionManager
from ledger.session import LedgerSession
from tests.integration.conftest import (
    BUSINESS_LICENCE,
    DEPARTMENT_ID,
    DEPARTMENT_NAME,
    DEPARTMENT_REGION,
    DEPARTMENT_SCOPES,
    Backend,
    RegisteredDepartment,
    open_backend,
)
from tests.support.anvil import AnvilNode

KIND = "certificate.anchor"


class Crash(BaseException):
    """Stands for the process dying at this point (not caught by the manager)."""


def signer_of(session: LedgerSession, signer: Mapping[str, Any]) -> TransactionSender:
    return session.department_sender(int(signer["department"]))


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with ServiceDatabase(tmp_path / "service.sqlite3") as database:
        yield Journal(database)


@pytest.fixture
def on_anvil(tmp_path: Path) -> Iterator[Backend]:
    """An anvil-backed ledger with department 1 (automining can be switched off there)."""
    with open_backend("anvil", tmp_path / "anvil") as backend:
        add_department(
            backend.session,
            DEPARTMENT_ID,
            DEPARTMENT_REGION,
            DEPARTMENT_NAME,
            list(DEPARTMENT_SCOPES),
        )
        yield backend


@pytest.fixture
def node(on_anvil: Backend) -> AnvilNode:
    assert on_anvil.node is not None
    return on_anvil.node


@contextlib.contextmanager
def manual_mining(node: AnvilNode) -> Iterator[None]:
    """Blocks are mined only on ``evm_mine`` inside the block; automining again after it."""
    node.rpc("evm_setAutomine", [False])
    try:
        yield
    finally:
        node.rpc("evm_setAutomine", [True])


def manager(session: LedgerSession, journal: Journal, **options: Any) -> TransactionManager:
    return TransactionManager(
        session.context,
        journal,
        functools.partial(signer_of, session),
        chain_lock=threading.RLock(),
        **options,
    )


def accept_anchor(
    session: LedgerSession, journal: Journal, department: int
) -> tuple[Operation, bytes]:
    doc_hash = secrets.token_bytes(32)
    function = session.certificates().anchor(doc_hash, BUSINESS_LICENCE, DEPARTMENT_REGION)
    call = Call.from_function(function, session.deployment, {"department": department})
    operation, created = journal.accept(
        KIND, {"call": call.to_json(), "response": {}}, department_id=department
    )
    assert created
    return operation, doc_hash


def anchored(session: LedgerSession, doc_hash: bytes) -> bool:
    return session.certificates().certificate(doc_hash) is not None


def nonce_of(session: LedgerSession, department: int) -> int:
    address = session.department_sender(department).address
    return int(session.connection.web3.eth.get_transaction_count(address, "latest"))


def test_accepted_operations_are_sent_and_confirmed(
    ledger_session: LedgerSession, department: RegisteredDepartment, journal: Journal
) -> None:
    before = nonce_of(ledger_session, department.department_id)
    made = [accept_anchor(ledger_session, journal, department.department_id) for _ in range(5)]
    summary = manager(ledger_session, journal).recover()
    assert summary == {"accepted": 5, "sent": 0, "unfinished": 0}
    for operation, doc_hash in made:
        current = journal.get(operation.op_id)
        assert current is not None
        assert current.state == "confirmed"
        assert anchored(ledger_session, doc_hash)
    nonces = sorted(journal.get(op.op_id).nonce for op, _ in made)  # type: ignore[union-attr]
    assert nonces == list(range(before, before + 5))  # consecutive: no gap
    assert nonce_of(ledger_session, department.department_id) == before + 5


def test_crash_after_recording_before_broadcast(
    ledger_session: LedgerSession, department: RegisteredDepartment, journal: Journal
) -> None:
    operation, doc_hash = accept_anchor(ledger_session, journal, department.department_id)
    crashing = manager(ledger_session, journal)

    def die(raw: bytes) -> None:
        raise Crash

    crashing._broadcast = die  # type: ignore[method-assign]
    with pytest.raises(Crash):
        crashing.process()
    recorded = journal.get(operation.op_id)
    assert recorded is not None
    assert recorded.state == "sent"
    assert recorded.raw_tx is not None
    assert not anchored(ledger_session, doc_hash)

    manager(ledger_session, journal).recover()
    done = journal.get(operation.op_id)
    assert done is not None
    assert (done.state, done.tx_hash, done.nonce) == ("confirmed", recorded.tx_hash, recorded.nonce)
    assert anchored(ledger_session, doc_hash)
    assert nonce_of(ledger_session, department.department_id) == recorded.nonce + 1  # type: ignore[operator]


def test_crash_after_broadcast_before_confirmation(
    ledger_session: LedgerSession, department: RegisteredDepartment, journal: Journal
) -> None:
    operation, doc_hash = accept_anchor(ledger_session, journal, department.department_id)
    crashing = manager(ledger_session, journal)

    def die(operation: Operation, head: int) -> None:
        raise Crash

    crashing._watch = die  # type: ignore[method-assign,assignment]
    with pytest.raises(Crash):
        crashing.process()
    assert anchored(ledger_session, doc_hash)  # on chain, but the journal does not know yet
    before = nonce_of(ledger_session, department.department_id)
    manager(ledger_session, journal).recover()
    done = journal.get(operation.op_id)
    assert done is not None
    assert done.state == "confirmed"
    assert nonce_of(ledger_session, department.department_id) == before  # nothing sent twice


def test_a_refused_operation_fails_without_spending_a_nonce(
    ledger_session: LedgerSession, department: RegisteredDepartment, journal: Journal
) -> None:
    first, doc_hash = accept_anchor(ledger_session, journal, department.department_id)
    function = ledger_session.certificates().anchor(doc_hash, BUSINESS_LICENCE, DEPARTMENT_REGION)
    call = Call.from_function(function, ledger_session.deployment, {"department": 1})
    again, _ = journal.accept(KIND, {"call": call.to_json()}, department_id=1)
    failures: list[Operation] = []
    running = manager(ledger_session, journal, on_failed=failures.append)
    running.recover()
    refused = journal.get(again.op_id)
    assert refused is not None
    assert (refused.state, refused.error_code, refused.nonce) == (
        "failed",
        "CertificateRegistryAlreadyAnchored",
        None,
    )
    assert [failure.op_id for failure in failures] == [again.op_id]
    confirmed = journal.get(first.op_id)
    assert confirmed is not None
    assert confirmed.state == "confirmed"


def test_a_nonce_spent_elsewhere_is_signed_again(
    ledger_session: LedgerSession, department: RegisteredDepartment, journal: Journal
) -> None:
    operation, doc_hash = accept_anchor(ledger_session, journal, department.department_id)
    crashing = manager(ledger_session, journal)
    crashing._broadcast = lambda raw: None  # type: ignore[method-assign,assignment,return-value]
    crashing._watch = lambda operation, head: None  # type: ignore[method-assign]
    crashing.process()
    recorded = journal.get(operation.op_id)
    assert recorded is not None
    assert recorded.state == "sent"
    # Someone else uses the key (the CLI, another process) and takes that nonce.
    other = secrets.token_bytes(32)
    ledger_session.department_sender(1).transact(
        ledger_session.certificates().anchor(other, BUSINESS_LICENCE, DEPARTMENT_REGION)
    )
    manager(ledger_session, journal).recover()
    done = journal.get(operation.op_id)
    assert done is not None
    assert done.state == "confirmed"
    assert done.nonce == (recorded.nonce or 0) + 1
    assert recorded.tx_hash in done.replaced
    assert anchored(ledger_session, doc_hash)


def test_a_transaction_dropped_by_the_node_is_sent_again(
    on_anvil: Backend, node: AnvilNode, journal: Journal
) -> None:
    session = on_anvil.session
    operation, doc_hash = accept_anchor(session, journal, DEPARTMENT_ID)
    with manual_mining(node):
        running = manager(session, journal)
        running.process()
        sent = journal.get(operation.op_id)
        assert sent is not None
        assert sent.state == "sent"
        assert sent.tx_hash is not None
        node.rpc("anvil_dropTransaction", ["0x" + sent.tx_hash.hex()])
        running.process()  # not known any more: broadcast again
        node.rpc("evm_mine")
        running.process()
    done = journal.get(operation.op_id)
    assert done is not None
    assert (done.state, done.tx_hash) == ("confirmed", sent.tx_hash)
    assert anchored(session, doc_hash)


def test_a_reorganization_before_the_depth_is_detected_and_sent_again(
    on_anvil: Backend, node: AnvilNode, journal: Journal
) -> None:
    session = on_anvil.session
    snapshot = node.rpc("evm_snapshot")
    operation, doc_hash = accept_anchor(session, journal, DEPARTMENT_ID)
    running = manager(session, journal, confirmations=3)
    running.process()
    mined = journal.get(operation.op_id)
    assert mined is not None
    assert (mined.state, mined.block) == ("sent", session.chain_head())  # mined, not final
    node.rpc("evm_mine")
    running.process()
    assert journal.get(operation.op_id).state == "sent"  # type: ignore[union-attr]
    # The chain reorganizes: the block with the transaction is gone.
    node.rpc("evm_revert", [snapshot])
    assert not anchored(session, doc_hash)
    with contextlib.suppress(Exception):
        node.rpc("anvil_dropAllTransactions")
    running.process()  # gone from its block: broadcast again (mined at once by anvil)
    again = journal.get(operation.op_id)
    assert again is not None
    assert again.state == "sent"
    assert anchored(session, doc_hash)
    for _ in range(2):
        node.rpc("evm_mine")
    running.process()
    final = journal.get(operation.op_id)
    assert final is not None
    assert (final.state, final.tx_hash) == ("confirmed", mined.tx_hash)


def test_a_stuck_transaction_is_replaced_with_a_higher_fee(
    on_anvil: Backend, node: AnvilNode, journal: Journal
) -> None:
    session = on_anvil.session
    operation, doc_hash = accept_anchor(session, journal, DEPARTMENT_ID)
    with manual_mining(node):
        running = manager(session, journal, stuck_after=0.2)
        running.process()
        first = journal.get(operation.op_id)
        assert first is not None
        assert first.state == "sent"
        time.sleep(0.3)
        running.process()  # still pending after stuck_after: replaced, same nonce
        replaced = journal.get(operation.op_id)
        assert replaced is not None
        assert replaced.nonce == first.nonce
        assert replaced.tx_hash != first.tx_hash
        assert replaced.replaced == (first.tx_hash,)
        node.rpc("evm_mine")
        running.process()
    done = journal.get(operation.op_id)
    assert done is not None
    assert (done.state, done.tx_hash) == ("confirmed", replaced.tx_hash)
    assert anchored(session, doc_hash)
    assert nonce_of(session, DEPARTMENT_ID) == (first.nonce or 0) + 1


def test_a_nonce_gap_left_by_a_lost_transaction_is_filled(
    on_anvil: Backend, node: AnvilNode, journal: Journal
) -> None:
    """A transaction signed elsewhere with the key takes nonce n and is lost before it is
    mined; the journal's next one has n + 1 and cannot be mined until n is filled."""
    session = on_anvil.session
    sender = session.department_sender(DEPARTMENT_ID)
    start = nonce_of(session, DEPARTMENT_ID)
    with manual_mining(node):
        web3 = session.connection.web3
        foreign = sender.account.sign_transaction(
            {
                "to": sender.address,
                "value": 0,
                "gas": 21_000,
                "gasPrice": int(web3.eth.gas_price) * 2,
                "nonce": start,
                "chainId": session.deployment.chain_id,
            }
        )
        web3.eth.send_raw_transaction(foreign.raw_transaction)
        operation, doc_hash = accept_anchor(session, journal, DEPARTMENT_ID)
        running = manager(session, journal)
        running.process()
        sent = journal.get(operation.op_id)
        assert sent is not None
        assert sent.nonce == start + 1
        node.rpc("anvil_dropTransaction", ["0x" + bytes(foreign.hash).hex()])
        running.process()  # the gap at `start` is filled with a zero-value transfer
        node.rpc("evm_mine")
        running.process()
        node.rpc("evm_mine")
        running.process()
    done = journal.get(operation.op_id)
    assert done is not None
    assert done.state == "confirmed", done
    assert anchored(session, doc_hash)
    assert nonce_of(session, DEPARTMENT_ID) == start + 2


def test_a_key_with_one_operation_waits_a_round_not_for_another_keys_queue(
    ledger_session: LedgerSession, department: RegisteredDepartment, journal: Journal
) -> None:
    """ADR 0018: department 1 has ten anchorings queued; department 2's, accepted after all of
    them, is sent in the first round, and one accepted while the pass runs joins its second
    round. Each key's nonces still follow acceptance, without a gap."""
    other = department.department_id + 1
    add_department(ledger_session, other, DEPARTMENT_REGION, "另一部门", list(DEPARTMENT_SCOPES))
    start = nonce_of(ledger_session, department.department_id)
    flood = [accept_anchor(ledger_session, journal, department.department_id) for _ in range(10)]
    first, _ = accept_anchor(ledger_session, journal, other)
    running = manager(ledger_session, journal)
    send = running._send
    late: list[Operation] = []

    def send_and_accept_another(operation: Operation) -> Operation | None:
        sent = send(operation)
        if not late:  # department 2 asks again while the pass is under way
            late.append(accept_anchor(ledger_session, journal, other)[0])
        return sent

    running._send = send_and_accept_another  # type: ignore[method-assign]
    running.process()

    def block_of(operation: Operation) -> int:
        current = journal.get(operation.op_id)
        assert current is not None
        assert current.state == "confirmed", current
        assert current.block is not None
        return current.block

    flood_blocks = [block_of(operation) for operation, _ in flood[:3]]
    assert flood_blocks[0] < block_of(first) < flood_blocks[1]
    assert flood_blocks[1] < block_of(late[0]) < flood_blocks[2]
    running.recover()
    nonces = [journal.get(op.op_id).nonce for op, _ in flood]  # type: ignore[union-attr]
    assert nonces == list(range(start, start + 10))  # in acceptance order, no gap
    assert all(anchored(ledger_session, doc_hash) for _, doc_hash in flood)
