"""Typed clients for the three ledger contracts, and their deployment.

The clients turn Python values (``datetime``, enums, ``bytes``) into the contracts' packed
arguments and back, send writes through a
:class:`~ledger.chain.transactions.TransactionSender`, and raise the decoded :mod:`ledger.errors`
class when a contract refuses. Reads need no sender.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import Any, Final, Self

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier, TxReceipt

from ledger.artifact import load_artifact
from ledger.catalogue import CREDIT_CATEGORIES, certificate_type_label
from ledger.chain.transactions import TransactionSender, rpc_guard
from ledger.errors import (
    ConfigurationError,
    LedgerError,
    NotDeployedError,
    ValidationError,
)
from ledger.files import write_atomically

__all__ = [
    "Amendment",
    "CertificateRecord",
    "CertificateRegistryClient",
    "CertificateStatus",
    "ChainContext",
    "CreditEvent",
    "CreditLedgerClient",
    "Department",
    "DepartmentRegistryClient",
    "Deployment",
    "Polarity",
    "RecordKind",
    "SignerKey",
    "deploy",
    "load_deployment",
    "save_deployment",
]

_OPEN_ENDED: Final = (1 << 40) - 1
#: Balance a fresh key gets from a development funder (enough for thousands of writes).
FUNDING_AMOUNT: Final = 10**20


#: The last second Python's datetime holds (9999-12-31T23:59:59Z); a uint40 reaches further.
_LAST_REPRESENTABLE: Final = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


def _time(seconds: int) -> datetime | None:
    """A contract's seconds as a UTC datetime (None for 0 and open-ended). A time past the year
    9999, which this library never writes (ledger.parsing.check_moment) but another client may,
    reads as the last representable second instead of failing every read of its record."""
    if seconds in (0, _OPEN_ENDED):
        return None
    return datetime.fromtimestamp(min(seconds, _LAST_REPRESENTABLE), UTC)


def _seconds(moment: datetime | None) -> int:
    if moment is None:
        return 0
    if moment.tzinfo is None:
        raise ValidationError("timestamps must be timezone-aware")
    value = int(moment.timestamp())
    if not 0 < value < _OPEN_ENDED:
        raise ValidationError("timestamp out of range")
    return value


def _bytes32(value: bytes, what: str) -> bytes:
    if len(value) != 32:
        raise ValidationError(f"{what} must be 32 bytes")
    return bytes(value)


# ----------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------


class CertificateStatus(IntEnum):
    """Lifecycle state as stored on chain (``ICertificateRegistry.Status``)."""

    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REVOKED = 3
    SUPERSEDED = 4


class RecordKind(IntEnum):
    """What an anchored hash stands for (``ICertificateRegistry.Kind``)."""

    DOCUMENT = 0
    BATCH_ROOT = 1
    BUNDLE_PART = 2


class Polarity(IntEnum):
    """Whether a credit event counts against or for its subject."""

    NEGATIVE = 0
    POSITIVE = 1


class Amendment(IntEnum):
    """Latest amendment of a credit event (``ICreditLedger.Amendment``)."""

    NONE = 0
    CORRECTED = 1
    WITHDRAWN = 2
    REPAIRED = 3
    DISPUTED = 4
    UPHELD = 5


@dataclass(frozen=True)
class Department:
    """A department as the registry stores it."""

    department_id: int
    region: int
    supervisor: int
    registered_at: datetime | None
    suspended: bool
    scope_count: int
    signer_count: int
    name_hash: bytes


@dataclass(frozen=True)
class SignerKey:
    """A signing key's department and validity window (``valid_until`` None: open-ended)."""

    address: ChecksumAddress
    department_id: int
    valid_from: datetime | None
    valid_until: datetime | None


@dataclass(frozen=True)
class CertificateRecord:
    """An anchored certificate."""

    doc_hash: bytes
    issuer: int
    cert_type: int
    region: int
    anchored_at: datetime
    expires_at: datetime | None
    anchored_block: int
    status: CertificateStatus
    kind: RecordKind
    reason_code: int


