"""The :class:`ChainContext` every contract client is built from: a chain and a deployment.

Nothing about any one contract here; the clients are in their own modules. A context holds no
key: clients only build calls, and whoever sends one names its sender
(:meth:`ledger.session.LedgerSession.send`, or the service's transaction manager).
"""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from ledger.contracts.deployment import Deployment

__all__ = ["ChainContext"]


@dataclass(frozen=True)
class ChainContext:
    """What every client needs: the chain and the deployment."""

    web3: Web3
    deployment: Deployment
