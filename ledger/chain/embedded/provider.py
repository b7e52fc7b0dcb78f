"""The web3 side of the embedded chain: an eth-tester provider that runs one request at a time.

eth-tester is not thread-safe, so :class:`SerializedEthereumTesterProvider` serializes
``make_request`` with a lock (:attr:`~SerializedEthereumTesterProvider.lock`, which the handle
also holds to close the chain and callers hold to use the backend directly).

web3 8's eth-tester endpoint table is patched where it is wrong: ``eth_chainId`` (hard-coded to
eth-tester's default id), ``eth_getStorageAt`` at a block number (the hex number reaches
eth-tester unconverted and is rejected) and log filters with ``HexBytes`` topics (eth-tester
compares topic types, so they matched nothing).

Not here: what the requests do (:mod:`ledger.chain.embedded.backend`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Final

from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse

from ledger.errors import ChainUnavailableError

__all__ = ["SerializedEthereumTesterProvider"]


def _static(value: object) -> Callable[..., object]:
    def respond(*_args: object, **_kwargs: object) -> object:
        return value

    return respond


def _api_endpoints(chain_id: int) -> dict[str, dict[str, Callable[..., Any]]]:
    """web3's eth-tester endpoint table, answering ``eth_chainId`` / ``net_version`` truthfully.

    web3 hard-codes ``eth_chainId`` to eth-tester's default chain id (131277322940537), whatever
    the backend's chain actually uses; locally signed transactions would then carry the wrong id.
    """
    from web3.providers.eth_tester.defaults import API_ENDPOINTS

    endpoints = {namespace: dict(methods) for namespace, methods in API_ENDPOINTS.items()}
    endpoints["eth"]["chainId"] = _static(chain_id)
    endpoints["net"]["version"] = _static(str(chain_id))
    endpoints["eth"]["getStorageAt"] = _numeric_block_argument(
        endpoints["eth"]["getStorageAt"], index=2
    )
    endpoints["eth"]["getLogs"] = _plain_bytes_topics(endpoints["eth"]["getLogs"])
    endpoints["eth"]["newFilter"] = _plain_bytes_topics(endpoints["eth"]["newFilter"])
    return endpoints


def _plain_topic(topic: Any) -> Any:
    if isinstance(topic, bytes):
        return bytes(topic)
    if isinstance(topic, list | tuple):
        return type(topic)(_plain_topic(item) for item in topic)
    return topic


def _plain_bytes_topics(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Pass log-filter topics to eth-tester as plain ``bytes``.

    eth-tester matches a topic only if ``type(log_topic) is type(filter_topic)``: a ``HexBytes``
    topic (what ``Web3.keccak`` and every log returned by web3 hold) silently matches nothing.
    """

    def call(tester: Any, params: Any) -> Any:
        args = list(params)
        if args and isinstance(args[0], dict) and args[0].get("topics") is not None:
            args[0] = {**args[0], "topics": _plain_topic(args[0]["topics"])}
        return endpoint(tester, args)

    return call


_NAMED_BLOCKS: Final = frozenset({"latest", "earliest", "pending", "safe", "finalized"})


def _numeric_block_argument(endpoint: Callable[..., Any], *, index: int) -> Callable[..., Any]:
    """Turn a hex block number argument into an int before eth-tester validates it.

    web3 8's eth-tester middleware does this for ``eth_getBalance``/``eth_getCode`` but not for
    ``eth_getStorageAt``, so reading storage at a past block fails with a ValidationError.
    """

    def call(tester: Any, params: Any) -> Any:
        args = list(params)
        if len(args) > index:
            block = args[index]
            if isinstance(block, str) and block not in _NAMED_BLOCKS:
                args[index] = int(block, 16)
        return endpoint(tester, args)

    return call


class SerializedEthereumTesterProvider(EthereumTesterProvider):
    """``EthereumTesterProvider`` running one request at a time (eth-tester is not thread-safe)."""

    def __init__(self, ethereum_tester: Any, *, chain_id: int) -> None:
        super().__init__(ethereum_tester=ethereum_tester, api_endpoints=_api_endpoints(chain_id))
        self.lock = threading.RLock()
        self._closed = False

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self.lock:
            if self._closed:
                raise ChainUnavailableError("the embedded chain is closed")
            return super().make_request(method, params)

    def mark_closed(self) -> None:
        with self.lock:
            self._closed = True
