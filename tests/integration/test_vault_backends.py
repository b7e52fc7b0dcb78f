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

import json
import os
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import pytest

from ledger.documents import hash_file_bytes
from ledger.identity import make_citizen_id
from ledger.storage import DocumentStore
from ledger.storage.embedded import EmbeddedStore
from ledger.storage.ipfs import IpfsStore
from ledger.storage.vault import DocumentErasedError, DocumentService, KeyVault
from tests.support.ipfs import IpfsNode, post_rpc
from tests.support.store_contract import CHUNK

#: Every test here keeps to the worker that runs the session's IPFS node (it starts once).
pytestmark = pytest.mark.xdist_group("ipfs")

BACKENDS: Final = ("embedded", "ipfs")
_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN: Final = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉雪琳晨宇浩然"
#: People already made up in this process: tests share one IPFS node and must not share people.
_USED: set[str] = set()


# ----------------------------------------------------------------------------------------------
# Synthetic people and their documents
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A made-up natural person (synthetic identity number, common-looking Chinese name)."""

    name: str
    citizen_id: str

    def identifier_spellings(self) -> tuple[str, ...]:
        """The number as written: normalized upper-case ``X`` and the lower-case ``x`` clerks
        and forms often produce (the same string when the check character is a digit)."""
        return tuple(dict.fromkeys((self.citizen_id.upper(), self.citizen_id.lower())))


def make_person(rng: random.Random, *, check_x: bool) -> Person:
    """A person no other test in this process uses; ``check_x`` picks a number ending in X."""
    while True:
        birth = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
        citizen_id = make_citizen_id(
            rng.choice(("110101", "310104", "440305", "510107")), birth, rng.randrange(1000)
        )
        if citizen_id.endswith("X") != check_x:
            continue
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(2))
        if name in _USED or citizen_id in _USED:
            continue
        _USED.update((name, citizen_id))
        return Person(name, citizen_id)


def make_people() -> list[Person]:
    rng = random.Random(os.urandom(16))
    return [make_person(rng, check_x=check_x) for check_x in (True, True, False)]


def personal_documents(people: list[Person]) -> list[bytes]:
    """Documents as offices hold them: a JSON certificate (UTF-8), a Windows text export
    (UTF-16-LE), a legacy GB18030 file, and a register extract larger than one IPFS chunk with
    entries in different chunks. Every spelling of every number is in each of them."""
    entries = [
        {"姓名": person.name, "公民身份号码": spelling, "住址": "北京市东城区"}
        for person in people
        for spelling in person.identifier_spellings()
    ]
    certificate = json.dumps({"类型": "户籍证明", "人员": entries}, ensure_ascii=False).encode()
    lines = "\r\n".join(f"{entry['姓名']}\t{entry['公民身份号码']}" for entry in entries)
    export = "\ufeff".encode("utf-16-le") + lines.encode("utf-16-le")
    legacy = lines.encode("gb18030")
    filler = b"\n" + b"-" * 200
    extract = b""
    for index, entry in enumerate(entries):
        extract += json.dumps(entry, ensure_ascii=False).encode()
        extract += filler * ((CHUNK // len(filler)) // 2 + index)  # the next entry in a new chunk
    assert len(extract) > 2 * CHUNK
    return [certificate, export, legacy, extract]


def needles(people: list[Person]) -> dict[str, bytes]:
    """What the scan looks for, labelled for the failure message (no real data: synthetic)."""
    found: dict[str, bytes] = {}
    for person in people:
        for spelling in person.identifier_spellings():
            found[f"id {spelling} utf-8"] = spelling.encode("utf-8")
            found[f"id {spelling} utf-16-le"] = spelling.encode("utf-16-le")
        found[f"name {person.name} utf-8"] = person.name.encode("utf-8")
        found[f"name {person.name} utf-16-le"] = person.name.encode("utf-16-le")
        found[f"name {person.name} gb18030"] = person.name.encode("gb18030")
    return found


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


def embedded_blocks(store: EmbeddedStore) -> Callable[[Iterable[str]], list[bytes]]:
    """Every block file of the store (a superset of the documents' blocks)."""

    def read(_cids: Iterable[str]) -> list[bytes]:
        return [
            path.read_bytes()
            for path in sorted((store.directory / "blocks").rglob("*"))
            if path.is_file()
        ]

    return read


def node_blocks(node: IpfsNode) -> Callable[[Iterable[str]], list[bytes]]:
    """Each document's root and every block below it, with the node's ``refs`` and
    ``block/get``: the bytes the node serves to anyone asking for the CID."""

    def read(cids: Iterable[str]) -> list[bytes]:
        blocks: list[bytes] = []
        for cid in cids:
            answer = post_rpc(
                node.api_url, "refs", {"arg": cid, "recursive": "true", "unique": "true"}
            )
            below = [json.loads(line) for line in answer.splitlines() if line.strip()]
            assert all(not ref.get("Err") for ref in below), below
            for block_cid in [cid, *(ref["Ref"] for ref in below)]:
                blocks.append(post_rpc(node.api_url, "block/get", {"arg": block_cid}))
        return blocks

    return read


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
    """Acceptance (DESIGN section 5): no identity number or name, in any of its spellings or
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
