"""Document hashes: the 32 bytes a verifier looks up for a presented file or certificate.

Content is a certificate when it is a JSON object whose ``"version"`` starts with
``gov-ledger/cert/`` (hashed from its fields, :func:`ledger.documents.certificate.target_hash`'s
rule); anything else is a file (keccak256 of its bytes). :func:`digest_and_proof` applies that
rule to bytes or to a file on disk (streamed when it is too large to be a certificate), and
:class:`DocumentDigester` to content that arrives in pieces (an upload), with the same result and
the same errors.

Not here: the certificate format and its hashes (:mod:`ledger.documents.certificate`), and
checking a batch proof (:mod:`ledger.documents.batches`, :mod:`ledger.verification`).
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Final, NamedTuple, Protocol

from ledger.documents.certificate import (
    CERTIFICATE_VERSION_PREFIX,
    DEFAULT_MAX_CERTIFICATE_BYTES,
    check_certificate,
)
from ledger.documents.keccak import keccak256 as keccak
from ledger.documents.keccak import keccak256_hasher
from ledger.documents.strict_json import JSONValue, parse_json
from ledger.errors import InvalidDocumentError

__all__ = [
    "DigestAndProof",
    "DocumentDigest",
    "DocumentDigester",
    "DocumentKind",
    "digest_and_proof",
    "document_hash_of",
    "hash_file_bytes",
]

_STREAM_CHUNK: Final = 1024 * 1024
_JSON_WHITESPACE: Final = b" \t\r\n"
_CERTIFICATE_MARKER: Final = b'"' + CERTIFICATE_VERSION_PREFIX.encode("ascii")


class DocumentKind(StrEnum):
    """How a document's hash was computed, so a verifier can say which rule it applied."""

    FILE = "file"
    CERTIFICATE = "certificate"


class DocumentDigest(NamedTuple):
    """The anchored hash of a document and the rule that produced it."""

    kind: DocumentKind
    hash: bytes


def hash_file_bytes(data: bytes) -> bytes:
    """Return keccak256 of a file's bytes, the value anchored for a file document."""
    return keccak(bytes(data))


class DigestAndProof(NamedTuple):
    """What a verifier reads from a presented document: its hash, and its batch proof if any."""

    digest: DocumentDigest
    #: A certificate's ``"proof"`` member as parsed, not yet checked
    #: (``ledger.documents.batches.BatchProof.from_json`` reads it strictly); None for a file or a
    #: certificate without one.
    proof: JSONValue


def document_hash_of(
    source: bytes | bytearray | memoryview | str | os.PathLike[str],
    *,
    max_certificate_bytes: int = DEFAULT_MAX_CERTIFICATE_BYTES,
) -> DocumentDigest:
    """Return the hash a verifier must look up for ``source``, and which rule produced it.

    Bytes are content; a ``str`` or path-like is a file to read (never content, so a path can
    not be hashed by mistake). Content is a certificate when it is a JSON object whose
    ``"version"`` starts with ``gov-ledger/cert/``; anything else, JSON or not, is a file. Content
    that starts like a JSON object and mentions a certificate version but cannot be read as one is
    an error rather than a file, so a damaged or oversized certificate is reported as such
    instead of as "not anchored". Reading errors (``OSError``) propagate unchanged.
    """
    return digest_and_proof(source, max_certificate_bytes=max_certificate_bytes).digest


