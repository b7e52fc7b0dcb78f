"""The chains the invariant state machine runs on: the real contracts, or a deliberately broken
variant compiled inside the test run.

A variant is the project's own source with one precise string replacement, compiled with the
pinned compiler through :func:`ledger.compile.compile_contracts` (same settings as the committed
artifacts) into a temporary directory, and deployed in place of the real contract: the department
registry is pointed at it as the certificate sink and every department is resynced, so it holds
the same grants the real one would. Nothing under ``contracts/`` or ``ledger/artifacts/`` changes.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3.contract import Contract

from ledger.compile import compile_contracts
from ledger.contracts.artifacts import Artifact, load_artifact
from tests.contracts.conftest import (
    CERTIFICATE_KIND,
    CITY,
    DEPARTMENTS,
    DISTRICT,
    GAS,
    PROVINCE,
    SHANGHAI_BUREAU,
    Chain,
    build_chain,
)

ROOT: Final = Path(__file__).resolve().parents[2]
#: Where every run's clock starts (2033-05-18 UTC), unless the wall clock comes within a year of it.
BASELINE_TIME: Final = 2_000_000_000

#: The sources CertificateRegistry.sol needs (OpenZeppelin comes through the remapping).
CERTIFICATE_REGISTRY_SOURCES: Final = (
    "CertificateRegistry.sol",
    "interfaces/ICertificateRegistry.sol",
    "interfaces/IDepartmentRegistry.sol",
    "interfaces/IAccreditationSink.sol",
    "utils/AccreditationCache.sol",
    "utils/RecordLayout.sol",
    "utils/Regions.sol",
)

#: ``revoke`` with its accreditation and issuer check replaced by a no-op: anyone may revoke any
#: certificate, and the event names the issuer as the actor.
REVOKE_ACCESS_CHECK: Final = """\
    function revoke(bytes32 docHash, uint16 reasonCode) external {
        Certificate memory record = _existing(docHash);
        uint32 actor = _authorizeFor(msg.sender, record.certType, record.region, record.issuer);
"""
REVOKE_WITHOUT_ACCESS_CHECK: Final = """\
    function revoke(bytes32 docHash, uint16 reasonCode) external {
        Certificate memory record = _existing(docHash);
        uint32 actor = record.issuer; // deliberately broken: no access check
"""


def compile_broken_revoke(workdir: Path) -> Artifact:
    """CertificateRegistry with the access check of ``revoke`` removed, compiled in ``workdir``.

    Fails if the replacement does not match exactly once, so a change to the real contract
    cannot silently turn this into a test of an unbroken contract.
    """
    contracts_dir = workdir / "contracts"
    for relative in CERTIFICATE_REGISTRY_SOURCES:
        target = contracts_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "contracts" / relative, target)
    registry_source = contracts_dir / "CertificateRegistry.sol"
    source = registry_source.read_text(encoding="utf-8")
    occurrences = source.count(REVOKE_ACCESS_CHECK)
    assert occurrences == 1, f"revoke's access check matched {occurrences} times, expected once"
    registry_source.write_text(
        source.replace(REVOKE_ACCESS_CHECK, REVOKE_WITHOUT_ACCESS_CHECK), encoding="utf-8"
    )
    artifact = compile_contracts(ROOT, contracts_dir=contracts_dir)["CertificateRegistry"]
    real = load_artifact("CertificateRegistry")
    assert artifact.abi == real.abi, "the variant must keep the real contract's interface"
    assert artifact.deployed_bytecode != real.deployed_bytecode, "the variant did not change"
    return artifact


# ----------------------------------------------------------------------------------------------
# Worlds
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """Paperwork every run starts with: anchored and recorded once, in the baseline."""

    documents: tuple[bytes, ...]
    events: tuple[bytes, ...]
    bundles: tuple[bytes, ...]
    #: The state machine's model attributes right after the paperwork (copied for each run).
    model: dict[str, Any]
    #: Contract views read at the baseline (the same in every run).
    views: dict[tuple[str, str, tuple[object, ...]], Any]


@dataclass
class World:
    """A deployed chain plus its baseline snapshot; every state machine run starts from it."""

    label: str
    chain: Chain
    bundles: Contract
    baseline: HexBytes
    #: The machine's actor names and the accounts behind them.
    actors: dict[str, ChecksumAddress]
    #: signerKey of each department's initial key: (department, validFrom, validUntil, early).
    initial_keys: dict[ChecksumAddress, tuple[int, int, int, bool]]
    #: Rule executions on this world so far (the measurable step count).
    steps: int = 0
    #: How often each rule's call was predicted to succeed ("rule: ok") or to fail, and how.
    outcomes: Counter[str] = field(default_factory=Counter)
    #: The baseline's block number (0 until with_cast): a run's logs come after it.
    baseline_block: int = 0
    #: The pending block's timestamp at the baseline.
    start: int = field(default=0)
    #: The cast's paperwork, once done (invariant_machine.with_cast).
    cast: Cast | None = None

    def reset(self) -> None:
        """Return the chain to the baseline: the contracts, the accredited cast and, once
        ``with_cast`` ran, its paperwork; the clock at ``start``."""
        self.chain.tester.revert_to_snapshot(self.baseline)
        assert self.chain.now() == self.start


def _deploy_certificate_variant(chain: Chain, artifact: Artifact) -> Contract:
    w3 = chain.w3
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx_hash = factory.constructor(chain.registry.address).transact(
        {"from": chain.governance, "gas": GAS}
    )
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    address = receipt["contractAddress"]
    assert address is not None
    variant = w3.eth.contract(address=address, abi=artifact.abi)
    registry = chain.registry.functions
    chain.send(registry.setSink(CERTIFICATE_KIND, variant.address), chain.governance)
    for department in DEPARTMENTS:
        chain.send(registry.resync(department), chain.governance)
    return variant


def build_world(label: str, certificate_artifact: Artifact | None = None) -> World:
    """The conftest's accredited cast, LicenceBundles, and optionally a certificate registry
    built from ``certificate_artifact`` instead of the committed one."""
    chain = build_chain()
    if certificate_artifact is not None:
        chain.certificates = _deploy_certificate_variant(chain, certificate_artifact)
    bundles = chain.deploy("LicenceBundles", chain.registry.address, chain.certificates.address)
    actors: dict[str, ChecksumAddress] = {
        "district": chain.keys[DISTRICT],
        "province": chain.keys[PROVINCE],
        "city": chain.keys[CITY],
        "shanghai": chain.keys[SHANGHAI_BUREAU],
        **{f"spare {index}": key for index, key in enumerate(chain.spare, start=1)},
        "outsider": chain.outsider,
        "governance": chain.governance,
    }
    initial_keys: dict[ChecksumAddress, tuple[int, int, int, bool]] = {
        key: tuple(chain.registry.functions.signerKey(key).call()) for key in chain.keys.values()
    }
    # Move to a fixed moment well ahead of the wall clock (also an empty block on top: snapshots
    # of an empty block revert fastest). py-evm stamps a new block max(wall clock, parent + 1),
    # so from here on every block is its parent + 1 and a run is the same whenever it starts.
    chain.travel_to(max(BASELINE_TIME, int(time.time()) + 365 * 86_400))
    world = World(
        label=label,
        chain=chain,
        bundles=bundles,
        baseline=chain.tester.take_snapshot(),
        actors=actors,
        initial_keys=initial_keys,
    )
    world.start = chain.now()
    return world
