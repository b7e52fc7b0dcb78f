"""Holders of batched certificates (ADR 0026), with no chain: the manifest's keyed holder tags
(version 2, version 1 still read) and the service database's index that ``holdings_of`` joins
with the chain's single certificates."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
import rfc8785
from eth_typing import ChecksumAddress, HexAddress, HexStr

from ledger.catalogue import certificate_type
from ledger.contracts import CertificateRegistryClient
from ledger.documents.batches import (
    MANIFEST_V1,
    MANIFEST_VERSION,
    batch_manifest,
    holder_tag,
    parse_manifest,
    proofs_for,
)
from ledger.documents.merkle import MerkleTree
from ledger.errors import InvalidDocumentError
from ledger.service.database import ServiceDatabase
from ledger.service.holdings import holdings_of, record_batch_holders

REGISTRY = ChecksumAddress(HexAddress(HexStr("0x5FbDB2315678afecb367f032d93F642f64180aa3")))
OTHER_REGISTRY = ChecksumAddress(HexAddress(HexStr("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")))
LEAVES = [bytes([index]) * 32 for index in range(1, 6)]
ALICE, BOB = b"\xaa" * 32, b"\xbb" * 32
#: Leaves 0 and 2 are Alice's, 1 is Bob's, 3 and 4 have no holder.
HOLDERS: list[bytes | None] = [ALICE, BOB, ALICE, None, None]
TREE = MerkleTree.build(LEAVES)
KIND = certificate_type("business-licence")


def manifest(holders: list[bytes | None] | None = HOLDERS) -> bytes:
    return batch_manifest(TREE, KIND, 110000, 3, None, holders)


def test_a_leafs_tag_is_recognised_by_its_holder_only() -> None:
    parsed = parse_manifest(manifest())
    assert parsed.version == MANIFEST_VERSION
    assert parsed.leaves == tuple(LEAVES)
    assert parsed.leaves_of(ALICE) == (LEAVES[0], LEAVES[2])
    assert parsed.leaves_of(BOB) == (LEAVES[1],)
    assert parsed.leaves_of(b"\xcc" * 32) == ()
    assert parsed.holder_tags[3] is None
    assert parsed.holder_tags[4] is None


def test_tags_do_not_link_one_holders_leaves() -> None:
    tags = parse_manifest(manifest()).holder_tags
    assert tags[0] != tags[2]  # Alice's two leaves carry unrelated tags
    assert ALICE.hex() not in manifest().decode()
    assert BOB.hex() not in manifest().decode()
    assert holder_tag(ALICE, LEAVES[0]) == tags[0]


def test_the_same_batch_gives_the_same_manifest() -> None:
    assert manifest() == manifest()
    assert manifest(None) == manifest([None] * len(LEAVES))
    assert json.loads(manifest(None))["holders"] == [None] * len(LEAVES)


def test_a_holder_list_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match="one holder"):
        manifest([ALICE])


def test_a_version_1_manifest_still_parses() -> None:
    document = json.loads(manifest())
    del document["holders"]
    document["version"] = MANIFEST_V1
    parsed = parse_manifest(rfc8785.dumps(document))
    assert parsed.version == MANIFEST_V1
    assert parsed.leaves == tuple(LEAVES)
    assert parsed.holder_tags == (None,) * len(LEAVES)
    assert parsed.leaves_of(ALICE) == ()


def _changed(key: str, value: Any) -> bytes:
    document = json.loads(manifest())
    if value is ...:
        del document[key]
    else:
        document[key] = value
    return rfc8785.dumps(document)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[", "must be JSON"),
        (_changed("version", "gov-ledger/batch-manifest/v3"), "of version"),
        (_changed("holders", ...), "of version"),
        (_changed("extra", 1), "of version"),
        (_changed("holders", [None]), "one holder tag"),
        (_changed("holders", ["0x12"] + [None] * 4), "holder tag must be 0x"),
        (_changed("leaves", []), "non-empty list"),
        (_changed("leaves", list(reversed(json.loads(manifest())["leaves"]))), "lead to its root"),
        (_changed("region", "110000"), "integers"),
        (_changed("type", 7), "text"),
    ],
)
def test_a_malformed_manifest_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidDocumentError, match=message):
        parse_manifest(data)


class _Chain:
    """The one read ``holdings_of`` makes of the chain: the single certificates anchored for a
    subject, as (hash, CID, block)."""

    def __init__(self, held: dict[bytes, list[tuple[bytes, bytes, int]]]) -> None:
        self.held = held
        self.context = SimpleNamespace(deployment=SimpleNamespace(certificate_registry=REGISTRY))

    def held_by(self, subject_ref: bytes) -> list[tuple[bytes, bytes, int]]:
        return self.held.get(subject_ref, [])


@pytest.fixture
def database(tmp_path: Path) -> Iterator[ServiceDatabase]:
    with ServiceDatabase(tmp_path / "service.sqlite3") as opened:
        yield opened


def test_holdings_join_single_and_batched_certificates(database: ServiceDatabase) -> None:
    proofs = proofs_for(TREE, 1337, REGISTRY, "bafkreimanifest")
    assert record_batch_holders(database, LEAVES, HOLDERS, proofs, block=20) == 3
    assert record_batch_holders(database, LEAVES, HOLDERS, proofs, block=20) == 3  # no twice
    single_before, single_after = b"\x0a" * 32, b"\x0b" * 32
    chain = _Chain({ALICE: [(single_before, b"", 10), (single_after, b"", 30)]})
    certificates = cast(CertificateRegistryClient, chain)

    alice = holdings_of(certificates, database, ALICE)
    assert [h.doc_hash for h in alice] == [single_before, LEAVES[0], LEAVES[2], single_after]
    assert alice[0].proof is None
    assert alice[0].cid is None
    assert alice[1].proof == proofs[0]
    assert alice[2].proof == proofs[2]
    assert [h.doc_hash for h in holdings_of(certificates, database, BOB)] == [LEAVES[1]]
    assert holdings_of(certificates, database, b"\xcc" * 32) == []


def test_holdings_of_another_registry_are_not_shown(database: ServiceDatabase) -> None:
    proofs = proofs_for(TREE, 1337, OTHER_REGISTRY, None)
    record_batch_holders(database, LEAVES, HOLDERS, proofs, block=5)
    assert holdings_of(cast(CertificateRegistryClient, _Chain({})), database, ALICE) == []


def test_a_job_table_without_holders_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "service.sqlite3"
    with ServiceDatabase(path) as opened, opened.transaction() as connection:
        connection.execute("ALTER TABLE batch_jobs DROP COLUMN holders")
    with ServiceDatabase(path):
        pass
    with sqlite3.connect(path) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(batch_jobs)")}
    assert "holders" in columns
