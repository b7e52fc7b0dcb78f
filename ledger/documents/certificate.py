"""The certificate format: salted fields, their leaf hashes, the target hash and the wrapped form.

A structured certificate is JSON fields, each with its own random salt. Every field becomes a
leaf hash; the certificate's *target hash* is keccak256 of the sorted leaves. A salt per field
means a leaf cannot be found by guessing the value (an ID card number, a birth date), and a
holder can hide a field by replacing it with its leaf hash, which still recomputes the same
target hash: selective disclosure without the issuer's help.

Wrapped form of a certificate (``dump_certificate`` / ``load_certificate``)::

    {"version": "gov-ledger/cert/v1", "type": "<certificate type>",
     "fields": {"<name>": {"salt": "<32 hex>", "value": <any JSON>}, ...},
     "obfuscated": ["<64 hex leaf hash>", ...],
     "proof": {...}}            # only in a Merkle batch: ledger.documents.batches.BatchProof

Only the fields and obfuscated leaves are covered by the target hash; ``type`` is a routing hint,
and verifiers must take the certificate type from the on-chain anchor. Error messages describe
the problem but never quote field values (nor field names, which in malformed input can be
anything).

Not here: the RFC 8785 writer the leaves and the wrapped form use
(:mod:`ledger.documents.canonical`), the strict JSON parser :func:`load_certificate` reads with
(:mod:`ledger.documents.strict_json`), and telling a certificate from a file when a document is
presented (:mod:`ledger.documents.digests`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, NamedTuple, Protocol

import rfc8785

from ledger.documents.canonical import (
    NotCanonicalFastError,
    canonical_text,
    json_string,
    utf16_key,
)
from ledger.documents.keccak import keccak256 as keccak
from ledger.documents.keccak import keccak256_hasher
from ledger.documents.strict_json import (
    MAX_JSON_DEPTH,
    JSONValue,
    normalize_json,
    parse_json,
    require_unicode,
)
from ledger.errors import InvalidDocumentError

__all__ = [
    "CERTIFICATE_VERSION",
    "CERTIFICATE_VERSION_PREFIX",
    "DEFAULT_MAX_CERTIFICATE_BYTES",
    "SALT_BYTES",
    "CheckedCertificate",
    "SaltSource",
    "SaltedCertificate",
    "SaltedField",
    "certificate_to_json",
    "check_certificate",
    "dump_certificate",
    "leaf_hash",
    "load_certificate",
    "obfuscate",
    "salt_fields",
    "target_hash",
]

#: Version tag of the wrapped form; also how :func:`~ledger.documents.digests.document_hash_of`
#: recognises a certificate.
CERTIFICATE_VERSION: Final = "gov-ledger/cert/v1"
#: What every version tag starts with: content that names one is read as a certificate, never
#: hashed as a file (:mod:`ledger.documents.digests`).
CERTIFICATE_VERSION_PREFIX: Final = "gov-ledger/cert/"

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
        object.__setattr__(self, "value", normalize_json(self.value, _MAX_VALUE_DEPTH))

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
    #: batch root and the anchor reference (``ledger.documents.batches.BatchProof``'s JSON).
    #: Not covered by the target hash, like a signature block: it says where to look, and
    #: every claim in it is checked against the chain.
    proof: JSONValue = field(default=None, compare=False)
    #: The leaf hashes, sorted: computed once, at construction, from the private copies above.
    _leaves: tuple[bytes, ...] = field(init=False, default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not 0 < len(self.type) <= _MAX_TYPE_LENGTH:
            raise InvalidDocumentError(
                f"certificate type must be a string of 1 to {_MAX_TYPE_LENGTH} characters"
            )
        require_unicode(self.type)
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
# Leaf and target hashes
# ----------------------------------------------------------------------------------------------


def leaf_hash(name: str, salted: SaltedField) -> bytes:
    """Return keccak256 of the RFC 8785 form of ``{"salt", "key", "value"}`` for one field.

    RFC 8785 makes the bytes independent of key order, whitespace and number spelling, so any
    verifier in any language gets the same leaf; the key is inside so that a value and its salt
    cannot be replayed under another field name.
    """
    try:
        # The RFC 8785 form written directly: its three keys in their sorted order.
        text = (
            f'{{"key":{canonical_text(name)},"salt":{canonical_text(salted.salt)},'
            f'"value":{canonical_text(salted.value)}}}'
        )
        return keccak(text.encode("utf-8"))
    except (NotCanonicalFastError, UnicodeError, rfc8785.CanonicalizationError):
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
    except (NotCanonicalFastError, UnicodeError, rfc8785.CanonicalizationError):
        return rfc8785.dumps(certificate_to_json(certificate))


def _certificate_text(certificate: SaltedCertificate) -> str:
    """The RFC 8785 form of :func:`certificate_to_json` written directly (keys in sorted order)."""
    fields = ",".join(
        f'{canonical_text(name)}:{{"salt":{canonical_text(salted.salt)},'
        f'"value":{canonical_text(salted.value)}}}'
        for name, salted in sorted(certificate.fields.items(), key=utf16_key)
    )
    hidden = ",".join(f'"{leaf.hex()}"' for leaf in certificate.obfuscated)
    proof = "" if certificate.proof is None else f',"proof":{canonical_text(certificate.proof)}'
    return (
        f'{{"fields":{{{fields}}},"obfuscated":[{hidden}]{proof},'
        f'"type":{canonical_text(certificate.type)},"version":"{CERTIFICATE_VERSION}"}}'
    )


def load_certificate(
    data: bytes | str, *, max_bytes: int = DEFAULT_MAX_CERTIFICATE_BYTES
) -> SaltedCertificate:
    """Parse a wrapped certificate from untrusted input, accepting any key order or whitespace.

    Strict on purpose: duplicate keys, unknown keys, NaN, numbers JSON cannot represent exactly
    and over-deep nesting are refused, because each is a way for two parsers to read different
    values from the same bytes.
    """
    document = parse_json(data, max_bytes)
    if not isinstance(document, dict):
        raise InvalidDocumentError("a certificate must be a JSON object")
    return _certificate_from_document(document)


_TOP_LEVEL_KEYS: Final = frozenset({"version", "type", "fields", "obfuscated", "proof"})
_FIELD_ENTRY_KEYS: Final = frozenset({"salt", "value"})


class CheckedCertificate(NamedTuple):
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
    checked = check_certificate(document, keep_fields=True)
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


def check_certificate(document: dict[str, JSONValue], *, keep_fields: bool) -> CheckedCertificate:
    """Check a wrapped certificate that :func:`parse_json` returned, and compute its leaves.

    This makes, in the same order and with the same messages, the checks of the wrapper and
    those :class:`SaltedField` and :class:`SaltedCertificate` make at construction, less what
    ``parse_json`` guarantees of whatever it returns: no unpaired surrogate in any key or
    string, exact integers and finite numbers only, nesting within :data:`MAX_JSON_DEPTH` (so
    every field value within the ``_MAX_VALUE_DEPTH`` a SaltedField allows, three levels down),
    and fresh objects that nothing else holds, so values are used as they are, not copied. That
    is what makes one reading cost one pass: verifiers read certificates by the thousand.
    :mod:`ledger.documents.digests` calls it with ``keep_fields=False`` to hash a presented
    certificate without building it.
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
            preimage = f'{{"key":{json_string(name)},"salt":"{salt}","value":{json_string(value)}}}'
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
    return CheckedCertificate(
        certificate_type, fields, tuple(hidden), leaves, document.get("proof")
    )


def _checked_field(salt: str, value: JSONValue) -> SaltedField:
    """A SaltedField of a salt that matched and a value from ``parse_json``, without the checks
    and the copy its construction would repeat (see :func:`check_certificate`)."""
    salted = object.__new__(SaltedField)
    object.__setattr__(salted, "salt", salt)
    object.__setattr__(salted, "value", value)
    return salted


def _check_field_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidDocumentError("field names must be non-empty strings")
    if not name.isascii():
        require_unicode(name)
