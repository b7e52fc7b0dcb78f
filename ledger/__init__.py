"""Certificate and credit ledger for government services: the Python library.

Layers: :mod:`ledger.chain` (embedded py-evm chain or a JSON-RPC node) below the contract clients,
identity and document hashing beside them, :mod:`ledger.cli` and the API on top. Nothing in this
package imports an HTTP framework.
"""

__version__ = "0.1.0"
