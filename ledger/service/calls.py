"""A contract call as the write journal keeps it: what an operation will send, stored as JSON
until the transaction manager sends it, possibly after a restart (ADR 0012).

A :class:`Call` names its contract by role (``CertificateRegistry``, not an address), so a
journaled call survives nothing but the deployment it was made for; its arguments are JSON with
bytes tagged (``{"$bytes": hex}``), so they come back as the same Python values the ledger
client built them from. :func:`build_function` turns it into the web3 function object again.

Not here: sending, watching and recovering calls (:mod:`ledger.service.transactions`), the
journal's states (:mod:`ledger.service.journal`), and building a call for a use case
(:mod:`ledger.writes`, through the ledger clients of :mod:`ledger.contracts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from hexbytes import HexBytes
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from ledger.contracts import ChainContext, Deployment, contract
from ledger.errors import ValidationError

__all__ = [
    "Call",
    "build_function",
    "decode_value",
    "encode_call",
    "encode_value",
]

_BYTES_TAG: Final = "$bytes"


def encode_value(value: object) -> object:
    """A contract argument as JSON: bytes tagged, sequences as lists."""
    if isinstance(value, bytes | bytearray | HexBytes):
        return {_BYTES_TAG: bytes(value).hex()}
    if isinstance(value, list | tuple):
        return [encode_value(item) for item in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    raise ValidationError(f"cannot journal a contract argument of type {type(value).__name__}")


def decode_value(value: object) -> object:
    """The inverse of :func:`encode_value`."""
    if isinstance(value, dict):
        return bytes.fromhex(str(value[_BYTES_TAG]))
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    return value


@dataclass(frozen=True)
class Call:
    """The contract call that carries out an operation."""

    contract: str
    function: str
    args: tuple[object, ...]
    signer: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "function": self.function,
            "args": [encode_value(arg) for arg in self.args],
            "signer": dict(self.signer),
        }

    @classmethod
    def from_function(
        cls, function: ContractFunction, deployment: Deployment, signer: Mapping[str, Any]
    ) -> Call:
        """The call ``function`` (built by a ledger client) makes, to be journaled."""
        names = {
            getattr(deployment, field): name
            for name, field in _ADDRESS_FIELDS.items()
            if getattr(deployment, field) is not None
        }
        name = names.get(function.address)
        if name is None:
            raise ValidationError("the call is not to a contract of this deployment")
        return cls(name, str(function.fn_name), tuple(function.args), signer)

    @classmethod
    def from_request(cls, request: Mapping[str, Any]) -> Call:
        call = request["call"]
        return cls(
            contract=str(call["contract"]),
            function=str(call["function"]),
            args=tuple(decode_value(arg) for arg in call["args"]),
            signer=dict(call["signer"]),
        )


def encode_call(
    contract_name: str, function: str, args: Sequence[object], signer: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``call`` member of an operation's request."""
    return Call(contract_name, function, tuple(args), signer).to_json()


_ADDRESS_FIELDS: Final = {
    "DepartmentRegistry": "department_registry",
    "CertificateRegistry": "certificate_registry",
    "CreditLedger": "credit_ledger",
    "LicenceBundles": "licence_bundles",
    "AccessLogAnchors": "access_log",
}


def build_function(
    context: ChainContext, call: Call, cache: dict[str, Contract] | None = None
) -> ContractFunction:
    """The web3 function object of ``call`` on this deployment (``cache`` keeps the contract
    objects, whose construction from the ABI costs more than the call itself)."""
    instance = None if cache is None else cache.get(call.contract)
    if instance is None:
        field = _ADDRESS_FIELDS.get(call.contract)
        address = getattr(context.deployment, field) if field else None
        if address is None:
            raise ValidationError(f"this deployment has no {call.contract} contract")
        instance = contract(context.web3, call.contract, address)
        if cache is not None:
            cache[call.contract] = instance
    function: ContractFunction = instance.functions[call.function](*call.args)
    return function
