"""Where the ledger contracts live on a chain: the :class:`Deployment` record, its deployments
file (load and save), deploying the contracts, and :func:`contract`, the web3 object every
client builds on.

Deploying is governance's one-time act (``ledger init``); the clients that use a deployment are
in their own modules, and the compiled artifacts are read by :mod:`ledger.contracts.artifacts`
(no compiler here).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Self

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from ledger.catalogue import CREDIT_CATEGORIES
from ledger.chain.transactions import TransactionSender, rpc_guard
from ledger.contracts.artifacts import load_artifact
from ledger.errors import (
    ConfigurationError,
    LedgerError,
    NotDeployedError,
)
from ledger.files import write_atomically

__all__ = [
    "FUNDING_AMOUNT",
    "Deployment",
    "contract",
    "deploy",
    "deploy_access_log",
    "deploy_bundles",
    "load_deployment",
    "save_deployment",
]

#: Balance a fresh key gets from a development funder (enough for thousands of writes).
FUNDING_AMOUNT: Final = 10**20


@dataclass(frozen=True)
class Deployment:
    """Where the ledger contracts live on one chain."""

    chain_id: int
    department_registry: ChecksumAddress
    certificate_registry: ChecksumAddress
    credit_ledger: ChecksumAddress
    #: Block of the first deployment transaction: log queries start here.
    block: int
    #: Hash of block 0, to notice a chain that was reset under the same chain id.
    genesis_hash: str
    #: Joint licensing bundles (ADR 0011); None in deployments made before it existed, until
    #: ``ledger init`` adds it.
    licence_bundles: ChecksumAddress | None = None
    #: The access log's anchors (查询记录); None in deployments made before it existed, until
    #: ``ledger init`` adds it.
    access_log: ChecksumAddress | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form stored in the deployments file."""
        document: dict[str, Any] = {
            "chainId": self.chain_id,
            "DepartmentRegistry": self.department_registry,
            "CertificateRegistry": self.certificate_registry,
            "CreditLedger": self.credit_ledger,
            "block": self.block,
            "genesisHash": self.genesis_hash,
        }
        if self.licence_bundles is not None:
            document["LicenceBundles"] = self.licence_bundles
        if self.access_log is not None:
            document["AccessLogAnchors"] = self.access_log
        return document

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Parse the stored form; ConfigurationError when malformed."""
        try:
            return cls(
                chain_id=int(data["chainId"]),
                department_registry=to_checksum_address(data["DepartmentRegistry"]),
                certificate_registry=to_checksum_address(data["CertificateRegistry"]),
                credit_ledger=to_checksum_address(data["CreditLedger"]),
                block=int(data["block"]),
                genesis_hash=str(data["genesisHash"]),
                licence_bundles=to_checksum_address(data["LicenceBundles"])
                if data.get("LicenceBundles")
                else None,
                access_log=to_checksum_address(data["AccessLogAnchors"])
                if data.get("AccessLogAnchors")
                else None,
            )
        except (KeyError, TypeError, ValueError):
            raise ConfigurationError("malformed deployments file entry") from None


def load_deployment(path: Path, web3: Web3) -> Deployment:
    """The deployment for ``web3``'s chain, checked against the chain; NotDeployedError if none."""
    chain_id = rpc_guard(lambda: web3.eth.chain_id)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotDeployedError(
            f"no deployment recorded for chain {chain_id}; run `ledger init`"
        ) from None
    except (OSError, ValueError):
        raise ConfigurationError(f"cannot read the deployments file {path.name}") from None
    entry = document.get(str(chain_id)) if isinstance(document, dict) else None
    if not isinstance(entry, dict):
        raise NotDeployedError(f"no deployment recorded for chain {chain_id}; run `ledger init`")
    deployment = Deployment.from_json(entry)
    genesis = rpc_guard(lambda: web3.eth.get_block(0)["hash"])
    if HexBytes(genesis).to_0x_hex() != deployment.genesis_hash:
        raise NotDeployedError(
            f"chain {chain_id} was reset since the deployment was recorded; run `ledger init`"
        )
    return deployment


def save_deployment(path: Path, deployment: Deployment) -> None:
    """Record ``deployment`` under its chain id, keeping other chains' entries (atomic write)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        document = {}
    document[str(deployment.chain_id)] = deployment.to_json()
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    write_atomically(path, text.encode("utf-8"))


def contract(web3: Web3, name: str, address: ChecksumAddress) -> Contract:
    """A web3 contract object for ledger contract ``name`` at ``address``."""
    return web3.eth.contract(address=address, abi=load_artifact(name).abi)


def _deploy_one(sender: TransactionSender, name: str, *args: object) -> tuple[ChecksumAddress, int]:
    artifact = load_artifact(name)
    factory = sender.web3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = sender.transact(factory.constructor(*args))
    address = receipt["contractAddress"]
    if address is None:
        raise LedgerError(f"deploying {name} returned no contract address")
    return to_checksum_address(address), receipt["blockNumber"]


def deploy(governance: TransactionSender) -> Deployment:
    """Deploy the contracts with ``governance`` as owner and connect the grant sinks."""
    web3 = governance.web3
    registry, first_block = _deploy_one(governance, "DepartmentRegistry", governance.address)
    certificates, _ = _deploy_one(governance, "CertificateRegistry", registry)
    credit, _ = _deploy_one(governance, "CreditLedger", registry)
    registry_contract = contract(web3, "DepartmentRegistry", registry)
    governance.transact(registry_contract.functions.setSink(1, certificates))
    governance.transact(registry_contract.functions.setSink(2, credit))
    # Realistic disclosure periods from the first block on (ADR 0020): once, at deployment. The
    # deployment is saved only after this returns, so an interrupted `ledger init` deploys
    # afresh rather than leaving a ledger without them; later changes are governance's.
    credit_contract = contract(web3, "CreditLedger", credit)
    for category in CREDIT_CATEGORIES:
        if category.disclosure_seconds:
            governance.transact(
                credit_contract.functions.setDisclosurePeriod(
                    category.code, category.disclosure_seconds
                )
            )
    genesis = rpc_guard(lambda: web3.eth.get_block(0)["hash"])
    deployment = Deployment(
        chain_id=rpc_guard(lambda: web3.eth.chain_id),
        department_registry=registry,
        certificate_registry=certificates,
        credit_ledger=credit,
        block=first_block,
        genesis_hash=HexBytes(genesis).to_0x_hex(),
    )
    return deploy_access_log(governance, deploy_bundles(governance, deployment))


def deploy_bundles(governance: TransactionSender, deployment: Deployment) -> Deployment:
    """Add the joint licensing contract to ``deployment`` (deployed before it existed)."""
    bundles, _ = _deploy_one(
        governance,
        "LicenceBundles",
        deployment.department_registry,
        deployment.certificate_registry,
    )
    return replace(deployment, licence_bundles=bundles)


def deploy_access_log(governance: TransactionSender, deployment: Deployment) -> Deployment:
    """Add the access-log anchor contract, owned by ``governance``, to ``deployment`` (deployed
    before it existed)."""
    anchors, _ = _deploy_one(governance, "AccessLogAnchors", governance.address)
    return replace(deployment, access_log=anchors)