@dataclass(frozen=True)
class LeafStatus:
    """One certificate of a batch, as ``leafStatusOf`` reports it."""

    #: NONE when the proof does not lead to an anchored batch root.
    status: CertificateStatus
    reason_code: int
    #: Department that revoked this certificate alone, and when (None when it was not).
    revoked_by: int | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreditEvent:
    """A credit event with its latest amendment."""

    event_id: bytes
    recorder: int
    category: int
    polarity: Polarity
    severity: int
    occurred_at: datetime
    recorded_at: datetime
    amendment: Amendment
    amended_by: int
    amended_at: datetime | None
    amendment_count: int
    evidence_hash: bytes | None = None
    evidence_cid: bytes | None = None
    block_number: int | None = None


# ----------------------------------------------------------------------------------------------
# Deployment
# ----------------------------------------------------------------------------------------------


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


def _logs(event_type: Any, filters: dict[str, Any], start: int) -> list[Any]:
    """Logs of ``event_type`` matching the indexed ``filters`` from block ``start``."""
    return list(rpc_guard(lambda: event_type.get_logs(argument_filters=filters, from_block=start)))


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
    return deploy_bundles(governance, deployment)


def deploy_bundles(governance: TransactionSender, deployment: Deployment) -> Deployment:
    """Add the joint licensing contract to ``deployment`` (deployed before it existed)."""
    bundles, _ = _deploy_one(
        governance,
        "LicenceBundles",
        deployment.department_registry,
        deployment.certificate_registry,
    )
    return replace(deployment, licence_bundles=bundles)


# ----------------------------------------------------------------------------------------------
# Clients
# ----------------------------------------------------------------------------------------------


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


