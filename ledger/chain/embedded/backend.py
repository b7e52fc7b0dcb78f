"""The embedded chain as eth-tester sees it: a persistent py-evm backend and its tester.

:class:`PersistentPyEVMBackend` is eth-tester's py-evm backend over the chain of
:mod:`ledger.chain.embedded.chain`, with three things eth-tester does otherwise:

* Block timestamps are ``max(parent + 1, now)``; before a transaction goes into an empty pending
  block its timestamp is refreshed to the current time (eth-tester would otherwise stamp it with
  the time the previous block was mined or the chain was opened). Under sustained load of more
  than one block per second the timestamps run ahead of the wall clock, one second per block.
* Transactions and receipts are found through py-evm's transaction-hash index (eth-tester scans
  every block from the head down).
* ``eth_getLogs`` skips blocks whose logs bloom cannot match (eth-tester reads every receipt of
  every block in the range): :class:`EmbeddedEthereumTester`.

Throughput is bounded by pure-Python ECDSA (eth-keys' native backend) unless ``coincurve`` is
installed; persistence itself costs little (see ``bench/embedded_chain.py``).

Not here: the web3 side (:mod:`ledger.chain.embedded.provider`), and no locking: eth-tester is not
thread-safe, and the provider serializes every request.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from eth.abc import BlockAPI, SignedTransactionAPI
from eth.constants import BLANK_ROOT_HASH
from eth.exceptions import HeaderNotFound
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth_bloom.bloom import BloomFilter
from eth_tester import EthereumTester
from eth_tester.backends.pyevm import PyEVMBackend
from eth_tester.backends.pyevm.main import get_default_account_keys
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_tester.exceptions import TransactionNotFound as TesterTransactionNotFound
from eth_tester.utils.filters import Filter, check_if_log_matches
from eth_typing import BlockNumber, Hash32
from eth_utils.hexadecimal import encode_hex

from ledger.chain.embedded.chain import DEFAULT_CHAIN_ID, open_chain
from ledger.chain.embedded.store import SqliteAtomicDB
from ledger.errors import LedgerError

__all__ = ["EmbeddedEthereumTester", "PersistentPyEVMBackend"]


class PersistentPyEVMBackend(PyEVMBackend):  # type: ignore[misc]  # eth-tester is untyped
    """eth-tester's py-evm backend over a :class:`SqliteAtomicDB`.

    On an empty database it writes genesis and ``chain_id``; otherwise it rebuilds the chain from
    the stored canonical head, with the chain id stored in the database (``chain_id`` is then
    ignored). Transactions and receipts are found through py-evm's transaction-hash index
    instead of eth-tester's scan over every block.
    """

    def __init__(self, db: SqliteAtomicDB, *, chain_id: int = DEFAULT_CHAIN_ID) -> None:
        # PyEVMBackend.__init__ would build an in-memory chain from genesis: not called.
        self.db = db
        self.account_keys = get_default_account_keys()
        self.chain = open_chain(db, chain_id=chain_id)

    # -- lifecycle ----------------------------------------------------------------------------

    def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
        raise LedgerError(
            "the persistent embedded chain cannot be reset to genesis; "
            "use a new data directory instead"
        )

    @property
    def chain_id(self) -> int:
        return int(self.chain.chain_id)

    # -- timestamps ---------------------------------------------------------------------------

    def _refresh_pending_timestamp(self) -> None:
        header = self.chain.header
        if header.transaction_root != BLANK_ROOT_HASH:
            return  # transactions already executed against this timestamp
        now = int(time.time())
        if now > header.timestamp:
            self.chain.set_header_timestamp(now)

    def send_raw_transaction(self, raw_transaction: bytes) -> Any:
        self._refresh_pending_timestamp()
        return super().send_raw_transaction(raw_transaction)

    def send_signed_transaction(self, signed_transaction: Any, block_number: Any = "latest") -> Any:
        self._refresh_pending_timestamp()
        return super().send_signed_transaction(signed_transaction, block_number)

    def send_transaction(self, transaction: Any) -> Any:
        self._refresh_pending_timestamp()
        return super().send_transaction(transaction)

    # -- indexed transaction lookup ----------------------------------------------------------

    def _find_transaction(
        self, transaction_hash: bytes
    ) -> tuple[BlockAPI, SignedTransactionAPI, int, bool]:
        chain = self.chain
        if chain.header.transaction_root != BLANK_ROOT_HASH:
            pending = chain.get_block()
            for index, transaction in enumerate(pending.transactions):
                if transaction.hash == transaction_hash:
                    return pending, transaction, index, True
        try:
            block_number, index = chain.chaindb.get_transaction_index(Hash32(transaction_hash))
        except EVMTransactionNotFound:
            raise TesterTransactionNotFound(
                f"No transaction found for transaction hash: {encode_hex(transaction_hash)}"
            ) from None
        block = chain.get_canonical_block_by_number(block_number)
        transactions = block.transactions
        if index >= len(transactions) or transactions[index].hash != transaction_hash:
            raise TesterTransactionNotFound(
                f"Transaction index is stale for hash: {encode_hex(transaction_hash)}"
            )
        transaction = chain.recent_transactions.get(transaction_hash, transactions[index])
        return block, transaction, index, False

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        block, transaction, index, is_pending = self._find_transaction(transaction_hash)
        return serialize_transaction(block, transaction, index, is_pending)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        block, transaction, index, is_pending = self._find_transaction(transaction_hash)
        receipts = block.get_receipts(self.chain.chaindb)
        return serialize_transaction_receipt(
            block, receipts, transaction, index, is_pending, self.chain.get_vm()
        )

    # -- log search ----------------------------------------------------------------------------

    def block_may_have_logs(self, block_number: int, addresses: Any, topics: Any) -> bool:
        """False only if the block's logs bloom rules out every log matching the filter.

        ``addresses`` and ``topics`` are eth-tester's normalized filter parameters: ``None``, a
        canonical address or a tuple of them; ``None`` or a tuple whose items are ``None``, a
        32-byte topic or a tuple of alternatives.
        """
        try:
            header = self.chain.get_canonical_block_header_by_number(BlockNumber(block_number))
        except HeaderNotFound:
            return True  # the pending block: let eth-tester look
        if header.bloom == 0:
            return False  # no logs at all
        bloom = BloomFilter(header.bloom)
        if addresses is not None:
            candidates = addresses if isinstance(addresses, tuple) else (addresses,)
            if candidates and not any(bytes(address) in bloom for address in candidates):
                return False
        for position in topics or ():
            if position is None:
                continue
            alternatives = position if isinstance(position, tuple) else (position,)
            if not alternatives or any(topic is None for topic in alternatives):
                continue
            if not any(bytes(topic) in bloom for topic in alternatives):
                return False
        return True


class EmbeddedEthereumTester(EthereumTester):  # type: ignore[misc]  # eth-tester is untyped
    """``EthereumTester`` whose ``get_logs`` skips blocks by their logs bloom.

    eth-tester's ``get_logs`` fetches every block in the range and every receipt in it (with a
    signature recovery per transaction): on a chain of thousands of blocks ``eth_getLogs`` from
    block 0 takes tens of seconds. The result is the same; only blocks whose bloom may match are
    read.
    """

    backend: PersistentPyEVMBackend

    def get_logs(
        self,
        from_block: Any = None,
        to_block: Any = None,
        address: Any = None,
        topics: Any = None,
    ) -> tuple[Any, ...]:
        self.validator.validate_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics
        )
        raw_from, raw_to, raw_address, raw_topics = self.normalizer.normalize_inbound_filter_params(
            from_block=from_block, to_block=to_block, address=address, topics=topics
        )
        raw_filter_params = {
            "from_block": raw_from,
            "to_block": raw_to,
            "addresses": raw_address,
            "topics": raw_topics,
        }
        log_filter = Filter(
            filter_params=raw_filter_params,
            filter_fn=functools.partial(check_if_log_matches, **raw_filter_params),
        )
        lower = self._bound(raw_from)
        upper = self._bound(raw_to)
        for block_number in range(lower, upper + 1):
            if not self.backend.block_may_have_logs(block_number, raw_address, raw_topics):
                continue
            block = self.get_block_by_number(block_number)
            for transaction_hash in block["transactions"]:
                receipt = self.get_transaction_receipt(transaction_hash)
                for log_entry in receipt["logs"]:
                    log_filter.add(self.normalizer.normalize_inbound_log_entry(log_entry))
        return tuple(
            self.normalizer.normalize_outbound_log_entry(item) for item in log_filter.get_all()
        )

    def _bound(self, raw_block: Any) -> int:
        if isinstance(raw_block, int):
            return raw_block
        return int(self.get_block_by_number("latest" if raw_block is None else raw_block)["number"])
