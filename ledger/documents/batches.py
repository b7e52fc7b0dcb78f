"""Many certificates under one anchored root: the batch's format, its manifest and its proofs
(ADR 0010).

A batch is a Merkle tree (:mod:`ledger.documents.merkle`) over the documents' hashes (files and
structured certificates alike). Its manifest (:func:`batch_manifest`) lists the leaves in order,
with the type, region and expiry the anchor carries: hashes only, stored in clear. Since version 2
it also carries, per leaf, a keyed holder tag (:func:`holder_tag`, ADR 0026) that only a party
holding the holder's subject reference can recognise; :func:`parse_manifest` reads both
versions. Every document gets a :class:`BatchProof` (:func:`proofs_for`).

A :class:`BatchProof` is what a verifier needs besides the document: the path to the root and the
anchor reference (chain id, registry address, manifest CID). A structured certificate carries it
inside (``"proof"``, :func:`wrap_certificate`); a file gets it beside it
(``<file>.proof.json``). Every claim in it is checked against the chain: it tells where to look,
not what to believe.

Not here: the tree itself (:mod:`ledger.documents.merkle`); anchoring a batch, which stores the
manifest and builds the call (the use case :func:`ledger.writes.certificates.anchor_batch`, which
the CLI and the service's batch jobs, ``api/jobs.py``, share); checking a presented proof against
the chain (:mod:`ledger.verification`).
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Self

import rfc8785
from eth_typing import ChecksumAddress, HexAddress, HexStr
from eth_utils.address import is_checksum_address

from ledger.catalogue import CertificateType
from ledger.documents import (
    JSONValue,
    SaltedCertificate,
    certificate_to_json,
    digest_and_proof,
    load_certificate,
)
from ledger.documents.merkle import MerkleTree
from ledger.documents.strict_json import require_shallow
from ledger.errors import InvalidDocumentError

__all__ = [
    "MANIFEST_V1",
    "MANIFEST_VERSION",
    "MAX_BATCH",
    "PROOF_VERSION",
    "BatchManifest",
    "BatchProof",
    "batch_manifest",
    "embedded_proof",
    "holder_tag",
    "parse_manifest",
    "proof_of",
    "proofs_for",
    "wrap_certificate",
]

PROOF_VERSION: Final = "gov-ledger/batch-proof/v1"
#: The manifest written now: version 2 adds the leaves' holder tags (ADR 0026).
MANIFEST_VERSION: Final = "gov-ledger/batch-manifest/v2"
#: Manifests written before holders were recorded; still read (:func:`parse_manifest`).
MANIFEST_V1: Final = "gov-ledger/batch-manifest/v1"
#: Largest batch the library anchors (a manifest of 100,000 hashes is about 6.7 MB).
MAX_BATCH: Final = 100_000


@functools.lru_cache(maxsize=256)
def _is_checksummed(address: str) -> bool:
    """EIP-55 check of a registry address (cached: every proof of a batch names the same one,
    and the check is most of the cost of reading a proof)."""
    return is_checksum_address(address)


def _hex32(value: object, what: str) -> bytes:
    """32 bytes from ``0x`` and exactly 64 hex digits (a2b_hex, unlike bytes.fromhex, refuses the
    whitespace that would make it fewer bytes)."""
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise InvalidDocumentError(f"{what} must be 0x and 64 hex digits")
    try:
        return binascii.a2b_hex(value[2:])
    except ValueError:  # binascii.Error, or text that is not ASCII
        raise InvalidDocumentError(f"{what} must be 0x and 64 hex digits") from None


_PROOF_KEYS: Final = frozenset({"version", "root", "path", "anchor"})
_ANCHOR_REQUIRED_KEYS: Final = frozenset({"chainId", "registry"})
_ANCHOR_KEYS: Final = frozenset({"chainId", "registry", "manifest"})
_MAX_PATH: Final = 64
_PATH_ELEMENT: Final = "a batch proof's path element"


@dataclass(frozen=True)
class BatchProof:
    """Where a batched certificate is anchored, and the path from it to the batch root."""

    root: bytes
    path: tuple[bytes, ...]
    chain_id: int
    registry: ChecksumAddress
    manifest_cid: str | None = None

    def to_json(self) -> dict[str, JSONValue]:
        anchor: dict[str, JSONValue] = {"chainId": self.chain_id, "registry": self.registry}
        if self.manifest_cid:
            anchor["manifest"] = self.manifest_cid
        return {
            "version": PROOF_VERSION,
            "root": "0x" + self.root.hex(),
            "path": ["0x" + node.hex() for node in self.path],
            "anchor": anchor,
        }

    def dumps(self) -> bytes:
        """Canonical JSON (RFC 8785), the content of a ``.proof.json`` file."""
        return rfc8785.dumps(self.to_json())

    @classmethod
    def from_json(cls, document: object) -> Self:
        """Parse untrusted JSON data strictly (unknown keys and malformed values refused)."""
        if not isinstance(document, dict) or not document.keys() <= _PROOF_KEYS:
            raise InvalidDocumentError(
                "a batch proof is an object with version, root, path, anchor"
            )
        if document.get("version") != PROOF_VERSION:
            raise InvalidDocumentError(
                f"unsupported batch proof version (expected {PROOF_VERSION})"
            )
        path = document.get("path")
        if not isinstance(path, list) or len(path) > _MAX_PATH:
            raise InvalidDocumentError("a batch proof's path is a list of at most 64 hashes")
        anchor = document.get("anchor")
        if (
            not isinstance(anchor, dict)
            or not _ANCHOR_REQUIRED_KEYS <= anchor.keys() <= _ANCHOR_KEYS
        ):
            raise InvalidDocumentError("a batch proof's anchor names chainId and registry")
        chain_id, registry, manifest = anchor["chainId"], anchor["registry"], anchor.get("manifest")
        if not isinstance(chain_id, int) or isinstance(chain_id, bool) or chain_id <= 0:
            raise InvalidDocumentError("a batch proof's chainId is a positive integer")
        if not isinstance(registry, str) or not _is_checksummed(registry):
            raise InvalidDocumentError("a batch proof's registry is a checksummed address")
        if manifest is not None and (not isinstance(manifest, str) or len(manifest) > 128):
            raise InvalidDocumentError("a batch proof's manifest is a CID string")
        root = _hex32(document.get("root"), "a batch proof's root")
        # _hex32 written out: a proof has a dozen or more of these, and verifiers read thousands.
        nodes: list[bytes] = []
        for node in path:
            if not isinstance(node, str) or len(node) != 66 or not node.startswith("0x"):
                raise InvalidDocumentError(f"{_PATH_ELEMENT} must be 0x and 64 hex digits")
            try:
                nodes.append(binascii.a2b_hex(node[2:]))
            except ValueError:
                raise InvalidDocumentError(
                    f"{_PATH_ELEMENT} must be 0x and 64 hex digits"
                ) from None
        return cls(
            root=root,
            path=tuple(nodes),
            chain_id=chain_id,
            registry=ChecksumAddress(HexAddress(HexStr(registry))),
            manifest_cid=manifest,
        )

    @classmethod
    def loads(cls, data: bytes | str) -> Self:
        try:
            # Nesting measured first: json.loads itself may crash the process (require_shallow).
            require_shallow(data if isinstance(data, str) else data.decode("utf-8", "replace"))
            document = json.loads(data)
        except (ValueError, RecursionError, InvalidDocumentError):
            raise InvalidDocumentError("a batch proof must be JSON") from None
        return cls.from_json(document)


def embedded_proof(data: bytes) -> BatchProof | None:
    """The proof inside a wrapped structured certificate, or None (a file, or no proof)."""
    proof = digest_and_proof(data).proof
    return None if proof is None else BatchProof.from_json(proof)


def proof_of(certificate: SaltedCertificate) -> BatchProof | None:
    """The proof a loaded certificate carries, parsed strictly; None when it carries none."""
    return None if certificate.proof is None else BatchProof.from_json(certificate.proof)


def wrap_certificate(data: bytes, proof: BatchProof) -> bytes:
    """The structured certificate ``data`` with ``proof`` inside (same target hash)."""
    certificate = load_certificate(data)
    document = certificate_to_json(certificate)
    document["proof"] = proof.to_json()
    return rfc8785.dumps(document)


def holder_tag(subject_ref: bytes, leaf: bytes) -> bytes:
    """The keyed tag of ``leaf`` for its holder (ADR 0026): HMAC-SHA256 keyed by the holder's
    subject reference over the leaf hash. Keyed per leaf, so two leaves of one holder have
    unrelated tags: without the reference a tag says nothing, with it each leaf is recognised."""
    return hmac.new(subject_ref, leaf, hashlib.sha256).digest()


def batch_manifest(
    tree: MerkleTree,
    cert_type: CertificateType,
    region: int,
    department_id: int,
    expires_at: datetime | None,
    holders: Sequence[bytes | None] | None = None,
) -> bytes:
    """The batch's manifest (canonical JSON, hashes only): the leaves in order, the terms the
    anchor carries, and each leaf's holder tag (null for a leaf given no holder). The same batch
    with the same holders gives the same bytes, so storing it again gives the same CID."""
    if holders is not None and len(holders) != len(tree.leaves):
        raise ValueError("one holder (or None) per leaf")
    refs = holders if holders is not None else [None] * len(tree.leaves)
    return rfc8785.dumps(
        {
            "version": MANIFEST_VERSION,
            "root": "0x" + tree.root.hex(),
            "type": cert_type.name,
            "region": region,
            "department": department_id,
            "expiresAt": expires_at.astimezone(UTC).isoformat() if expires_at else None,
            "leaves": ["0x" + leaf.hex() for leaf in tree.leaves],
            "holders": [
                None if ref is None else "0x" + holder_tag(ref, leaf).hex()
                for ref, leaf in zip(refs, tree.leaves, strict=True)
            ],
        }
    )


@dataclass(frozen=True)
class BatchManifest:
    """A parsed manifest, of either version (a version-1 manifest has no holder tags)."""

    version: str
    root: bytes
    type: str
    region: int
    department: int
    expires_at: str | None
    leaves: tuple[bytes, ...]
    #: Per leaf, its holder tag; None for a leaf without a holder (and every leaf of v1).
    holder_tags: tuple[bytes | None, ...]

    def leaves_of(self, subject_ref: bytes) -> tuple[bytes, ...]:
        """The leaves whose tag is ``subject_ref``'s (compared in constant time)."""
        return tuple(
            leaf
            for leaf, tag in zip(self.leaves, self.holder_tags, strict=True)
            if tag is not None and hmac.compare_digest(tag, holder_tag(subject_ref, leaf))
        )


