"""An open ledger: settings, chain, keys and contract clients, in one object the CLI and API share.

:meth:`LedgerSession.initialize` is what ``ledger init`` does: create the data directory and local
secrets, the governance key, and deploy the contracts once per chain (recorded in
``DATA_DIR/deployments.json``; a restart reuses them). :meth:`LedgerSession.open` opens an
initialized ledger and fails clearly when it is not.

The writes themselves are use cases (:mod:`ledger.writes`, e.g. anchoring with a stored copy in
:mod:`ledger.writes.certificates`): each returns a prepared write, which :meth:`LedgerSession.send`
sends at once (the CLI's way; the service journals it instead).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Final, Self

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3.types import TxReceipt

from ledger.chain.connection import ChainConnection, connect
from ledger.chain.keys import Keystore
from ledger.chain.transactions import TransactionSender, rpc_guard
from ledger.closing import Closing
from ledger.config import Settings, write_local_secrets
from ledger.contracts import (
    FUNDING_AMOUNT,
    AccessLogAnchorsClient,
    CertificateRegistryClient,
    ChainContext,
    CreditLedgerClient,
    DepartmentRegistryClient,
    Deployment,
    LicenceBundlesClient,
    deploy,
    deploy_access_log,
    deploy_bundles,
    load_deployment,
    save_deployment,
)
from ledger.errors import (
    InsufficientFundsError,
    NotDeployedError,
    UnknownKeyError,
)
from ledger.identity import Subject, SubjectKind, parse_subject, subject_ref
from ledger.names import name_hash
from ledger.serving import rpc_credential
from ledger.storage.factory import close_document_service, open_document_service
from ledger.storage.vault import DocumentService
from ledger.writes.prepared import PreparedWrite, Signer

__all__ = ["DEPLOYMENTS_FILE", "LedgerSession", "name_hash"]

DEPLOYMENTS_FILE: Final = "deployments.json"
#: A key with less than this is topped up by a development funder before it is used.
_MINIMUM_BALANCE: Final = 10**18


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
                if deployment.licence_bundles is None or deployment.access_log is None:
                    # A deployment older than joint licensing or the access log's anchors gets
                    # the missing contracts added (saved at once: a rerun deploys no twin).
                    governance = keystore.governance()
                    sender = TransactionSender(
                        connection.web3, governance, receipt_timeout=settings.receipt_timeout
                    )
                    _ensure_funded(connection, governance.address)
                    if deployment.licence_bundles is None:
                        deployment = deploy_bundles(sender, deployment)
                        save_deployment(path, deployment)
                    if deployment.access_log is None:
                        deployment = deploy_access_log(sender, deployment)
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

    def certificates(self) -> CertificateRegistryClient:
        """Certificate registry client (its writes are prepared by
        :mod:`ledger.writes.certificates`, signed by a department)."""
        return CertificateRegistryClient(self.context)

    def credit(self) -> CreditLedgerClient:
        """Credit ledger client (its writes are prepared by :mod:`ledger.writes.credit`)."""
        return CreditLedgerClient(self.context)

    def bundles(self) -> LicenceBundlesClient:
        """Joint licensing client (its writes are prepared by :mod:`ledger.writes.bundles`)."""
        return LicenceBundlesClient(self.context)

    def access_log_anchors(self) -> AccessLogAnchorsClient:
        """The access log's anchor client (its ``anchor`` call is governance's to sign);
        NotDeployedError when the deployment predates it (``ledger init`` adds it)."""
        return AccessLogAnchorsClient(self.context)

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
