"""Everything between the ledger and an Ethereum chain, and nothing about what the contracts mean.

* :mod:`ledger.chain.connection`: the connection to a node, whichever it is (the embedded chain of
  a data directory or a JSON-RPC node), with its chain id and the account that funds new keys.
* :mod:`ledger.chain.transactions`: sending a transaction (simulate, sign locally, send raw,
  await the receipt) and turning any failure, revert data included, into a
  :class:`~ledger.errors.LedgerError`.
* :mod:`ledger.chain.keys`: the signing keys at rest, one encrypted keystore file a role.
* :mod:`ledger.chain.embedded`: the embedded persistent py-evm chain a data directory holds.

The contract clients, their value types and deployment are in :mod:`ledger.contracts`, not here.

Callers import from the module that defines a name; this package re-exports nothing, so that
reaching a JSON-RPC node, or reading a keystore, never loads py-evm and eth-tester with the
embedded chain.
"""
