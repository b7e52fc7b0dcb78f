"""The transaction manager: sends journaled operations, watches them to their confirmation depth,
and recovers whatever a crash interrupted (ADR 0012).

One background thread works through the journal (:mod:`ledger.service.journal`):

* An ``accepted`` operation is simulated first (a contract refusal fails it with the decoded
  reason and nothing is signed), then signed with the next nonce of its key, **recorded as
  ``sent`` with the raw transaction**, and only then broadcast. Nonces are allocated here, from
  the higher of the journal's last one and the chain's pending count, never by asking the node
  for each transaction.
* A ``sent`` operation is looked up by its hash (and by the hashes it replaced). Mined and
  reverted: ``failed`` with the reason replayed at its block. Mined with the configured number
  of confirmations: ``confirmed``. Mined but not deep enough: its block is kept and checked
  again; when a reorganization drops it, the very same signed transaction is broadcast again.
  Not mined and unknown to the node (lost by a restart, dropped from the pool): broadcast again.
  Pending for longer than ``stuck_after``: replaced (same nonce, higher fee). Its nonce taken
  by another transaction (the key was used elsewhere): signed afresh with a new nonce.
* A nonce gap below a sent operation that no journaled transaction fills (a transaction signed
  elsewhere and lost) is filled with a zero-value transfer to the key itself, so the key's later
  transactions can be mined.
* Accepted operations are sent **round-robin across signing keys** (a department's, governance's),
  each key's own in the order they were accepted: a round sends one of each key with work
  waiting, and what was accepted meanwhile joins the next round (ADR 0018). A department that
  queued hundreds of operations delays another's next one by a round, not by its whole queue; a
  key's nonces still follow its operations' order, since every nonce of a key is allocated here,
  in that order, under the key's lock.

Recovery at start-up is the same pass run before the service answers: sent operations are
completed or re-sent, accepted ones sent. A transaction recorded before the crash is re-sent
byte for byte, so it lands at most once; an operation is never signed twice with two nonces
unless the first nonce is provably spent on something else.

Not here: how an operation's contract call is kept in the journal and rebuilt from it
(:mod:`ledger.service.calls`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final, cast

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import TransactionNotFound
from web3.types import Nonce, TxParams, TxReceipt

from ledger.chain.transactions import TransactionSender, translate_exception
from ledger.contracts import ChainContext
from ledger.errors import ChainUnavailableError, LedgerError
from ledger.service.calls import Call, build_function
from ledger.service.journal import Journal, Operation

__all__ = [
    "RoundRobin",
    "SignerResolver",
    "TransactionManager",
    "signing_key",
]

_log = logging.getLogger(__name__)

#: Gas headroom over the estimate (as :class:`~ledger.chain.transactions.TransactionSender`).
_GAS_MARGIN: Final = 1.2
#: Fee increase of a replacement (nodes require at least 10%).
_FEE_BUMP: Final = 1.25

#: Resolves an operation's signer (``{"department": id}`` or ``{"governance": true}``) to the
#: transaction sender of its current key.
SignerResolver = Callable[[Mapping[str, Any]], TransactionSender]


@dataclass(frozen=True)
class _Observed:
    receipt: TxReceipt | None
    head: int


class TransactionManager:
    """Sends and watches the journal's operations from one background thread."""

    def __init__(
        self,
        context: ChainContext,
        journal: Journal,
        signers: SignerResolver,
        *,
        chain_lock: contextlib.AbstractContextManager[object],
        confirmations: int = 0,
        stuck_after: float = 60.0,
        idle_poll: float = 1.0,
        busy_poll: float = 0.05,
        send_quantum: int = 32,
        on_failed: Callable[[Operation], None] | None = None,
    ) -> None:
        self.context = context
        self.web3: Web3 = context.web3
        self.journal = journal
        self.signers = signers
        self.chain_lock = chain_lock
        self.confirmations = confirmations
        self.stuck_after = stuck_after
        self.idle_poll = idle_poll
        self.busy_poll = busy_poll
        self.send_quantum = send_quantum
        self.on_failed = on_failed
        #: Accepted operations were left for the next pass by the quantum: it starts at once.
        self._deferred = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: dict[str, list[Callable[[Operation], None]]] = {}
        self._listeners_lock = threading.Lock()
        self._next_nonce: dict[str, int] = {}
        self._senders: dict[tuple[tuple[str, str], ...], TransactionSender] = {}
        self._contracts: dict[str, Contract] = {}

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread (again, after :meth:`stop`)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="transaction-manager", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Something was journaled: look at the journal now."""
        self._wake.set()

    def listen(self, op_id: str, callback: Callable[[Operation], None]) -> None:
        """Call ``callback`` (from the manager's thread) once operation ``op_id`` is finished;
        at once when it already is."""
        with self._listeners_lock:
            self._listeners.setdefault(op_id, []).append(callback)
        current = self.journal.get(op_id)
        if current is not None and current.finished:
            self._notify(current)

    def _notify(self, operation: Operation) -> None:
        with self._listeners_lock:
            callbacks = self._listeners.pop(operation.op_id, [])
        for callback in callbacks:
            try:
                callback(operation)
            except Exception:  # a listener's failure is its own
                _log.exception("operation listener failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.process()
            except Exception:
                _log.exception("transaction manager pass failed; retrying")
                busy = True
                self._deferred = False
                self._stop.wait(1.0)
            if not self._deferred:
                self._wake.wait(self.busy_poll if busy else self.idle_poll)
            self._wake.clear()

    # -- one pass -------------------------------------------------------------------------------

    def process(self) -> bool:
        """One pass over the unfinished operations; True when some are still unfinished."""
        self._senders = {}  # a key is looked up once a pass (rotations take effect next pass)
        self._deferred = False
        unfinished = self.journal.unfinished()
        sent = sorted(
            (op for op in unfinished if op.state == "sent"),
            key=lambda op: (op.signer or "", op.nonce or 0),
        )
        self._watch_all(sent)
        self._fill_gaps(sent)
        # Send in rounds, one operation of each signing key a round (ADR 0018). What is accepted
        # meanwhile joins the next round, so a key with one operation waits for one round, not
        # for another key's whole queue. Receipts are looked for at once (one head, one journal
        # transaction; a node that does not mine at once gets the transactions back to back):
        # after a round that served several keys, where someone waits for a turn, else when the
        # pass ends. A pass ends after `send_quantum` rounds, to watch what it sent earlier.
        rounds = RoundRobin([op for op in unfinished if op.state == "accepted"])
        just_sent: list[Operation] = []
        for _ in range(self.send_quantum):
            turns = rounds.next_round()
            if not turns:
                break
            for operation in turns:
                if self._stop.is_set():
                    return True
                signed = self._send(operation)
                if signed is not None:
                    just_sent.append(signed)
            if len(turns) > 1:
                self._watch_all(just_sent)
                just_sent = []
            rounds.add(self._newly_accepted(rounds.seen))
        self._watch_all(just_sent)
        self._deferred = rounds.waiting
        return bool(self.journal.counts().keys() & {"accepted", "sent"}) if unfinished else False

    def _newly_accepted(self, seen: set[str]) -> list[Operation]:
        """Operations accepted since the pass began (in acceptance order)."""
        fresh = [op_id for op_id in self.journal.accepted_ids() if op_id not in seen]
        found = (self.journal.get(op_id) for op_id in fresh)
        return [operation for operation in found if operation is not None]

    def _sender(self, signer: Mapping[str, Any]) -> TransactionSender:
        key = tuple(sorted((str(name), str(value)) for name, value in signer.items()))
        sender = self._senders.get(key)
        if sender is None:
            sender = self._senders[key] = self.signers(signer)
        return sender

    def _reload(self, operation: Operation) -> Operation:
        return self.journal.get(operation.op_id) or operation

    def recover(self) -> dict[str, int]:
        """Run passes until nothing is waiting to be sent (start-up), or three passes in a row
        sent nothing more: how many operations were unfinished by state before, and how many
        are left."""
        before = self.journal.counts()
        waiting = before.get("accepted", 0)
        idle = 0
        while idle < 3:
            self.process()
            left = self.journal.counts().get("accepted", 0)
            if left == 0:
                break
            idle = idle + 1 if left >= waiting else 0
            waiting = left
        after = self.journal.counts()
        return {
            "accepted": before.get("accepted", 0),
            "sent": before.get("sent", 0),
            "unfinished": after.get("accepted", 0) + after.get("sent", 0),
        }

    # -- sending --------------------------------------------------------------------------------

    def _send(self, operation: Operation) -> Operation | None:
        """Simulate, sign, record and broadcast; the operation as recorded, or None when it
        failed or must wait for the node."""
        try:
            call = Call.from_request(operation.request)
        except (KeyError, TypeError, ValueError) as exc:
            self._fail(operation, "ValidationError", f"malformed journal entry: {exc}")
            return None
        with self.chain_lock:
            try:
                sender = self._sender(call.signer)
                function = build_function(self.context, call, self._contracts)
            except LedgerError as exc:
                if isinstance(exc, ChainUnavailableError):
                    return None  # try again on the next pass
                self._fail(operation, type(exc).__name__, str(exc))
                return None
            with sender.lock:
                try:
                    params: TxParams = {"from": sender.address}
                    params["gas"] = int(function.estimate_gas(params) * _GAS_MARGIN)
                    nonce = self._allocate(sender.address)
                    params["nonce"] = Nonce(nonce)
                    params["chainId"] = self.context.deployment.chain_id
                    transaction = function.build_transaction(params)
                except Exception as exc:
                    translated = translate_exception(exc)
                    if translated is None:
                        raise
                    if isinstance(translated, ChainUnavailableError):
                        return None
                    self._fail(operation, type(translated).__name__, str(translated))
                    return None
                signed = sender.account.sign_transaction(cast(dict[str, Any], transaction))
                recorded = self.journal.mark_sent(
                    operation,
                    signer=sender.address,
                    nonce=nonce,
                    tx_hash=bytes(signed.hash),
                    raw_tx=bytes(signed.raw_transaction),
                )
                self._next_nonce[sender.address] = nonce + 1
                self._broadcast(bytes(signed.raw_transaction))
        return recorded

    def _allocate(self, signer: ChecksumAddress) -> int:
        """The next nonce of ``signer``: above every nonce the journal gave out, and not below
        what the chain has already seen (a transaction sent elsewhere)."""
        pending = int(self.web3.eth.get_transaction_count(signer, "pending"))
        known = self._next_nonce.get(signer)
        if known is None:  # first use since start: the journal remembers what was given out
            journaled = self.journal.highest_nonce(signer)
            known = 0 if journaled is None else journaled + 1
        return max(pending, known)

    def _broadcast(self, raw: bytes) -> str | None:
        """Send a signed transaction; the node's complaint in lower case, or None when taken."""
        try:
            self.web3.eth.send_raw_transaction(raw)
        except Exception as exc:
            message = str(exc).lower()
            if "already known" in message or "already imported" in message:
                return None
            translated = translate_exception(exc)
            if isinstance(translated, ChainUnavailableError) and "nonce" not in message:
                _log.warning("broadcast failed, will retry: %s", translated)
                return "unavailable"
            if translated is not None and not isinstance(translated, ChainUnavailableError):
                # Mined and reverted at once (an automining node): the watcher reads its receipt.
                return None
            return message or type(exc).__name__
        return None

    # -- watching -------------------------------------------------------------------------------

    def _observe(self, operation: Operation, head: int | None = None) -> _Observed:
        if head is None:
            head = int(self.web3.eth.block_number)
        for tx_hash in (operation.tx_hash, *operation.replaced):
            if tx_hash is None:
                continue
            try:
                receipt = self.web3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                continue
            if receipt is not None:
                return _Observed(receipt, head)
        return _Observed(None, head)

    def _watch_all(self, operations: Sequence[Operation]) -> None:
        """Look for the receipts of ``operations`` (one head for all); the ones deep enough are
        confirmed together, in one journal transaction."""
        if not operations:
            return
        confirmed: list[tuple[Operation, int, bytes]] = []
        with self.chain_lock:
            try:
                head = int(self.web3.eth.block_number)
            except Exception as exc:
                if translate_exception(exc) is None:
                    raise
                return  # the node does not answer: look again on the next pass
            for operation in operations:
                if self._stop.is_set():
                    break
                deep = self._watch(operation, head)
                if deep is not None:
                    confirmed.append((operation, *deep))
        if not confirmed:
            return
        self.journal.mark_confirmed_many(
            [(operation.op_id, block, mined) for operation, block, mined in confirmed]
        )
        for operation, block, mined in confirmed:
            self._notify(replace(operation, state="confirmed", block=block, tx_hash=mined))

    def _watch(self, operation: Operation, head: int) -> tuple[int, bytes] | None:
        """Bring one sent operation forward; (block, hash) when it is deep enough to confirm."""
        try:
            observed = self._observe(operation, head)
        except Exception as exc:
            if translate_exception(exc) is None:
                raise
            return None  # the node does not answer: look again on the next pass
        receipt = observed.receipt
        if receipt is not None:
            return self._mined(operation, receipt, observed.head)
        if operation.block is not None:
            _log.warning(
                "operation %s: its transaction left block %d (reorganization); re-sending",
                operation.op_id,
                operation.block,
            )
            self.journal.mark_mined(operation.op_id, None)
            operation = replace(operation, block=None)
        return self._not_mined(operation)

    def _mined(
        self, operation: Operation, receipt: TxReceipt, head: int
    ) -> tuple[int, bytes] | None:
        block = int(receipt["blockNumber"])
        mined_hash = bytes(receipt["transactionHash"])
        if receipt["status"] != 1:
            reason = self._revert_reason(operation, receipt)
            self._fail(operation, type(reason).__name__, str(reason), block=block)
            return None
        if head - block + 1 >= self.confirmations:
            return block, mined_hash
        if operation.block != block or mined_hash != operation.tx_hash:
            self.journal.mark_mined(operation.op_id, block, mined_hash)
        return None

    def _revert_reason(self, operation: Operation, receipt: TxReceipt) -> LedgerError:
        try:
            call = Call.from_request(operation.request)
            sender = self.signers(call.signer)
            transaction = self.web3.eth.get_transaction(receipt["transactionHash"])
            return sender.replay_failure(
                {"to": transaction["to"], "data": transaction["input"], "gas": transaction["gas"]},
                receipt,
            )
        except Exception as exc:
            translated = translate_exception(exc)
            if translated is not None:
                return translated
            return LedgerError(f"the transaction was mined and reverted ({type(exc).__name__})")

    def _not_mined(self, operation: Operation) -> tuple[int, bytes] | None:
        assert operation.tx_hash is not None
        assert operation.raw_tx is not None
        assert operation.signer is not None
        assert operation.nonce is not None
        signer = cast(ChecksumAddress, operation.signer)
        try:
            known = self.web3.eth.get_transaction(HexBytes(operation.tx_hash)) is not None
        except TransactionNotFound:
            known = False
        except Exception as exc:
            if translate_exception(exc) is None:
                raise
            return None
        if known:
            sent_at = operation.sent_at or operation.updated_at
            if (datetime.now(UTC) - sent_at).total_seconds() > self.stuck_after:
                self._replace(operation)
            return None
        latest = int(self.web3.eth.get_transaction_count(signer, "latest"))
        if latest > operation.nonce:
            # Its nonce went to a transaction that is not one of this operation's.
            _log.warning(
                "operation %s: nonce %d was used by another transaction; signing it again",
                operation.op_id,
                operation.nonce,
            )
            self.journal.reset_to_accepted(operation.op_id)
            self._next_nonce.pop(signer, None)
            return None
        complaint = self._broadcast(operation.raw_tx)
        if complaint is not None and complaint != "unavailable":
            _log.warning("operation %s: re-broadcast refused: %s", operation.op_id, complaint)
            return None
        observed = self._observe(operation)  # an automining node has mined it already
        if observed.receipt is None:
            return None
        return self._mined(operation, observed.receipt, observed.head)

    def _replace(self, operation: Operation) -> None:
        """Re-sign a stuck transaction with the same nonce and a higher fee."""
        call = Call.from_request(operation.request)
        sender = self.signers(call.signer)
        assert operation.nonce is not None
        original = self.web3.eth.get_transaction(HexBytes(operation.tx_hash or b""))
        replacement: dict[str, Any] = {
            "to": original["to"],
            "data": original["input"],
            "gas": original["gas"],
            "nonce": operation.nonce,
            "chainId": self.context.deployment.chain_id,
            "value": 0,
        }
        if original.get("maxFeePerGas") is not None:
            replacement["maxFeePerGas"] = int(int(original["maxFeePerGas"]) * _FEE_BUMP) + 1
            replacement["maxPriorityFeePerGas"] = (
                int(int(original["maxPriorityFeePerGas"]) * _FEE_BUMP) + 1
            )
        else:
            replacement["gasPrice"] = int(int(original["gasPrice"]) * _FEE_BUMP) + 1
        with sender.lock:
            signed = sender.account.sign_transaction(replacement)
            self.journal.mark_sent(
                operation,
                signer=sender.address,
                nonce=operation.nonce,
                tx_hash=bytes(signed.hash),
                raw_tx=bytes(signed.raw_transaction),
            )
            _log.warning(
                "operation %s: transaction pending for over %.0f s; replaced with a higher fee",
                operation.op_id,
                self.stuck_after,
            )
            self._broadcast(bytes(signed.raw_transaction))

    def _fill_gaps(self, sent: list[Operation]) -> None:
        """Fill a nonce below a waiting transaction that nothing journaled holds."""
        waiting: dict[str, set[int]] = {}
        for operation in sent:
            current = self._reload(operation)
            if current.state == "sent" and current.block is None and current.nonce is not None:
                waiting.setdefault(current.signer or "", set()).add(current.nonce)
        for signer, nonces in waiting.items():
            with self.chain_lock:
                try:
                    address = cast(ChecksumAddress, signer)
                    latest = int(self.web3.eth.get_transaction_count(address, "latest"))
                    pending = int(self.web3.eth.get_transaction_count(address, "pending"))
                except Exception as exc:
                    if translate_exception(exc) is None:
                        raise
                    continue
                lowest = min(nonces)
                if lowest <= latest or pending > latest:
                    continue  # no gap, or the node still holds the lower transactions
                journaled = {op.nonce for op in sent if op.signer == signer}
                for nonce in range(latest, lowest):
                    if nonce not in journaled:
                        self._filler(address, nonce)

    def _filler(self, address: ChecksumAddress, nonce: int) -> None:
        signer = address
        sender = self._sender_of(address)
        if sender is None:
            return
        with sender.lock:
            transaction: dict[str, Any] = {
                "to": address,
                "value": 0,
                "gas": 21_000,
                "nonce": nonce,
                "chainId": self.context.deployment.chain_id,
                "gasPrice": int(self.web3.eth.gas_price),
            }
            signed = sender.account.sign_transaction(transaction)
            _log.warning("nonce gap at %d for %s: filled with a zero-value transfer", nonce, signer)
            self._broadcast(bytes(signed.raw_transaction))

    def _sender_of(self, address: ChecksumAddress) -> TransactionSender | None:
        for operation in self.journal.unfinished():
            if operation.signer == address:
                return self.signers(Call.from_request(operation.request).signer)
        return None

    def _fail(
        self, operation: Operation, code: str, detail: str, *, block: int | None = None
    ) -> None:
        self.journal.mark_failed(operation.op_id, code, detail, block=block)
        failed = self.journal.get(operation.op_id)
        if failed is None:
            return
        if self.on_failed is not None:
            try:
                self.on_failed(failed)
            except Exception:
                _log.exception("clean-up after failed operation %s failed", operation.op_id)
        self._notify(failed)


def signing_key(operation: Operation) -> tuple[tuple[str, str], ...]:
    """Whose key signs ``operation`` (its journaled signer: a department or governance); a
    malformed entry is a key of its own (it fails when its turn comes)."""
    call = operation.request.get("call")
    signer = call.get("signer") if isinstance(call, dict) else None
    if not isinstance(signer, dict):
        return (("malformed", operation.op_id),)
    return tuple(sorted((str(name), str(value)) for name, value in signer.items()))


class RoundRobin:
    """Accepted operations in turns across signing keys (ADR 0018).

    Each key has a queue of its operations in the order they were added (acceptance order);
    a round is the head of every queue, keys in the order their queues began, so a key with one
    operation waits one round, however many another key has queued. A key whose queue empties
    goes to the back when it has work again. Each key's operations keep their order, so its
    nonces, allocated as they are sent, follow acceptance.
    """

    def __init__(self, operations: Sequence[Operation] = ()) -> None:
        self._queues: dict[tuple[tuple[str, str], ...], deque[Operation]] = {}
        #: Every operation ever added (an operation is taken once a pass).
        self.seen: set[str] = set()
        self.add(operations)

    def add(self, operations: Sequence[Operation]) -> None:
        """Queue operations not seen before, behind their key's."""
        for operation in operations:
            if operation.op_id not in self.seen:
                self.seen.add(operation.op_id)
                self._queues.setdefault(signing_key(operation), deque()).append(operation)

    def next_round(self) -> list[Operation]:
        """One operation of every key that has some."""
        turns = [queue.popleft() for queue in self._queues.values()]
        self._queues = {key: queue for key, queue in self._queues.items() if queue}
        return turns

    @property
    def waiting(self) -> bool:
        """Whether operations are left."""
        return bool(self._queues)


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass (tests and benchmarks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
