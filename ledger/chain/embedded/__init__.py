"""The embedded chain: py-evm (through eth-tester) in-process, persisted to SQLite.

``open_embedded_chain(data_dir)`` returns an :class:`EmbeddedChain` whose ``.web3`` talks to a
py-evm ``MiningChain`` stored in ``data_dir / "chain" / "chain.sqlite3"``. Every transaction is
mined in its own block (eth-tester's auto-mining), every mined block is durable before
``eth_sendTransaction`` / ``eth_sendRawTransaction`` returns, and the chain survives a restart or a
``kill -9`` with every mined block and all contract state (ADR 0002).

One module a layer, each built on the one before:

* :mod:`~ledger.chain.embedded.store`: the SQLite key-value store and its one commit per block;
* :mod:`~ledger.chain.embedded.chain`: the py-evm chain over it, genesis, reopening, our records;
* :mod:`~ledger.chain.embedded.backend`: the chain as eth-tester's backend (timestamps,
  indexed transaction look-up, log search by bloom);
* :mod:`~ledger.chain.embedded.provider`: the web3 provider, one request at a time;
* :mod:`~ledger.chain.embedded.handle`: the data directory's files and lock, opening and closing.

This package re-exports what the rest of the ledger uses; the modules' other names are its own.
"""

from ledger.chain.embedded.backend import PersistentPyEVMBackend
from ledger.chain.embedded.chain import DEFAULT_CHAIN_ID
from ledger.chain.embedded.handle import (
    CHAIN_DB_FILENAME,
    CHAIN_SUBDIR,
    LOCK_FILENAME,
    EmbeddedChain,
    open_embedded_chain,
)
from ledger.chain.embedded.provider import SerializedEthereumTesterProvider
from ledger.chain.embedded.store import SqliteAtomicDB

__all__ = [
    "CHAIN_DB_FILENAME",
    "CHAIN_SUBDIR",
    "DEFAULT_CHAIN_ID",
    "LOCK_FILENAME",
    "EmbeddedChain",
    "PersistentPyEVMBackend",
    "SerializedEthereumTesterProvider",
    "SqliteAtomicDB",
    "open_embedded_chain",
]
