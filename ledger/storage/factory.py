"""The document store and document service a deployment's settings call for.

``LEDGER_IPFS_API`` selects the IPFS node; without it documents go to the embedded store in
``DATA_DIR/documents``. The key vault is always ``DATA_DIR/vault.sqlite3``, opened under the
master key from the settings, because the keys of encrypted documents belong to the deployment
that encrypted them, wherever the ciphertext is stored.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ledger.config import Settings
from ledger.storage import DocumentStore
from ledger.storage.embedded import EmbeddedStore
from ledger.storage.ipfs import IpfsStore
from ledger.storage.vault import DocumentService, KeyVault

__all__ = [
    "close_document_service",
    "close_store",
    "open_document_service",
    "open_store",
    "open_vault",
]


@runtime_checkable
class _Closeable(Protocol):
    def close(self) -> None: ...


def open_store(settings: Settings) -> DocumentStore:
    """The IPFS node at ``settings.ipfs_api``, or the embedded store in the data directory.

    Creating an IPFS store does not contact the node: an unreachable node is reported by the
    first operation (StorageUnavailableError), so a command that never touches a document does
    not depend on it.
    """
    if settings.ipfs_api is not None:
        return IpfsStore(settings.ipfs_api, timeout=settings.store_timeout)
    return EmbeddedStore(settings.documents_dir)


def close_store(store: DocumentStore) -> None:
    """Release what ``store`` holds (an IPFS store's connections; the embedded store has none)."""
    if isinstance(store, _Closeable):
        store.close()


def open_vault(settings: Settings) -> KeyVault:
    """The key vault of the data directory, under the validated master key."""
    master_key = settings.master_key_bytes()
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return KeyVault(settings.vault_path, master_key)


def open_document_service(settings: Settings) -> DocumentService:
    """Store plus vault; release both with :func:`close_document_service`.

    The vault is opened first: a missing or wrong master key is a configuration error that should
    stop the command before any store is touched.
    """
    vault = open_vault(settings)
    try:
        store = open_store(settings)
    except BaseException:
        vault.close()
        raise
    return DocumentService(store, vault)


def close_document_service(service: DocumentService) -> None:
    """Close the vault and the store of a service made by :func:`open_document_service`."""
    try:
        service.vault.close()
    finally:
        close_store(service.store)
