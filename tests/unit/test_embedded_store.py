"""The embedded block store (ledger.storage.embedded): DocumentStore behaviour, integrity on read,
crash safety of writes, garbage collection, and CARv1 export / import."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import random
from pathlib import Path
from typing import Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ledger.storage.embedded as embedded
from ledger.storage import (
    DocumentNotFoundError,
    DocumentStat,
    DocumentStore,
    StorageError,
)
from ledger.storage.cid import (
    CODEC_DAG_PB,
    CODEC_RAW,
    CorruptBlockError,
    InvalidCidError,
    cid_from_str,
    cid_to_str,
    decode_varint,
    encode_varint,
    make_cid,
    parse_cid,
)
from ledger.storage.embedded import CarFormatError, EmbeddedStore, MissingBlockError
from ledger.storage.unixfs import DEFAULT_CHUNK_SIZE, EMPTY_FILE_CID, compute_cid, decode_node

MIB: Final = 1024 * 1024
#: A CID nothing in these tests stores.
ABSENT: Final = cid_to_str(make_cid(CODEC_RAW, hashlib.sha256(b"absent").digest()))


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed * 1_000_003 + size).randbytes(size)


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "ipfs")


def block_files(store: EmbeddedStore) -> list[Path]:
    return sorted((store.directory / "blocks").rglob("*.data"))


def stray_files(store: EmbeddedStore) -> list[Path]:
    return [path for path in (store.directory / "blocks").rglob("*") if path.suffix == ".tmp"]


def block_file(store: EmbeddedStore, cid: bytes) -> Path:
    name = cid_to_str(cid)
    return store.directory / "blocks" / name[-3:-1] / f"{name}.data"


def dag_children(store: EmbeddedStore, root: str) -> list[bytes]:
    return [
        link.cid for link in decode_node(block_file(store, cid_from_str(root)).read_bytes()).links
    ]


# ----------------------------------------------------------------------------------------------
# DocumentStore behaviour
# ----------------------------------------------------------------------------------------------


def test_is_a_document_store(store: EmbeddedStore) -> None:
    assert isinstance(store, DocumentStore)


@pytest.mark.parametrize(
    "size",
    [0, 1, DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE + 1, MIB + 3],
)
def test_put_get_has_stat(store: EmbeddedStore, size: int) -> None:
    data = payload(size)
    cid = store.put(data)
    assert cid == compute_cid(data)
    assert store.get(cid) == data
    assert store.has(cid)
    chunks = max(1, -(-size // DEFAULT_CHUNK_SIZE))
    assert store.stat(cid) == DocumentStat(
        cid=cid, size=size, blocks=chunks if chunks == 1 else chunks + 1, pinned=True
    )
    assert store.pins() == [cid]


def test_put_stream_equals_put(store: EmbeddedStore) -> None:
    data = payload(3 * DEFAULT_CHUNK_SIZE + 5)
    assert store.put_stream(io.BytesIO(data)) == compute_cid(data)
    assert store.get(compute_cid(data)) == data


def test_empty_document(store: EmbeddedStore) -> None:
    assert store.put(b"") == EMPTY_FILE_CID
    assert store.get(EMPTY_FILE_CID) == b""


def test_putting_twice_is_harmless(store: EmbeddedStore) -> None:
    data = payload(DEFAULT_CHUNK_SIZE * 2 + 1)
    assert store.put(data) == store.put(data)
    assert len(block_files(store)) == 4


def test_iter_content_streams_the_document(store: EmbeddedStore) -> None:
    data = payload(2 * DEFAULT_CHUNK_SIZE + 9)
    cid = store.put(data)
    pieces = list(store.iter_content(cid))
    assert len(pieces) == 3
    assert b"".join(pieces) == data


def test_absent_documents(store: EmbeddedStore) -> None:
    with pytest.raises(DocumentNotFoundError):
        store.get(ABSENT)
    with pytest.raises(DocumentNotFoundError):
        store.stat(ABSENT)
    with pytest.raises(DocumentNotFoundError):
        store.pin(ABSENT)
    with pytest.raises(LookupError):  # DocumentNotFoundError is a NotFoundError
        store.iter_content(ABSENT)
    assert not store.has(ABSENT)
    store.unpin(ABSENT)  # idempotent


@pytest.mark.parametrize("method", ["get", "has", "stat", "pin", "unpin"])
def test_malformed_cids_are_value_errors(store: EmbeddedStore, method: str) -> None:
    with pytest.raises(InvalidCidError) as raised:
        getattr(store, method)("not-a-cid")
    assert isinstance(raised.value, ValueError)


def test_pin_unpin(store: EmbeddedStore) -> None:
    cid = store.put(payload(10))
    store.unpin(cid)
    store.unpin(cid)
    assert not store.stat(cid).pinned
    assert store.pins() == []
    store.pin(cid)
    store.pin(cid)
    assert store.stat(cid).pinned
    assert store.pins() == [cid]


def test_garbage_collection_keeps_pinned_and_shared_blocks(store: EmbeddedStore) -> None:
    shared = payload(DEFAULT_CHUNK_SIZE, seed=1)
    kept = store.put(shared + payload(10, seed=2))
    dropped = store.put(shared + payload(10, seed=3))
    lonely = store.put(payload(100, seed=4))
    store.unpin(dropped)
    store.unpin(lonely)
    # dropped's root and tail leaf, lonely's single block; the shared first chunk stays.
    assert store.collect_garbage() == 3
    assert store.get(kept) == shared + payload(10, seed=2)
    assert not store.has(dropped)
    assert not store.has(lonely)
    assert store.collect_garbage() == 0


# ----------------------------------------------------------------------------------------------
# Integrity on read
# ----------------------------------------------------------------------------------------------


def flip_byte(path: Path, offset: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_bit_in_a_leaf_is_an_error_not_wrong_bytes(store: EmbeddedStore) -> None:
    data = payload(2 * DEFAULT_CHUNK_SIZE + 1)
    cid = store.put(data)
    flip_byte(block_file(store, dag_children(store, cid)[1]), offset=1000)
    with pytest.raises(CorruptBlockError) as raised:
        store.get(cid)
    assert isinstance(raised.value, StorageError)
    # Putting the document again repairs the damaged block.
    store.put(data)
    assert store.get(cid) == data


def test_a_flipped_bit_in_the_root_is_an_error(store: EmbeddedStore) -> None:
    cid = store.put(payload(DEFAULT_CHUNK_SIZE + 1))
    flip_byte(block_file(store, cid_from_str(cid)), offset=10)
    with pytest.raises(CorruptBlockError):
        store.get(cid)
    assert not store.has(cid)
    with pytest.raises(CorruptBlockError):
        store.stat(cid)


def test_a_single_block_document_is_verified_too(store: EmbeddedStore) -> None:
    cid = store.put(b"small document")
    flip_byte(block_file(store, cid_from_str(cid)))
    with pytest.raises(CorruptBlockError):
        store.get(cid)


def test_a_missing_block_is_an_error(store: EmbeddedStore) -> None:
    cid = store.put(payload(2 * DEFAULT_CHUNK_SIZE + 1))
    block_file(store, dag_children(store, cid)[2]).unlink()
    assert not store.has(cid)
    with pytest.raises(MissingBlockError):
        store.get(cid)
    with pytest.raises(MissingBlockError):
        store.stat(cid)
    store.unpin(cid)
    with pytest.raises(MissingBlockError):
        store.pin(cid)


# ----------------------------------------------------------------------------------------------
# Crash safety
# ----------------------------------------------------------------------------------------------


class SimulatedCrashError(Exception):
    """Stands for the process dying at that point."""


def test_a_failure_mid_put_leaves_no_partial_block_and_no_pin(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    calls = 0

    def replace_then_crash(source: str, target: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise SimulatedCrashError
        real_replace(source, target)

    monkeypatch.setattr(embedded.os, "replace", replace_then_crash)
    data = payload(4 * DEFAULT_CHUNK_SIZE + 1)
    with pytest.raises(SimulatedCrashError):
        store.put(data)
    monkeypatch.undo()

    assert stray_files(store) == []
    assert store.pins() == []
    files = block_files(store)
    assert len(files) == 2
    for path in files:  # every block file that exists is complete and correct
        cid = cid_from_str(path.name.removesuffix(".data"))
        assert hashlib.sha256(path.read_bytes()).digest() == parse_cid(cid).digest
    # The orphaned blocks are garbage; a retry stores and pins everything.
    cid = store.put(data)
    assert store.get(cid) == data
    assert store.pins() == [cid]


def test_a_failure_while_writing_a_block_leaves_nothing(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(_descriptor: int) -> None:
        raise SimulatedCrashError

    monkeypatch.setattr(embedded.os, "fsync", crash)
    with pytest.raises(SimulatedCrashError):
        store.put(payload(100))
    monkeypatch.undo()
    assert block_files(store) == []
    assert stray_files(store) == []
    assert store.pins() == []


def test_a_full_disk_is_a_storage_error(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(_descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(embedded.os, "fsync", disk_full)
    with pytest.raises(StorageError, match="No space left"):
        store.put(payload(100))
    monkeypatch.undo()
    assert block_files(store) == []
    assert stray_files(store) == []


def test_garbage_collection_keeps_what_is_left_of_a_damaged_pinned_document(
    store: EmbeddedStore,
) -> None:
    cid = store.put(payload(3 * DEFAULT_CHUNK_SIZE))
    block_file(store, dag_children(store, cid)[0]).unlink()
    assert store.collect_garbage() == 0
    assert len(block_files(store)) == 3  # root and the two surviving leaves


def test_garbage_collection_removes_leftover_temporary_files(store: EmbeddedStore) -> None:
    cid = store.put(payload(10))
    leftover = block_file(store, cid_from_str(cid)).parent / ".half-written.tmp"
    leftover.write_bytes(b"partial")
    store.collect_garbage()
    assert not leftover.exists()
    assert store.get(cid) == payload(10)


# ----------------------------------------------------------------------------------------------
# CAR files
# ----------------------------------------------------------------------------------------------


def test_car_round_trip_into_a_fresh_store(store: EmbeddedStore, tmp_path: Path) -> None:
    documents = [payload(2 * DEFAULT_CHUNK_SIZE + 3, seed=1), payload(5, seed=2), b""]
    cids = [store.put(document) for document in documents]
    car = tmp_path / "export.car"
    written = store.export_car(cids, car)
    assert written == 4 + 1 + 1  # root and three leaves, then two single-block documents
    fresh = EmbeddedStore(tmp_path / "fresh")
    assert fresh.import_car(car) == cids
    for cid, document in zip(cids, documents, strict=True):
        assert fresh.get(cid) == document
        assert fresh.stat(cid).pinned
    assert fresh.pins() == sorted(cids)


def test_car_bytes(store: EmbeddedStore, tmp_path: Path) -> None:
    """CARv1 as the spec lays it out: varint-prefixed dag-cbor {roots, version}, then sections."""
    cid = store.put(b"hello world")
    car = tmp_path / "one.car"
    store.export_car([cid], car)
    binary = cid_from_str(cid)
    header = (
        b"\xa2"  # map(2)
        + b"\x65roots"
        + b"\x81"  # array(1)
        + b"\xd8\x2a"  # tag(42)
        + b"\x58\x25\x00"  # bytes(37): identity multibase prefix, then the CID
        + binary
        + b"\x67version"
        + b"\x01"
    )
    section = encode_varint(len(binary) + 11) + binary + b"hello world"
    assert car.read_bytes() == encode_varint(len(header)) + header + section


def test_car_blocks_appear_once_parents_first(store: EmbeddedStore, tmp_path: Path) -> None:
    data = bytes(3 * DEFAULT_CHUNK_SIZE)  # three identical zero chunks: one leaf block
    cid = store.put(data)
    car = tmp_path / "zeros.car"
    assert store.export_car([cid, cid], car) == 2
    fresh = EmbeddedStore(tmp_path / "fresh")
    fresh.import_car(car)
    assert fresh.get(cid) == data


def test_exporting_an_absent_document_writes_nothing(store: EmbeddedStore, tmp_path: Path) -> None:
    car = tmp_path / "absent.car"
    with pytest.raises(DocumentNotFoundError):
        store.export_car([ABSENT], car)
    with pytest.raises(ValueError):  # noqa: PT011
        store.export_car([], car)
    assert list(tmp_path.glob("*.car")) == []


def test_exporting_a_corrupt_document_leaves_no_car(store: EmbeddedStore, tmp_path: Path) -> None:
    cid = store.put(payload(DEFAULT_CHUNK_SIZE + 1))
    flip_byte(block_file(store, dag_children(store, cid)[0]))
    car = tmp_path / "corrupt.car"
    with pytest.raises(CorruptBlockError):
        store.export_car([cid], car)
    assert list(tmp_path.iterdir()) == [store.directory]


def exported(store: EmbeddedStore, tmp_path: Path, data: bytes) -> tuple[str, bytes]:
    cid = store.put(data)
    car = tmp_path / "doc.car"
    store.export_car([cid], car)
    return cid, car.read_bytes()


def test_import_rejects_a_tampered_block(store: EmbeddedStore, tmp_path: Path) -> None:
    cid, car = exported(store, tmp_path, b"hello world")
    tampered = tmp_path / "tampered.car"
    tampered.write_bytes(car[:-1] + b"D")
    fresh = EmbeddedStore(tmp_path / "fresh")
    with pytest.raises(CorruptBlockError):
        fresh.import_car(tampered)
    assert fresh.pins() == []
    assert not fresh.has(cid)


def test_import_of_an_incomplete_car_pins_nothing(store: EmbeddedStore, tmp_path: Path) -> None:
    cid, car = exported(store, tmp_path, payload(DEFAULT_CHUNK_SIZE + 1))
    header_length, offset = decode_varint(car)
    root_length, root_offset = decode_varint(car, offset + header_length)
    incomplete = tmp_path / "incomplete.car"
    incomplete.write_bytes(car[: root_offset + root_length])  # the header and the root, no leaves
    fresh = EmbeddedStore(tmp_path / "fresh")
    with pytest.raises(MissingBlockError):
        fresh.import_car(incomplete)
    assert fresh.pins() == []
    assert fresh.import_car(incomplete, pin_roots=False) == [cid]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x05abc",  # header shorter than announced
        encode_varint(10) + b"\xa1\x67version\x02",  # CARv2 pragma
        encode_varint(10) + b"\xa1\x67version\x01",  # no roots
        encode_varint(17) + b"\xa2\x65roots\x80\x67version\x01",  # empty roots
        encode_varint(3) + b"\x83\x01\x02",  # not a map
    ],
)
def test_import_rejects_malformed_cars(tmp_path: Path, content: bytes) -> None:
    car = tmp_path / "bad.car"
    car.write_bytes(content)
    with pytest.raises(CarFormatError):
        EmbeddedStore(tmp_path / "fresh").import_car(car)


def test_import_rejects_a_truncated_section(store: EmbeddedStore, tmp_path: Path) -> None:
    _, car = exported(store, tmp_path, b"hello world")
    truncated = tmp_path / "truncated.car"
    truncated.write_bytes(car[:-3])
    with pytest.raises(CarFormatError):
        EmbeddedStore(tmp_path / "fresh").import_car(truncated)


def test_import_rejects_codecs_the_store_does_not_keep(tmp_path: Path) -> None:
    dag_cbor = b"\x01\x71\x12\x20" + hashlib.sha256(b"\xa0").digest()
    header = (
        b"\xa2\x65roots\x81\xd8\x2a\x58\x25\x00" + dag_cbor + b"\x67version\x01"
    )  # fmt: skip
    car = tmp_path / "cbor.car"
    car.write_bytes(encode_varint(len(header)) + header)
    with pytest.raises(CarFormatError):
        EmbeddedStore(tmp_path / "fresh").import_car(car)


def test_stat_of_a_dag_root(store: EmbeddedStore) -> None:
    cid = store.put(payload(DEFAULT_CHUNK_SIZE * 2))
    assert parse_cid(cid_from_str(cid)).codec == CODEC_DAG_PB
    assert store.stat(cid).blocks == 3


# ----------------------------------------------------------------------------------------------
# Property: whatever goes in comes out, under Kubo's CID
# ----------------------------------------------------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    size=st.one_of(
        st.integers(min_value=0, max_value=300),
        st.integers(min_value=DEFAULT_CHUNK_SIZE - 2, max_value=DEFAULT_CHUNK_SIZE + 2),
        st.integers(min_value=0, max_value=3 * DEFAULT_CHUNK_SIZE),
    ),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_round_trip(store: EmbeddedStore, size: int, seed: int) -> None:
    data = payload(size, seed)
    cid = store.put(data)
    assert cid == compute_cid(data)
    assert store.get(cid) == data
    assert store.stat(cid).size == size