class DepartmentRegistryClient:
    """Governance operations and accreditation queries."""

    def __init__(self, context: ChainContext) -> None:
        self.context = context
        self.contract = contract(
            context.web3, "DepartmentRegistry", context.deployment.department_registry
        )

    def _send(self, function: Any) -> TxReceipt:
        return self.context.require_sender().transact(function)

    def register(
        self, department_id: int, region: int, name_hash: bytes, scopes: Sequence[int]
    ) -> TxReceipt:
        """Accredit a department for ``scopes`` in ``region``."""
        return self._send(
            self.contract.functions.registerDepartment(
                department_id, region, _bytes32(name_hash, "name hash"), list(scopes)
            )
        )

    def grant_scopes(self, department_id: int, scopes: Sequence[int]) -> TxReceipt:
        """Grant further scopes."""
        return self._send(self.contract.functions.grantScopes(department_id, list(scopes)))

    def revoke_scopes(self, department_id: int, scopes: Sequence[int]) -> TxReceipt:
        """Withdraw scopes."""
        return self._send(self.contract.functions.revokeScopes(department_id, list(scopes)))

    def add_signer(
        self,
        department_id: int,
        signer: ChecksumAddress,
        valid_from: datetime | None = None,
        valid_until: datetime | None = None,
    ) -> TxReceipt:
        """Add a signing key with an optional validity window."""
        return self._send(
            self.contract.functions.addSigner(
                department_id, signer, _seconds(valid_from), _seconds(valid_until)
            )
        )

    def retire_signer(self, signer: ChecksumAddress) -> TxReceipt:
        """Retire a key now."""
        return self._send(self.contract.functions.retireSigner(signer))

    def rotate_signer(
        self, old: ChecksumAddress, new: ChecksumAddress, valid_until: datetime | None = None
    ) -> TxReceipt:
        """Replace ``old`` by ``new`` from now on."""
        return self._send(self.contract.functions.rotateSigner(old, new, _seconds(valid_until)))

    def suspend(self, department_id: int) -> TxReceipt:
        """Suspend a department."""
        return self._send(self.contract.functions.suspendDepartment(department_id))

    def reinstate(self, department_id: int) -> TxReceipt:
        """Lift a suspension."""
        return self._send(self.contract.functions.reinstateDepartment(department_id))

    def set_supervisor(self, department_id: int, supervisor: int) -> TxReceipt:
        """Name the supervising or successor department (0 clears it)."""
        return self._send(self.contract.functions.setSupervisor(department_id, supervisor))

    def department(self, department_id: int) -> Department | None:
        """The department, or None when unknown."""
        raw, name_hash = rpc_guard(
            lambda: self.contract.functions.departmentOf(department_id).call()
        )
        region, supervisor, registered_at, suspended, scope_count, signer_count = raw
        if registered_at == 0:
            return None
        return Department(
            department_id=department_id,
            region=region,
            supervisor=supervisor,
            registered_at=_time(registered_at),
            suspended=suspended,
            scope_count=scope_count,
            signer_count=signer_count,
            name_hash=bytes(name_hash),
        )

    def department_ids(self) -> list[int]:
        """Every registered department, from the registry's events."""
        events = rpc_guard(
            lambda: self.contract.events.DepartmentRegistered.get_logs(
                from_block=self.context.deployment.block
            )
        )
        return sorted({int(event["args"]["departmentId"]) for event in events})

    def scopes(self, department_id: int) -> list[int]:
        """Scopes held now."""
        return sorted(rpc_guard(lambda: self.contract.functions.scopesOf(department_id).call()))

    def signers(self, department_id: int) -> list[ChecksumAddress]:
        """Unretired keys."""
        return list(rpc_guard(lambda: self.contract.functions.signersOf(department_id).call()))

    def signer_key(self, signer: ChecksumAddress) -> SignerKey | None:
        """A key's record, or None when unknown."""
        department_id, valid_from, valid_until, _retired_early = rpc_guard(
            lambda: self.contract.functions.signerKey(signer).call()
        )
        if department_id == 0:
            return None
        return SignerKey(signer, department_id, _time(valid_from), _time(valid_until))

    def is_department_authorized(
        self,
        department_id: int,
        scope: int,
        region: int,
        moment: datetime,
        *,
        block: BlockIdentifier = "latest",
    ) -> bool:
        """Whether the department held ``scope`` in ``region`` at ``moment``, unsuspended."""
        return bool(
            rpc_guard(
                lambda: self.contract.functions.isDepartmentAuthorized(
                    department_id, scope, region, _seconds(moment)
                ).call(block_identifier=block)
            )
        )


