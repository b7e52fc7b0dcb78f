"""Documents: what the ledger anchors, and how a document becomes its 32-byte hash.

The public names other packages import are re-exported here; the modules behind them are
:mod:`ledger.documents.certificate` (the certificate format).
"""

from __future__ import annotations

from ledger.documents.certificate import (
    CERTIFICATE_VERSION,
    DEFAULT_MAX_CERTIFICATE_BYTES,
    MAX_JSON_DEPTH,
    SALT_BYTES,
    DigestAndProof,
    DocumentDigest,
    DocumentDigester,
    DocumentKind,
    JSONValue,
    SaltedCertificate,
    SaltedField,
    SaltSource,
    certificate_to_json,
    digest_and_proof,
    document_hash_of,
    dump_certificate,
    hash_file_bytes,
    leaf_hash,
    load_certificate,
    obfuscate,
    salt_fields,
    target_hash,
)

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
