"""One way to reach a chain, whichever it is: the embedded py-evm chain or a JSON-RPC node.

A :class:`ChainConnection` carries the ``Web3`` object, the chain id and, where the chain has one,
a *funder*: an account that can pay gas for newly created signing keys. The embedded chain and
development nodes such as anvil have pre-funded accounts; a production consortium chain has none,
and its operators fund keys themselves (docs/operations.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import requests
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.exceptions import Web3Exception
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint, Wei

from ledger.closing import Closing
from ledger.errors import ChainUnavailableError

__all__ = ["ChainConnection", "Funder", "connect", "connect_embedded", "connect_rpc"]

#: Sends ``amount`` wei to ``address`` and waits for it to be mined.
Funder = Callable[[ChecksumAddress, int], None]


@dataclass(eq=False)
class ChainConnection(Closing):
    """An open chain. Close it to release the embedded chain's data directory."""

    web3: Web3
    chain_id: int
    kind: Literal["embedded", "rpc"]
    #: Human-readable location (data directory or URL), for status output.
    location: str
    funder: Funder | None = None
    _close: Callable[[], None] = field(default=lambda: None, repr=False)
    #: The number of the latest block, asked the cheapest way the chain allows (None: through
    #: ``eth_blockNumber``).
    _head: Callable[[], int] | None = field(default=None, repr=False)

    def head(self) -> int:
        """The latest block number."""
        if self._head is not None:
            return self._head()
        from ledger.chain.transactions import rpc_guard

        return int(rpc_guard(lambda: self.web3.eth.block_number))

    def close(self) -> None:
        """Release the chain (idempotent)."""
        self._close()


def connect(
    data_dir: Path,
    rpc_url: str | None,
    *,
    timeout: float = 30.0,
    create: bool = False,
    token: str | None = None,
) -> ChainConnection:
    """Open the embedded chain of ``data_dir``, or the JSON-RPC node at ``rpc_url`` when given
    (sending ``token`` as a bearer credential, for a ledger service's ``/v1/rpc``).

    Only ``create=True`` (what ``ledger init`` passes) creates an embedded chain that is not
    there yet; anything else raises NoLedgerError and leaves the disk untouched (ADR 0021).
    """
    if rpc_url:
        return connect_rpc(rpc_url, timeout=timeout, token=token)
    return connect_embedded(data_dir, create=create)


def connect_embedded(data_dir: Path, *, create: bool = False) -> ChainConnection:
    """Open the persistent embedded chain stored in ``data_dir`` (created only if ``create``)."""
    from ledger.chain.embedded import open_embedded_chain

    chain = open_embedded_chain(data_dir, create=create)
    funding_account = chain.funded_accounts[0]
    web3 = chain.web3

    def fund(address: ChecksumAddress, amount: int) -> None:
        tx_hash = web3.eth.send_transaction(
            {"from": funding_account.address, "to": address, "value": Wei(amount)}
        )
        web3.eth.wait_for_transaction_receipt(tx_hash)

    # The dev accounts' keys are public; eth-tester signs for them, so they need no local key.
    return ChainConnection(
        web3=web3,
        chain_id=chain.chain_id,
        kind="embedded",
        location=str(Path(data_dir).resolve()),
        funder=fund,
        _close=chain.close,
        _head=functools.partial(_embedded_head, chain),
    )


def _embedded_head(chain: Any) -> int:
    """The canonical head straight from py-evm: the same number ``eth_blockNumber`` gives, in
    about 2 µs instead of a few hundred through web3 and eth-tester."""
    with chain.lock:
        if chain.closed:
            raise ChainUnavailableError("the embedded chain is closed")
        return int(chain.backend.chain.get_canonical_head().block_number)


def connect_rpc(url: str, *, timeout: float = 30.0, token: str | None = None) -> ChainConnection:
    """Connect to a JSON-RPC node; ChainUnavailableError when it does not answer."""
    # web3 validates every eth_call and eth_estimateGas against eth_chainId, asked anew each
    # time: one extra round trip per read. A node's chain id does not change, so it is cached.
    request_kwargs: dict[str, Any] = {"timeout": timeout}
    if token:
        request_kwargs["headers"] = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
        }
    provider = HTTPProvider(
        url,
        request_kwargs=request_kwargs,
        cache_allowed_requests=True,
        cacheable_requests={RPCEndpoint("eth_chainId")},
    )
    web3 = Web3(provider)
    try:
        chain_id = web3.eth.chain_id
        unlocked = web3.eth.accounts
    except (requests.RequestException, Web3Exception, OSError, ValueError) as exc:
        raise ChainUnavailableError(
            f"cannot reach the JSON-RPC node ({type(exc).__name__})"
        ) from None
    funder: Funder | None = None
    if unlocked:
        # Development nodes (anvil, geth --dev) expose unlocked, funded accounts.
        source = unlocked[0]

        def fund(address: ChecksumAddress, amount: int) -> None:
            tx_hash = web3.eth.send_transaction(
                {"from": source, "to": address, "value": Wei(amount)}
            )
            web3.eth.wait_for_transaction_receipt(tx_hash)

        funder = fund
    return ChainConnection(
        web3=web3, chain_id=chain_id, kind="rpc", location=_redact(url), funder=funder
    )


def _redact(url: str) -> str:
    """Drop credentials from a URL before it is shown or logged."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