class CertificateRegistryClient:
    """Anchoring and lifecycle of certificates."""

    def __init__(self, context: ChainContext) -> None:
        self.context = context
        self.contract = contract(
            context.web3, "CertificateRegistry", context.deployment.certificate_registry
        )

    @staticmethod
    def encode_terms(cert_type: int, region: int, expires_at: datetime | None) -> int:
        """Pack anchoring terms like ``CertificateRegistry.encodeTerms``."""
        if not 0 < cert_type < 1 << 32 or not 100000 <= region <= 999999:
            raise ValidationError("certificate type or region out of range")
        return (cert_type << 64) | (region << 40) | _seconds(expires_at)

    def anchor(
        self,
        doc_hash: bytes,
        cert_type: int,
        region: int,
        expires_at: datetime | None = None,
        *,
        subject_ref: bytes | None = None,
        cid: bytes | None = None,
    ) -> TxReceipt:
        """Anchor a document hash; with ``subject_ref`` or ``cid`` it is keyed to its holder."""
        return self.context.require_sender().transact(
            self.anchor_function(
                doc_hash, cert_type, region, expires_at, subject_ref=subject_ref, cid=cid
            )
        )

    def anchor_function(
        self,
        doc_hash: bytes,
        cert_type: int,
        region: int,
        expires_at: datetime | None = None,
        *,
        subject_ref: bytes | None = None,
        cid: bytes | None = None,
    ) -> ContractFunction:
        """The call :meth:`anchor` sends (for the write journal, which sends it later)."""
        terms = self.encode_terms(cert_type, region, expires_at)
        digest = _bytes32(doc_hash, "document hash")
        if subject_ref is None and not cid:
            function: ContractFunction = self.contract.functions.anchorCertificate(digest, terms)
            return function
        holder = _bytes32(subject_ref, "subject reference") if subject_ref else bytes(32)
        function = self.contract.functions.anchorCertificateFor(digest, terms, holder, cid or b"")
        return function

    def anchor_batch(
        self, root: bytes, cert_type: int, region: int, expires_at: datetime | None = None
    ) -> TxReceipt:
        """Anchor the Merkle root of a batch of certificates sharing type, region and expiry."""
        terms = self.encode_terms(cert_type, region, expires_at)
        return self.context.require_sender().transact(
            self.contract.functions.anchorBatchedCertificates(_bytes32(root, "batch root"), terms)
        )

    def revoke_leaf(
        self, root: bytes, doc_hash: bytes, proof: Sequence[bytes], reason: int
    ) -> TxReceipt:
        """Revoke one certificate of a batch (its Merkle proof shows it is in the batch)."""
        return self.context.require_sender().transact(
            self.contract.functions.revokeLeaf(
                _bytes32(root, "batch root"),
                _bytes32(doc_hash, "document hash"),
                [_bytes32(node, "proof element") for node in proof],
                reason,
            )
        )

    def leaf_status(
        self,
        root: bytes,
        doc_hash: bytes,
        proof: Sequence[bytes],
        *,
        block: BlockIdentifier = "latest",
    ) -> LeafStatus:
        """Status of one certificate of a batch (NONE when the proof does not lead to a root)."""
        status, reason, revoked_by, revoked_at = rpc_guard(
            lambda: self.contract.functions.leafStatusOf(
                _bytes32(root, "batch root"),
                _bytes32(doc_hash, "document hash"),
                [_bytes32(node, "proof element") for node in proof],
            ).call(block_identifier=block)
        )
        return LeafStatus(
            CertificateStatus(status), int(reason), int(revoked_by) or None, _time(revoked_at)
        )

    def suspend(self, doc_hash: bytes, reason: int) -> TxReceipt:
        """Suspend an active certificate."""
        return self.context.require_sender().transact(
            self.contract.functions.suspend(_bytes32(doc_hash, "document hash"), reason)
        )

    def reinstate(self, doc_hash: bytes) -> TxReceipt:
        """Reinstate a suspended certificate."""
        return self.context.require_sender().transact(
            self.contract.functions.reinstate(_bytes32(doc_hash, "document hash"))
        )

    def revoke(self, doc_hash: bytes, reason: int) -> TxReceipt:
        """Revoke a certificate for good."""
        return self.context.require_sender().transact(
            self.contract.functions.revoke(_bytes32(doc_hash, "document hash"), reason)
        )

    def supersede(
        self,
        old_hash: bytes,
        new_hash: bytes,
        reason: int,
        expires_at: datetime | None = None,
        *,
        subject_ref: bytes | None = None,
        cid: bytes | None = None,
    ) -> TxReceipt:
        """Replace ``old_hash`` by ``new_hash`` (same type and region)."""
        return self.context.require_sender().transact(
            self.supersede_function(
                old_hash, new_hash, reason, expires_at, subject_ref=subject_ref, cid=cid
            )
        )

    def supersede_function(
        self,
        old_hash: bytes,
        new_hash: bytes,
        reason: int,
        expires_at: datetime | None = None,
        *,
        subject_ref: bytes | None = None,
        cid: bytes | None = None,
    ) -> ContractFunction:
        """The call :meth:`supersede` sends."""
        function: ContractFunction = self.contract.functions.supersede(
            _bytes32(old_hash, "document hash"),
            _bytes32(new_hash, "document hash"),
            _seconds(expires_at),
            _bytes32(subject_ref, "subject reference") if subject_ref else bytes(32),
            cid or b"",
            reason,
        )
        return function

    def certificate(
        self, doc_hash: bytes, *, block: BlockIdentifier = "latest"
    ) -> CertificateRecord | None:
        """The anchored record, or None when the hash was never anchored."""
        digest = _bytes32(doc_hash, "document hash")
        raw = rpc_guard(
            lambda: self.contract.functions.certificateOf(digest).call(block_identifier=block)
        )
        issuer, cert_type, region, anchored_at, expires_at, anchored_block, status, kind, reason = (
            raw
        )
        if status == CertificateStatus.NONE:
            return None
        return CertificateRecord(
            doc_hash=digest,
            issuer=issuer,
            cert_type=cert_type,
            region=region,
            anchored_at=datetime.fromtimestamp(anchored_at, UTC),
            expires_at=_time(expires_at),
            anchored_block=anchored_block,
            status=CertificateStatus(status),
            kind=RecordKind(kind),
            reason_code=reason,
        )

    def successor(self, doc_hash: bytes) -> bytes | None:
        """The replacement of a superseded certificate."""
        value = bytes(
            rpc_guard(
                lambda: self.contract.functions.successorOf(
                    _bytes32(doc_hash, "document hash")
                ).call()
            )
        )
        return None if value == bytes(32) else value

    def anchored_between(self, first: int, last: int) -> list[tuple[bytes, int, int]]:
        """(document hash or batch root, block, log index) of every anchor in blocks
        ``first``..``last``."""
        events = self.contract.events
        found: list[tuple[bytes, int, int]] = []
        anchors = (
            events.CertificateAnchored,
            events.CertificateAnchoredFor,
            events.CertificateBatchAnchored,
        )
        for event_type in anchors:

            def fetch(event_type: Any = event_type) -> Any:
                return event_type.get_logs(from_block=first, to_block=last)

            found.extend(
                (
                    bytes(log["args"].get("docHash", log["args"].get("root", b""))),
                    int(log["blockNumber"]),
                    int(log["logIndex"]),
                )
                for log in rpc_guard(fetch)
            )
        return sorted(found, key=lambda item: (item[1], item[2]))

    def anchored_for(self, record: CertificateRecord) -> tuple[bytes, bytes] | None:
        """(subject reference, binary CID) anchored with ``record`` by its
        ``CertificateAnchoredFor`` event, or None when it was anchored without one (bare).

        The registry keeps neither in storage (ADR 0003: no SSTORE for them on the hot path),
        only in that event. Its only topic is the subject reference, so the event is found by
        the document hash in its data; the record says in which block it was anchored, and the
        event was emitted by that very transaction, so one block's logs are read, not the chain's.
        A zero subject reference (a supersession naming no holder) is returned as is.
        """
        block = record.anchored_block
        events = rpc_guard(
            lambda: self.contract.events.CertificateAnchoredFor.get_logs(
                from_block=block, to_block=block
            )
        )
        for event in events:
            if bytes(event["args"]["docHash"]) == record.doc_hash:
                return bytes(event["args"]["subjectRef"]), bytes(event["args"]["cid"])
        return None

    def held_by(self, subject_ref: bytes) -> list[tuple[bytes, bytes, int]]:
        """(document hash, CID, block) of every certificate anchored for ``subject_ref``."""
        events = rpc_guard(
            lambda: self.contract.events.CertificateAnchoredFor.get_logs(
                argument_filters={"subjectRef": _bytes32(subject_ref, "subject reference")},
                from_block=self.context.deployment.block,
            )
        )
        return [
            (bytes(e["args"]["docHash"]), bytes(e["args"]["cid"]), int(e["blockNumber"]))
            for e in events
        ]


