"""The embedded chain's key-value store: py-evm's ``BaseAtomicDB`` over one SQLite table.

:class:`SqliteAtomicDB` keeps ``kv(key BLOB PRIMARY KEY, value BLOB)`` in WAL mode with
``synchronous=FULL`` (the WAL is fsynced before ``COMMIT`` returns). It knows bytes, not blocks:
which write ends a block is the chain's business (:mod:`ledger.chain.embedded.chain`), which
process may open the file the handle's (:mod:`ledger.chain.embedded.handle`).

Storage and crash consistency
=============================

Writes are **not** sent to SQLite one by one: every write, whether direct (``db[key] = value``)
or through a successful ``atomic_batch()``, goes into an in-memory *pending* layer that reads see
immediately. :meth:`SqliteAtomicDB.commit` writes the whole pending layer in one SQLite
transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``). A failed ``atomic_batch`` (exception inside the
``with``) is dropped without touching the pending layer.

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
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final, cast

from eth.abc import AtomicWriteBatchAPI
from eth.db.backends.base import BaseAtomicDB, BaseDB
from eth_utils.exceptions import ValidationError

from ledger.errors import ChainUnavailableError, LedgerError

__all__ = ["SqliteAtomicDB"]

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


class _ReadThrough(BaseDB):
    """The mapping reads of the store and of its write batches, both answered by ``_read``."""

    @abstractmethod
    def _read(self, key: bytes) -> bytes | None:
        """The value of ``key``, or None when it is absent (or deleted)."""

    def __getitem__(self, key: bytes) -> bytes:
        value = self._read(key)
        if value is None:
            raise KeyError(key)
        return value

    def _exists(self, key: bytes) -> bool:
        return self._read(key) is not None

    def _present_key(self, key: object) -> bytes:
        """``key`` as plain bytes, for a deletion: a missing key is a ``KeyError``."""
        key = _validate_key(key)
        if not self._exists(key):
            raise KeyError(key)
        return key


class SqliteAtomicDB(_ReadThrough, BaseAtomicDB):
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

    # -- writes ------------------------------------------------------------------------------

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._check_usable()
        key = _validate_key(key)
        self._pending[key] = _validate_value(value)
        if key in self._commit_keys:
            self.commit()

    def __delitem__(self, key: bytes) -> None:
        self._check_usable()
        key = self._present_key(key)
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


class _SqliteWriteBatch(_ReadThrough, AtomicWriteBatchAPI):
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

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._target()
        self._changes[_validate_key(key)] = _validate_value(value)

    def __delitem__(self, key: bytes) -> None:
        self._changes[self._present_key(key)] = None

    def _close(self) -> None:
        self._db = None
        self._changes = {}
