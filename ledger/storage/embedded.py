"""The embedded document store: IPFS blocks in files under the data directory (ADR 0008).

Layout under ``directory``::

    blocks/<xy>/<cid>.data   one file per block, named by its canonical CID string; <xy> are the
                             next-to-last two characters of the CID (random hash bits, so the
                             shards fill evenly, as Kubo's flatfs ``next-to-last/2`` does)
    pins/<cid>               an empty file per pinned root (recursive pin)
    lock                     flock'ed: shared by writers, exclusive by garbage collection

Why files and not SQLite: a block is written once and never changed, the content hash already
names it, and a file per block makes the crash story simple. Each block is written to a
temporary file, fsynced and renamed into place, so a block file is either absent or complete;
the shard directories are fsynced before the pin is recorded, so a pin never survives a crash
that lost one of its blocks. A crash mid-``put`` leaves at worst complete but unpinned blocks,
which :meth:`EmbeddedStore.collect_garbage` removes.

Every block is re-hashed when it is read: a flipped bit on disk raises
:class:`~ledger.storage.cid.CorruptBlockError` instead of returning wrong bytes.

CAR (v1) export and import let the same content move to and from any IPFS node unchanged
(``ipfs dag import`` / ``ipfs dag export``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Final, TypeVar

from ledger.files import TEMPORARY_SUFFIX, atomic_file, write_atomically
from ledger.storage import DocumentNotFoundError, DocumentStat, StorageError
from ledger.storage.cid import (
    CODEC_RAW,
    CorruptBlockError,
    InvalidCidError,
    MalformedBlockError,
    cid_from_str,
    cid_to_str,
    decode_varint,
    encode_varint,
    parse_cid,
    verify_block,
)
from ledger.storage.unixfs import BlockBytes, build_dag, child_cids, decode_node, iter_file

__all__ = ["CarFormatError", "EmbeddedStore", "MissingBlockError"]

_BLOCK_SUFFIX: Final = ".data"
_TEMP_SUFFIX: Final = TEMPORARY_SUFFIX
#: A CAR section larger than this is not a block any IPFS implementation would make (Kubo's
#: limit is 1 MiB for imported chunks, 2 MiB for bitswap); refusing it bounds memory on import.
_MAX_CAR_SECTION: Final = 4 * 1024 * 1024
#: A CAR header is a handful of CIDs; this bounds what a hostile file can make us allocate.
_MAX_CAR_HEADER: Final = 1024 * 1024
#: What a walk's visit finds at a node (nothing, or the node's verified bytes).
_Found = TypeVar("_Found")


class MissingBlockError(StorageError):
    """The root of a document is present but a block under it is not (an incomplete DAG)."""

    code = "missing_block"


class CarFormatError(StorageError, ValueError):
    """The file is not a CARv1 this store can import."""

    code = "car_format"


class EmbeddedStore:
    """A :class:`~ledger.storage.DocumentStore` on the local disk, with Kubo-identical CIDs."""

    def __init__(self, directory: Path) -> None:
        self._directory = Path(directory)
        self._blocks_dir = self._directory / "blocks"
        self._pins_dir = self._directory / "pins"
        self._blocks_dir.mkdir(parents=True, exist_ok=True)
        self._pins_dir.mkdir(parents=True, exist_ok=True)
        self._lock_path = self._directory / "lock"

    @property
    def directory(self) -> Path:
        """Where the blocks and pins live."""
        return self._directory

    # ------------------------------------------------------------------------------------------
    # DocumentStore
    # ------------------------------------------------------------------------------------------

    def put(self, data: bytes) -> str:
        """Store ``data`` (pinned) and return its CID, identical to Kubo's for the same bytes."""
        return self._import(data)

    def put_stream(self, stream: BinaryIO) -> str:
        """Like :meth:`put`, reading ``stream`` one chunk at a time (for files too big to hold)."""
        return self._import(stream)

    def get(self, cid: str) -> bytes:
        """The bytes stored under ``cid``, every block verified against its hash."""
        return b"".join(self.iter_content(cid))

    def iter_content(self, cid: str) -> Iterator[BlockBytes]:
        """The document's bytes piece by piece, verified as they are read.

        For large documents: a caller writing them to a file should write to a temporary file and
        rename it once the iteration completes, since a corrupt block is found only when reached.
        """
        root = cid_from_str(cid)
        if not self._block_path(root).exists():
            raise DocumentNotFoundError(f"no document {cid}")
        return iter_file(root, self._read_verified)

    def has(self, cid: str) -> bool:
        """Whether every block of the document is present (and its inner nodes intact)."""
        root = cid_from_str(cid)
        try:
            self._complete(root)
        except (DocumentNotFoundError, MissingBlockError, CorruptBlockError, MalformedBlockError):
            return False
        return True

    def pin(self, cid: str) -> None:
        """Keep ``cid`` against garbage collection: DocumentNotFoundError when absent,
        MissingBlockError when part of its DAG is."""
        root = cid_from_str(cid)
        with self._lock(exclusive=False):
            self._complete(root)
            self._write_pin(root)

    def unpin(self, cid: str) -> None:
        """Allow ``cid`` to be collected (idempotent)."""
        root = cid_from_str(cid)
        with contextlib.suppress(FileNotFoundError):
            self._pin_path(root).unlink()
            _fsync_directory(self._pins_dir)

    def stat(self, cid: str) -> DocumentStat:
        """Size, distinct block count and pin state; DocumentNotFoundError when absent."""
        root = cid_from_str(cid)
        blocks = 0
        for _ in self._walk(root):
            blocks += 1
        if parse_cid(root).codec == CODEC_RAW:
            size = self._block_path(root).stat().st_size
        else:
            unixfs = decode_node(self._read_verified(root)).unixfs()
            if unixfs.filesize is None:
                raise MalformedBlockError(f"root of {cid} has no filesize")
            size = unixfs.filesize
        return DocumentStat(cid=cid, size=size, blocks=blocks, pinned=self._pin_path(root).exists())

    # ------------------------------------------------------------------------------------------
    # Beyond the protocol: pins, garbage collection, CAR files
    # ------------------------------------------------------------------------------------------

    def pins(self) -> list[str]:
        """The pinned roots, sorted."""
        return sorted(
            path.name for path in self._pins_dir.iterdir() if not path.name.startswith(".")
        )

    def collect_garbage(self) -> int:
        """Delete every block no pin reaches, and stray temporary files; return how many blocks.

        Takes the store lock exclusively, so it never deletes the blocks of a ``put`` in progress.
        """
        with self._lock(exclusive=True):
            live: set[bytes] = set()
            for name in self.pins():
                with contextlib.suppress(InvalidCidError):
                    self._mark_reachable(cid_from_str(name), live)
            removed = 0
            for shard in self._blocks_dir.iterdir():
                if not shard.is_dir():
                    continue
                for path in shard.iterdir():
                    if path.name.endswith(_TEMP_SUFFIX):
                        path.unlink(missing_ok=True)
                        continue
                    if not path.name.endswith(_BLOCK_SUFFIX):
                        continue
                    try:
                        cid = cid_from_str(path.name[: -len(_BLOCK_SUFFIX)])
                    except InvalidCidError:
                        continue
                    if cid not in live:
                        path.unlink(missing_ok=True)
                        removed += 1
            return removed

    def export_car(self, cids: Iterable[str], out_path: Path) -> int:
        """Write the documents' DAGs as one CARv1 (what ``ipfs dag import`` reads); return the
        number of blocks written.

        Blocks are written once each, depth-first from each root in turn (the order Kubo's
        ``dag export`` uses), every one verified against its hash first. The file appears only
        when complete.
        """
        roots = [cid_from_str(cid) for cid in cids]
        if not roots:
            raise ValueError("a CAR file needs at least one root")
        for root in roots:
            if not self._block_path(root).exists():
                raise DocumentNotFoundError(f"no document {cid_to_str(root)}")
        out_path = Path(out_path)
        written: set[bytes] = set()
        with _atomic_file(out_path) as out:
            header = _car_header(roots)
            out.write(encode_varint(len(header)) + header)
            for root in roots:
                for cid, block in self._walk_blocks(root, written):
                    out.write(encode_varint(len(cid) + len(block)))
                    out.write(cid)
                    out.write(block)
        return len(written)

    def import_car(self, path: Path, *, pin_roots: bool = True) -> list[str]:
        """Store every block of a CARv1 (each verified against its CID) and return its roots.

        Like ``ipfs dag import`` the roots are pinned, which requires each root's DAG to be
        complete in the store afterwards (MissingBlockError, or DocumentNotFoundError for an absent
        root, otherwise; the imported blocks stay, unpinned, until garbage collection).
        Only raw and dag-pb blocks under sha2-256 are accepted: the store holds UnixFS files.
        """
        touched: set[Path] = set()
        with self._lock(exclusive=False), Path(path).open("rb") as car:
            roots = _read_car_header(car)
            while True:
                section = _read_car_section(car)
                if section is None:
                    break
                cid, block = section
                verify_block(cid, block)
                self._write_block(cid, block, touched)
            for directory in touched:
                _fsync_directory(directory)
            if pin_roots:
                for root in roots:
                    self._complete(root)
                for root in roots:
                    self._write_pin(root)
        return [cid_to_str(root) for root in roots]

    # ------------------------------------------------------------------------------------------
    # Internals
    # ------------------------------------------------------------------------------------------

    def _import(self, source: bytes | BinaryIO) -> str:
        touched: set[Path] = set()
        with self._lock(exclusive=False):
            dag = build_dag(
                source,
                on_block=lambda cid, block: self._write_block(cid, block, touched),
                keep_blocks=False,
            )
            # The blocks' directory entries must be durable before the pin that relies on them.
            for directory in touched:
                _fsync_directory(directory)
            self._write_pin(dag.root)
        return dag.root_str

    def _block_path(self, cid: bytes) -> Path:
        name = cid_to_str(cid)
        return self._blocks_dir / name[-3:-1] / (name + _BLOCK_SUFFIX)

    def _pin_path(self, cid: bytes) -> Path:
        return self._pins_dir / cid_to_str(cid)

    def _write_block(self, cid: bytes, block: BlockBytes, touched: set[Path]) -> None:
        """Write one block atomically (temporary file, fsync, rename)."""
        try:
            self._write_block_file(self._block_path(cid), block, touched)
        except OSError as error:
            # Disk full, permissions, I/O error: a storage failure, not a programming error.
            raise StorageError(f"cannot write block {cid_to_str(cid)}: {error.strerror}") from error

    @staticmethod
    def _write_block_file(path: Path, block: BlockBytes, touched: set[Path]) -> None:
        try:
            existing = path.read_bytes()
        except FileNotFoundError:
            pass
        else:
            if existing == block:
                return
            # A damaged copy with the same name: replace it with the good bytes we have.
        path.parent.mkdir(exist_ok=True)
        write_atomically(path, block, mode=0o600)
        touched.add(path.parent)

    def _write_pin(self, cid: bytes) -> None:
        path = self._pin_path(cid)
        if path.exists():
            return
        try:
            with path.open("wb") as handle:
                os.fsync(handle.fileno())
            _fsync_directory(self._pins_dir)
        except OSError as error:
            raise StorageError(f"cannot pin {cid_to_str(cid)}: {error.strerror}") from error

    def _read_block(self, cid: bytes) -> bytes:
        try:
            return self._block_path(cid).read_bytes()
        except FileNotFoundError:
            raise MissingBlockError(f"block {cid_to_str(cid)} is missing") from None
        except OSError as error:
            raise StorageError(f"cannot read block {cid_to_str(cid)}: {error.strerror}") from error

    def _read_verified(self, cid: bytes) -> bytes:
        block = self._read_block(cid)
        verify_block(cid, block)
        return block

    def _walk(self, root: bytes) -> Iterator[bytes]:
        """Every distinct CID of a complete DAG, depth-first. Inner nodes are read and verified
        (their links are needed); raw leaves are only checked for presence, which keeps ``has``
        and ``stat`` from reading the whole document."""
        if not self._block_path(root).exists():
            raise DocumentNotFoundError(f"no document {cid_to_str(root)}")
        for cid, _ in _depth_first(root, self._present, set()):
            yield cid

    def _present(self, cid: bytes) -> tuple[None, Sequence[bytes]]:
        """A node's links, for :meth:`_walk`: a raw leaf has none and is only looked for."""
        if parse_cid(cid).codec != CODEC_RAW:
            return None, child_cids(cid, self._read_verified(cid))
        if not self._block_path(cid).exists():
            raise MissingBlockError(f"block {cid_to_str(cid)} is missing")
        return None, ()

    def _complete(self, root: bytes) -> None:
        """Read the DAG through: DocumentNotFoundError, MissingBlockError or a damaged block's
        error unless all of it is here and its inner nodes are intact."""
        for _ in self._walk(root):
            pass

    def _mark_reachable(self, root: bytes, live: set[bytes]) -> None:
        """Add every CID under ``root`` to ``live``, going on past missing or damaged nodes: a
        pin whose DAG became incomplete keeps all that is left of it."""

        def links(cid: bytes) -> tuple[None, Sequence[bytes]]:
            if parse_cid(cid).codec != CODEC_RAW:
                with contextlib.suppress(StorageError):
                    return None, child_cids(cid, self._read_verified(cid))
            return None, ()

        for _ in _depth_first(root, links, live):
            pass

    def _walk_blocks(self, root: bytes, seen: set[bytes]) -> Iterator[tuple[bytes, bytes]]:
        """Every block of the DAG not in ``seen`` yet, with its verified bytes, depth-first."""
        return _depth_first(root, self._block_and_links, seen)

    def _block_and_links(self, cid: bytes) -> tuple[bytes, Sequence[bytes]]:
        """A node's verified bytes and links, for :meth:`_walk_blocks`."""
        block = self._read_verified(cid)
        return block, child_cids(cid, block)

    @contextlib.contextmanager
    def _lock(self, *, exclusive: bool) -> Iterator[None]:
        with self._lock_path.open("a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _depth_first(
    root: bytes, visit: Callable[[bytes], tuple[_Found, Sequence[bytes]]], seen: set[bytes]
) -> Iterator[tuple[bytes, _Found]]:
    """The one walk of a DAG: each CID under ``root`` not yet in ``seen`` (which it fills) once,
    depth-first in link order (Kubo's order), with what ``visit`` found there. ``visit`` returns
    that and the node's links; the walks differ only in how they read a node (presence only,
    verified bytes, past damage). It is called before the CID is yielded, so what it raises
    stops the walk at that node."""
    pending = [root]
    while pending:
        cid = pending.pop()
        if cid in seen:
            continue
        seen.add(cid)
        found, links = visit(cid)
        pending.extend(reversed(links))
        yield cid, found


