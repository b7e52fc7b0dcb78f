"""Opening the embedded chain of a data directory: its files, its lock, and the handle on it.

:func:`open_embedded_chain` takes the exclusive lock on ``DATA_DIR/chain/LOCK`` (one process owns
the chain: the store's cache of committed values relies on it), opens
``DATA_DIR/chain/chain.sqlite3`` and builds store → chain and backend → tester → provider → web3.
:class:`EmbeddedChain` is the handle that closes them again, in order, and releases the lock.

Not here: how any of those layers works (the sibling modules of :mod:`ledger.chain.embedded`).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.chain.embedded.backend import EmbeddedEthereumTester, PersistentPyEVMBackend
from ledger.chain.embedded.chain import CANONICAL_HEAD_KEY
from ledger.chain.embedded.provider import SerializedEthereumTesterProvider
from ledger.chain.embedded.store import SqliteAtomicDB
from ledger.closing import Closing
from ledger.errors import DataDirectoryLockedError, NoLedgerError
from ledger.locks import ProcessLock

__all__ = [
    "CHAIN_DB_FILENAME",
    "CHAIN_SUBDIR",
    "LOCK_FILENAME",
    "EmbeddedChain",
    "open_embedded_chain",
]

#: Directory under the data directory that holds the embedded chain's files.
CHAIN_SUBDIR: Final = "chain"
CHAIN_DB_FILENAME: Final = "chain.sqlite3"
LOCK_FILENAME: Final = "LOCK"


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
        tester = EmbeddedEthereumTester(backend=backend, auto_mine_transactions=True)
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
