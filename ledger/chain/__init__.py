"""Chain access: the embedded persistent py-evm chain or any Ethereum JSON-RPC node."""
