"""Sending transactions signed by local keys, and turning any failure into a :class:`LedgerError`.

Every write goes through :class:`TransactionSender`: the transaction is simulated first (gas
estimation), so a contract error is raised before anything is signed or sent; then it is signed
locally (keys never leave the process), sent raw, and its receipt awaited. A transaction that is
mined but reverted (for example because state changed between simulation and mining) is replayed
with ``eth_call`` at its block to recover the revert reason.

Revert data arrives differently per backend: eth-tester raises
``TransactionFailed`` with the revert bytes printed in its message; JSON-RPC nodes answer with an
error carrying hex ``data``, which web3 raises as ``ContractCustomError``. Both are decoded against
the selector table of every ledger contract's ABI into the same exception class.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, Final, TypeVar, cast

import requests
from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractConstructor, ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    Web3Exception,
)
from web3.types import TxParams, TxReceipt

from ledger import errors
from ledger.errors import ChainUnavailableError, ContractError, InsufficientFundsError, LedgerError

__all__ = [
    "TransactionSender",
    "decode_revert_data",
    "error_selectors",
    "rpc_guard",
    "translate_exception",
]

T = TypeVar("T")

#: The deployed ledger contracts, whose ABIs define every error a write can revert with.
CONTRACT_NAMES: Final = (
    "DepartmentRegistry",
    "CertificateRegistry",
    "CreditLedger",
    "LicenceBundles",
    "AccessLogAnchors",
)

#: Gas headroom over the estimate: estimates are exact on py-evm and anvil, but state can move.
_GAS_MARGIN: Final = 1.2
_REVERT_PREFIX: Final = "execution reverted: "


@cache
def error_selectors() -> Mapping[
    bytes, tuple[type[ContractError], tuple[str, ...], tuple[str, ...]]
]:
    """Selector -> (exception class, ABI types, argument names) for every ledger contract error."""
    from ledger.contracts.artifacts import load_artifact

    table: dict[bytes, tuple[type[ContractError], tuple[str, ...], tuple[str, ...]]] = {}
    for artifact in (load_artifact(name) for name in CONTRACT_NAMES):
        for entry in artifact.abi:
            if entry.get("type") != "error":
                continue
            name = str(entry["name"])
            inputs = cast(list[dict[str, Any]], entry.get("inputs", []))
            types = tuple(str(item["type"]) for item in inputs)
            names = tuple(str(item["name"]) for item in inputs)
            selector = keccak(text=f"{name}({','.join(types)})")[:4]
            cls = getattr(errors, name, None)
            if not (isinstance(cls, type) and issubclass(cls, ContractError)):
                cls = errors.UnknownContractError
            table[selector] = (cls, types, names)
    return table


def decode_revert_data(data: bytes) -> ContractError:
    """Decode revert bytes (selector + ABI-encoded arguments) into the matching exception."""
    entry = error_selectors().get(bytes(data[:4]))
    if entry is None:
        return errors.UnknownContractError({"data": bytes(data[:68])})
    cls, types, names = entry
    try:
        values = abi_decode(list(types), bytes(data[4:]))
    except Exception:
        values = ()
    return cls(dict(zip(names, values, strict=False)))


def translate_exception(exc: BaseException) -> LedgerError | None:
    """The :class:`LedgerError` that ``exc`` (from web3 or eth-tester) stands for, if any."""
    if isinstance(exc, LedgerError):
        return exc
    if isinstance(exc, ContractCustomError):
        return decode_revert_data(HexBytes(str(exc.data)))
    if isinstance(exc, ContractLogicError) and exc.data:
        data = exc.data if isinstance(exc.data, str) else str(exc.data)
        if data.startswith("0x") and len(data) >= 10:
            return decode_revert_data(HexBytes(data))
    if type(exc).__name__ == "TransactionFailed":  # eth-tester; imported lazily (optional backend)
        message = str(exc.args[0]) if exc.args else ""
        raw = message.removeprefix(_REVERT_PREFIX)
        if raw.startswith(("b'", 'b"')):
            try:
                revert_data = ast.literal_eval(raw)
            except (ValueError, SyntaxError):
                revert_data = b""
            if isinstance(revert_data, bytes) and len(revert_data) >= 4:
                return decode_revert_data(revert_data)
        return errors.UnknownContractError({"reason": message[:200]})
    if isinstance(exc, (requests.RequestException, ConnectionError, TimeoutError)):
        return ChainUnavailableError(f"the chain node did not answer ({type(exc).__name__})")
    if isinstance(exc, TimeExhausted):
        return ChainUnavailableError(
            "no receipt before the timeout; the transaction may still land"
        )
    if isinstance(exc, Web3Exception):
        message = str(exc).lower()
        if "insufficient funds" in message:
            return InsufficientFundsError("the signing key cannot pay for gas; fund it")
        return ChainUnavailableError(f"the chain node refused the request ({type(exc).__name__})")
    return None


def rpc_guard(call: Callable[[], T]) -> T:
    """Run a chain read, translating transport and contract failures into ledger errors."""
    try:
        return call()
    except Exception as exc:
        translated = translate_exception(exc)
        if translated is None:
            raise
        raise translated from None


class TransactionSender:
    """Signs and sends transactions for one key, one at a time (nonces stay in order)."""

    def __init__(
        self, web3: Web3, account: LocalAccount, *, receipt_timeout: float = 120.0
    ) -> None:
        self.web3 = web3
        self.account = account
        self.receipt_timeout = receipt_timeout
        #: Held while a transaction of this key is signed and sent: nonces stay in order even
        #: when the transaction manager (:mod:`ledger.service.transactions`) sends for the same key.
        self.lock = threading.RLock()

    @property
    def address(self) -> ChecksumAddress:
        """The signing address."""
        return self.account.address

    def transact(
        self, function: ContractFunction | ContractConstructor, *, gas: int | None = None
    ) -> TxReceipt:
        """Simulate, sign, send and await ``function``; raise the decoded error if it fails."""
        with self.lock:
            try:
                params: TxParams = {"from": self.address}
                if gas is not None:
                    params["gas"] = gas
                else:
                    params["gas"] = int(function.estimate_gas(params) * _GAS_MARGIN)
                params["nonce"] = self.web3.eth.get_transaction_count(self.address, "pending")
                params["chainId"] = self.web3.eth.chain_id
                transaction = function.build_transaction(params)
                signed = self.account.sign_transaction(cast(dict[str, Any], transaction))
                tx_hash = self.web3.eth.send_raw_transaction(signed.raw_transaction)
                receipt = self.web3.eth.wait_for_transaction_receipt(
                    tx_hash, timeout=self.receipt_timeout
                )
            except Exception as exc:
                translated = translate_exception(exc)
                if translated is None:
                    raise
                raise translated from None
        if receipt["status"] != 1:
            raise self.replay_failure(transaction, receipt)
        return receipt

    def replay_failure(self, transaction: TxParams, receipt: TxReceipt) -> LedgerError:
        """The error a mined, reverted ``transaction`` reverted with (replayed at its block)."""
        call: TxParams = {
            "from": self.address,
            "to": transaction["to"],
            "data": transaction["data"],
            "gas": transaction["gas"],
        }
        try:
            self.web3.eth.call(call, receipt["blockNumber"] - 1)
        except Exception as exc:
            translated = translate_exception(exc)
            if translated is not None:
                return translated
        return errors.UnknownContractError({"transaction": bytes(receipt["transactionHash"])})
