"""Shared cast and fixtures of the contract behaviour suite.

Each test module deploys the three contracts once on an in-memory eth-tester chain and accredits a
small cast of departments (below); every test then starts from a snapshot of that state, so tests
stay independent without paying for a deployment each.

The cast (GB/T 2260 regions, Beijing and Shanghai):

=================  ========  ========================================  ===================
department         region    scopes                                    signing key
=================  ========  ========================================  ===================
PROVINCE (1)       110000    licence, food permit, tax, commendation   ``keys[PROVINCE]``
DISTRICT (2)       110101    licence, tax                              ``keys[DISTRICT]``
CITY (3)           110100    licence, tax                              ``keys[CITY]``
SHANGHAI_BUREAU    310000    licence, tax                              ``keys[SHANGHAI_BUREAU]``
=================  ========  ========================================  ===================

PROVINCE supervises DISTRICT. CITY covers Dongcheng's region and holds the same scopes as DISTRICT
but is unrelated to it: the department that must get ``AccreditationNotIssuer``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final, cast

import pytest
from eth_abi.abi import encode
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import Web3Exception
from web3.logs import DISCARD
from web3.types import TxReceipt

from ledger.chain.transactions import translate_exception
from ledger.contracts import Amendment as Amendment
from ledger.contracts import CertificateStatus, Polarity
from ledger.contracts.artifacts import load_artifact
from ledger.errors import ContractError

# ----------------------------------------------------------------------------------------------
# Scopes, regions and the cast
# ----------------------------------------------------------------------------------------------

CONTRACT_NAMES: Final = (
    "DepartmentRegistry",
    "CertificateRegistry",
    "CreditLedger",
    "LicenceBundles",
    "AccessLogAnchors",
)

CERTIFICATE_KIND: Final = 1
CREDIT_KIND: Final = 2


def certificate_type(number: int) -> int:
    """Scope of certificate type ``number`` (kind 1 in the high byte)."""
    return (CERTIFICATE_KIND << 24) | number


def credit_category(number: int) -> int:
    """Scope of credit category ``number`` (kind 2 in the high byte)."""
    return (CREDIT_KIND << 24) | number


BUSINESS_LICENCE: Final = certificate_type(1)
FOOD_PERMIT: Final = certificate_type(2)
TAX_COMPLIANCE: Final = credit_category(1)
COMMENDATION: Final = credit_category(2)

BEIJING: Final = 110000  # province-level
BEIJING_DISTRICTS: Final = 110100  # prefecture-level (市辖区): covers 1101xx
DONGCHENG: Final = 110101  # county-level
XICHENG: Final = 110102
SHANGHAI: Final = 310000
PUDONG: Final = 310115

PROVINCE: Final = 1
DISTRICT: Final = 2
CITY: Final = 3
SHANGHAI_BUREAU: Final = 4

DEPARTMENTS: Final[dict[int, tuple[int, tuple[int, ...]]]] = {
    PROVINCE: (BEIJING, (BUSINESS_LICENCE, FOOD_PERMIT, TAX_COMPLIANCE, COMMENDATION)),
    DISTRICT: (DONGCHENG, (BUSINESS_LICENCE, TAX_COMPLIANCE)),
    CITY: (BEIJING_DISTRICTS, (BUSINESS_LICENCE, TAX_COMPLIANCE)),
    SHANGHAI_BUREAU: (SHANGHAI, (BUSINESS_LICENCE, TAX_COMPLIANCE)),
}

#: ``validUntil`` of an open-ended key or window (type(uint40).max).
OPEN_ENDED: Final = 2**40 - 1
ZERO_ADDRESS: Final = "0x" + "00" * 20
ZERO32: Final = bytes(32)
#: Fixed gas for expected-success transactions: skips estimation, roughly doubling throughput.
GAS: Final = 8_000_000


class Denial(IntEnum):
    """``IDepartmentRegistry.Denial``."""

    NONE = 0
    UNKNOWN_SIGNER = 1
    KEY_NOT_YET_VALID = 2
    KEY_EXPIRED = 3
    SCOPE_NOT_GRANTED = 4
    DEPARTMENT_SUSPENDED = 5
    REGION_NOT_COVERED = 6


#: The contracts' enums are the library's (ledger.contracts), not spelled a second time here:
#: Polarity and Amendment (imported above, for the test modules) as they are, and
#: ``ICertificateRegistry.Status`` under the interface's name.
Status = CertificateStatus


def enum_id(value: object) -> str | None:
    """Readable pytest ids for enum parameters (``active`` rather than ``1``)."""
    return value.name.lower() if isinstance(value, IntEnum) else None


def digest(label: str) -> bytes:
    """A deterministic 32-byte value (document hash, subject reference, ...) named by ``label``."""
    return bytes(Web3.keccak(text=label))


def name_hash(department_id: int) -> bytes:
    """The name hash the cast registers for ``department_id``."""
    return digest(f"department {department_id}")


def certificate_terms(cert_type: int, region: int, expires_at: int) -> int:
    """Anchoring terms as the NatSpec defines them: certType << 64 | region << 40 | expiresAt."""
    return (cert_type << 64) | (region << 40) | expires_at


def credit_terms(category: int, polarity: int, severity: int, occurred_at: int) -> int:
    """Recording terms: category << 56 | polarity << 48 | severity << 40 | occurredAt."""
    return (category << 56) | (polarity << 48) | (severity << 40) | occurred_at


def event_id(subject_ref: bytes, category: int, occurred_at: int, evidence_hash: bytes) -> bytes:
    """keccak256(abi.encode(subjectRef, category, occurredAt, evidenceHash)), per the NatSpec."""
    return bytes(
        Web3.keccak(
            encode(
                ["bytes32", "uint32", "uint40", "bytes32"],
                [subject_ref, category, occurred_at, evidence_hash],
            )
        )
    )


def mapping_slot(key: bytes, slot: int) -> int:
    """Storage slot of ``mapping(bytes32 => ...)[key]`` for a mapping declared at ``slot``."""
    return int.from_bytes(Web3.keccak(encode(["bytes32", "uint256"], [key, slot])), "big")


def abi_entries(contract: Contract, kind: str) -> list[dict[str, Any]]:
    """The contract's ABI entries of one ``type`` ("function", "event", "error")."""
    return [entry for entry in cast(list[dict[str, Any]], contract.abi) if entry["type"] == kind]


