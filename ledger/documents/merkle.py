"""Merkle batches: many certificates under one anchored root (docs/adr/0010).

The leaves are document hashes, in the order given. A leaf's node is ``keccak256(docHash)``
(a document hash is never an inner node: no document, not even a 64-byte file made of two sibling
nodes, can pass for one); inner nodes are ``keccak256(min(a, b) ++ max(a, b))`` — pairs hashed
sorted, so a proof is just the list of siblings from the leaf up, the form OpenZeppelin's
``MerkleProof`` checks on chain. A level with an odd number of nodes passes its last node up
unchanged.

Not here: what a batch anchors and hands out (the manifest and the proofs,
:mod:`ledger.documents.batches`) and how a document hash is computed (:mod:`ledger.documents`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Self

from ledger.documents.keccak import keccak256 as keccak
from ledger.documents.keccak import keccak256_hasher
from ledger.errors import ValidationError

__all__ = ["MerkleTree", "hash_pair", "leaf_node", "process_proof", "verify_proof"]


def leaf_node(doc_hash: bytes) -> bytes:
    """The tree node of a document hash."""
    if len(doc_hash) != 32:
        raise ValidationError("a document hash is 32 bytes")
    return keccak(doc_hash)


def hash_pair(a: bytes, b: bytes) -> bytes:
    """An inner node: the two children hashed in sorted order."""
    return keccak(a + b) if a <= b else keccak(b + a)


def process_proof(doc_hash: bytes, proof: Iterable[bytes]) -> bytes:
    """The root a proof leads to from ``doc_hash``."""
    node = leaf_node(doc_hash)
    for sibling in proof:
        if len(sibling) != 32:
            raise ValidationError("a Merkle proof element is 32 bytes")
        # hash_pair, written out: a verifier runs this loop a dozen times a certificate.
        pair = node + sibling if node <= sibling else sibling + node
        node = keccak256_hasher(pair).digest()
    return node


def verify_proof(doc_hash: bytes, proof: Iterable[bytes], root: bytes) -> bool:
    """Whether ``proof`` leads from ``doc_hash`` to ``root``."""
    return process_proof(doc_hash, proof) == root


@dataclass(frozen=True)
class MerkleTree:
    """A built tree: its leaves (document hashes, in order) and every level up to the root."""

    leaves: tuple[bytes, ...]
    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def build(cls, doc_hashes: Sequence[bytes]) -> Self:
        """The tree over ``doc_hashes``; refuses an empty batch and a hash listed twice."""
        leaves = tuple(bytes(h) for h in doc_hashes)
        if not leaves:
            raise ValidationError("a batch needs at least one certificate")
        if len(set(leaves)) != len(leaves):
            raise ValidationError("a document hash appears twice in the batch")
        level = tuple(leaf_node(h) for h in leaves)
        levels = [level]
        while len(level) > 1:
            paired = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                paired.append(level[-1])
            level = tuple(paired)
            levels.append(level)
        return cls(leaves, tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def __len__(self) -> int:
        return len(self.leaves)

    def proof(self, index: int) -> list[bytes]:
        """Siblings from leaf ``index`` up to the root."""
        if not 0 <= index < len(self.leaves):
            raise IndexError("leaf index out of range")
        proof: list[bytes] = []
        position = index
        for level in self.levels[:-1]:
            sibling = position ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            position //= 2
        return proof

    def proofs(self) -> list[list[bytes]]:
        """Every leaf's proof, in leaf order."""
        return [self.proof(index) for index in range(len(self.leaves))]
