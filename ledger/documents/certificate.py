"""Document hashes: the 32-byte fingerprints the ledger anchors on chain.

Two kinds of document are anchored:

* **Files** (a scanned licence, a PDF): the hash is keccak256 of the bytes.
* **Structured certificates**: JSON fields, each with its own random salt. Every field becomes a
  leaf hash; the certificate's *target hash* is keccak256 of the sorted leaves. A salt per field
  means a leaf cannot be found by guessing the value (an ID card number, a birth date), and a
  holder can hide a field by replacing it with its leaf hash, which still recomputes the same
  target hash: selective disclosure without the issuer's help.

keccak256 is used throughout because it is what the EVM computes natively: a contract or any
verifier talking straight to a JSON-RPC node can recompute and compare without another hash
function, and one primitive means one thing to get right in the web and command-line verifiers.

Wrapped form of a certificate (``dump_certificate`` / ``load_certificate``)::

    {"version": "gov-ledger/cert/v1", "type": "<certificate type>",
     "fields": {"<name>": {"salt": "<32 hex>", "value": <any JSON>}, ...},
     "obfuscated": ["<64 hex leaf hash>", ...],
     "proof": {...}}            # only in a Merkle batch: ledger.batches.BatchProof

Only the fields and obfuscated leaves are covered by the target hash; ``type`` is a routing hint,
and verifiers must take the certificate type from the on-chain anchor. Error messages describe
the problem but never quote field values (nor field names, which in malformed input can be
anything).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Final, NamedTuple, Protocol, TypeAlias

import rfc8785

from ledger.errors import InvalidDocumentError
from ledger.keccak import keccak256 as keccak
from ledger.keccak import keccak256_hasher

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

JSONValue: TypeAlias = (
    bool | int | float | str | Sequence["JSONValue"] | Mapping[str, "JSONValue"] | None
)

#: Version tag of the wrapped form; also how :func:`document_hash_of` recognises a certificate.
CERTIFICATE_VERSION: Final = "gov-ledger/cert/v1"
_CERTIFICATE_VERSION_PREFIX: Final = "gov-ledger/cert/"

#: Deepest nesting accepted in a wrapped certificate, counting the wrapper itself. Deep nesting has
#: no use in a certificate and costs recursion in every parser a verifier might use.
MAX_JSON_DEPTH: Final = 32
# The wrapper, "fields" and the per-field {"salt", "value"} object take three levels.
_MAX_VALUE_DEPTH: Final = MAX_JSON_DEPTH - 3

#: Largest wrapped certificate accepted by default. Certificates are a few kilobytes; a bound keeps
#: an untrusted upload from tying up the parser. Scans and PDFs are files, not certificates.
DEFAULT_MAX_CERTIFICATE_BYTES: Final = 1024 * 1024

#: Salt length: 128 bits, so a leaf cannot be brute-forced even for a low-entropy value.
SALT_BYTES: Final = 16
_MAX_TYPE_LENGTH: Final = 256
_HASH_BYTES: Final = 32
_SALT_PATTERN: Final = re.compile(r"[0-9a-f]{32}")
_HASH_PATTERN: Final = re.compile(r"[0-9a-f]{64}")
# RFC 8785 numbers are IEEE 754 doubles; integers beyond this are not exact (I-JSON, RFC 7493).
_MAX_SAFE_INTEGER: Final = 2**53 - 1
_STREAM_CHUNK: Final = 1024 * 1024
_JSON_WHITESPACE: Final = b" \t\r\n"
_CERTIFICATE_MARKER: Final = b'"' + _CERTIFICATE_VERSION_PREFIX.encode("ascii")


class DocumentKind(StrEnum):
    """How a document's hash was computed, so a verifier can say which rule it applied."""

    FILE = "file"
    CERTIFICATE = "certificate"


class DocumentDigest(NamedTuple):
    """The anchored hash of a document and the rule that produced it."""

    kind: DocumentKind
    hash: bytes


class SaltSource(Protocol):
    """Where salts come from; the :mod:`secrets` module in production, a fixed source in tests."""

    def token_bytes(self, nbytes: int) -> bytes:
        """Return ``nbytes`` unpredictable bytes."""
        ...