def digest_and_proof(
    source: bytes | bytearray | memoryview | str | os.PathLike[str],
    *,
    max_certificate_bytes: int = DEFAULT_MAX_CERTIFICATE_BYTES,
) -> DigestAndProof:
    """:func:`document_hash_of` and, for a certificate, its embedded proof, from one reading.

    The digest and the errors are exactly :func:`document_hash_of`'s. The proof is returned
    unchecked so that a verifier can tell a certificate it cannot read from a proof it cannot
    read, and report the certificate's hash in the second case.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        return _digest_content(bytes(source), max_certificate_bytes)
    with Path(source).open("rb") as stream:
        if os.fstat(stream.fileno()).st_size <= max_certificate_bytes:
            return _digest_content(stream.read(), max_certificate_bytes)
        return DigestAndProof(_digest_large_stream(stream, max_certificate_bytes), None)


def _digest_content(data: bytes, max_certificate_bytes: int) -> DigestAndProof:
    if _starts_with_brace(data) and _CERTIFICATE_MARKER in data:
        if len(data) > max_certificate_bytes:
            raise _too_large(max_certificate_bytes)
        try:
            document = parse_json(data, max_certificate_bytes)
        except InvalidDocumentError as error:
            raise InvalidDocumentError(f"looks like a certificate but {error}") from None
        if isinstance(document, dict):
            version = document.get("version")
            if isinstance(version, str) and version.startswith(CERTIFICATE_VERSION_PREFIX):
                checked = check_certificate(document, keep_fields=False)
                digest = DocumentDigest(DocumentKind.CERTIFICATE, keccak(b"".join(checked.leaves)))
                return DigestAndProof(digest, checked.proof)
    return DigestAndProof(DocumentDigest(DocumentKind.FILE, hash_file_bytes(data)), None)


def _digest_large_stream(stream: _BinaryReader, max_certificate_bytes: int) -> DocumentDigest:
    """Hash a file too large to be a certificate without loading it, applying the same rule."""
    digester = DocumentDigester(max_certificate_bytes)
    for chunk in iter(lambda: stream.read(_STREAM_CHUNK), b""):
        digester.update(chunk)
    return digester.result().digest


class DocumentDigester:
    """:func:`digest_and_proof` of content that arrives in pieces (an upload), without holding
    more of it than a certificate may be.

    Every piece goes into the file hash at once. The content is also kept while it may still be
    a certificate (it opens with ``{`` and is at most ``max_certificate_bytes`` long), because a
    certificate is hashed from its parsed fields, not its bytes; past that size it is dropped,
    and only the certificate marker is looked for, so that an oversized certificate is reported
    as such rather than hashed as a file. Memory stays within the certificate limit whatever the
    content's size. :meth:`result` gives exactly what :func:`digest_and_proof` gives for the
    whole content, errors included.
    """

    def __init__(self, max_certificate_bytes: int = DEFAULT_MAX_CERTIFICATE_BYTES) -> None:
        self.limit = max_certificate_bytes
        #: Bytes seen so far.
        self.size = 0
        # safe-pysha3's hasher, not eth_hash's: the pycryptodome backend of the latter keeps
        # every piece it is given (to be able to copy itself), the whole content in the end.
        self._hasher = keccak256_hasher(b"")
        self._held: bytearray | None = bytearray()
        self._leading: bool | None = None  # does the first non-whitespace byte open an object?
        self._marked = False  # the certificate marker was seen
        self._tail = b""

    def update(self, chunk: bytes) -> None:
        """Add the next piece of the content."""
        if not chunk:
            return
        self.size += len(chunk)
        self._hasher.update(chunk)
        if self._leading is None:
            stripped = chunk.lstrip(_JSON_WHITESPACE)
            if stripped:
                self._leading = stripped.startswith(b"{")
        if self._held is not None:
            if self._leading is False or self.size > self.limit:
                self._held = None
            else:
                self._held += chunk
        if self._leading and not self._marked:
            window = self._tail + chunk
            self._marked = _CERTIFICATE_MARKER in window
            self._tail = window[-(len(_CERTIFICATE_MARKER) - 1) :]

    def result(self) -> DigestAndProof:
        """The digest (and embedded proof) of the content so far; InvalidDocumentError as
        :func:`digest_and_proof` raises it."""
        if self._held is not None:
            return _digest_content(bytes(self._held), self.limit)
        if self._leading and self._marked:
            raise _too_large(self.limit)
        return DigestAndProof(DocumentDigest(DocumentKind.FILE, self._hasher.digest()), None)


class _BinaryReader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _starts_with_brace(data: bytes) -> bool:
    return data.lstrip(_JSON_WHITESPACE).startswith(b"{")


def _too_large(limit: int) -> InvalidDocumentError:
    return InvalidDocumentError(f"looks like a certificate but is larger than {limit} bytes")