def abi_error_names() -> set[str]:
    """Every custom error declared in the three contracts' ABIs."""
    return {
        str(entry["name"])
        for name in CONTRACT_NAMES
        for entry in load_artifact(name).abi
        if entry.get("type") == "error"
    }


# ----------------------------------------------------------------------------------------------
# Asserting reverts and events
# ----------------------------------------------------------------------------------------------


def _normalise(value: object) -> object:
    """Comparable form: bytes for byte strings, lower-case addresses, plain ints for enums."""
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(item) for item in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    return value


def decode_failure(exc: BaseException) -> ContractError | None:
    """The ledger error a failed call stands for, through the project's own decoder."""
    decoded = translate_exception(exc)
    return decoded if isinstance(decoded, ContractError) else None


@contextmanager
def expect_revert(error: type[ContractError], **arguments: object) -> Iterator[None]:
    """Assert that the block reverts with exactly ``error`` carrying exactly ``arguments``.

    Every argument of the Solidity error must be named: a test that omits one fails, so each
    revert assertion pins the error's full payload, not just its name.
    """
    try:
        yield
    except (TransactionFailed, Web3Exception) as exc:
        decoded = decode_failure(exc)
        assert type(decoded) is error, (
            f"expected {error.__name__}({arguments}), the call reverted with {decoded!r}"
        )
        assert decoded is not None
        assert _normalise(decoded.arguments) == _normalise(arguments), (
            f"{error.__name__} arguments differ"
        )
    else:
        pytest.fail(f"expected a revert with {error.__name__}, but the call succeeded")


def events(contract: Contract, receipt: TxReceipt) -> list[tuple[str, dict[str, Any]]]:
    """Every event ``contract`` emitted in ``receipt``, in log order, as (name, arguments).

    Decoded with ``contract.events.<Name>().process_receipt``; fails if one of the contract's logs
    matches no event of its ABI, so the list is the complete record of what the call emitted.
    """
    found: list[tuple[int, str, dict[str, Any]]] = []
    for entry in abi_entries(contract, "event"):
        name = str(entry["name"])
        for log in contract.events[name]().process_receipt(receipt, errors=DISCARD):
            if log["address"] == contract.address:
                arguments = {key: _plain(value) for key, value in log["args"].items()}
                found.append((int(log["logIndex"]), name, arguments))
    own_logs = [log for log in receipt["logs"] if log["address"] == contract.address]
    assert len(found) == len(own_logs), "a log of the contract matched no event of its ABI"
    return [(name, arguments) for _, name, arguments in sorted(found, key=lambda item: item[0])]


def _plain(value: object) -> object:
    if isinstance(value, HexBytes):
        return bytes(value)
    return value


# ----------------------------------------------------------------------------------------------
# The chain
# ----------------------------------------------------------------------------------------------


