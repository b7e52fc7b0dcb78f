"""Documents: what the ledger anchors, and how a document becomes the 32-byte hash on chain.

Two kinds of document are anchored:

* **Files** (a scanned licence, a PDF): the hash is keccak256 of the bytes.
* **Structured certificates**: JSON fields, each with its own random salt, hashed field by field
  so that a holder can hide fields without changing the anchored hash (selective disclosure).

keccak256 is used throughout because it is what the EVM computes natively: a contract or any
verifier talking straight to a JSON-RPC node can recompute and compare without another hash
function, and one primitive means one thing to get right in the web and command-line verifiers.

The modules, from the bottom up:

* :mod:`~ledger.documents.keccak`: keccak256 itself (a C extension, no dispatch).
* :mod:`~ledger.documents.canonical`: RFC 8785 canonical JSON, the bytes every leaf hashes.
* :mod:`~ledger.documents.strict_json`: the strict parser of untrusted certificate JSON.
* :mod:`~ledger.documents.certificate`: the certificate format (salted fields, leaf and target
  hashes, the wrapped form).
* :mod:`~ledger.documents.digests`: which rule a presented document is hashed by, from bytes, a
  path or an upload that arrives in pieces.
* :mod:`~ledger.documents.merkle`: Merkle trees over document hashes (ADR 0010).
* :mod:`~ledger.documents.batches`: anchoring a Merkle batch, its manifest and its proofs.

This package re-exports the public names of the first five; other packages import those from
``ledger.documents``. ``merkle``, ``batches`` and ``keccak`` are imported by their module path and
are not loaded here: :mod:`~ledger.documents.batches` anchors through the session, which itself
hashes documents, so loading it here would make ``ledger.documents`` import the whole ledger (and
a cycle). The other names the modules export (``parse_json``, ``canonical_text``, ...) are for
each other, not for other packages.
"""

from __future__ import annotations

from ledger.documents.certificate import (
    CERTIFICATE_VERSION,
    DEFAULT_MAX_CERTIFICATE_BYTES,
    SALT_BYTES,
    SaltedCertificate,
    SaltedField,
    SaltSource,
    certificate_to_json,
    dump_certificate,
    leaf_hash,
    load_certificate,
    obfuscate,
    salt_fields,
    target_hash,
)
from ledger.documents.digests import (
    DigestAndProof,
    DocumentDigest,
    DocumentDigester,
    DocumentKind,
    digest_and_proof,
    document_hash_of,
    hash_file_bytes,
)
from ledger.documents.strict_json import MAX_JSON_DEPTH, JSONValue

__all__ = [
    "CERTIFICATE_VERSION",
    "DEFAULT_MAX_CERTIFICATE_BYTES",
    "MAX_JSON_DEPTH",
    "SALT_BYTES",
    "DigestAndProof",
    "DocumentDigest",
    "DocumentDigester",
    "DocumentKind",
    "JSONValue",
    "SaltSource",
    "SaltedCertificate",
    "SaltedField",
    "certificate_to_json",
    "digest_and_proof",
    "document_hash_of",
    "dump_certificate",
    "hash_file_bytes",
    "leaf_hash",
    "load_certificate",
    "obfuscate",
    "salt_fields",
    "target_hash",
]