# ----------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------


def _fsync_directory(directory: Path) -> None:
    """Make renames and creations in ``directory`` durable (POSIX needs the directory fsynced)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file that appears at ``path`` only once fully written and fsynced, with its directory."""
    with atomic_file(path, mode=0o600) as handle:
        yield handle
    _fsync_directory(path.parent)


# ----------------------------------------------------------------------------------------------
# CARv1 (https://ipld.io/specs/transport/car/carv1/)
# ----------------------------------------------------------------------------------------------
#
# Header: varint(length) + dag-cbor {"roots": [CID, ...], "version": 1}. dag-cbor sorts map keys
# by length then bytes, so "roots" (5) precedes "version" (7); a CID is tag 42 over a byte string
# holding 0x00 (the identity multibase prefix) then the binary CID. Then one section per block:
# varint(len(cid) + len(block)) + cid + block.


def _cbor_head(major: int, value: int) -> bytes:
    """A CBOR item head in the shortest form, as dag-cbor requires."""
    if value < 24:
        return bytes((major << 5 | value,))
    for extra, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * width):
            return bytes((major << 5 | extra,)) + value.to_bytes(width, "big")
    raise ValueError("CBOR value too large")


def _car_header(roots: list[bytes]) -> bytes:
    parts = [_cbor_head(5, 2), _cbor_head(3, 5), b"roots", _cbor_head(4, len(roots))]
    for root in roots:
        parts += [b"\xd8\x2a", _cbor_head(2, len(root) + 1), b"\x00", root]
    parts += [_cbor_head(3, 7), b"version", _cbor_head(0, 1)]
    return b"".join(parts)