@dataclass
class Chain:
    """An eth-tester chain with the three contracts deployed and the cast accredited."""

    w3: Web3
    tester: EthereumTester
    registry: Contract
    certificates: Contract
    credit: Contract
    governance: ChecksumAddress
    #: Signing key of each department of the cast.
    keys: dict[int, ChecksumAddress]
    #: Unlocked, funded accounts the registry has never seen (new keys for a test).
    spare: tuple[ChecksumAddress, ...]
    #: An unlocked account that is neither governance nor accredited.
    outsider: ChecksumAddress

    # -- transactions ---------------------------------------------------------------------------

    def send(
        self, function: ContractFunction, sender: ChecksumAddress, *, gas: int = GAS
    ) -> TxReceipt:
        """Mine ``function`` from ``sender`` and require success (fixed gas: no estimation)."""
        tx_hash = function.transact({"from": sender, "gas": gas})
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        if receipt["status"] != 1:
            pytest.fail(f"{function.fn_name} reverted: {self._why(function, sender)!r}")
        return receipt

    def send_in_one_block(
        self, *calls: tuple[ContractFunction, ChecksumAddress]
    ) -> list[TxReceipt]:
        """Mine ``calls`` in order into a single block (so they share one timestamp); all must
        succeed."""
        receipts = self.mine_in_one_block(*calls)
        assert [receipt["status"] for receipt in receipts] == [1] * len(calls)
        return receipts

    def mine_in_one_block(
        self, *calls: tuple[ContractFunction, ChecksumAddress]
    ) -> list[TxReceipt]:
        """Mine ``calls`` in order into a single block, whether they succeed or revert.

        Each sender may appear once: eth-tester numbers a transaction's nonce from the last mined
        block, so a second transaction of the same sender would replace the first. The reason a
        call reverted is recovered by replaying it at ``latest`` (the block's timestamp, and its
        state after the block: a reverted call changes nothing but the sender's nonce).
        """
        senders = [sender for _, sender in calls]
        assert len(set(senders)) == len(senders), "one transaction per sender and block"
        self.tester.disable_auto_mine_transactions()
        try:
            hashes = [function.transact({"from": sender, "gas": GAS}) for function, sender in calls]
        finally:
            self.tester.enable_auto_mine_transactions()  # mines the pending block
        receipts = [self.w3.eth.get_transaction_receipt(tx_hash) for tx_hash in hashes]
        assert len({receipt["blockNumber"] for receipt in receipts}) == 1
        assert [receipt["transactionIndex"] for receipt in receipts] == list(range(len(calls)))
        assert self.w3.eth.block_number == receipts[0]["blockNumber"]
        return receipts

    def _why(self, function: ContractFunction, sender: ChecksumAddress) -> object:
        try:
            function.call({"from": sender}, block_identifier="pending")
        except (TransactionFailed, Web3Exception) as exc:
            return decode_failure(exc)
        return "no revert when replayed"

    def deploy(self, name: str, *arguments: object) -> Contract:
        """Deploy contract ``name`` from governance and return it."""
        return deploy_contract(self.w3, self.governance, name, *arguments)

    # -- time -----------------------------------------------------------------------------------

    def now(self) -> int:
        """The timestamp the next transaction (or call) runs at: the pending block's."""
        return int(self.tester.get_block_by_number("pending")["timestamp"])

    def travel_to(self, timestamp: int) -> None:
        """Make ``timestamp`` the time of the next transaction."""
        self.tester.time_travel(timestamp)
        assert self.now() == timestamp

    def travel(self, seconds: int) -> int:
        """Move the clock ``seconds`` forward; returns the new ``now()``."""
        self.travel_to(self.now() + seconds)
        return self.now()

    def timestamp_of(self, receipt: TxReceipt) -> int:
        """Block timestamp at which ``receipt``'s transaction ran."""
        return int(self.w3.eth.get_block(receipt["blockNumber"])["timestamp"])

    @contextmanager
    def isolated(self) -> Iterator[Chain]:
        """Run a block of work and undo everything it did to the chain afterwards."""
        snapshot = self.tester.take_snapshot()
        try:
            yield self
        finally:
            self.tester.revert_to_snapshot(snapshot)

    # -- common writes --------------------------------------------------------------------------

    def anchor(
        self,
        key: ChecksumAddress,
        doc_hash: bytes,
        *,
        cert_type: int = BUSINESS_LICENCE,
        region: int = DONGCHENG,
        expires_at: int = 0,
    ) -> TxReceipt:
        """``anchorCertificate`` from ``key``, required to succeed."""
        terms = certificate_terms(cert_type, region, expires_at)
        return self.send(self.certificates.functions.anchorCertificate(doc_hash, terms), key)

    def record(
        self,
        key: ChecksumAddress,
        subject_ref: bytes,
        *,
        category: int = TAX_COMPLIANCE,
        polarity: Polarity = Polarity.NEGATIVE,
        severity: int = 3,
        occurred_at: int | None = None,
        evidence_hash: bytes | None = None,
    ) -> tuple[bytes, TxReceipt]:
        """``record`` from ``key``, required to succeed; returns the emitted event id."""
        occurred = self.now() - 86_400 if occurred_at is None else occurred_at
        evidence = evidence_hash if evidence_hash is not None else digest(f"evidence {occurred}")
        terms = credit_terms(category, polarity, severity, occurred)
        receipt = self.send(self.credit.functions.record(subject_ref, terms, evidence), key)
        ((name, arguments),) = events(self.credit, receipt)
        assert name == "CreditEventRecorded"
        return bytes(arguments["eventId"]), receipt

    def certificate(self, doc_hash: bytes) -> dict[str, int]:
        """``certificateOf`` as a dict keyed by the struct's field names."""
        fields = (
            "issuer",
            "certType",
            "region",
            "anchoredAt",
            "expiresAt",
            "anchoredBlock",
            "status",
            "kind",
            "reasonCode",
        )
        return dict(
            zip(fields, self.certificates.functions.certificateOf(doc_hash).call(), strict=True)
        )

    def mapping_word(self, contract: Contract, key: bytes, slot: int) -> bytes:
        """Raw storage word of ``mapping[key]`` in ``contract`` (mapping declared at ``slot``)."""
        return bytes(self.w3.eth.get_storage_at(contract.address, mapping_slot(key, slot)))

    def grant(self, sink: Contract, signer: ChecksumAddress, scope: int) -> dict[str, Any]:
        """A sink's replica grant for (``signer``, ``scope``) as a dict."""
        fields = ("departmentId", "region", "validFrom", "validUntil", "active")
        return dict(zip(fields, sink.functions.grantOf(signer, scope).call(), strict=True))