class CreditLedgerClient:
    """Credit events: record, amend, read, and list by subject."""

    def __init__(self, context: ChainContext) -> None:
        self.context = context
        self.contract = contract(context.web3, "CreditLedger", context.deployment.credit_ledger)

    @staticmethod
    def encode_terms(
        category: int, polarity: Polarity, severity: int, occurred_at: datetime
    ) -> int:
        """Pack recording terms like ``CreditLedger.encodeTerms``."""
        if not 0 < category < 1 << 32 or not 0 <= severity < 256:
            raise ValidationError("credit category or severity out of range")
        return (category << 56) | (int(polarity) << 48) | (severity << 40) | _seconds(occurred_at)

    @staticmethod
    def event_id(
        subject_ref: bytes, category: int, occurred_at: datetime, evidence_hash: bytes
    ) -> bytes:
        """The id the contract derives: keccak256(abi.encode(subject, category, time, evidence))."""
        from eth_abi.abi import encode

        return bytes(
            Web3.keccak(
                encode(
                    ["bytes32", "uint32", "uint40", "bytes32"],
                    [subject_ref, category, _seconds(occurred_at), evidence_hash],
                )
            )
        )

    def record(
        self,
        subject_ref: bytes,
        category: int,
        polarity: Polarity,
        severity: int,
        occurred_at: datetime,
        evidence_hash: bytes,
        *,
        evidence_cid: bytes | None = None,
    ) -> tuple[bytes, TxReceipt]:
        """Record a credit event; returns its id and the receipt."""
        subject = _bytes32(subject_ref, "subject reference")
        evidence = _bytes32(evidence_hash, "evidence hash")
        terms = self.encode_terms(category, polarity, severity, occurred_at)
        sender = self.context.require_sender()
        if evidence_cid:
            function = self.contract.functions.recordWithEvidence(
                subject, terms, evidence, evidence_cid
            )
        else:
            function = self.contract.functions.record(subject, terms, evidence)
        receipt = sender.transact(function)
        return self.event_id(subject, category, occurred_at, evidence), receipt

    def amend(self, event_id: bytes, status: Amendment, reason_hash: bytes) -> TxReceipt:
        """Amend an event (corrected, withdrawn, repaired, disputed, upheld)."""
        return self.context.require_sender().transact(
            self.contract.functions.amend(
                _bytes32(event_id, "event id"), int(status), _bytes32(reason_hash, "reason hash")
            )
        )

    def set_disclosure_period(self, category: int, seconds: int) -> TxReceipt:
        """Governance: how long negative events of ``category`` are shown publicly (0: always)."""
        return self.context.require_sender().transact(
            self.contract.functions.setDisclosurePeriod(category, seconds)
        )

    def disclosure_period(self, category: int) -> int:
        """Seconds; 0 means no limit."""
        return int(rpc_guard(lambda: self.contract.functions.disclosurePeriodOf(category).call()))

    def disclosure_periods(self, categories: Iterable[int]) -> dict[int, int]:
        """The disclosure period (seconds, 0: no limit) of each category, one read each."""
        return {category: self.disclosure_period(category) for category in set(categories)}

    def is_disclosed(self, event_id: bytes, moment: datetime) -> bool:
        """Whether the event may be shown publicly at ``moment``."""
        return bool(
            rpc_guard(
                lambda: self.contract.functions.isDisclosed(
                    _bytes32(event_id, "event id"), _seconds(moment)
                ).call()
            )
        )

    def event(self, event_id: bytes) -> CreditEvent | None:
        """The event with its latest amendment, or None."""
        digest = _bytes32(event_id, "event id")
        raw = rpc_guard(lambda: self.contract.functions.eventOf(digest).call())
        recorder, category, polarity, severity, occurred_at, recorded_at = raw
        if recorded_at == 0:
            return None
        status, amended_by, amended_at, count = rpc_guard(
            lambda: self.contract.functions.amendmentOf(digest).call()
        )
        return CreditEvent(
            event_id=digest,
            recorder=recorder,
            category=category,
            polarity=Polarity(polarity),
            severity=severity,
            occurred_at=datetime.fromtimestamp(occurred_at, UTC),
            recorded_at=datetime.fromtimestamp(recorded_at, UTC),
            amendment=Amendment(status),
            amended_by=amended_by,
            amended_at=_time(amended_at),
            amendment_count=count,
        )

    def event_with_evidence(self, event_id: bytes) -> CreditEvent | None:
        """The event with its evidence hash, CID and block, found by the indexed event id."""
        event = self.event(event_id)
        if event is None:
            return None
        digest = _bytes32(event_id, "event id")
        start = self.context.deployment.block
        events = self.contract.events
        for event_type in (events.CreditEventRecorded, events.CreditEventRecordedWithEvidence):
            for log in _logs(event_type, {"eventId": digest}, start):
                args = log["args"]
                cid = bytes(args["evidenceCid"]) if "evidenceCid" in args else None
                return replace(
                    event,
                    evidence_hash=bytes(args["evidenceHash"]),
                    evidence_cid=cid,
                    block_number=int(log["blockNumber"]),
                )
        return event

    def history(self, subject_ref: bytes) -> list[CreditEvent]:
        """Every event about ``subject_ref``, found by the indexed subject topic.

        Oldest first by when the fact occurred (``occurredAt``), events of the same moment in
        recording order (block, then log index). This is the one place that orders a history:
        the CLI, the API and the citizen page show it as it comes from here (a department may
        record an old fact after a newer one, so recording order is not "oldest first").
        """
        subject = _bytes32(subject_ref, "subject reference")
        start = self.context.deployment.block
        found: list[tuple[int, int, bytes, bytes, bytes | None]] = []
        events = self.contract.events
        for event_type in (events.CreditEventRecorded, events.CreditEventRecordedWithEvidence):
            for log in _logs(event_type, {"subjectRef": subject}, start):
                args = log["args"]
                cid = bytes(args["evidenceCid"]) if "evidenceCid" in args else None
                found.append(
                    (
                        int(log["blockNumber"]),
                        int(log["logIndex"]),
                        bytes(args["eventId"]),
                        bytes(args["evidenceHash"]),
                        cid,
                    )
                )
        history: list[CreditEvent] = []
        for block, _index, event_id, evidence_hash, cid in sorted(found):
            event = self.event(event_id)
            if event is not None:
                history.append(
                    replace(
                        event, evidence_hash=evidence_hash, evidence_cid=cid, block_number=block
                    )
                )
        # A stable sort: events that occurred at the same moment keep their recording order.
        history.sort(key=lambda event: event.occurred_at)
        return history