@dataclass(frozen=True, repr=False)
class SaltedField:
    """One disclosed field: its salt (32 lower-case hex characters) and its JSON value.

    Construction checks the salt and takes a checked private copy of the value (see
    :func:`load_certificate` for what is refused), so every field has exactly one leaf hash; treat
    the value as read-only. ``repr`` hides both, since values are often personal data and would
    otherwise end up in logs.
    """

    salt: str
    value: JSONValue

    def __post_init__(self) -> None:
        if not isinstance(self.salt, str) or not _SALT_PATTERN.fullmatch(self.salt):
            raise InvalidDocumentError("a field salt must be 32 lower-case hexadecimal characters")
        object.__setattr__(self, "value", _normalize_json(self.value, _MAX_VALUE_DEPTH))

    def __repr__(self) -> str:
        return "SaltedField(salt=<redacted>, value=<redacted>)"


@dataclass(frozen=True, repr=False)
class SaltedCertificate:
    """A structured certificate: disclosed fields and the leaf hashes of the hidden ones.

    Construction checks everything (field names, 32-byte hidden leaves, no duplicate leaf, at
    least one leaf; :class:`SaltedField` checks salts and values) and takes private copies, so a
    certificate in hand always has a well-defined :func:`target_hash` that later changes to the
    caller's dicts cannot alter.
    """

    type: str
    fields: Mapping[str, SaltedField]
    obfuscated: tuple[bytes, ...] = field(default=())
    #: Where the certificate is anchored when it is part of a Merkle batch: the proof to the
    #: batch root and the anchor reference (``ledger.batches.BatchProof``'s JSON). Not covered
    #: by the target hash, like a signature block: it says where to look, and every claim in it
    #: is checked against the chain.
    proof: JSONValue = field(default=None, compare=False)
    #: The leaf hashes, sorted: computed once, at construction, from the private copies above.
    _leaves: tuple[bytes, ...] = field(init=False, default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not 0 < len(self.type) <= _MAX_TYPE_LENGTH:
            raise InvalidDocumentError(
                f"certificate type must be a string of 1 to {_MAX_TYPE_LENGTH} characters"
            )
        _require_unicode(self.type)
        if not isinstance(self.fields, Mapping):
            raise InvalidDocumentError("certificate fields must be a mapping")
        fields: dict[str, SaltedField] = {}
        for name, salted in self.fields.items():
            _check_field_name(name)
            if not isinstance(salted, SaltedField):
                raise InvalidDocumentError("each certificate field must be a SaltedField")
            fields[name] = salted
        hidden = tuple(self.obfuscated)
        for leaf in hidden:
            if not isinstance(leaf, bytes) or len(leaf) != _HASH_BYTES:
                raise InvalidDocumentError("an obfuscated leaf hash must be 32 bytes")
        object.__setattr__(self, "fields", MappingProxyType(dict(sorted(fields.items()))))
        object.__setattr__(self, "obfuscated", tuple(sorted(hidden)))
        # Rejects duplicates and an empty certificate.
        object.__setattr__(self, "_leaves", tuple(_sorted_leaves(self)))

    def __repr__(self) -> str:
        return (
            f"SaltedCertificate(type={self.type!r}, fields=<{len(self.fields)} redacted>, "
            f"obfuscated=<{len(self.obfuscated)}>)"
        )


# ----------------------------------------------------------------------------------------------
# Hashing
# ----------------------------------------------------------------------------------------------


def hash_file_bytes(data: bytes) -> bytes:
    """Return keccak256 of a file's bytes, the value anchored for a file document."""
    return keccak(bytes(data))


def leaf_hash(name: str, salted: SaltedField) -> bytes:
    """Return keccak256 of the RFC 8785 form of ``{"salt", "key", "value"}`` for one field.

    RFC 8785 makes the bytes independent of key order, whitespace and number spelling, so any
    verifier in any language gets the same leaf; the key is inside so that a value and its salt
    cannot be replayed under another field name.
    """
    try:
        # The RFC 8785 form written directly: its three keys in their sorted order.
        text = (
            f'{{"key":{_canonical_text(name)},"salt":{_canonical_text(salted.salt)},'
            f'"value":{_canonical_text(salted.value)}}}'
        )
        return keccak(text.encode("utf-8"))
    except (_NotCanonicalFastError, UnicodeError, rfc8785.CanonicalizationError):
        pass
    preimage: dict[str, JSONValue] = {"salt": salted.salt, "key": name, "value": salted.value}
    try:
        return keccak(rfc8785.dumps(preimage))
    except rfc8785.CanonicalizationError:
        raise InvalidDocumentError("a field value cannot be canonicalized (RFC 8785)") from None


def target_hash(certificate: SaltedCertificate) -> bytes:
    """Return the certificate's anchored hash: keccak256 of its sorted leaves, concatenated.

    Sorting makes the result independent of field order and of which fields are hidden, which
    is what lets a holder obfuscate fields without changing the hash.
    """
    # Computed at construction; an instance made without __init__ has none and gets them here.
    return keccak(b"".join(certificate._leaves or _sorted_leaves(certificate)))


def _sorted_leaves(certificate: SaltedCertificate) -> list[bytes]:
    leaves = [leaf_hash(name, salted) for name, salted in certificate.fields.items()]
    leaves.extend(certificate.obfuscated)
    _check_leaves(leaves)
    leaves.sort()
    return leaves


def _check_leaves(leaves: list[bytes]) -> None:
    if not leaves:
        raise InvalidDocumentError("a certificate needs at least one field")
    if len(set(leaves)) != len(leaves):
        # Salts are random, so two equal leaves mean a hidden field is also shown, or is listed
        # twice; accepting that would let two different wrappers claim one target hash.
        raise InvalidDocumentError("a leaf hash appears more than once in the certificate")


# ----------------------------------------------------------------------------------------------
# Canonical JSON (RFC 8785)
# ----------------------------------------------------------------------------------------------

# The JSON string escaping of RFC 8785 (section 3.2.2.2) is exactly the standard library's with
# ensure_ascii=False: '"' and '\\' escaped, \b \f \n \r \t as such, the other controls as
# \u00xx in lower-case hex, everything else (including U+007F and non-ASCII) as itself. This is
# the C-accelerated encoder of the json module.
_json_string: Final = json.encoder.encode_basestring


class _NotCanonicalFastError(Exception):
    """A value this module does not write itself; :func:`rfc8785.dumps` decides."""


def _utf16_key(item: tuple[object, object]) -> bytes:
    key = item[0]
    if type(key) is not str:
        raise _NotCanonicalFastError
    return key.encode("utf-16be")


def _canonical_text(value: object) -> str:
    """The RFC 8785 form of ``value`` as text, identical to ``rfc8785.dumps(value).decode()``.

    Written here: strings, booleans, ``None``, integers within RFC 8785's safe range, floats (each
    by :func:`rfc8785.dumps` itself), and dicts, lists and tuples of them, keys sorted by their
    UTF-16 code units. Anything else (subclasses of those types, other objects, a key that is not
    a string, an integer out of range) raises :class:`_NotCanonicalFastError`; a NaN raises
    ``rfc8785.CanonicalizationError``, and text with unpaired surrogates fails when the result is
    encoded (``UnicodeError``). On any of the three, callers hand the whole value to
    :func:`rfc8785.dumps`, which writes it or raises exactly as it always did, so the bytes and
    the errors are those of ``rfc8785`` in every case.
    """
    kind = type(value)
    if isinstance(value, str) and kind is str:
        return _json_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and kind is int and -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
        return str(value)
    if isinstance(value, float) and kind is float:
        return rfc8785.dumps(value).decode("ascii")
    if isinstance(value, dict) and kind is dict:
        items = sorted(value.items(), key=_utf16_key)
        return (
            "{"
            + ",".join(f"{_json_string(key)}:{_canonical_text(item)}" for key, item in items)
            + "}"
        )
    if isinstance(value, list | tuple) and kind in (list, tuple):
        return "[" + ",".join(_canonical_text(item) for item in value) + "]"
    raise _NotCanonicalFastError


# ----------------------------------------------------------------------------------------------
# Issuing and disclosing
# ----------------------------------------------------------------------------------------------


def salt_fields(
    fields: Mapping[str, JSONValue],
    *,
    certificate_type: str,
    rng: SaltSource = secrets,
    max_bytes: int = DEFAULT_MAX_CERTIFICATE_BYTES,
) -> SaltedCertificate:
    """Give every top-level field a fresh 128-bit salt; the issuer's first step.

    Nested objects are salted as one field and therefore disclosed or hidden as a unit. The
    result is refused if its wrapped form would exceed ``max_bytes``, so that nothing can be issued
    that verifiers with the same limit would refuse to read.
    """
    if not isinstance(fields, Mapping):
        raise InvalidDocumentError("certificate fields must be a mapping")
    salted: dict[str, SaltedField] = {}
    for name, value in fields.items():
        salt = rng.token_bytes(SALT_BYTES)
        if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
            raise InvalidDocumentError(f"the salt source must return {SALT_BYTES} bytes")
        salted[name] = SaltedField(salt.hex(), value)
    certificate = SaltedCertificate(certificate_type, salted)
    if len(dump_certificate(certificate)) > max_bytes:
        raise InvalidDocumentError(f"certificate is larger than {max_bytes} bytes")
    return certificate


def obfuscate(certificate: SaltedCertificate, field_names: Iterable[str]) -> SaltedCertificate:
    """Hide the named fields, keeping only their leaf hashes; the target hash is unchanged.

    A holder uses this before showing a certificate to a verifier who needs only some fields.
    Naming a field that is not shown is an error rather than a no-op, so a typo cannot leave
    a field disclosed that the holder meant to hide.
    """
    if isinstance(field_names, str):
        raise TypeError("field_names must be a collection of names, not a single string")
    to_hide = set(field_names)
    if not to_hide.issubset(certificate.fields):
        raise InvalidDocumentError("cannot obfuscate a field that the certificate does not show")
    kept = {name: salted for name, salted in certificate.fields.items() if name not in to_hide}
    hidden = [leaf_hash(name, certificate.fields[name]) for name in to_hide]
    return SaltedCertificate(
        certificate.type, kept, (*certificate.obfuscated, *hidden), certificate.proof
    )


# ----------------------------------------------------------------------------------------------
# Wrapped JSON form
# ----------------------------------------------------------------------------------------------


def certificate_to_json(certificate: SaltedCertificate) -> dict[str, JSONValue]:
    """Return the wrapped form as plain JSON data, e.g. for an API response body."""
    return {
        "version": CERTIFICATE_VERSION,
        "type": certificate.type,
        "fields": {
            name: {"salt": salted.salt, "value": salted.value}
            for name, salted in certificate.fields.items()
        },
        "obfuscated": [leaf.hex() for leaf in certificate.obfuscated],
        **({"proof": certificate.proof} if certificate.proof is not None else {}),
    }


def dump_certificate(certificate: SaltedCertificate) -> bytes:
    """Serialize the wrapped form canonically (RFC 8785).

    The hash does not depend on these bytes, but canonical bytes give one IPFS CID per
    certificate and make stored copies comparable byte for byte.
    """
    try:
        return _certificate_text(certificate).encode("utf-8")
    except (_NotCanonicalFastError, UnicodeError, rfc8785.CanonicalizationError):
        return rfc8785.dumps(certificate_to_json(certificate))


def _certificate_text(certificate: SaltedCertificate) -> str:
    """The RFC 8785 form of :func:`certificate_to_json` written directly (keys in sorted order)."""
    fields = ",".join(
        f'{_canonical_text(name)}:{{"salt":{_canonical_text(salted.salt)},'
        f'"value":{_canonical_text(salted.value)}}}'
        for name, salted in sorted(certificate.fields.items(), key=_utf16_key)
    )
    hidden = ",".join(f'"{leaf.hex()}"' for leaf in certificate.obfuscated)
    proof = "" if certificate.proof is None else f',"proof":{_canonical_text(certificate.proof)}'
    return (
        f'{{"fields":{{{fields}}},"obfuscated":[{hidden}]{proof},'
        f'"type":{_canonical_text(certificate.type)},"version":"{CERTIFICATE_VERSION}"}}'
    )


def load_certificate(
    data: bytes | str, *, max_bytes: int = DEFAULT_MAX_CERTIFICATE_BYTES
) -> SaltedCertificate:
    """Parse a wrapped certificate from untrusted input, accepting any key order or whitespace.

    Strict on purpose: duplicate keys, unknown keys, NaN, numbers JSON cannot represent exactly
    and over-deep nesting are refused, because each is a way for two parsers to read different
    values from the same bytes.
    """
    document = _parse_json(data, max_bytes)
    if not isinstance(document, dict):
        raise InvalidDocumentError("a certificate must be a JSON object")
    return _certificate_from_document(document)


_TOP_LEVEL_KEYS: Final = frozenset({"version", "type", "fields", "obfuscated", "proof"})
_FIELD_ENTRY_KEYS: Final = frozenset({"salt", "value"})


class _CheckedCertificate(NamedTuple):
    """A parsed wrapped certificate that passed every check, with its leaves computed."""

    type: str
    #: The disclosed fields in the order read; empty when the caller wanted only the leaves.
    fields: dict[str, SaltedField]
    #: The hidden leaves, sorted.
    obfuscated: tuple[bytes, ...]
    #: Every leaf, sorted: at least one, none twice.
    leaves: list[bytes]
    #: The ``"proof"`` member as parsed (not checked here), or None.
    proof: JSONValue


def _certificate_from_document(document: dict[str, JSONValue]) -> SaltedCertificate:
    checked = _check_certificate(document, keep_fields=True)
    # Every check of SaltedCertificate's construction is made: build it without repeating them.
    certificate = object.__new__(SaltedCertificate)
    object.__setattr__(certificate, "type", checked.type)
    object.__setattr__(
        certificate, "fields", MappingProxyType(dict(sorted(checked.fields.items())))
    )
    object.__setattr__(certificate, "obfuscated", checked.obfuscated)
    object.__setattr__(certificate, "proof", checked.proof)
    object.__setattr__(certificate, "_leaves", tuple(checked.leaves))
    return certificate


def _check_certificate(document: dict[str, JSONValue], *, keep_fields: bool) -> _CheckedCertificate:
    """Check a wrapped certificate that :func:`_parse_json` returned, and compute its leaves.

    This makes, in the same order and with the same messages, the checks of the wrapper and
    those :class:`SaltedField` and :class:`SaltedCertificate` make at construction, less what
    ``_parse_json`` guarantees of whatever it returns: no unpaired surrogate in any key or
    string, exact integers and finite numbers only, nesting within :data:`MAX_JSON_DEPTH` (so
    every field value within the ``_MAX_VALUE_DEPTH`` a SaltedField allows, three levels down),
    and fresh objects that nothing else holds, so values are used as they are, not copied. That
    is what makes one reading cost one pass: verifiers read certificates by the thousand.
    """
    if not document.keys() <= _TOP_LEVEL_KEYS:
        raise InvalidDocumentError("certificate has an unknown top-level key")
    if document.get("version") != CERTIFICATE_VERSION:
        raise InvalidDocumentError(
            f"unsupported certificate version (expected {CERTIFICATE_VERSION!r})"
        )
    certificate_type = document.get("type")
    if not isinstance(certificate_type, str):
        raise InvalidDocumentError("certificate type must be a string")
    raw_fields = document.get("fields")
    if not isinstance(raw_fields, dict):
        raise InvalidDocumentError("certificate fields must be a JSON object")
    fields: dict[str, SaltedField] = {}
    leaves: list[bytes] = []
    for name, entry in raw_fields.items():
        if not isinstance(entry, dict) or entry.keys() != _FIELD_ENTRY_KEYS:
            raise InvalidDocumentError(
                'each certificate field must be an object with exactly "salt" and "value"'
            )
        salt = entry["salt"]
        if not isinstance(salt, str):
            raise InvalidDocumentError("a field salt must be a string")
        if not name:  # a key, so a string of valid Unicode (_check_field_name's other checks)
            raise InvalidDocumentError("field names must be non-empty strings")
        if not _SALT_PATTERN.fullmatch(salt):
            raise InvalidDocumentError("a field salt must be 32 lower-case hexadecimal characters")
        value = entry["value"]
        if type(value) is str:
            # leaf_hash's preimage written here for a text value (nearly every value): the name
            # and the value are strings from the parser, and the salt is 32 hexadecimal digits,
            # which RFC 8785 writes as themselves. Anything else goes through leaf_hash itself.
            preimage = (
                f'{{"key":{_json_string(name)},"salt":"{salt}","value":{_json_string(value)}}}'
            )
            leaves.append(keccak256_hasher(preimage.encode()).digest())
        else:
            leaves.append(leaf_hash(name, _checked_field(salt, value)))
        if keep_fields:
            fields[name] = _checked_field(salt, value)
    raw_hidden = document.get("obfuscated", [])
    if not isinstance(raw_hidden, list):
        raise InvalidDocumentError("obfuscated must be a JSON array")
    hidden: list[bytes] = []
    for leaf in raw_hidden:
        if not isinstance(leaf, str) or not _HASH_PATTERN.fullmatch(leaf):
            raise InvalidDocumentError(
                "an obfuscated leaf hash must be 64 lower-case hexadecimal characters"
            )
        hidden.append(bytes.fromhex(leaf))
    if not 0 < len(certificate_type) <= _MAX_TYPE_LENGTH:
        raise InvalidDocumentError(
            f"certificate type must be a string of 1 to {_MAX_TYPE_LENGTH} characters"
        )
    leaves.extend(hidden)
    _check_leaves(leaves)
    leaves.sort()
    hidden.sort()
    return _CheckedCertificate(
        certificate_type, fields, tuple(hidden), leaves, document.get("proof")
    )


def _checked_field(salt: str, value: JSONValue) -> SaltedField:
    """A SaltedField of a salt that matched and a value from ``_parse_json``, without the checks
    and the copy its construction would repeat (see :func:`_check_certificate`)."""
    salted = object.__new__(SaltedField)
    object.__setattr__(salted, "salt", salt)
    object.__setattr__(salted, "value", value)
    return salted


# ----------------------------------------------------------------------------------------------
# Either kind
# ----------------------------------------------------------------------------------------------


class DigestAndProof(NamedTuple):
    """What a verifier reads from a presented document: its hash, and its batch proof if any."""

    digest: DocumentDigest
    #: A certificate's ``"proof"`` member as parsed, not yet checked
    #: (``ledger.batches.BatchProof.from_json`` reads it strictly); None for a file or a
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
            document = _parse_json(data, max_certificate_bytes)
        except InvalidDocumentError as error:
            raise InvalidDocumentError(f"looks like a certificate but {error}") from None
        if isinstance(document, dict):
            version = document.get("version")
            if isinstance(version, str) and version.startswith(_CERTIFICATE_VERSION_PREFIX):
                checked = _check_certificate(document, keep_fields=False)
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


# ----------------------------------------------------------------------------------------------
# Strict JSON
# ----------------------------------------------------------------------------------------------


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _nesting_depth(text: str) -> int:
    """Deepest bracket nesting outside string literals (malformed input is left to the parser)."""
    depth = deepest = 0
    for char in _JSON_STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


class _UnacceptableJSONError(Exception):
    """Raised from inside ``json.loads`` hooks; carries a message that is safe to show."""


def _parse_json(data: bytes | str, max_bytes: int) -> JSONValue:
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidDocumentError("certificate is not valid Unicode text") from None
    if not isinstance(data, bytes):
        raise InvalidDocumentError("certificate must be given as bytes or text")
    if len(data) > max_bytes:
        raise InvalidDocumentError(f"certificate is larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidDocumentError("certificate is not valid UTF-8") from None
    # The C JSON decoder recurses once per nesting level and can exhaust the C stack (a segfault,
    # not a RecursionError) on hostile input such as 100,000 "[": measure the depth first.
    # Nesting cannot be deeper than the number of opening brackets: count them (fast, in C) and
    # measure only when there are enough of them to matter.
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH and _nesting_depth(text) > MAX_JSON_DEPTH:
        raise _too_deep()
    try:
        if text.startswith("\ufeff"):  # refused as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        parsed: JSONValue = _STRICT_DECODER.decode(text)
    except _UnacceptableJSONError as error:
        raise InvalidDocumentError(f"certificate JSON is not acceptable: {error}") from None
    except json.JSONDecodeError as error:
        # msg and position only: the exception's doc attribute holds the whole input.
        raise InvalidDocumentError(
            f"certificate is not valid JSON ({error.msg} at line {error.lineno} "
            f"column {error.colno})"
        ) from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise InvalidDocumentError("certificate JSON has a number that is too long") from None
    # The parser has checked what _normalize_json would (no duplicate key, exact integers,
    # finite numbers; the depth was measured above) and built fresh objects, which need no copy.
    # Left: unpaired surrogates, which in text that decoded as UTF-8 only a \uD800-\uDFFF escape
    # can produce. Where one may be (an escaped backslash followed by "ud8" matches too), the
    # whole document is checked.
    if _SURROGATE_ESCAPE.search(text):
        return _normalize_json(parsed, MAX_JSON_DEPTH)
    return parsed


def _object_without_duplicates(pairs: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _UnacceptableJSONError("an object has a duplicate key")
    return result


def _reject_constant(_name: str) -> float:
    raise _UnacceptableJSONError("NaN and Infinity are not JSON numbers")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):  # 1e400
        raise _UnacceptableJSONError("NaN and Infinity are not JSON numbers")
    return number


def _exact_integer(literal: str) -> int | float:
    return _exact_number(int(literal))


def _exact_number(number: int) -> int | float:
    """Keep an integer RFC 8785 accepts as one; beyond 2**53 - 1, the double it unambiguously names.

    RFC 8785 treats every number as an IEEE double, and the library refuses integers beyond
    2**53 - 1 even when a double holds them. A large integer is accepted when it is exactly a
    double (10**16) or is the shortest decimal spelling of one, which is how RFC 8785 writes large
    doubles (6.766102500718389e16 is written 67661025007183890): either way every parser that
    reads it as a double or as an exact integer ends up with the same canonical bytes, so
    ``load(dump(x))`` hashes like ``x``. Any other integer (2**53 + 1) would be silently rounded
    by some parsers and not others, so it is refused.
    """
    if -_MAX_SAFE_INTEGER <= number <= _MAX_SAFE_INTEGER:
        return number
    try:
        as_float = float(number)
    except OverflowError:
        raise _UnacceptableJSONError("a number is outside the range of JSON numbers") from None
    if as_float != number and int(Decimal(repr(as_float))) != number:
        raise _UnacceptableJSONError("an integer is too large to be represented exactly")
    return as_float


# One decoder for every document (json.loads would build one, and its scanner, per call); it keeps
# no state between calls, so threads can share it as they share json.loads's default decoder.
_STRICT_DECODER: Final = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates,
    parse_constant=_reject_constant,
    parse_int=_exact_integer,
    parse_float=_finite_float,
)


def _normalize_json(value: object, depth_left: int) -> JSONValue:
    """Check that ``value`` is JSON that RFC 8785 can canonicalize, and return a private copy."""
    try:
        return _normalize(value, depth_left)
    except _UnacceptableJSONError as error:
        raise InvalidDocumentError(f"certificate JSON is not acceptable: {error}") from None


def _normalize(value: object, depth_left: int) -> JSONValue:
    # Plain strings first: nearly every value is one (a str subclass takes the path below).
    if type(value) is str:
        if not value.isascii():
            _require_unicode(value)
        return value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return _exact_number(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _UnacceptableJSONError("NaN and Infinity are not JSON numbers")
        return float(value)
    if isinstance(value, str):
        _require_unicode(value)
        return str(value)
    if isinstance(value, Mapping):
        if depth_left <= 0:
            raise _too_deep()
        result: dict[str, JSONValue] = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                if not isinstance(key, str):
                    raise _UnacceptableJSONError("object keys must be strings")
                _require_unicode(key)
            # An ASCII string is its own copy: no call needed.
            if type(item) is str and item.isascii():
                result[str(key)] = item
            else:
                result[str(key)] = _normalize(item, depth_left - 1)
        return result
    if isinstance(value, list | tuple):
        if depth_left <= 0:
            raise _too_deep()
        return [
            item if type(item) is str and item.isascii() else _normalize(item, depth_left - 1)
            for item in value
        ]
    raise _UnacceptableJSONError(f"values of type {type(value).__name__} are not JSON")


def _require_unicode(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidDocumentError("text contains unpaired surrogates") from None


def _check_field_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidDocumentError("field names must be non-empty strings")
    if not name.isascii():
        _require_unicode(name)


def _too_deep() -> InvalidDocumentError:
    return InvalidDocumentError(f"certificate JSON is nested deeper than {MAX_JSON_DEPTH} levels")
