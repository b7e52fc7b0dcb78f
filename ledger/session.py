"""An open ledger: settings, chain, keys and contract clients, in one object the CLI and API share.

:meth:`LedgerSession.initialize` is what ``ledger init`` does: create the data directory and local
secrets, the governance key, and deploy the contracts once per chain (recorded in
``DATA_DIR/deployments.json``; a restart reuses them). :meth:`LedgerSession.open` opens an
initialized ledger and fails clearly when it is not.

:meth:`LedgerSession.anchor_document` is the anchoring workflow with a stored copy (ADR 0008):
the document is stored first (encrypted when its type calls for it) and anchored with its CID
second, so the chain never names a copy that was not stored; when anchoring fails the stored copy
is discarded, unless the transaction may still land.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Self

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from ledger.authorization import (
    authorize_certificate_change,
    require_accreditation,
)
from ledger.catalogue import CertificateType
from ledger.chain.connection import ChainConnection, connect
from ledger.chain.keys import Keystore
from ledger.chain.transactions import TransactionSender, rpc_guard
from ledger.closing import Closing
from ledger.config import Settings, write_local_secrets
from ledger.contracts import (
    FUNDING_AMOUNT,
    CertificateRegistryClient,
    ChainContext,
    CreditLedgerClient,
    DepartmentRegistryClient,
    Deployment,
    LicenceBundlesClient,
    deploy,
    deploy_bundles,
    load_deployment,
    save_deployment,
)
from ledger.documents import DocumentKind, document_hash_of
from ledger.errors import (
    CertificateRegistryAlreadyAnchored,
    ChainUnavailableError,
    InsufficientFundsError,
    LedgerError,
    NotDeployedError,
    NotFoundError,
    UnknownKeyError,
)
from ledger.identity import Subject, SubjectKind, parse_subject, subject_ref
from ledger.names import name_hash
from ledger.serving import rpc_credential
from ledger.storage.cid import cid_from_str
from ledger.storage.factory import close_document_service, open_document_service
from ledger.storage.vault import DocumentService, StoredDocument
from ledger.writes.prepared import PreparedWrite, Signer

__all__ = ["DEPLOYMENTS_FILE", "AnchorOutcome", "LedgerSession", "PreparedAnchor", "name_hash"]

DEPLOYMENTS_FILE: Final = "deployments.json"
#: A key with less than this is topped up by a development funder before it is used.
_MINIMUM_BALANCE: Final = 10**18


@dataclass(frozen=True)
class AnchorOutcome:
    """What :meth:`LedgerSession.anchor_document` did."""

    #: The anchored document hash (of the plaintext).
    doc_hash: bytes
    #: Which hashing rule applied (file bytes or structured certificate).
    document_kind: DocumentKind
    #: CID of the stored copy, recorded with the anchor; None when anchored without one.
    cid: str | None
    #: Whether the stored copy is a ciphertext (its key in the vault).
    encrypted: bool
    #: Region the certificate was anchored for.
    region: int
    receipt: TxReceipt


@dataclass(frozen=True)
class PreparedAnchor:
    """An anchoring made ready to send (:meth:`LedgerSession.prepare_anchor`): the copy is
    stored, the call built; nothing is on chain yet."""

    doc_hash: bytes
    document_kind: DocumentKind
    cid: str | None
    encrypted: bool
    region: int
    #: The contract call that anchors (``anchorCertificate[For]`` or ``supersede``).
    function: ContractFunction
    #: The stored copy, to discard if the anchoring certainly fails.
    stored: StoredDocument | None


class LedgerSession(Closing):
    """One process's handle on the ledger. Close it (or use ``with``) to release the chain and
    the document store."""

    def __init__(
        self,
        settings: Settings,
        connection: ChainConnection,
        keystore: Keystore,
        deployment: Deployment,
    ) -> None:
        self.settings = settings
        self.connection = connection
        self.keystore = keystore
        self.deployment = deployment
        self.context = ChainContext(connection.web3, deployment)
        self._senders: dict[ChecksumAddress, TransactionSender] = {}
        self._documents: DocumentService | None = None
        self._documents_lock = threading.Lock()

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings) -> Self:
        """Open an initialized ledger (``ledger init`` done for this chain)."""
        settings.pepper_bytes()  # refuse to start without a real pepper
        connection = connect(settings.data_dir, settings.rpc_url, token=rpc_credential(settings))
        try:
            keystore = Keystore(settings.data_dir / "keys", settings.keystore_password_text())
            deployment = load_deployment(settings.data_dir / DEPLOYMENTS_FILE, connection.web3)
        except BaseException:
            connection.close()
            raise
        return cls(settings, connection, keystore, deployment)

    @classmethod
    def initialize(cls, settings: Settings) -> tuple[Self, bool]:
        """Create what is missing (secrets, governance key, deployment).

        Returns the session and whether the contracts were deployed by this call.
        """
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        local = [
            name
            for name, value in (
                ("pepper", settings.pepper),
                ("keystore_password", settings.keystore_password),
                ("master_key", settings.master_key),
            )
            if value is None
        ]
        if local:
            write_local_secrets(settings.data_dir, local)
        settings.pepper_bytes()
        settings.master_key_bytes()
        connection = connect(settings.data_dir, settings.rpc_url, create=True)
        try:
            keystore = Keystore(settings.data_dir / "keys", settings.keystore_password_text())
            path = settings.data_dir / DEPLOYMENTS_FILE
            try:
                deployment = load_deployment(path, connection.web3)
                deployed = False
                if deployment.licence_bundles is None:
                    # A deployment older than joint licensing gets the contract added.
                    governance = keystore.governance()
                    sender = TransactionSender(
                        connection.web3, governance, receipt_timeout=settings.receipt_timeout
                    )
                    _ensure_funded(connection, governance.address)
                    deployment = deploy_bundles(sender, deployment)
                    save_deployment(path, deployment)
            except NotDeployedError:
                governance = (
                    keystore.governance()
                    if keystore.has_governance()
                    else keystore.create_governance()
                )
                sender = TransactionSender(
                    connection.web3, governance, receipt_timeout=settings.receipt_timeout
                )
                _ensure_funded(connection, governance.address)
                deployment = deploy(sender)
                save_deployment(path, deployment)
                deployed = True
        except BaseException:
            connection.close()
            raise
        return cls(settings, connection, keystore, deployment), deployed

    def close(self) -> None:
        """Release the document store and vault (if opened), then the chain."""
        with self._documents_lock:
            documents, self._documents = self._documents, None
        try:
            if documents is not None:
                close_document_service(documents)
        finally:
            self.connection.close()

    # -- keys and clients ---------------------------------------------------------------------

    def sender_for(self, account: LocalAccount) -> TransactionSender:
        """The (cached) transaction sender of ``account``; tops up its balance where possible."""
        sender = self._senders.get(account.address)
        if sender is None:
            _ensure_funded(self.connection, account.address)
            sender = TransactionSender(
                self.connection.web3, account, receipt_timeout=self.settings.receipt_timeout
            )
            self._senders[account.address] = sender
        return sender

    def governance_sender(self) -> TransactionSender:
        """Sender for governance operations."""
        return self.sender_for(self.keystore.governance())

    def department_sender(self, department_id: int) -> TransactionSender:
        """Sender for the department's newest key that the registry still lists."""
        registry = self.registry()
        active = set(registry.signers(department_id))
        for record in reversed(self.keystore.department_keys(department_id)):
            if record.address in active:
                return self.sender_for(self.keystore.unlock(record.address))
        raise UnknownKeyError(
            f"no active signing key of department {department_id} in this data directory"
        )

    def ensure_funded(self, address: ChecksumAddress) -> None:
        """Top up ``address`` for gas where a development funder can (a new department key,
        once accredited, so that its first write need not wait for it); a chain with free gas
        needs nothing, and one without a funder is the operator's (InsufficientFundsError)."""
        _ensure_funded(self.connection, address)

    def signer_sender(self, signer: Signer) -> TransactionSender:
        """The sender of ``signer``'s current key."""
        if signer.department_id is None:
            return self.governance_sender()
        return self.department_sender(signer.department_id)

    def send(self, write: PreparedWrite[Any]) -> TxReceipt:
        """Send a prepared write now (the CLI's way; the service journals it instead) and wait
        for its receipt. On failure, what the write stored is taken back when the failure proves
        nothing landed (:meth:`~ledger.writes.prepared.PreparedWrite.failed`), and the error is
        raised."""
        try:
            return self.signer_sender(write.signer).transact(write.function)
        except BaseException as failure:
            write.failed(failure)
            raise

    def registry(self) -> DepartmentRegistryClient:
        """Department registry client (its writes are prepared by
        :mod:`ledger.writes.departments`, signed by governance)."""
        return DepartmentRegistryClient(self.context)

    def certificates(self, sender: TransactionSender | None = None) -> CertificateRegistryClient:
        """Certificate registry client (writes need a department ``sender``)."""
        return CertificateRegistryClient(
            self.context if sender is None else self.context.signed_by(sender)
        )

    def credit(self) -> CreditLedgerClient:
        """Credit ledger client (its writes are prepared by :mod:`ledger.writes.credit`)."""
        return CreditLedgerClient(self.context)

    def bundles(self) -> LicenceBundlesClient:
        """Joint licensing client (its writes are prepared by :mod:`ledger.writes.bundles`)."""
        return LicenceBundlesClient(self.context)

    def documents(self) -> DocumentService:
        """The document store and key vault of this deployment (opened on first use)."""
        with self._documents_lock:
            if self._documents is None:
                self._documents = open_document_service(self.settings)
            return self._documents

    # -- subjects -----------------------------------------------------------------------------

    def subject_ref(self, identifier: str, kind: SubjectKind | None = None) -> bytes:
        """Validate an identity number or credit code and return its subject reference."""
        return self.reference(parse_subject(identifier, kind))

    def reference(self, subject: Subject) -> bytes:
        """The subject reference of a validated subject (what the chain keys it by)."""
        return subject_ref(self.settings.pepper_bytes(), subject)

    # -- anchoring with a stored copy ----------------------------------------------------------

    def anchor_document(
        self,
        data: bytes,
        cert_type: CertificateType,
        *,
        holder: Subject,
        department_id: int,
        region: int | None = None,
        expires_at: datetime | None = None,
        store: bool = True,
        supersedes: tuple[bytes, int] | None = None,
    ) -> AnchorOutcome:
        """Store ``data`` and anchor its hash for ``holder`` (by its subject reference), with the
        copy's CID.

        The order is what keeps the ledger free of half-done records (ADR 0008):

        1. Everything that can refuse without side effects runs first: the document is hashed
           (a malformed certificate stops here), the department and its key are looked up, and
           a hash that is already anchored is refused before anything is stored.
        2. The document is stored, encrypted under a fresh key when its holder is a natural
           person, its type is personal or listed in ``LEDGER_ENCRYPT_TYPES``
           (:meth:`Settings.encrypts`, ADR 0016). A store that is down raises
           StorageUnavailableError and nothing is anchored.
        3. The hash is anchored with the CID. If that fails in a way that proves nothing was
           anchored (a contract refusal, a key without funds, ...), the stored copy is discarded
           (its key destroyed and its pin removed) and the error re-raised. If the chain stopped
           answering, the transaction may still land: the copy is kept, so an anchor never names
           a copy that was thrown away, and the error says which CID was kept.

        ``store=False`` anchors the hash alone, as before documents were stored.
        ``supersedes=(old hash, reason code)`` anchors the document as the replacement of an
        earlier certificate (same type and region, in one transaction).
        """
        prepared = self.prepare_anchor(
            data,
            cert_type,
            holder=holder,
            department_id=department_id,
            region=region,
            expires_at=expires_at,
            store=store,
            supersedes=supersedes,
        )
        try:
            receipt = self.department_sender(department_id).transact(prepared.function)
        except BaseException as failure:
            if prepared.stored is not None:
                self.after_failed_anchor(prepared.stored, failure)
            raise
        return AnchorOutcome(
            doc_hash=prepared.doc_hash,
            document_kind=prepared.document_kind,
            cid=prepared.cid,
            encrypted=prepared.encrypted,
            region=prepared.region,
            receipt=receipt,
        )

    def prepare_anchor(
        self,
        data: bytes,
        cert_type: CertificateType,
        *,
        holder: Subject,
        department_id: int,
        region: int | None = None,
        expires_at: datetime | None = None,
        store: bool = True,
        supersedes: tuple[bytes, int] | None = None,
    ) -> PreparedAnchor:
        """Steps 1 and 2 of :meth:`anchor_document`: every check that can refuse, then the
        stored copy, and the call that anchors it, to be sent now or journaled (ADR 0012)."""
        digest = document_hash_of(data)
        if region is None:
            record = self.registry().department(department_id)
            if record is None:
                raise NotFoundError(f"department {department_id} is not registered")
            region = record.region
        certificates = self.certificates()
        # Authorization before existence: a department that may not anchor this is told so,
        # not that the hash is already anchored (ledger/authorization.py).
        if supersedes is None:
            require_accreditation(self.registry(), department_id, cert_type.code, region)
        else:
            authorize_certificate_change(
                self.registry(), certificates, department_id, supersedes[0]
            )
        if not self.keystore.department_keys(department_id):  # no key here: stop before storing
            raise UnknownKeyError(
                f"no signing key of department {department_id} in this data directory"
            )
        if certificates.certificate(digest.hash) is not None:
            raise CertificateRegistryAlreadyAnchored({"docHash": digest.hash})
        reference = self.reference(holder)  # before storing: a pepper problem stores nothing
        stored: StoredDocument | None = None
        if store:
            stored = self.documents().store_document(
                bytes(data), encrypt=self.settings.encrypts(cert_type, holder)
            )
        cid = cid_from_str(stored.cid) if stored else None
        if supersedes is None:
            function = certificates.anchor_function(
                digest.hash, cert_type.code, region, expires_at, subject_ref=reference, cid=cid
            )
        else:
            old_hash, reason = supersedes
            function = certificates.supersede_function(
                old_hash, digest.hash, reason, expires_at, subject_ref=reference, cid=cid
            )
        return PreparedAnchor(
            doc_hash=digest.hash,
            document_kind=digest.kind,
            cid=stored.cid if stored else None,
            encrypted=stored.encrypted if stored else False,
            region=region,
            function=function,
            stored=stored,
        )

    def after_failed_anchor(self, stored: StoredDocument, failure: BaseException) -> None:
        """Discard the copy of an anchoring that certainly failed; keep it when it may have not.

        A LedgerError other than ChainUnavailableError is raised before the transaction is sent
        (simulation, funds, validation) or after it was mined and reverted: nothing was anchored.
        Anything else (the node stopped answering while the receipt was awaited, an interrupt)
        leaves the transaction's fate open, and discarding the copy of an anchor that lands
        after all would leave the chain naming a copy nobody can read.
        """
        settled = isinstance(failure, LedgerError) and not isinstance(
            failure, ChainUnavailableError
        )
        if not settled:
            failure.add_note(
                f"the stored copy {stored.cid} was kept: the anchoring transaction may still land"
            )
            return
        try:
            self.documents().discard(stored.cid)
        except Exception as cleanup:  # the anchoring error is the one to report
            failure.add_note(
                f"discarding the stored copy {stored.cid} failed as well: "
                f"{type(cleanup).__name__}: {cleanup}"
            )

    def chain_head(self) -> int:
        """Current block number."""
        return int(rpc_guard(lambda: self.connection.web3.eth.block_number))


def _ensure_funded(connection: ChainConnection, address: ChecksumAddress) -> None:
    balance = rpc_guard(lambda: connection.web3.eth.get_balance(address))
    if balance >= _MINIMUM_BALANCE:
        return
    if rpc_guard(lambda: connection.web3.eth.gas_price) == 0:
        return  # a consortium chain with free gas
    if connection.funder is None:
        raise InsufficientFundsError(
            f"key {address} has no funds for gas on this chain; ask the chain operator to fund it"
        )
    connection.funder(address, FUNDING_AMOUNT)


def data_path(settings: Settings, name: str) -> Path:
    """A file in the data directory."""
    return settings.data_dir / name
