"""Content identifiers (CIDs) as Kubo writes and reads them, and the check that a block is what its
CID names.

A CID is how the document store addresses every block, whatever the block holds; this module knows
nothing about what is inside one (the dag-pb / UnixFS file DAG, and how Kubo chunks and links a
file, are :mod:`ledger.storage.unixfs`). The facts it reproduces, each pinned by a known-answer
test in ``tests/unit/test_cid.py``:

- CIDv1 = ``varint(1) varint(codec) 0x12 0x20 sha256``, codec ``raw`` (0x55) or ``dag-pb``
  (0x70); its string is multibase base32 lower (``b`` prefix, no padding). CIDv0 (only for dag-pb
  without raw leaves) is the bare multihash in base58btc (``Qm...``);
- only sha2-256 is accepted, and only the canonical string spelling, so a CID string maps to
  exactly one file name in the block store;
- varints are unsigned LEB128, as protobuf and multiformats use (the dag-pb codec shares them),
  at most 64 bits.

Not here: building, encoding or walking a DAG (:mod:`ledger.storage.unixfs`), storing blocks
(:mod:`ledger.storage.embedded`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Final

from ledger.storage import StorageError

__all__ = [
    "CODEC_DAG_PB",
    "CODEC_RAW",
    "DAG_PB_V1_PREFIX",
    "MULTIHASH_PREFIX",
    "RAW_V1_PREFIX",
    "CidParts",
    "CorruptBlockError",
    "InvalidCidError",
    "MalformedBlockError",
    "block_matches",
    "cid_from_str",
    "cid_to_str",
    "decode_varint",
    "encode_varint",
    "make_cid",
    "parse_cid",
    "verify_block",
]

# ----------------------------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------------------------

#: Multicodec of raw leaf blocks.
CODEC_RAW: Final = 0x55
#: Multicodec of dag-pb (protobuf) nodes.
CODEC_DAG_PB: Final = 0x70
#: Multihash code of sha2-256, the only hash Kubo uses by default (and the only one stored here).
_SHA2_256: Final = 0x12
_SHA2_256_LENGTH: Final = 32
#: A CIDv0, and the tail of every CIDv1 prefix: the sha2-256 multihash header (code, length).
MULTIHASH_PREFIX: Final = bytes((_SHA2_256, _SHA2_256_LENGTH))
#: ``RAW_V1_PREFIX + sha256(block)`` is the CIDv1 of a raw block, without a call per block (the
#: DAG builder makes one per 256 KiB chunk).
RAW_V1_PREFIX: Final = bytes((1, CODEC_RAW)) + MULTIHASH_PREFIX
#: ``DAG_PB_V1_PREFIX + sha256(block)`` is the CIDv1 of a dag-pb block.
DAG_PB_V1_PREFIX: Final = bytes((1, CODEC_DAG_PB)) + MULTIHASH_PREFIX

_BASE58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX: Final = {char: index for index, char in enumerate(_BASE58_ALPHABET)}

# ----------------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------------


class InvalidCidError(StorageError, ValueError):
    """A CID string or binary CID is malformed or uses a codec or hash this store does not keep."""

    code = "invalid_cid"


class MalformedBlockError(StorageError):
    """A block decodes to no valid dag-pb / UnixFS file node, or the DAG is inconsistent."""

    code = "malformed_block"


class CorruptBlockError(StorageError):
    """A block's bytes do not hash to its CID: the stored copy is damaged or was tampered with."""

    code = "corrupt_block"


# ----------------------------------------------------------------------------------------------
# Varints (unsigned LEB128, as protobuf and multiformats use)
# ----------------------------------------------------------------------------------------------

