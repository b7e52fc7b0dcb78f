"""Encryption and erasure (ledger.storage.vault) on both storage backends: the embedded store and
ledger.storage.ipfs.IpfsStore on a real js-ipfs node.

The privacy scan stores documents about natural persons through the DocumentService and then
reads everything the backend keeps (every block, every file on disk, the vault's files) looking
for the people's identity numbers and names in the encodings such documents come in. A document
stored in clear must be found by the same scan, which shows that the scan can see.

The IPFS case uses the session's js-ipfs node (``ipfs_session``) and keeps to the worker that runs
it (``xdist_group("ipfs")``, as tests/integration/test_ipfs_store.py does). That node is shared,
so every test makes up people of its own: a scan must never find another test's content.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

from ledger.documents import hash_file_bytes
from ledger.storage import DocumentStore
from ledger.storage.embedded import EmbeddedStore
from ledger.storage.ipfs import IpfsStore
from ledger.storage.vault import DocumentErasedError, DocumentService, KeyVault
from tests.support.ipfs import IpfsNode
from tests.support.privacy import (
    embedded_blocks,
    make_people,
    needles,
    node_blocks,
    personal_documents,
)

#: Every test here keeps to the worker that runs the session's IPFS node (it starts once).
pytestmark = pytest.mark.xdist_group("ipfs")

BACKENDS: Final = ("embedded", "ipfs")


# ----------------------------------------------------------------------------------------------
# Backends
# ----------------------------------------------------------------------------------------------


@dataclass
class Backend:
    """A DocumentService on one storage backend, and the ways to read back what it keeps."""

    kind: str
    service: DocumentService
    store: DocumentStore
    #: Every block of the given documents, as the backend returns blocks (not files).
    blocks: Callable[[Iterable[str]], list[bytes]]
    #: Directories whose files hold the backend's data, the vault and (IPFS) the node's log.
    directories: list[Path]

    def files(self) -> Iterator[bytes]:
        """Each file's bytes in turn (the shared node's repo may hold hundreds of MiB)."""
        for directory in self.directories:
            for path in sorted(directory.rglob("*")):
                if path.is_file():
                    yield path.read_bytes()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    vault_dir = tmp_path / "vault"
    with KeyVault(vault_dir / "keys.sqlite3", os.urandom(32)) as vault:
        if request.param == "embedded":
            store = EmbeddedStore(tmp_path / "store")
            yield Backend(
                "embedded",
                DocumentService(store, vault),
                store,
                embedded_blocks(store),
                [store.directory, vault_dir],
            )
        else:
            node: IpfsNode = request.getfixturevalue("ipfs_session")
            with IpfsStore(node.api_multiaddr) as ipfs:
                yield Backend(
                    "ipfs",
                    DocumentService(ipfs, vault),
                    ipfs,
                    node_blocks(node),
                    [node.repo_dir.parent, vault_dir],
                )


def occurrences(contents: Iterable[bytes], wanted: dict[str, bytes]) -> set[str]:
    """Labels of the needles present in any of ``contents``."""
    found: set[str] = set()
    for item in contents:
        found.update(label for label, needle in wanted.items() if needle in item)
    return found


# ----------------------------------------------------------------------------------------------
# Privacy scan
# ----------------------------------------------------------------------------------------------


def test_encrypted_documents_leave_no_personal_data(backend: Backend) -> None:
    """Acceptance (ADR 0008): no identity number or name, in any of its spellings or
    encodings, in any stored block or any file of the store, the node or the vault."""
    people = make_people()
    documents = personal_documents(people)
    stored = [backend.service.store_document(data, encrypt=True) for data in documents]
    assert all(item.encrypted for item in stored)
    wanted = needles(people)

    blocks = backend.blocks(item.cid for item in stored)
    assert len(blocks) >= len(documents) + 3  # the extract spans several chunks
    assert occurrences(blocks, wanted) == set()
    assert occurrences(backend.files(), wanted) == set()

    # The service still gives the documents back to those entitled to them.
    for item, data in zip(stored, documents, strict=True):
        assert backend.service.fetch_document(item.cid) == data


def test_scan_finds_documents_stored_in_clear(backend: Backend) -> None:
    """The same scan on the same backend finds every needle once documents are stored in clear:
    the scan above passes because of the encryption, not because it cannot see."""
    people = make_people()
    stored = [
        backend.service.store_document(data, encrypt=False) for data in personal_documents(people)
    ]
    assert not any(item.encrypted for item in stored)
    wanted = needles(people)
    assert occurrences(backend.blocks(item.cid for item in stored), wanted) == set(wanted)
    assert occurrences(backend.files(), wanted) == set(wanted)


# ----------------------------------------------------------------------------------------------
# Erasure
# ----------------------------------------------------------------------------------------------


def test_erasure(backend: Backend) -> None:
    """Erasure (PIPL / GDPR) is destroying the key: the stored copy is unreadable for good and
    no longer pinned, while the anchored hash still verifies the copy the holder presents."""
    document = personal_documents(make_people())[0]
    anchored_hash = hash_file_bytes(document)  # what the chain holds
    holder_copy = bytes(document)
    stored = backend.service.store_document(document, encrypt=True)
    assert backend.service.fetch_document(stored.cid) == document

    backend.service.erase(stored.cid)

    with pytest.raises(DocumentErasedError):
        backend.service.fetch_document(stored.cid)
    assert backend.service.vault.is_erased(stored.cid)
    assert backend.store.stat(stored.cid).pinned is False  # left to garbage collection
    assert hash_file_bytes(holder_copy) == anchored_hash
    backend.service.erase(stored.cid)  # idempotent
    with pytest.raises(DocumentErasedError):
        backend.service.fetch_document(stored.cid)


def test_discard_after_failed_anchoring(backend: Backend) -> None:
    """A document whose anchoring failed is unpinned and its key destroyed."""
    stored = backend.service.store_document(personal_documents(make_people())[0], encrypt=True)
    backend.service.discard(stored.cid)
    assert backend.store.stat(stored.cid).pinned is False
    with pytest.raises(DocumentErasedError):
        backend.service.fetch_document(stored.cid)
