"""The :class:`ChainContext` every contract client is built from: a chain, a deployment, and
optionally the key that signs writes.

Nothing about any one contract here; the clients are in their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from web3 import Web3

from ledger.chain.transactions import TransactionSender
from ledger.contracts.deployment import Deployment
from ledger.errors import ConfigurationError

__all__ = ["ChainContext"]


@dataclass(frozen=True)
class ChainContext:
    """What every client needs: the chain, the deployment, and the key that signs writes."""

    web3: Web3
    deployment: Deployment
    sender: TransactionSender | None = None

    def signed_by(self, sender: TransactionSender) -> ChainContext:
        """The same context, writing with ``sender``."""
        return replace(self, sender=sender)

    def require_sender(self) -> TransactionSender:
        """The signing key; ConfigurationError for read-only contexts."""
        if self.sender is None:
            raise ConfigurationError("this operation needs a signing key")
        return self.sender