def deploy_contract(w3: Web3, sender: ChecksumAddress, name: str, *arguments: object) -> Contract:
    """Deploy ledger contract ``name`` from ``sender``."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx_hash = factory.constructor(*arguments).transact({"from": sender, "gas": GAS})
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    address = receipt["contractAddress"]
    assert receipt["status"] == 1
    assert address is not None
    return w3.eth.contract(address=address, abi=artifact.abi)


def build_chain() -> Chain:
    """A fresh chain: contracts deployed, sinks connected, the cast accredited."""
    tester = EthereumTester(PyEVMBackend())
    w3 = Web3(EthereumTesterProvider(tester))
    accounts = [w3.to_checksum_address(account) for account in w3.eth.accounts]
    governance = accounts[0]
    registry = deploy_contract(w3, governance, "DepartmentRegistry", governance)
    chain = Chain(
        w3=w3,
        tester=tester,
        registry=registry,
        certificates=deploy_contract(w3, governance, "CertificateRegistry", registry.address),
        credit=deploy_contract(w3, governance, "CreditLedger", registry.address),
        governance=governance,
        keys={department: accounts[department] for department in DEPARTMENTS},
        spare=tuple(accounts[5:9]),
        outsider=accounts[9],
    )
    functions = registry.functions
    chain.send(functions.setSink(CERTIFICATE_KIND, chain.certificates.address), governance)
    chain.send(functions.setSink(CREDIT_KIND, chain.credit.address), governance)
    for department, (region, scopes) in DEPARTMENTS.items():
        chain.send(
            functions.registerDepartment(department, region, name_hash(department), list(scopes)),
            governance,
        )
        chain.send(functions.addSigner(department, chain.keys[department], 0, 0), governance)
    chain.send(functions.setSupervisor(DISTRICT, PROVINCE), governance)
    # Snapshots of an empty block revert faster (nothing to re-execute), and an explicit default
    # sender spares web3 an eth_accounts round trip on every call.
    tester.mine_blocks()
    w3.eth.default_account = governance
    return chain


@pytest.fixture(scope="module")
def module_chain() -> Chain:
    """One deployment per test module (and xdist worker). Tests must leave it as they found it:
    use ``chain`` (snapshot per test), or ``module_chain.isolated()`` in Hypothesis tests."""
    return build_chain()


@pytest.fixture
def chain(module_chain: Chain) -> Iterator[Chain]:
    """The module's deployment, reverted to its accredited baseline after the test."""
    with module_chain.isolated():
        yield module_chain
