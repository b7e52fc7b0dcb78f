"""Merkle batches: proofs verify, tampering does not, and the shape rules hold."""

from __future__ import annotations

import secrets

import pytest
from eth_hash.auto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.documents.merkle import MerkleTree, hash_pair, leaf_node, process_proof, verify_proof
from ledger.errors import ValidationError

hashes = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70, unique=True)


@given(hashes)
@settings(max_examples=60, deadline=None)
def test_every_leaf_proves_membership(leaves: list[bytes]) -> None:
    tree = MerkleTree.build(leaves)
    for index, leaf in enumerate(leaves):
        assert verify_proof(leaf, tree.proof(index), tree.root)


@given(hashes, st.binary(min_size=32, max_size=32))
@settings(max_examples=60, deadline=None)
def test_outsider_with_any_proof_fails(leaves: list[bytes], outsider: bytes) -> None:
    if outsider in leaves:
        return
    tree = MerkleTree.build(leaves)
    for index in range(len(leaves)):
        assert not verify_proof(outsider, tree.proof(index), tree.root)


def test_single_leaf_root_is_its_node() -> None:
    leaf = secrets.token_bytes(32)
    tree = MerkleTree.build([leaf])
    assert tree.root == keccak(leaf)
    assert tree.proof(0) == []


def test_pairs_are_sorted() -> None:
    a, b = secrets.token_bytes(32), secrets.token_bytes(32)
    assert hash_pair(a, b) == hash_pair(b, a)
    assert MerkleTree.build([a, b]).root == MerkleTree.build([b, a]).root


def test_odd_node_goes_up_unchanged() -> None:
    leaves = [secrets.token_bytes(32) for _ in range(3)]
    tree = MerkleTree.build(leaves)
    nodes = [leaf_node(leaf) for leaf in leaves]
    assert tree.root == hash_pair(hash_pair(nodes[0], nodes[1]), nodes[2])
    assert tree.proof(2) == [hash_pair(nodes[0], nodes[1])]


def test_an_inner_node_cannot_pass_for_a_document() -> None:
    """A 64-byte "file" made of two sibling nodes hashes to their parent; as a leaf it is
    hashed once more, so no proof taken from the tree leads it to the root."""
    leaves = [secrets.token_bytes(32) for _ in range(4)]
    tree = MerkleTree.build(leaves)
    left, right = tree.levels[0][0], tree.levels[0][1]
    forged_document_hash = keccak(min(left, right) + max(left, right))
    assert forged_document_hash == tree.levels[1][0]
    assert not verify_proof(forged_document_hash, [tree.levels[1][1]], tree.root)


def test_tampered_proofs_fail() -> None:
    leaves = [secrets.token_bytes(32) for _ in range(10)]
    tree = MerkleTree.build(leaves)
    proof = tree.proof(3)
    for position in range(len(proof)):
        forged = list(proof)
        forged[position] = bytes([forged[position][0] ^ 1]) + forged[position][1:]
        assert not verify_proof(leaves[3], forged, tree.root)
    assert not verify_proof(leaves[3], proof[:-1], tree.root)
    assert not verify_proof(leaves[3], tree.proof(4), tree.root)
    other = MerkleTree.build([secrets.token_bytes(32) for _ in range(10)])
    assert not verify_proof(leaves[3], proof, other.root)


def test_refusals() -> None:
    with pytest.raises(ValidationError):
        MerkleTree.build([])
    leaf = secrets.token_bytes(32)
    with pytest.raises(ValidationError):
        MerkleTree.build([leaf, leaf])
    with pytest.raises(ValidationError):
        leaf_node(b"short")
    with pytest.raises(ValidationError):
        process_proof(leaf, [b"short"])
    with pytest.raises(IndexError):
        MerkleTree.build([leaf]).proof(1)


def test_ten_thousand_leaves() -> None:
    leaves = [secrets.token_bytes(32) for _ in range(10_000)]
    tree = MerkleTree.build(leaves)
    proofs = tree.proofs()
    assert max(len(p) for p in proofs) == 14
    for index in (0, 1, 4_999, 9_998, 9_999):
        assert verify_proof(leaves[index], proofs[index], tree.root)
