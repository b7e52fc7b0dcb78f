"""ledger.errors mirrors every contract error, and the revert decoder maps each one to its class.

The ABIs are read from the committed artifacts, so a contract error added without a Python class
(or with one of the wrong intent) fails here before it reaches the API as an unknown error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_tester.exceptions import TransactionFailed
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.exceptions import ContractCustomError, ContractLogicError

from ledger import errors
from ledger.chain.transactions import decode_revert_data, error_selectors, translate_exception
from ledger.contracts.artifacts import read_artifacts
from ledger.errors import (
    ConflictError,
    ContractError,
    DuplicateError,
    LedgerError,
    NotAuthorizedError,
    NotFoundError,
    ValidationError,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = ROOT / "ledger" / "artifacts"
INTENTS: tuple[type[LedgerError], ...] = (
    NotAuthorizedError,
    NotFoundError,
    DuplicateError,
    ConflictError,
    ValidationError,
)


def _abi_errors() -> dict[str, dict[str, Any]]:
    """Every error entry of every artifact, by name (same-named entries must be identical)."""
    found: dict[str, dict[str, Any]] = {}
    for artifact in read_artifacts(ARTIFACTS_DIR).values():
        for entry in artifact.abi:
            if entry.get("type") != "error":
                continue
            name = str(entry["name"])
            assert found.setdefault(name, entry) == entry, f"{name} differs between ABIs"
    return found


ABI_ERRORS = _abi_errors()
ERROR_NAMES = sorted(ABI_ERRORS)


def _types(entry: dict[str, Any]) -> list[str]:
    return [str(item["type"]) for item in entry.get("inputs", [])]


def _signature(name: str) -> str:
    return f"{name}({','.join(_types(ABI_ERRORS[name]))})"


def _sample(abi_type: str, name: str, position: int) -> object:
    """A distinct, extreme-ish value per argument, so a swapped or truncated field shows."""
    seed = keccak(text=f"{name}/{position}")
    if abi_type == "address":
        return to_checksum_address(seed[:20])
    if abi_type == "bool":
        return position % 2 == 0
    if abi_type == "bytes32":
        return seed
    match = re.fullmatch(r"uint(\d+)", abi_type)
    assert match, f"no sample for ABI type {abi_type}"
    return (1 << int(match.group(1))) - 1 - position


def _expected(value: object) -> object:
    """How eth-abi decodes a value: addresses in lower case."""
    return value.lower() if isinstance(value, str) else value


def _revert(name: str) -> tuple[bytes, dict[str, object]]:
    """Hand-encoded revert data for error ``name`` and the arguments it carries."""
    entry = ABI_ERRORS[name]
    types = _types(entry)
    names = [str(item["name"]) for item in entry.get("inputs", [])]
    values = [_sample(abi_type, name, index) for index, abi_type in enumerate(types)]
    data = keccak(text=_signature(name))[:4] + encode(types, values)
    return data, {arg: _expected(value) for arg, value in zip(names, values, strict=True)}


def test_the_contracts_declare_the_expected_errors() -> None:
    assert sorted(read_artifacts(ARTIFACTS_DIR)) == [
        "AccessLogAnchors",
        "CertificateRegistry",
        "CreditLedger",
        "DepartmentRegistry",
        "LicenceBundles",
    ]
    # <Component><Problem>: the component is a contract, the shared cache, or OpenZeppelin's.
    components = (
        "AccessLogAnchors",
        "Accreditation",
        "CertificateRegistry",
        "CreditLedger",
        "DepartmentRegistry",
        "LicenceBundles",
    )
    for component in components:
        assert any(name.startswith(component) for name in ERROR_NAMES), component
    assert all(name.startswith((*components, "Ownable")) for name in ERROR_NAMES)
    assert len(ERROR_NAMES) == 60


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_every_abi_error_has_a_class_with_one_intent(name: str) -> None:
    cls = getattr(errors, name, None)
    assert isinstance(cls, type), f"ledger.errors has no class {name}"
    assert issubclass(cls, ContractError)
    assert issubclass(cls, LedgerError)
    assert cls.error_name == name
    intents = [intent for intent in INTENTS if issubclass(cls, intent)]
    assert len(intents) == 1, f"{name} must have exactly one intent category, has {intents}"
    assert (cls.__doc__ or "").strip(), f"{name} needs a docstring: it is the problem title"


def test_no_contract_error_class_without_an_abi_error() -> None:
    classes = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type)
        and issubclass(value, ContractError)
        and value not in (ContractError, errors.UnknownContractError)
    }
    assert classes == set(ABI_ERRORS)


def test_selector_table_covers_every_error_without_collisions() -> None:
    table = error_selectors()
    selectors = {keccak(text=_signature(name))[:4]: name for name in ERROR_NAMES}
    assert len(selectors) == len(ERROR_NAMES)
    assert set(table) == set(selectors)
    for selector, name in selectors.items():
        cls, types, _ = table[selector]
        assert cls is getattr(errors, name)
        assert list(types) == _types(ABI_ERRORS[name])


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_decode_revert_data(name: str) -> None:
    data, arguments = _revert(name)
    decoded = decode_revert_data(data)
    assert type(decoded) is getattr(errors, name)
    assert decoded.arguments == arguments
    assert name in str(decoded)


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_both_backends_decode_to_the_same_error(name: str) -> None:
    data, arguments = _revert(name)
    cls = getattr(errors, name)
    # eth-tester prints the revert bytes into the exception message.
    from_tester = translate_exception(TransactionFailed(f"execution reverted: {data!r}"))
    # JSON-RPC nodes (anvil) answer with hex data that web3 raises as ContractCustomError.
    from_node = translate_exception(ContractCustomError("0x" + data.hex(), data="0x" + data.hex()))
    from_logic = translate_exception(
        ContractLogicError("execution reverted", data="0x" + data.hex())
    )
    for translated in (from_tester, from_node, from_logic):
        assert type(translated) is cls
        assert isinstance(translated, ContractError)
        assert translated.arguments == arguments


def test_unknown_and_malformed_revert_data() -> None:
    unknown = decode_revert_data(bytes.fromhex("deadbeef") + bytes(32))
    assert type(unknown) is errors.UnknownContractError
    assert unknown.arguments == {"data": bytes.fromhex("deadbeef") + bytes(32)}
    # A known selector with a truncated payload still names the error, without arguments.
    selector = keccak(text=_signature("CertificateRegistryAlreadyAnchored"))[:4]
    truncated = decode_revert_data(selector + bytes(5))
    assert type(truncated) is errors.CertificateRegistryAlreadyAnchored
    assert truncated.arguments == {}
    empty = translate_exception(TransactionFailed("execution reverted: b''"))
    assert type(empty) is errors.UnknownContractError
