"""The embedded chain: py-evm (through eth-tester) in-process, persisted to SQLite.

``open_embedded_chain(data_dir)`` returns an :class:`EmbeddedChain` whose ``.web3`` talks to a
py-evm ``MiningChain`` stored in ``data_dir / "chain" / "chain.sqlite3"``. Every transaction is
mined in its own block (eth-tester's auto-mining), every mined block is durable before
``eth_sendTransaction`` / ``eth_sendRawTransaction`` returns, and the chain survives a restart or a
``kill -9`` with every mined block and all contract state.

Storage and crash consistency
=============================

:class:`SqliteAtomicDB` is a py-evm ``BaseAtomicDB`` over one SQLite table
``kv(key BLOB PRIMARY KEY, value BLOB)`` in WAL mode with ``synchronous=FULL`` (the WAL is fsynced
before ``COMMIT`` returns). Writes are **not** sent to SQLite one by one: every write, whether
direct (``db[key] = value``) or through a successful ``atomic_batch()``, goes into an in-memory
*pending* layer that reads see immediately. :meth:`SqliteAtomicDB.commit` writes the whole pending
layer in one SQLite transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``). A failed ``atomic_batch``
(exception inside the ``with``) is dropped without touching the pending layer.

Where py-evm writes, for one auto-mined transaction (``MiningChain.apply_transaction`` then
``mine_block``):

1. ``vm.state.persist()`` after the transaction: the storage-trie nodes of dirty accounts (one
   ``atomic_batch``), then the account-trie nodes and new contract code (a second batch).
2. ``set_block_transactions_and_withdrawals``: the transaction-trie and receipt-trie nodes
   (``chaindb.persist_trie_data_dict``, one batch each).
3. ``mine_block`` → ``finalize_block`` → ``state.persist()`` again (the post-merge zero block
   reward still touches the coinbase).
4. ``chaindb.persist_block``: ONE ``atomic_batch`` with the header, score, block-number → hash
   mapping, the transaction-hash → (block, index) index, chain gaps and the **canonical head**
   (``b"v1:canonical_head_hash"``).

Steps 1-3 only reach the pending layer. The database is built with
``commit_keys={canonical head key}``: when a batch (or a direct write) that sets the canonical
head has been merged into the pending layer, the store commits. So the **only commit point per
block is the end of** ``persist_block``, and that one SQLite transaction carries the block, its
index entries, the head **and** every state/trie node written since the previous block. A crash
before the ``COMMIT`` leaves the previous block as head with its complete state (SQLite ignores
an uncommitted WAL tail); a crash after it has the whole new block. A head can never point to
missing state. (Committing every batch as it comes, as py-evm's LevelDB backend effectively does,
would also never expose a dangling head, because state is written before the head, but it costs
five or more fsyncs per block and leaves orphaned trie nodes after a crash.) Genesis is the same:
the chain-id record and the genesis state are pending until ``persist_header`` sets the head.

The commit happens inside ``mine_block``, which eth-tester runs before returning the transaction
hash, so a caller that got a hash (or a receipt) back knows the block is on disk. Writes still
pending when the store is closed (a transaction applied but never mined, only possible with
auto-mining switched off) are discarded: they were never part of a block.

Reads go pending layer → an in-memory FIFO cache of committed values → SQLite. The cache only
ever holds committed values and is updated on every commit, which is sound because one process
owns the database (``fcntl.flock`` on ``chain/LOCK``). If a commit fails (disk full, I/O error)
the store refuses all further use and must be reopened: the in-memory chain would otherwise have
moved past what is on disk.

Other facts
===========

* Chain id: :data:`DEFAULT_CHAIN_ID` (1337), written into the database with genesis; a reopened
  database keeps the chain id it was created with.
* Genesis: eth-tester's defaults (ten accounts with private keys 1..10, 1,000,000 ETH each, gas
  limit 30,029,122, post-merge header) on the ``PragueVM`` (Cancun-compatible and later).
  These keys are public knowledge: the embedded chain is a local development chain only.
* On reopen the chain object is rebuilt from the stored head; genesis is not re-run.
* Block timestamps are ``max(parent + 1, now)``; before a transaction goes into an empty pending
  block its timestamp is refreshed to the current time (eth-tester would otherwise stamp it with
  the time the previous block was mined or the chain was opened). Under sustained load of more
  than one block per second the timestamps run ahead of the wall clock, one second per block.
* eth-tester is not thread-safe: the provider serializes ``make_request`` with a lock.
* Transactions and receipts are found through py-evm's transaction-hash index (eth-tester scans
  every block from the head down), and ``eth_getLogs`` skips blocks whose logs bloom cannot
  match (eth-tester reads every receipt of every block in the range).
* web3 8's eth-tester endpoint table is patched where it is wrong: ``eth_chainId`` (hard-coded
  to eth-tester's default id), ``eth_getStorageAt`` at a block number (the hex number reaches
  eth-tester unconverted and is rejected) and log filters with ``HexBytes`` topics (eth-tester
  compares topic types, so they matched nothing).
* Throughput is bounded by pure-Python ECDSA (eth-keys' native backend) unless ``coincurve`` is
  installed; persistence itself costs little (see ``bench/embedded_chain.py``).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

from eth.abc import (
    AtomicDatabaseAPI,
    AtomicWriteBatchAPI,
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    VirtualMachineAPI,
)
from eth.chains.base import MiningChain
from eth.db.backends.base import BaseAtomicDB, BaseDB
from eth.db.schema import SchemaV1
from eth.exceptions import HeaderNotFound
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth.vm.forks.prague import PragueVM
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_bloom.bloom import BloomFilter
from eth_tester import EthereumTester
from eth_tester.backends.pyevm import PyEVMBackend
from eth_tester.backends.pyevm.main import (
    generate_genesis_state_for_keys,
    get_default_account_keys,
    get_default_genesis_params,
)
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_tester.exceptions import TransactionNotFound as TesterTransactionNotFound
from eth_tester.utils.filters import Filter, check_if_log_matches
from eth_typing import BlockNumber, Hash32
from eth_utils.exceptions import ValidationError
from eth_utils.hexadecimal import encode_hex
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse

from ledger.closing import Closing
from ledger.errors import (
    ChainUnavailableError,
    DataDirectoryLockedError,
    LedgerError,
    NoLedgerError,
)
from ledger.locks import ProcessLock

__all__ = [
    "CHAIN_DB_FILENAME",
    "DEFAULT_CHAIN_ID",
    "LOCK_FILENAME",
    "EmbeddedChain",
    "PersistentPyEVMBackend",
    "SerializedEthereumTesterProvider",
    "SqliteAtomicDB",
    "open_embedded_chain",
]

#: Chain id of a newly created embedded chain (the usual local development id).
DEFAULT_CHAIN_ID: Final = 1337
#: Directory under the data directory that holds the embedded chain's files.
CHAIN_SUBDIR: Final = "chain"
CHAIN_DB_FILENAME: Final = "chain.sqlite3"
LOCK_FILENAME: Final = "LOCK"

#: py-evm's canonical head pointer: writing it is the per-block commit point.
CANONICAL_HEAD_KEY: Final = SchemaV1.make_canonical_head_hash_lookup_key()
#: Our own records live under this prefix; py-evm keys are 32-byte hashes or ``v1:``/ascii names.
_META_PREFIX: Final = b"gov-ledger:embedded:"
_CHAIN_ID_KEY: Final = _META_PREFIX + b"chain-id"
_FORMAT_KEY: Final = _META_PREFIX + b"format"
_FORMAT_VERSION: Final = 1

_BLANK_ROOT_HASH: Final = bytes.fromhex(
    "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
)

_MISSING: Final = object()
_Pending = dict[bytes, bytes | None]  # None marks a deletion


def _as_bytes(what: str, data: object) -> bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)  # e.g. HexBytes: store and index plain bytes
    raise TypeError(f"{what} must be bytes, got {type(data).__name__}")


def _validate_key(key: object) -> bytes:
    return _as_bytes("keys", key)


def _validate_value(value: object) -> bytes:
    return _as_bytes("values", value)


# ---------------------------------------------------------------------------------------------
# Key-value store
# ---------------------------------------------------------------------------------------------


class SqliteAtomicDB(BaseAtomicDB):
    """py-evm ``BaseAtomicDB`` over SQLite (WAL, ``synchronous=FULL``) with explicit commits.

    Writes are visible to reads at once but become durable only at :meth:`commit`, which writes
    everything pending in one SQLite transaction. If ``commit_keys`` is given, a write of one of
    those keys (directly, or anywhere in a successful ``atomic_batch``) commits automatically
    once the write (the whole batch) is in. Not thread-safe: callers serialize access (the
    embedded chain does so through its provider lock).

    ``cache_entries`` bounds the in-memory cache of committed values (0 disables it);
    ``busy_timeout`` is how long, in seconds, a commit waits for SQLite's write lock.
    """

    def __init__(
        self,
        path: Path,
        *,
        commit_keys: Iterable[bytes] = (),
        cache_entries: int = 50_000,
        busy_timeout: float = 5.0,
    ) -> None:
        if cache_entries < 0:
            raise ValueError("cache_entries must not be negative")
        self.path = Path(path)
        self._commit_keys: frozenset[bytes] = frozenset(commit_keys)
        self._cache_entries = cache_entries
        self._pending: _Pending = {}
        self._cache: dict[bytes, bytes] = {}
        self._failure: BaseException | None = None
        self._closed = False
        if not self.path.exists():
            # Create the file ourselves so that it is private from the start.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
        )
        try:
            self._configure()
        except BaseException:
            self._conn.close()
            raise

    def _configure(self) -> None:
        conn = self._conn
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise LedgerError("the embedded chain database could not be switched to WAL mode")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MiB page cache
        conn.execute("PRAGMA journal_size_limit=67108864")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY NOT NULL, value BLOB NOT NULL) "
            "WITHOUT ROWID"
        )

    # -- state -------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending_count(self) -> int:
        """Number of keys written (or deleted) since the last commit."""
        return len(self._pending)

    def _check_usable(self) -> None:
        if self._closed:
            raise ChainUnavailableError("the embedded chain database is closed")
        if self._failure is not None:
            raise ChainUnavailableError(
                "the embedded chain database failed to commit a block; close and reopen the chain"
            ) from self._failure

    # -- reads -------------------------------------------------------------------------------

    def _read(self, key: bytes) -> bytes | None:
        if self._closed or self._failure is not None:
            self._check_usable()
        value = self._pending.get(key, _MISSING)
        if value is not _MISSING:
            return cast(bytes | None, value)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        row = self._conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        stored = bytes(row[0])
        self._remember(key, stored)
        return stored

    def __getitem__(self, key: bytes) -> bytes:
        value = self._read(key)
        if value is None:
            raise KeyError(key)
        return value

    def _exists(self, key: bytes) -> bool:
        return self._read(key) is not None

    # -- writes ------------------------------------------------------------------------------

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._check_usable()
        key = _validate_key(key)
        self._pending[key] = _validate_value(value)
        if key in self._commit_keys:
            self.commit()

    def __delitem__(self, key: bytes) -> None:
        self._check_usable()
        key = _validate_key(key)
        if not self._exists(key):
            raise KeyError(key)
        self._pending[key] = None
        if key in self._commit_keys:
            self.commit()

    @contextlib.contextmanager
    def atomic_batch(self) -> Iterator[AtomicWriteBatchAPI]:
        self._check_usable()
        batch = _SqliteWriteBatch(self)
        try:
            yield batch  # an exception here drops the batch: nothing reaches the pending layer
            changes = batch._changes
            self._check_usable()
            self._pending.update(changes)
            if self._commit_keys and not self._commit_keys.isdisjoint(changes):
                self.commit()
        finally:
            batch._close()

    def commit(self) -> None:
        """Write everything pending in one SQLite transaction (durable when this returns)."""
        self._check_usable()
        pending = self._pending
        if not pending:
            return
        cache = self._cache
        upserts = [
            (key, value)
            for key, value in pending.items()
            if value is not None and cache.get(key) != value
        ]
        deletes = [(key,) for key, value in pending.items() if value is None]
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            if upserts:
                conn.executemany("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", upserts)
            if deletes:
                conn.executemany("DELETE FROM kv WHERE key = ?", deletes)
            conn.execute("COMMIT")
        except BaseException as exc:
            self._failure = exc
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise ChainUnavailableError(
                    "the embedded chain database could not commit a block; "
                    "close and reopen the chain"
                ) from exc
            raise
        self._pending = {}
        for key, value in pending.items():
            if value is None:
                cache.pop(key, None)
            else:
                self._remember(key, value)

    def rollback(self) -> None:
        """Discard every write since the last commit."""
        self._pending = {}

    def _remember(self, key: bytes, value: bytes) -> None:
        cache = self._cache
        if self._cache_entries == 0:
            return
        cache[key] = value
        if len(cache) > self._cache_entries:
            # FIFO eviction of the oldest tenth: cheap and good enough for trie-node reuse.
            drop = max(1, self._cache_entries // 10)
            for old in list(itertools.islice(cache, drop)):
                del cache[old]

    def close(self) -> None:
        """Close the connection; writes not yet committed are discarded."""
        if self._closed:
            return
        self._closed = True
        self._pending = {}
        self._cache = {}
        self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteAtomicDB({self.path.name!r}, pending={len(self._pending)})"


class _SqliteWriteBatch(BaseDB, AtomicWriteBatchAPI):
    """The readable view handed out by :meth:`SqliteAtomicDB.atomic_batch`."""

    def __init__(self, db: SqliteAtomicDB) -> None:
        self._db: SqliteAtomicDB | None = db
        self._changes: _Pending = {}

    def _target(self) -> SqliteAtomicDB:
        if self._db is None:
            raise ValidationError("cannot use a write batch outside its atomic_batch() context")
        return self._db

    def _read(self, key: bytes) -> bytes | None:
        db = self._target()
        value = self._changes.get(key, _MISSING)
        if value is not _MISSING:
            return cast(bytes | None, value)
        return db._read(key)

    def __getitem__(self, key: bytes) -> bytes:
        value = self._read(key)
        if value is None:
            raise KeyError(key)
        return value

    def _exists(self, key: bytes) -> bool:
        return self._read(key) is not None

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._target()
        self._changes[_validate_key(key)] = _validate_value(value)

    def __delitem__(self, key: bytes) -> None:
        key = _validate_key(key)
        if not self._exists(key):
            raise KeyError(key)
        self._changes[key] = None

    def _close(self) -> None:
        self._db = None
        self._changes = {}


# ---------------------------------------------------------------------------------------------
# Chain and eth-tester backend
# ---------------------------------------------------------------------------------------------

_VM_CONFIGURATION: Final = cast(
    tuple[tuple[BlockNumber, type[VirtualMachineAPI]], ...], ((BlockNumber(0), PragueVM),)
)
_RECENT_TRANSACTIONS: Final = 256


class _EmbeddedMiningChain(MiningChain):
    """eth-tester's tester chain (constant gas limit) with the chain id set per database."""

    vm_configuration = _VM_CONFIGURATION
    chain_id = DEFAULT_CHAIN_ID

    def __init__(self, base_db: AtomicDatabaseAPI, header: BlockHeaderAPI | None = None) -> None:
        #: Recently applied transactions by hash (insertion-ordered, bounded).
        self.recent_transactions: dict[bytes, SignedTransactionAPI] = {}
        super().__init__(base_db, cast(BlockHeaderAPI, header))  # py-evm accepts None

    def create_header_from_parent(
        self, parent_header: BlockHeaderAPI, **header_params: Any
    ) -> BlockHeaderAPI:
        header_params["gas_limit"] = parent_header.gas_limit
        return super().create_header_from_parent(parent_header, **header_params)

    def get_transaction_builder(self) -> Any:
        return super().get_vm().get_transaction_builder()

    def apply_transaction(
        self, transaction: SignedTransactionAPI
    ) -> tuple[BlockAPI, ReceiptAPI, ComputationAPI]:
        result = super().apply_transaction(transaction)
        # Keep the object whose sender has already been recovered: decoding the transaction
        # from the block again for its receipt would repeat the (pure-Python) ECDSA recovery.
        recent = self.recent_transactions
        recent[transaction.hash] = transaction
        if len(recent) > _RECENT_TRANSACTIONS:
            del recent[next(iter(recent))]
        return result