class _CborReader:
    """Just enough CBOR to read a CAR header: maps, text, arrays, tag 42, bytes, unsigned ints."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def at_end(self) -> bool:
        return self._offset == len(self._data)

    def head(self) -> tuple[int, int]:
        if self._offset >= len(self._data):
            raise CarFormatError("truncated CAR header")
        initial = self._data[self._offset]
        self._offset += 1
        major, info = initial >> 5, initial & 0x1F
        if info < 24:
            return major, info
        widths = {24: 1, 25: 2, 26: 4, 27: 8}
        width = widths.get(info)
        if width is None or self._offset + width > len(self._data):
            raise CarFormatError("unsupported or truncated CBOR item in CAR header")
        value = int.from_bytes(self._data[self._offset : self._offset + width], "big")
        self._offset += width
        return major, value

    def take(self, length: int) -> bytes:
        if self._offset + length > len(self._data):
            raise CarFormatError("truncated CAR header")
        value = self._data[self._offset : self._offset + length]
        self._offset += length
        return value

    def text(self) -> str:
        major, length = self.head()
        if major != 3:
            raise CarFormatError("CAR header key is not text")
        try:
            return self.take(length).decode("utf-8")
        except UnicodeDecodeError:
            raise CarFormatError("CAR header key is not UTF-8") from None

    def cid(self) -> bytes:
        major, tag = self.head()
        if (major, tag) != (6, 42):
            raise CarFormatError("CAR root is not a CID (tag 42)")
        major, length = self.head()
        raw = self.take(length)
        if major != 2 or not raw.startswith(b"\x00"):
            raise CarFormatError("malformed CID in CAR header")
        cid = raw[1:]
        try:
            parse_cid(cid)
        except InvalidCidError as error:
            raise CarFormatError(f"unsupported root CID: {error}") from None
        return cid


def _read_exact(stream: BinaryIO, length: int) -> bytes:
    data = stream.read(length)
    if len(data) != length:
        raise CarFormatError("truncated CAR file")
    return data


def _read_stream_varint(stream: BinaryIO) -> int | None:
    """A varint from ``stream``; None at a clean end of file (before its first byte)."""
    buffer = bytearray()
    while True:
        byte = stream.read(1)
        if not byte:
            if buffer:
                raise CarFormatError("truncated varint in CAR file")
            return None
        buffer += byte
        if byte[0] < 0x80:
            return decode_varint(bytes(buffer))[0]
        if len(buffer) > 9:
            raise CarFormatError("varint too long in CAR file")


def _read_car_header(stream: BinaryIO) -> list[bytes]:
    length = _read_stream_varint(stream)
    if length is None or length == 0:
        raise CarFormatError("empty CAR file")
    if length > _MAX_CAR_HEADER:
        raise CarFormatError("CAR header too large")
    reader = _CborReader(_read_exact(stream, length))
    major, entries = reader.head()
    if major != 5:
        raise CarFormatError("CAR header is not a map")
    roots: list[bytes] | None = None
    version: int | None = None
    for _ in range(entries):
        key = reader.text()
        if key == "roots":
            major, count = reader.head()
            if major != 4:
                raise CarFormatError("CAR roots is not a list")
            roots = [reader.cid() for _ in range(count)]
        elif key == "version":
            major, version = reader.head()
            if major != 0:
                raise CarFormatError("CAR version is not an integer")
        else:
            raise CarFormatError(f"unexpected CAR header key {key!r}")
    if not reader.at_end():
        raise CarFormatError("trailing bytes in CAR header")
    if version == 2:
        raise CarFormatError("CARv2 is not supported; export CARv1 (ipfs dag export)")
    if version != 1 or roots is None:
        raise CarFormatError("not a CARv1 header")
    if not roots:
        raise CarFormatError("CAR file has no roots")
    return roots


def _read_car_section(stream: BinaryIO) -> tuple[bytes, bytes] | None:
    length = _read_stream_varint(stream)
    if length is None:
        return None
    if length > _MAX_CAR_SECTION:
        raise CarFormatError("CAR section too large")
    section = _read_exact(stream, length)
    try:
        cid_length = _cid_length(section)
        cid = section[:cid_length]
        parse_cid(cid)
    except (InvalidCidError, MalformedBlockError) as error:
        raise CarFormatError(f"unsupported block in CAR file: {error}") from None
    return cid, section[cid_length:]


def _cid_length(section: bytes) -> int:
    """Length of the CID at the start of a CAR section (CIDv0 is a bare 34-byte multihash)."""
    if section[:2] == b"\x12\x20":
        return 34
    _, offset = decode_varint(section)  # version
    _, offset = decode_varint(section, offset)  # codec
    _, offset = decode_varint(section, offset)  # multihash code
    digest_length, offset = decode_varint(section, offset)
    if offset + digest_length > len(section):
        raise MalformedBlockError("truncated CID in CAR section")
    return offset + digest_length