_SMALL_VARINTS: Final = tuple(bytes((value,)) for value in range(0x80))


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128; the one-byte cases come from a table because nodes are full of them."""
    if value < 0:
        raise ValueError("varint must not be negative")
    if value < 0x80:
        return _SMALL_VARINTS[value]
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(buffer: bytes | memoryview, offset: int = 0) -> tuple[int, int]:
    """``(value, next offset)``; at most 64 bits, so hostile input cannot build huge integers."""
    result = 0
    shift = 0
    while True:
        if offset >= len(buffer):
            raise MalformedBlockError("truncated varint")
        byte = buffer[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, offset
        shift += 7
        if shift >= 64:
            raise MalformedBlockError("varint longer than 64 bits")


# ----------------------------------------------------------------------------------------------
# CIDs
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CidParts:
    """The fields of a binary CID."""

    #: 0 (bare multihash, dag-pb implied) or 1.
    version: int
    #: Multicodec of the block: :data:`CODEC_RAW` or :data:`CODEC_DAG_PB`.
    codec: int
    #: The 32-byte sha2-256 digest of the block.
    digest: bytes


def make_cid(codec: int, digest: bytes, *, version: int = 1) -> bytes:
    """Binary CID of a block with this sha2-256 ``digest``."""
    if len(digest) != _SHA2_256_LENGTH:
        raise ValueError("a sha2-256 digest is 32 bytes")
    if version == 0:
        if codec != CODEC_DAG_PB:
            raise ValueError("CIDv0 can only name dag-pb blocks")
        return MULTIHASH_PREFIX + digest
    if version != 1:
        raise ValueError("CID version must be 0 or 1")
    return b"\x01" + encode_varint(codec) + MULTIHASH_PREFIX + digest


def parse_cid(cid: bytes) -> CidParts:
    """Split and validate a binary CID; only raw / dag-pb blocks under sha2-256 are accepted."""
    if len(cid) == 2 + _SHA2_256_LENGTH and cid.startswith(MULTIHASH_PREFIX):
        return CidParts(0, CODEC_DAG_PB, bytes(cid[2:]))
    try:
        version, offset = decode_varint(cid)
        codec, offset = decode_varint(cid, offset)
        hash_code, offset = decode_varint(cid, offset)
        length, offset = decode_varint(cid, offset)
    except MalformedBlockError as error:
        raise InvalidCidError(f"malformed CID: {error}") from None
    if version != 1:
        raise InvalidCidError(f"unsupported CID version {version}")
    if codec not in (CODEC_RAW, CODEC_DAG_PB):
        raise InvalidCidError(f"unsupported codec 0x{codec:x} (only raw and dag-pb are stored)")
    if hash_code != _SHA2_256 or length != _SHA2_256_LENGTH:
        raise InvalidCidError(f"unsupported multihash 0x{hash_code:x} (only sha2-256)")
    digest = bytes(cid[offset:])
    if len(digest) != length:
        raise InvalidCidError("CID digest has the wrong length")
    return CidParts(version, codec, digest)


def cid_to_str(cid: bytes) -> str:
    """The string Kubo prints: base32 lower with a ``b`` prefix for v1, base58btc for v0."""
    if len(cid) == 2 + _SHA2_256_LENGTH and cid.startswith(MULTIHASH_PREFIX):
        return _base58_encode(cid)
    return "b" + base64.b32encode(cid).decode("ascii").rstrip("=").lower()


def cid_from_str(text: str) -> bytes:
    """Binary CID of a ``b...`` (CIDv1 base32) or ``Qm...`` (CIDv0) string.

    Only the canonical spelling is accepted (it must round-trip through :func:`cid_to_str`), so a
    CID string maps to exactly one file name in the block store.
    """
    if not isinstance(text, str) or not text:
        raise InvalidCidError("empty CID")
    if text.startswith("Qm") and len(text) == 46:
        cid = _base58_decode(text)
    elif text.startswith("b"):
        body = text[1:].upper()
        try:
            cid = base64.b32decode(body + "=" * (-len(body) % 8))
        except (binascii.Error, ValueError):
            raise InvalidCidError("CID is not valid base32") from None
    else:
        raise InvalidCidError("expected a CIDv1 in base32 ('b...') or a CIDv0 ('Qm...')")
    parse_cid(cid)
    if cid_to_str(cid) != text:
        raise InvalidCidError("CID is not in canonical form")
    return cid


def _base58_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_BASE58_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * leading_zeros + "".join(reversed(digits))


def _base58_decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _BASE58_INDEX.get(char)
        if index is None:
            raise InvalidCidError("CID is not valid base58")
        number = number * 58 + index
    leading_ones = len(text) - len(text.lstrip("1"))
    return b"\x00" * leading_ones + number.to_bytes((number.bit_length() + 7) // 8, "big")


def block_matches(cid: bytes, block: bytes | memoryview) -> bool:
    """Whether ``block`` hashes to ``cid`` (the CID must be valid)."""
    return hashlib.sha256(block).digest() == parse_cid(cid).digest


def verify_block(cid: bytes, block: bytes | memoryview) -> None:
    """Raise :class:`CorruptBlockError` unless ``block`` is the content ``cid`` names."""
    if not block_matches(cid, block):
        raise CorruptBlockError(f"block {cid_to_str(cid)} does not match its hash")