def _chain_class(chain_id: int) -> type[_EmbeddedMiningChain]:
    return cast(
        type[_EmbeddedMiningChain],
        type(f"EmbeddedMiningChain{chain_id}", (_EmbeddedMiningChain,), {"chain_id": chain_id}),
    )


def _encode_uint(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _decode_uint(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


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
        if CANONICAL_HEAD_KEY in db:
            self.chain = self._reopen(db)
        else:
            self.chain = self._create(db, chain_id)

    @staticmethod
    def _create(db: SqliteAtomicDB, chain_id: int) -> _EmbeddedMiningChain:
        if not 0 < chain_id < 2**64:
            raise ValueError("chain_id must be a positive 64-bit integer")
        db.rollback()  # a half-written genesis from an earlier crash is not in SQLite anyway
        db[_FORMAT_KEY] = _encode_uint(_FORMAT_VERSION)
        db[_CHAIN_ID_KEY] = _encode_uint(chain_id)
        genesis_state = generate_genesis_state_for_keys(get_default_account_keys())
        # from_genesis persists the state (pending) then the genesis header, whose head write
        # commits format, chain id, genesis state and header in one transaction.
        chain = _chain_class(chain_id).from_genesis(db, get_default_genesis_params(), genesis_state)
        return cast(_EmbeddedMiningChain, chain)

    @staticmethod
    def _reopen(db: SqliteAtomicDB) -> _EmbeddedMiningChain:
        try:
            chain_id = _decode_uint(db[_CHAIN_ID_KEY])
            version = _decode_uint(db[_FORMAT_KEY])
        except KeyError as exc:
            raise LedgerError(
                "the embedded chain database has a chain head but no chain id record; "
                "it was not created by this ledger"
            ) from exc
        if version != _FORMAT_VERSION:
            raise LedgerError(f"unsupported embedded chain database format {version}")
        chain = _chain_class(chain_id)(db)
        head = chain.get_canonical_head()
        if head.state_root != _BLANK_ROOT_HASH and head.state_root not in db:
            raise LedgerError(
                f"the embedded chain database is inconsistent: state of head block "
                f"{head.block_number} is missing"
            )
        return chain

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
        if header.transaction_root != _BLANK_ROOT_HASH:
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
        if chain.header.transaction_root != _BLANK_ROOT_HASH:
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


class _EmbeddedEthereumTester(EthereumTester):  # type: ignore[misc]  # eth-tester is untyped
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


# ---------------------------------------------------------------------------------------------
# web3 provider and the public handle
# ---------------------------------------------------------------------------------------------


def _static(value: object) -> Callable[..., object]:
    def respond(*_args: object, **_kwargs: object) -> object:
        return value

    return respond


def _api_endpoints(chain_id: int) -> dict[str, dict[str, Callable[..., Any]]]:
    """web3's eth-tester endpoint table, answering ``eth_chainId`` / ``net_version`` truthfully.

    web3 hard-codes ``eth_chainId`` to eth-tester's default chain id (131277322940537), whatever
    the backend's chain actually uses; locally signed transactions would then carry the wrong id.
    """
    from web3.providers.eth_tester.defaults import API_ENDPOINTS

    endpoints = {namespace: dict(methods) for namespace, methods in API_ENDPOINTS.items()}
    endpoints["eth"]["chainId"] = _static(chain_id)
    endpoints["net"]["version"] = _static(str(chain_id))
    endpoints["eth"]["getStorageAt"] = _numeric_block_argument(
        endpoints["eth"]["getStorageAt"], index=2
    )
    endpoints["eth"]["getLogs"] = _plain_bytes_topics(endpoints["eth"]["getLogs"])
    endpoints["eth"]["newFilter"] = _plain_bytes_topics(endpoints["eth"]["newFilter"])
    return endpoints


def _plain_topic(topic: Any) -> Any:
    if isinstance(topic, bytes):
        return bytes(topic)
    if isinstance(topic, list | tuple):
        return type(topic)(_plain_topic(item) for item in topic)
    return topic


def _plain_bytes_topics(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Pass log-filter topics to eth-tester as plain ``bytes``.

    eth-tester matches a topic only if ``type(log_topic) is type(filter_topic)``: a ``HexBytes``
    topic (what ``Web3.keccak`` and every log returned by web3 hold) silently matches nothing.
    """

    def call(tester: Any, params: Any) -> Any:
        args = list(params)
        if args and isinstance(args[0], dict) and args[0].get("topics") is not None:
            args[0] = {**args[0], "topics": _plain_topic(args[0]["topics"])}
        return endpoint(tester, args)

    return call


_NAMED_BLOCKS: Final = frozenset({"latest", "earliest", "pending", "safe", "finalized"})


def _numeric_block_argument(endpoint: Callable[..., Any], *, index: int) -> Callable[..., Any]:
    """Turn a hex block number argument into an int before eth-tester validates it.

    web3 8's eth-tester middleware does this for ``eth_getBalance``/``eth_getCode`` but not for
    ``eth_getStorageAt``, so reading storage at a past block fails with a ValidationError.
    """

    def call(tester: Any, params: Any) -> Any:
        args = list(params)
        if len(args) > index:
            block = args[index]
            if isinstance(block, str) and block not in _NAMED_BLOCKS:
                args[index] = int(block, 16)
        return endpoint(tester, args)

    return call


class SerializedEthereumTesterProvider(EthereumTesterProvider):
    """``EthereumTesterProvider`` running one request at a time (eth-tester is not thread-safe)."""

    def __init__(self, ethereum_tester: Any, *, chain_id: int) -> None:
        super().__init__(ethereum_tester=ethereum_tester, api_endpoints=_api_endpoints(chain_id))
        self.lock = threading.RLock()
        self._closed = False

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self.lock:
            if self._closed:
                raise ChainUnavailableError("the embedded chain is closed")
            return super().make_request(method, params)

    def mark_closed(self) -> None:
        with self.lock:
            self._closed = True


def _directory_lock(path: Path) -> ProcessLock:
    """The exclusive lock on ``chain/LOCK``: one process owns the embedded chain."""

    def busy(pid: str) -> DataDirectoryLockedError:
        return DataDirectoryLockedError(
            "the embedded chain's data directory is in use by another process "
            f"(pid {pid}); stop it or use a different data directory"
        )

    return ProcessLock(path, busy=busy)


@dataclass(eq=False)
class EmbeddedChain(Closing):
    """Handle on an open embedded chain; close it (or use ``with``) to release the directory."""

    web3: Web3
    chain_id: int
    funded_accounts: tuple[LocalAccount, ...]
    path: Path
    backend: PersistentPyEVMBackend = field(repr=False)
    _provider: SerializedEthereumTesterProvider = field(repr=False)
    _db: SqliteAtomicDB = field(repr=False)
    _lock: ProcessLock = field(repr=False)
    _closed: bool = field(default=False, repr=False)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def lock(self) -> threading.RLock:
        """The lock serializing access to eth-tester; hold it to use :attr:`backend` directly."""
        return self._provider.lock

    def close(self) -> None:
        """Stop serving requests, close the database and release the directory lock."""
        with self._provider.lock:
            if self._closed:
                return
            self._closed = True
            self._provider.mark_closed()
            try:
                self._db.close()
            finally:
                self._lock.release()


def open_embedded_chain(data_dir: Path, *, create: bool = True) -> EmbeddedChain:
    """Open the embedded chain stored under ``data_dir / "chain"``, creating it on first use
    when ``create`` is true.

    Raises :class:`~ledger.errors.NoLedgerError` when there is no chain and ``create`` is false
    (nothing is written then), and :class:`~ledger.errors.DataDirectoryLockedError` when another
    process (or another open handle in this process) holds it.
    """
    chain_dir = Path(data_dir) / CHAIN_SUBDIR
    if not create and not (chain_dir / CHAIN_DB_FILENAME).is_file():
        raise NoLedgerError.at(data_dir)
    chain_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(chain_dir, 0o700)
    lock = _directory_lock(chain_dir / LOCK_FILENAME)
    db: SqliteAtomicDB | None = None
    try:
        db = SqliteAtomicDB(chain_dir / CHAIN_DB_FILENAME, commit_keys=(CANONICAL_HEAD_KEY,))
        backend = PersistentPyEVMBackend(db)
        tester = _EmbeddedEthereumTester(backend=backend, auto_mine_transactions=True)
        provider = SerializedEthereumTesterProvider(tester, chain_id=backend.chain_id)
        funded = tuple(Account.from_key(key.to_bytes()) for key in backend.account_keys)
        return EmbeddedChain(
            web3=Web3(provider),
            chain_id=backend.chain_id,
            funded_accounts=funded,
            path=chain_dir,
            backend=backend,
            _provider=provider,
            _db=db,
            _lock=lock,
        )
    except BaseException:
        if db is not None:
            db.close()
        lock.release()
        raise
