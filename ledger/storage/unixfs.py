"""Content addressing exactly as Kubo does it: ``ipfs add --cid-version=1 --raw-leaves``.

Local CID libraries hash one block; a file over one chunk is a tree, and its root CID depends on
every byte of every node in that tree. This module rebuilds the tree the way Kubo (boxo) builds
it, so a document stored here has the same CID as the same bytes added to any IPFS node, and a
CAR export imports unchanged. The facts it reproduces, each pinned by a known-answer test in
``tests/unit/test_unixfs.py`` (sources there):

- chunker ``size-262144``: fixed chunks of 262,144 bytes, the last one shorter; an empty file has
  no chunk (boxo ``chunker.NewSizeSplitter``, ``io.ReadFull`` semantics);
- leaves: with raw leaves each chunk is a ``raw`` block (codec 0x55) under a CIDv1; without, a
  dag-pb node whose UnixFS ``Data`` is ``{Type: File, Data: chunk, filesize: len}``;
- a file of at most one chunk (the empty file too) is its own root: no wrapping node;
- larger files: balanced layout (boxo ``importer/balanced``), at most 174 links per node
  (``helpers.DefaultLinksPerBlock`` = 8192 // 47); the first node fills to 174 leaves, then a new
  root adopts it and fills a sibling subtree of the same depth, and so on, so every leaf is at the
  same depth and only the rightmost path has partly filled nodes. A partly filled node is never
  collapsed, even with a single child;
- internal nodes: dag-pb ``PBNode`` with ``Links`` (field 2) written before ``Data`` (field 1)
  (go-codec-dagpb ``Marshal``; boxo ``PBNodeLinksFirst``); each link has ``Hash`` (child CID
  bytes), an explicitly empty ``Name`` (``12 00`` on the wire: boxo's ``marshalImmutable`` always
  sets it) and ``Tsize`` = the child's block length plus its own links' Tsize (the bytes of the
  whole subtree); ``Data`` is UnixFS ``{Type: File (2), filesize, blocksizes}`` with ``filesize``
  always present and ``blocksizes`` unpacked (proto2 ``repeated uint64``), one per child giving
  the file bytes under it.

Throughput matters (the bench target is 0.85x plain sha256): every chunk is hashed straight from a
``memoryview`` slice of the input, with no per-byte Python work and no copy of the data.

Not here: the CIDs themselves (binary and string forms, varints, checking a block against its
CID) are :mod:`ledger.storage.cid`; storing blocks is :mod:`ledger.storage.embedded`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO, Final, TypeAlias

from ledger.storage.cid import (
    CODEC_RAW,
    DAG_PB_V1_PREFIX,
    MULTIHASH_PREFIX,
    RAW_V1_PREFIX,
    InvalidCidError,
    MalformedBlockError,
    cid_to_str,
    decode_varint,
    encode_varint,
    parse_cid,
)

__all__ = [
    "BLOCK_SIZE_LIMIT",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_LINKS",
    "EMPTY_FILE_CID",
    "BlockBytes",
    "BlockSink",
    "Dag",
    "PBLink",
    "PBNode",
    "UnixFSData",
    "UnixFSType",
    "build_dag",
    "child_cids",
    "compute_cid",
    "decode_node",
    "decode_unixfs",
    "encode_node",
    "encode_unixfs",
    "iter_file",
]

# ----------------------------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------------------------

#: Kubo's default chunker, ``size-262144``.
DEFAULT_CHUNK_SIZE: Final = 262_144
#: boxo ``helpers.DefaultLinksPerBlock``: roughLinkBlockSize (8192) // roughLinkSize (47).
DEFAULT_MAX_LINKS: Final = 174
#: boxo ``helpers.BlockSizeLimit``: Kubo refuses to make a leaf larger than this.
BLOCK_SIZE_LIMIT: Final = 1_048_576

#: ``ipfs add --cid-version=1 --raw-leaves`` of zero bytes: the raw block of sha256("").
EMPTY_FILE_CID: Final = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"

#: Bytes of one block as the builder hands them out: ``memoryview`` slices of the caller's input
#: for leaves (no copy), ``bytes`` for everything else.
BlockBytes: TypeAlias = bytes | memoryview
#: Called once per distinct block, in the order the blocks are made (leaves before parents).
BlockSink: TypeAlias = Callable[[bytes, BlockBytes], None]


class UnixFSType:
    """UnixFS ``Data.DataType`` values (boxo ``unixfs.proto``)."""

    RAW: Final = 0
    DIRECTORY: Final = 1
    FILE: Final = 2
    METADATA: Final = 3
    SYMLINK: Final = 4
    HAMT_SHARD: Final = 5


# ----------------------------------------------------------------------------------------------
# dag-pb and UnixFS encoding
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PBLink:
    """One dag-pb link."""

    #: Binary CID of the child.
    cid: bytes
    #: Link name; Kubo writes an empty string for file chunks, ``None`` means the field is absent.
    name: str | None = ""
    #: Bytes of the child's whole subtree (its block plus its descendants); None when absent.
    tsize: int | None = None


@dataclass(frozen=True)
class PBNode:
    """A decoded dag-pb node."""

    #: Links in wire order.
    links: tuple[PBLink, ...]
    #: The ``Data`` field (a UnixFS message for UnixFS nodes); None when absent.
    data: bytes | None

    def unixfs(self) -> UnixFSData:
        """The UnixFS message in ``data``; MalformedBlockError when there is none."""
        if self.data is None:
            raise MalformedBlockError("dag-pb node has no UnixFS data")
        return decode_unixfs(self.data)


@dataclass(frozen=True)
class UnixFSData:
    """A decoded UnixFS ``Data`` message (the fields files use)."""

    #: A :class:`UnixFSType` value.
    type: int
    #: File bytes carried in the node itself (leaves without raw leaves); None when absent.
    data: bytes | None
    #: Total file bytes under the node; None when absent.
    filesize: int | None
    #: File bytes under each child, in link order.
    blocksizes: tuple[int, ...]


def _length_delimited(tag: bytes, payload: bytes | memoryview) -> bytes:
    return tag + encode_varint(len(payload)) + payload


def encode_node(links: Iterable[PBLink], data: bytes | None) -> bytes:
    """dag-pb bytes of a node, field order as go-codec-dagpb writes it: every link, then Data.

    Links are written in the order given: Kubo sorts them by name (stably), and file chunks all have
    the empty name, so their order is the file order.
    """
    parts: list[bytes] = []
    for link in links:
        inner = _length_delimited(b"\x0a", link.cid)
        if link.name is not None:
            inner += _length_delimited(b"\x12", link.name.encode("utf-8"))
        if link.tsize is not None:
            inner += b"\x18" + encode_varint(link.tsize)
        parts.append(_length_delimited(b"\x12", inner))
    if data is not None:
        parts.append(_length_delimited(b"\x0a", data))
    return b"".join(parts)


def encode_unixfs(
    type_: int,
    *,
    data: bytes | memoryview | None = None,
    filesize: int | None = None,
    blocksizes: Iterable[int] = (),
) -> bytes:
    """UnixFS ``Data`` as gogo-protobuf marshals it: fields in number order, blocksizes unpacked."""
    out = bytearray(b"\x08")
    out += encode_varint(type_)
    if data is not None:
        out += _length_delimited(b"\x12", data)
    if filesize is not None:
        out += b"\x18" + encode_varint(filesize)
    for size in blocksizes:
        out += b"\x20" + encode_varint(size)
    return bytes(out)


# ----------------------------------------------------------------------------------------------
# Decoding (to walk a DAG back into a file, and to check what a CAR brings in)
# ----------------------------------------------------------------------------------------------

_VARINT: Final = 0
_FIXED64: Final = 1
_LENGTH_DELIMITED: Final = 2
_FIXED32: Final = 5


def _fields(buffer: bytes | memoryview) -> Iterator[tuple[int, int, int | memoryview]]:
    """``(field number, wire type, value)`` of a protobuf message; rejects truncation."""
    view = memoryview(buffer)
    offset = 0
    end = len(view)
    while offset < end:
        key, offset = decode_varint(view, offset)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise MalformedBlockError("protobuf field number 0")
        if wire_type == _VARINT:
            value, offset = decode_varint(view, offset)
            yield number, wire_type, value
        elif wire_type == _LENGTH_DELIMITED:
            length, offset = decode_varint(view, offset)
            if length > end - offset:
                raise MalformedBlockError("truncated protobuf field")
            yield number, wire_type, view[offset : offset + length]
            offset += length
        elif wire_type in (_FIXED64, _FIXED32):
            width = 8 if wire_type == _FIXED64 else 4
            if width > end - offset:
                raise MalformedBlockError("truncated protobuf field")
            yield number, wire_type, int.from_bytes(view[offset : offset + width], "little")
            offset += width
        else:
            raise MalformedBlockError(f"unsupported protobuf wire type {wire_type}")


def decode_node(block: bytes | memoryview) -> PBNode:
    """Decode a dag-pb block strictly: only ``Links`` (2) and ``Data`` (1), each link with a Hash.

    Either field order is accepted (the dag-pb spec asks decoders to), unknown fields are not.
    """
    links: list[PBLink] = []
    data: bytes | None = None
    for number, wire_type, value in _fields(block):
        if number == 2 and wire_type == _LENGTH_DELIMITED and isinstance(value, memoryview):
            links.append(_decode_link(value))
        elif number == 1 and wire_type == _LENGTH_DELIMITED and isinstance(value, memoryview):
            if data is not None:
                raise MalformedBlockError("dag-pb node has two Data fields")
            data = bytes(value)
        else:
            raise MalformedBlockError(f"unexpected dag-pb field {number}")
    return PBNode(tuple(links), data)


def _decode_link(buffer: memoryview) -> PBLink:
    cid: bytes | None = None
    name: str | None = None
    tsize: int | None = None
    for number, wire_type, value in _fields(buffer):
        if number == 1 and wire_type == _LENGTH_DELIMITED and isinstance(value, memoryview):
            if cid is not None:
                raise MalformedBlockError("dag-pb link has two Hash fields")
            cid = bytes(value)
        elif number == 2 and wire_type == _LENGTH_DELIMITED and isinstance(value, memoryview):
            try:
                name = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedBlockError("dag-pb link name is not UTF-8") from None
        elif number == 3 and wire_type == _VARINT and isinstance(value, int):
            tsize = value
        else:
            raise MalformedBlockError(f"unexpected dag-pb link field {number}")
    if cid is None:
        raise MalformedBlockError("dag-pb link without Hash")
    try:
        parse_cid(cid)
    except InvalidCidError as error:
        raise MalformedBlockError(f"dag-pb link to an unsupported CID: {error}") from None
    return PBLink(cid, name, tsize)


def decode_unixfs(data: bytes | memoryview) -> UnixFSData:
    """Decode a UnixFS ``Data`` message; mode, mtime and HAMT fields are skipped, not rejected."""
    type_: int | None = None
    content: bytes | None = None
    filesize: int | None = None
    blocksizes: list[int] = []
    for number, wire_type, value in _fields(data):
        if number == 1 and wire_type == _VARINT and isinstance(value, int):
            type_ = value
        elif number == 2 and wire_type == _LENGTH_DELIMITED and isinstance(value, memoryview):
            content = bytes(value)
        elif number == 3 and wire_type == _VARINT and isinstance(value, int):
            filesize = value
        elif number == 4 and wire_type == _VARINT and isinstance(value, int):
            blocksizes.append(value)
        elif number == 4 and wire_type == _LENGTH_DELIMITED and isinstance(value, memoryview):
            # A packed encoding is not what Go writes, but it means the same; accept it.
            offset = 0
            while offset < len(value):
                size, offset = decode_varint(value, offset)
                blocksizes.append(size)
        elif number in (5, 6, 7, 8):
            continue
        else:
            raise MalformedBlockError(f"unexpected UnixFS field {number}")
    if type_ is None:
        raise MalformedBlockError("UnixFS data without Type")
    return UnixFSData(type_, content, filesize, tuple(blocksizes))


def child_cids(cid: bytes, block: bytes | memoryview) -> tuple[bytes, ...]:
    """The CIDs ``block`` links to: none for a raw block, the link targets for dag-pb."""
    if parse_cid(cid).codec == CODEC_RAW:
        return ()
    return tuple(link.cid for link in decode_node(block).links)


def iter_file(root: bytes, load: Callable[[bytes], BlockBytes]) -> Iterator[BlockBytes]:
    """The file bytes under ``root``, in order, as the DAG's blocks provide them.

    ``load(cid)`` returns a block's bytes (already verified against its CID). Every node's
    ``blocksizes`` and ``filesize`` are checked against what its children really hold, so a
    truncated or inconsistent DAG raises MalformedBlockError instead of returning wrong bytes.
    The walk uses an explicit stack: a hostile CAR cannot exhaust the recursion limit.
    """
    pending: list[tuple[bytes, int | None]] = [(root, None)]
    while pending:
        cid, expected = pending.pop()
        block = load(cid)
        if parse_cid(cid).codec == CODEC_RAW:
            if expected is not None and len(block) != expected:
                raise MalformedBlockError("raw leaf size differs from its parent's blocksizes")
            yield block
            continue
        node = decode_node(block)
        unixfs = node.unixfs()
        if unixfs.type not in (UnixFSType.FILE, UnixFSType.RAW):
            raise MalformedBlockError("not a UnixFS file")
        if len(unixfs.blocksizes) != len(node.links):
            raise MalformedBlockError("UnixFS blocksizes do not match the links")
        own = unixfs.data or b""
        total = len(own) + sum(unixfs.blocksizes)
        if unixfs.filesize is not None and unixfs.filesize != total:
            raise MalformedBlockError("UnixFS filesize differs from its contents")
        if expected is not None and total != expected:
            raise MalformedBlockError("subtree size differs from its parent's blocksizes")
        if own:
            yield own
        for link, size in zip(reversed(node.links), reversed(unixfs.blocksizes), strict=True):
            pending.append((link.cid, size))


# ----------------------------------------------------------------------------------------------
# Building
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dag:
    """The result of importing one file."""

    #: Binary CID of the root.
    root: bytes
    #: File bytes.
    size: int
    #: Distinct blocks in the DAG (repeated chunks, e.g. runs of zeros, are one block).
    block_count: int
    #: CID -> block bytes, when the builder was asked to keep them (else empty). Leaves are
    #: ``memoryview`` slices of in-memory input: do not mutate a ``bytearray`` you passed in.
    blocks: Mapping[bytes, BlockBytes]

    @property
    def root_str(self) -> str:
        """The root CID as Kubo prints it."""
        return cid_to_str(self.root)


#: One child in an open node: (CID, Tsize, file bytes under it).
_Entry: TypeAlias = tuple[bytes, int, int]


class _BalancedBuilder:
    """boxo's balanced layout, computed bottom-up while chunks stream in.

    ``levels[k]`` holds the finished children of the open node at depth k + 1. A level is closed
    into a parent only when it is full *and* another entry arrives, which is exactly when boxo's
    top-down ``Layout`` / ``fillNodeRec`` would grow a new root or start a sibling subtree; so the
    two produce the same tree without holding more than one path of open nodes.
    """

    def __init__(
        self,
        *,
        max_links: int,
        raw_leaves: bool,
        cid_version: int,
        on_block: BlockSink | None,
        keep_blocks: bool,
    ) -> None:
        self._max_links = max_links
        self._raw_leaves = raw_leaves
        self._cid_version = cid_version
        self._on_block = on_block
        self._blocks: dict[bytes, BlockBytes] = {}
        self._keep_blocks = keep_blocks
        self._seen: set[bytes] = set()
        self._levels: list[list[_Entry]] = [[]]
        self._leaves = 0
        self._size = 0

    def add_chunk(self, chunk: BlockBytes) -> None:
        self._leaves += 1
        self._size += len(chunk)
        self._push(0, self._leaf(chunk))

    def finish(self) -> Dag:
        if self._leaves == 0:
            root = self._leaf(b"")[0]
        elif self._leaves == 1:
            root = self._levels[0][0][0]
        else:
            level = 0
            while True:
                node = self._parent(self._levels[level])
                if level == len(self._levels) - 1:
                    root = node[0]
                    break
                self._push(level + 1, node)
                level += 1
        return Dag(root, self._size, len(self._seen), self._blocks)

    def _push(self, level: int, entry: _Entry) -> None:
        if level == len(self._levels):
            self._levels.append([])
        if len(self._levels[level]) == self._max_links:
            full = self._levels[level]
            self._levels[level] = []
            self._push(level + 1, self._parent(full))
        self._levels[level].append(entry)

    def _leaf(self, chunk: BlockBytes) -> _Entry:
        if self._raw_leaves:
            cid = RAW_V1_PREFIX + hashlib.sha256(chunk).digest()
            self._emit(cid, chunk)
            return cid, len(chunk), len(chunk)
        # Without raw leaves boxo wraps the chunk as UnixFS File; the empty file has no Data field.
        unixfs = encode_unixfs(
            UnixFSType.FILE, data=chunk if len(chunk) else None, filesize=len(chunk)
        )
        block = _length_delimited(b"\x0a", unixfs)
        cid = self._dag_pb_cid(block)
        self._emit(cid, block)
        return cid, len(block), len(chunk)

    def _parent(self, children: list[_Entry]) -> _Entry:
        parts: list[bytes] = []
        blocksizes = bytearray()
        filesize = 0
        subtree = 0
        for cid, tsize, size in children:
            link = b"\x0a" + encode_varint(len(cid)) + cid + b"\x12\x00\x18" + encode_varint(tsize)
            parts.append(b"\x12" + encode_varint(len(link)) + link)
            blocksizes += b"\x20" + encode_varint(size)
            filesize += size
            subtree += tsize
        unixfs = b"\x08\x02\x18" + encode_varint(filesize) + blocksizes
        parts.append(_length_delimited(b"\x0a", unixfs))
        block = b"".join(parts)
        cid = self._dag_pb_cid(block)
        self._emit(cid, block)
        return cid, len(block) + subtree, filesize

    def _dag_pb_cid(self, block: bytes) -> bytes:
        digest = hashlib.sha256(block).digest()
        if self._cid_version == 0:
            return MULTIHASH_PREFIX + digest
        return DAG_PB_V1_PREFIX + digest

    def _emit(self, cid: bytes, block: BlockBytes) -> None:
        if cid in self._seen:
            return
        self._seen.add(cid)
        if self._keep_blocks:
            self._blocks[cid] = block
        if self._on_block is not None:
            self._on_block(cid, block)


def _memory_chunks(data: memoryview, chunk_size: int) -> Iterator[memoryview]:
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]


def _stream_chunks(stream: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    """Full chunks until the end, like Go's ``io.ReadFull``: chunk boundaries never depend on how
    many bytes one ``read`` happens to return (pipes and sockets return fewer)."""
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        if len(chunk) < chunk_size:
            parts = [chunk]
            missing = chunk_size - len(chunk)
            while missing:
                more = stream.read(missing)
                if not more:
                    break
                parts.append(more)
                missing -= len(more)
            chunk = b"".join(parts)
            if missing:
                yield chunk
                return
        yield chunk


def build_dag(
    source: bytes | bytearray | memoryview | BinaryIO,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    max_links: int = DEFAULT_MAX_LINKS,
    raw_leaves: bool = True,
    cid_version: int = 1,
    on_block: BlockSink | None = None,
    keep_blocks: bool = True,
) -> Dag:
    """Import ``source`` as Kubo's ``ipfs add`` would and return the DAG.

    The defaults are ``--cid-version=1 --raw-leaves`` with Kubo's default chunker and link limit.
    The other parameters mirror ``ipfs add --chunker=size-N --max-file-links=N --raw-leaves=false
    --cid-version=0`` so the same builder can be checked against Kubo's published test vectors.

    Streaming: ``source`` may be a binary file object, read one chunk at a time. ``on_block`` is
    called with each distinct block as soon as it exists (a store writes it to disk there); pass
    ``keep_blocks=False`` to keep none in memory, so a large file is never held twice. In-memory
    input is sliced with ``memoryview`` and never copied.
    """
    if not 1 <= chunk_size <= BLOCK_SIZE_LIMIT:
        raise ValueError(f"chunk size must be between 1 and {BLOCK_SIZE_LIMIT} bytes")
    if max_links < 2:
        raise ValueError("a node needs room for at least two links")
    if cid_version not in (0, 1):
        raise ValueError("CID version must be 0 or 1")
    if cid_version == 0 and raw_leaves:
        raise ValueError("raw leaves need CIDv1 (Kubo's --raw-leaves implies --cid-version=1)")
    builder = _BalancedBuilder(
        max_links=max_links,
        raw_leaves=raw_leaves,
        cid_version=cid_version,
        on_block=on_block,
        keep_blocks=keep_blocks,
    )
    chunks: Iterator[BlockBytes]
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        chunks = _memory_chunks(view, chunk_size)
    else:
        chunks = _stream_chunks(source, chunk_size)
    for chunk in chunks:
        builder.add_chunk(chunk)
    return builder.finish()


def compute_cid(
    source: bytes | bytearray | memoryview | BinaryIO,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    max_links: int = DEFAULT_MAX_LINKS,
    raw_leaves: bool = True,
    cid_version: int = 1,
) -> str:
    """The CID string ``ipfs add`` prints for ``source`` (same options as :func:`build_dag`),
    keeping no blocks: the call a parity test against a real node needs."""
    return build_dag(
        source,
        chunk_size,
        max_links=max_links,
        raw_leaves=raw_leaves,
        cid_version=cid_version,
        keep_blocks=False,
    ).root_str