@dataclass(frozen=True)
class BundlePart:
    """One required licence of a bundle, and the certificate filed for it (None: not yet)."""

    department_id: int
    cert_type: int
    doc_hash: bytes | None

    def label(self, index: int) -> str:
        """How messages name the part: ``part 1 (tax-registration of department 22)``."""
        return (
            f"part {index} ({certificate_type_label(self.cert_type)} of department "
            f"{self.department_id})"
        )


@dataclass(frozen=True)
class Bundle:
    """A joint licensing bundle (``ILicenceBundles.Bundle``) with its parts."""

    bundle_id: bytes
    lead: int
    subject_ref: bytes
    opened_at: datetime
    deadline: datetime
    completed_at: datetime | None
    parts: tuple[BundlePart, ...]

    @property
    def filed(self) -> int:
        return sum(1 for part in self.parts if part.doc_hash is not None)

    def holder_problem(self, holder: bytes | None) -> str | None:
        """Why a certificate anchored for the subject reference ``holder`` (None: anchored
        without one) cannot be a part of this bundle, or None when it can (ADR 0019)."""
        if holder == self.subject_ref:
            return None
        if holder is None or holder == bytes(32):
            return "the certificate was anchored without a holder, not for the bundle's enterprise"
        return "the certificate is not held by the bundle's enterprise"