_MANIFEST_KEYS: Final = {
    MANIFEST_V1: frozenset(
        {"version", "root", "type", "region", "department", "expiresAt", "leaves"}
    ),
    MANIFEST_VERSION: frozenset(
        {"version", "root", "type", "region", "department", "expiresAt", "leaves", "holders"}
    ),
}


def parse_manifest(data: bytes | str) -> BatchManifest:
    """Parse a stored manifest strictly (version 1 or 2), checking that its leaves lead to its
    root: a manifest is read from a document store, so it is checked, not believed."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        raise InvalidDocumentError("a batch manifest must be JSON") from None
    version = document.get("version") if isinstance(document, dict) else None
    keys = _MANIFEST_KEYS.get(version) if isinstance(version, str) else None
    if keys is None or document.keys() != keys:
        raise InvalidDocumentError(
            f"a batch manifest is an object of version {MANIFEST_V1} or {MANIFEST_VERSION}"
        )
    leaves_in = document["leaves"]
    if not isinstance(leaves_in, list) or not 0 < len(leaves_in) <= MAX_BATCH:
        raise InvalidDocumentError("a batch manifest's leaves are a non-empty list of hashes")
    leaves = tuple(_hex32(leaf, "a batch manifest's leaf") for leaf in leaves_in)
    tags_in = document.get("holders", [None] * len(leaves))
    if not isinstance(tags_in, list) or len(tags_in) != len(leaves):
        raise InvalidDocumentError("a batch manifest has one holder tag (or null) per leaf")
    tags = tuple(
        None if tag is None else _hex32(tag, "a batch manifest's holder tag") for tag in tags_in
    )
    region, department = document["region"], document["department"]
    expires_at, type_name = document["expiresAt"], document["type"]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in (region, department)):
        raise InvalidDocumentError("a batch manifest's region and department are integers")
    if not isinstance(type_name, str) or not (expires_at is None or isinstance(expires_at, str)):
        raise InvalidDocumentError("a batch manifest's type and expiry are text")
    root = _hex32(document["root"], "a batch manifest's root")
    if len(set(leaves)) != len(leaves) or MerkleTree.build(list(leaves)).root != root:
        raise InvalidDocumentError("a batch manifest's leaves do not lead to its root")
    return BatchManifest(
        str(version), root, type_name, region, department, expires_at, leaves, tags
    )


def proofs_for(
    tree: MerkleTree, chain_id: int, registry: ChecksumAddress, manifest_cid: str | None
) -> tuple[BatchProof, ...]:
    """Every leaf's proof, naming the anchor: the chain, its certificate registry, the manifest."""
    return tuple(
        BatchProof(tree.root, tuple(path), chain_id, registry, manifest_cid)
        for path in tree.proofs()
    )
