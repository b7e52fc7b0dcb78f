"""The embedded chain: py-evm (through eth-tester) in-process, persisted to SQLite.

Moved whole into :mod:`ledger.chain.embedded.store` first, so that its history follows; the
package re-exports the names the rest of the ledger uses.
"""

from ledger.chain.embedded.store import (
    CHAIN_DB_FILENAME,
    CHAIN_SUBDIR,
    DEFAULT_CHAIN_ID,
    LOCK_FILENAME,
    EmbeddedChain,
    PersistentPyEVMBackend,
    SerializedEthereumTesterProvider,
    SqliteAtomicDB,
    open_embedded_chain,
)

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
