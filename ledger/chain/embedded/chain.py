"""The embedded chain itself: a py-evm ``MiningChain`` over the store, and its records in it.

:func:`open_chain` builds the chain from genesis on an empty store, or rebuilds it from the stored
canonical head. Besides py-evm's own keys the store holds two records of ours, under the prefix
``gov-ledger:embedded:``: the format version (1) and the chain id, both 32-byte big-endian
integers. They are the on-disk format this module keeps: a data directory written by any earlier
version opens unchanged.

* Chain id: :data:`DEFAULT_CHAIN_ID` (1337), written into the database with genesis; a reopened
  database keeps the chain id it was created with.
* Genesis: eth-tester's defaults (ten accounts with private keys 1..10, 1,000,000 ETH each, gas
  limit 30,029,122, post-merge header) on the ``PragueVM`` (Cancun-compatible and later).
  These keys are public knowledge: the embedded chain is a local development chain only.
* On reopen the chain object is rebuilt from the stored head; genesis is not re-run.

Not here: how bytes reach SQLite (:mod:`ledger.chain.embedded.store`) and how eth-tester runs
transactions on the chain (:mod:`ledger.chain.embedded.backend`).
"""

from __future__ import annotations

from typing import Any, Final, cast

from eth.abc import (
    AtomicDatabaseAPI,
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    VirtualMachineAPI,
)
from eth.chains.base import MiningChain
from eth.constants import BLANK_ROOT_HASH
from eth.db.schema import SchemaV1
from eth.vm.forks.prague import PragueVM
from eth_tester.backends.pyevm.main import (
    generate_genesis_state_for_keys,
    get_default_account_keys,
    get_default_genesis_params,
)
from eth_typing import BlockNumber

from ledger.chain.embedded.store import SqliteAtomicDB
from ledger.errors import LedgerError

__all__ = ["CANONICAL_HEAD_KEY", "DEFAULT_CHAIN_ID", "EmbeddedMiningChain", "open_chain"]

#: Chain id of a newly created embedded chain (the usual local development id).
DEFAULT_CHAIN_ID: Final = 1337

#: py-evm's canonical head pointer: writing it is the per-block commit point.
CANONICAL_HEAD_KEY: Final = SchemaV1.make_canonical_head_hash_lookup_key()
#: Our own records live under this prefix; py-evm keys are 32-byte hashes or ``v1:``/ascii names.
_META_PREFIX: Final = b"gov-ledger:embedded:"
_CHAIN_ID_KEY: Final = _META_PREFIX + b"chain-id"
_FORMAT_KEY: Final = _META_PREFIX + b"format"
_FORMAT_VERSION: Final = 1

_VM_CONFIGURATION: Final = cast(
    tuple[tuple[BlockNumber, type[VirtualMachineAPI]], ...], ((BlockNumber(0), PragueVM),)
)
_RECENT_TRANSACTIONS: Final = 256


class EmbeddedMiningChain(MiningChain):
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


def _chain_class(chain_id: int) -> type[EmbeddedMiningChain]:
    return cast(
        type[EmbeddedMiningChain],
        type(f"EmbeddedMiningChain{chain_id}", (EmbeddedMiningChain,), {"chain_id": chain_id}),
    )


def _encode_uint(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _decode_uint(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def open_chain(db: SqliteAtomicDB, *, chain_id: int = DEFAULT_CHAIN_ID) -> EmbeddedMiningChain:
    """The chain stored in ``db``: created from genesis with ``chain_id`` when ``db`` has no
    canonical head, otherwise rebuilt from that head with the chain id stored in ``db``
    (``chain_id`` is then ignored)."""
    if CANONICAL_HEAD_KEY in db:
        return _reopen(db)
    return _create(db, chain_id)


def _create(db: SqliteAtomicDB, chain_id: int) -> EmbeddedMiningChain:
    if not 0 < chain_id < 2**64:
        raise ValueError("chain_id must be a positive 64-bit integer")
    db.rollback()  # a half-written genesis from an earlier crash is not in SQLite anyway
    db[_FORMAT_KEY] = _encode_uint(_FORMAT_VERSION)
    db[_CHAIN_ID_KEY] = _encode_uint(chain_id)
    genesis_state = generate_genesis_state_for_keys(get_default_account_keys())
    # from_genesis persists the state (pending) then the genesis header, whose head write
    # commits format, chain id, genesis state and header in one transaction.
    chain = _chain_class(chain_id).from_genesis(db, get_default_genesis_params(), genesis_state)
    return cast(EmbeddedMiningChain, chain)


def _reopen(db: SqliteAtomicDB) -> EmbeddedMiningChain:
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
    if head.state_root != BLANK_ROOT_HASH and head.state_root not in db:
        raise LedgerError(
            f"the embedded chain database is inconsistent: state of head block "
            f"{head.block_number} is missing"
        )
    return chain