class LicenceBundlesClient:
    """Joint licensing (ADR 0011): open a bundle, file parts, read bundles."""

    def __init__(self, context: ChainContext) -> None:
        address = context.deployment.licence_bundles
        if address is None:
            raise NotDeployedError(
                "this deployment has no joint licensing contract; run `ledger init` to add it"
            )
        self.context = context
        self.contract = contract(context.web3, "LicenceBundles", address)

    def open(
        self,
        bundle_id: bytes,
        subject_ref: bytes,
        deadline: datetime,
        parts: Sequence[tuple[int, int]],
    ) -> TxReceipt:
        """Open a bundle naming (department, certificate type) parts; the sender leads it."""
        return self.context.require_sender().transact(
            self.contract.functions.openBundle(
                _bytes32(bundle_id, "bundle id"),
                _bytes32(subject_ref, "subject reference"),
                _seconds(deadline),
                [list(part) for part in parts],
            )
        )

    def file_part(self, bundle_id: bytes, index: int, doc_hash: bytes) -> TxReceipt:
        """File the sender's department's certificate as part ``index``."""
        return self.context.require_sender().transact(
            self.contract.functions.filePart(
                _bytes32(bundle_id, "bundle id"), index, _bytes32(doc_hash, "document hash")
            )
        )

    def bundle(self, bundle_id: bytes, *, block: BlockIdentifier = "latest") -> Bundle | None:
        """The bundle and its parts (as of ``block``), or None when unknown."""
        digest = _bytes32(bundle_id, "bundle id")
        lead, count, _filed, opened, deadline, completed, subject = rpc_guard(
            lambda: self.contract.functions.bundleOf(digest).call(block_identifier=block)
        )
        if opened == 0:
            return None
        parts = []
        functions = self.contract.functions

        def part_of(index: int) -> Any:
            return functions.partOf(digest, index).call(block_identifier=block)

        for index in range(count):
            (department, cert_type), filed = rpc_guard(functools.partial(part_of, index))
            filed_hash = bytes(filed)
            parts.append(
                BundlePart(department, cert_type, None if filed_hash == bytes(32) else filed_hash)
            )
        return Bundle(
            bundle_id=digest,
            lead=lead,
            subject_ref=bytes(subject),
            opened_at=datetime.fromtimestamp(opened, UTC),
            deadline=datetime.fromtimestamp(deadline, UTC),
            completed_at=_time(completed),
            parts=tuple(parts),
        )

    def is_complete(self, bundle_id: bytes, *, block: BlockIdentifier = "latest") -> bool:
        """Every part filed, and every filed certificate active and unexpired (live)."""
        return bool(
            rpc_guard(
                lambda: self.contract.functions.isComplete(_bytes32(bundle_id, "bundle id")).call(
                    block_identifier=block
                )
            )
        )

    def opened_for(self, subject_ref: bytes) -> list[bytes]:
        """Ids of the bundles opened for ``subject_ref``, oldest first."""
        reference = _bytes32(subject_ref, "subject reference")
        event_type = self.contract.events.BundleOpened
        logs = rpc_guard(
            lambda: event_type.get_logs(
                argument_filters={"subjectRef": reference},
                from_block=self.context.deployment.block,
            )
        )
        return [bytes(log["args"]["bundleId"]) for log in logs]

    def last_filing_block(self, bundle_id: bytes, *, until: int | None = None) -> int | None:
        """The block of the bundle's latest ``BundlePartFiled`` event up to block ``until``
        (None: no part filed yet)."""
        digest = _bytes32(bundle_id, "bundle id")
        event_type = self.contract.events.BundlePartFiled
        last = "latest" if until is None else until
        logs = rpc_guard(
            lambda: event_type.get_logs(
                argument_filters={"bundleId": digest},
                from_block=self.context.deployment.block,
                to_block=last,
            )
        )
        return max((int(log["blockNumber"]) for log in logs), default=None)
