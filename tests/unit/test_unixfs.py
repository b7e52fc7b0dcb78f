"""Kubo-identical content addressing of whole files (ledger.storage.unixfs); the CIDs themselves
are tests/unit/test_cid.py.

Known answers come from sources independent of this code, since Kubo cannot run here:

- ``ipfs/kubo`` ``test/cli/add_test.go`` (``TestAdd``): "hello world" in every CID form, and files
  of deterministic pseudo-random bytes (:func:`kubo_random`, a copy of Kubo's
  ``testutils.DeterministicRandomReader``: ChaCha20 keystream, key = sha256(seed), zero nonce)
  added with ``--profile=legacy-cid-v0`` (256 KiB chunks, 174 links, dag-pb leaves, CIDv0),
  ``--profile=test-cid-v1`` (1 MiB chunks, 174 links, raw leaves, CIDv1) and
  ``--profile=test-cid-v1-wide`` (1 MiB, 1024 links), each just at and just over the link limit;
- ``ipfs/kubo`` ``test/cli/cid_profiles_test.go``: the ``unixfs-v1-2025`` profile vectors;
- ``ipfs/boxo`` ``ipld/unixfs/io/profile_test.go`` (``TestProfilePBNodeFieldOrderEndToEnd``): 3000
  bytes of "a" with ``--chunker=size-1000``, raw leaves, CIDv1 (a small multi-block file);
- the ``multiformats`` package (PyPI) for single raw blocks and CID string encoding.

Together they pin every fact the default (``--cid-version=1 --raw-leaves``, 256 KiB, 174 links)
depends on: raw leaf CIDs, dag-pb internal nodes over raw leaves, the 174-link boundary and the
depth change at 256 KiB chunks. Depth 3 is beyond any published vector (7.6 GB); it is checked
against a line-by-line transliteration of boxo's top-down ``balanced.Layout`` instead.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator
from typing import Final

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.storage.cid import (
    CODEC_DAG_PB,
    CODEC_RAW,
    MalformedBlockError,
    cid_from_str,
    make_cid,
    parse_cid,
    verify_block,
)
from ledger.storage.unixfs import (
    DEFAULT_CHUNK_SIZE,
    DEFAULT_MAX_LINKS,
    EMPTY_FILE_CID,
    Dag,
    PBLink,
    UnixFSType,
    build_dag,
    compute_cid,
    decode_node,
    decode_unixfs,
    encode_node,
    encode_unixfs,
    iter_file,
)

KIB: Final = 1024
MIB: Final = 1024 * 1024


class KuboRandom(io.RawIOBase):
    """Kubo's ``testutils.DeterministicRandomReader(size, seed)`` as a Python stream.

    Kubo: ``key := sha256.Sum256([]byte(seed))``, ``chacha20.NewUnauthenticatedCipher(key, zero
    12-byte nonce)``, bytes = keystream XOR zeros. The ``cryptography`` ChaCha20 takes a 16-byte
    nonce (32-bit counter then 96-bit nonce), all zero here: the same stream.
    """

    def __init__(self, size: int, seed: str) -> None:
        key = hashlib.sha256(seed.encode()).digest()
        self._cipher = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
        self._remaining = size

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        count = self._remaining if size is None or size < 0 else min(size, self._remaining)
        self._remaining -= count
        return self._cipher.update(bytes(count))


def kubo_random(size: int, seed: str) -> bytes:
    return KuboRandom(size, seed).read()


# ----------------------------------------------------------------------------------------------
# Known answers
# ----------------------------------------------------------------------------------------------

HELLO: Final = b"hello world"


def test_empty_file_is_the_raw_block_of_nothing() -> None:
    assert compute_cid(b"") == EMPTY_FILE_CID
    assert EMPTY_FILE_CID == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    assert compute_cid(io.BytesIO(b"")) == EMPTY_FILE_CID
    dag = build_dag(b"")
    assert dag.blocks == {dag.root: b""}
    assert dag.size == 0
    assert dag.block_count == 1


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # kubo test/cli/add_test.go shortStringCidV1: --cid-version=1 (raw leaves implied).
        ({}, "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"),
        # shortStringCidV0: the implicit default, a dag-pb UnixFS leaf.
        (
            {"raw_leaves": False, "cid_version": 0},
            "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD",
        ),
        # shortStringCidV1NoRawLeaves: Import.CidVersion=1, UnixFSRawLeaves=false.
        (
            {"raw_leaves": False},
            "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa",
        ),
    ],
)
def test_hello_world(options: dict[str, bool | int], expected: str) -> None:
    assert compute_cid(HELLO, **options) == expected  # type: ignore[arg-type]


def test_empty_file_without_raw_leaves_is_the_well_known_empty_unixfs_file() -> None:
    # The empty file of every Kubo before raw leaves (e.g. go-ipfs t0040 sharness, the
    # unixfs.EmptyFileNode): dag-pb {Data: {Type: File, filesize: 0}}.
    assert (
        compute_cid(b"", raw_leaves=False, cid_version=0)
        == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    )


def test_boxo_three_chunk_file_with_raw_leaves() -> None:
    """boxo profile_test.go TestProfilePBNodeFieldOrderEndToEnd, UnixFS_v1_2025 case: the bytes of
    a dag-pb node over raw leaves (links first, empty Name, Tsize, unpacked blocksizes)."""
    data = b"a" * 3000
    dag = build_dag(data, 1000, max_links=1024)
    assert dag.root_str == "bafybeiapp6tzng2hpxzmopnplvg6hoxldufypompu6uzmhc6rdyw4m2qx4"
    # "a" * 1000 three times: one distinct leaf plus the root.
    assert dag.block_count == 2


# (size, seed, build options, expected CID, source)
KUBO_VECTORS: Final = [
    pytest.param(
        44544 * KIB,
        "v0-seed",
        {"raw_leaves": False, "cid_version": 0},
        "QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2",
        id="legacy-cid-v0 174 chunks of 256KiB (one full node)",
    ),
    pytest.param(
        44800 * KIB,
        "v0-seed",
        {"raw_leaves": False, "cid_version": 0},
        "QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf",
        id="legacy-cid-v0 175 chunks of 256KiB (depth 2)",
    ),
    pytest.param(
        174 * MIB,
        "v1-seed",
        {"chunk_size": MIB},
        "bafybeigwduxcf2aawppv3isnfeshnimkyplvw3hthxjhr2bdeje4tdaicu",
        id="test-cid-v1 174 raw leaves of 1MiB (one full node)",
    ),
    pytest.param(
        175 * MIB,
        "v1-seed",
        {"chunk_size": MIB},
        "bafybeidhd7lo2n2v7lta5yamob3xwhbxcczmmtmhquwhjesi35jntf7mpu",
        id="test-cid-v1 175 raw leaves of 1MiB (depth 2)",
    ),
]

KUBO_SLOW_VECTORS: Final = [
    pytest.param(
        1024 * MIB,
        "v1-seed-1024",
        {"chunk_size": MIB, "max_links": 1024},
        "bafybeiej5w63ir64oxgkr5htqmlerh5k2rqflurn2howimexrlkae64xru",
        id="test-cid-v1-wide 1024 raw leaves",
    ),
    pytest.param(
        1025 * MIB,
        "v1-seed-1024",
        {"chunk_size": MIB, "max_links": 1024},
        "bafybeieilp2qx24pe76hxrxe6bpef5meuxto3kj5dd6mhb5kplfeglskdm",
        id="test-cid-v1-wide 1025 raw leaves",
    ),
    pytest.param(
        1024 * MIB,
        "v1-2025-seed",
        {"chunk_size": MIB, "max_links": 1024},
        "bafybeihmf37wcuvtx4hpu7he5zl5qaf2ineo2lqlfrapokkm5zzw7zyhvm",
        id="unixfs-v1-2025 1024 raw leaves",
    ),
    pytest.param(
        1025 * MIB,
        "v1-2025-seed",
        {"chunk_size": MIB, "max_links": 1024},
        "bafybeihmzokxxjqwxjcryerhp5ezpcog2wcawfryb2xm64xiakgm4a5jue",
        id="unixfs-v1-2025 1025 raw leaves",
    ),
    pytest.param(
        262144 * KIB,
        "hello world",
        {"raw_leaves": False, "cid_version": 0, "max_links": 1024},
        "QmbBftNHWmjSWKLC49dMVrfnY8pjrJYntiAXirFJ7oJrNk",
        id="legacy-cid-v0 --max-file-links 1024",
    ),
]


@pytest.mark.parametrize(("size", "seed", "options", "expected"), KUBO_VECTORS)
def test_kubo_published_cids(
    size: int, seed: str, options: dict[str, int | bool], expected: str
) -> None:
    # Streamed, as ``ipfs add`` reads stdin: also proves the stream path never holds the file.
    assert compute_cid(KuboRandom(size, seed), **options) == expected  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize(("size", "seed", "options", "expected"), KUBO_SLOW_VECTORS)
def test_kubo_published_cids_of_large_files(
    size: int, seed: str, options: dict[str, int | bool], expected: str
) -> None:
    assert compute_cid(KuboRandom(size, seed), **options) == expected  # type: ignore[arg-type]


def test_kubo_random_matches_chacha20_rfc8439_keystream() -> None:
    # RFC 8439 section 2.4.2 is not zero-nonce, so check the construction itself instead: the
    # first keystream block for an all-zero key and nonce (RFC 8439 A.1 test vector #1).
    cipher = Cipher(algorithms.ChaCha20(bytes(32), bytes(16)), mode=None).encryptor()
    assert cipher.update(bytes(16)).hex() == "76b8e0ada0f13d90405d6ae55386bd28"


class TestAgainstMultiformats:
    """The ``multiformats`` package: an independent CID implementation (single blocks only)."""

    @pytest.fixture(autouse=True)
    def _package(self) -> None:
        pytest.importorskip("multiformats")

    @pytest.mark.parametrize("size", [0, 1, 11, 1000, DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE])
    def test_single_chunk_files_are_raw_block_cids(self, size: int) -> None:
        from multiformats import CID, multihash

        data = random.Random(size).randbytes(size)
        expected = CID("base32", 1, "raw", multihash.digest(data, "sha2-256"))
        assert compute_cid(data) == str(expected)
        assert cid_from_str(str(expected)) == bytes(expected)

    def test_root_of_a_tree_is_a_dag_pb_cid_of_its_block(self) -> None:
        from multiformats import CID

        dag = build_dag(random.Random(1).randbytes(DEFAULT_CHUNK_SIZE + 1))
        parsed = CID.decode(dag.root_str)
        assert parsed.version == 1
        assert parsed.codec.name == "dag-pb"
        assert parsed.hashfun.name == "sha2-256"
        assert parsed.raw_digest == hashlib.sha256(dag.blocks[dag.root]).digest()
        assert bytes(parsed) == dag.root


# ----------------------------------------------------------------------------------------------
# The layout against boxo's algorithm, transliterated
# ----------------------------------------------------------------------------------------------


def boxo_balanced_root(data: bytes, chunk_size: int, max_links: int) -> bytes:
    """boxo ``importer/balanced`` ``Layout`` + ``fillNodeRec``, top-down as written in Go, with
    raw leaves and CIDv1; nodes encoded with the general-purpose encoders (not the builder's)."""
    chunks = [data[start : start + chunk_size] for start in range(0, len(data), chunk_size)]
    position = 0

    def done() -> bool:
        return position == len(chunks)

    def leaf_data_node() -> tuple[bytes, int, int]:
        nonlocal position
        chunk = chunks[position]
        position += 1
        return make_cid(CODEC_RAW, hashlib.sha256(chunk).digest()), len(chunk), len(chunk)

    def commit(children: list[tuple[bytes, int, int]]) -> tuple[bytes, int, int]:
        unixfs = encode_unixfs(
            UnixFSType.FILE,
            filesize=sum(size for _, _, size in children),
            blocksizes=[size for _, _, size in children],
        )
        block = encode_node([PBLink(cid, "", tsize) for cid, tsize, _ in children], unixfs)
        cid = make_cid(CODEC_DAG_PB, hashlib.sha256(block).digest())
        filesize = sum(size for _, _, size in children)
        return cid, len(block) + sum(tsize for _, tsize, _ in children), filesize

    def fill_node_rec(
        node: list[tuple[bytes, int, int]], depth: int
    ) -> list[tuple[bytes, int, int]]:
        while len(node) < max_links and not done():
            # Go: leaf data node at depth 1, else a committed internal node filled recursively.
            child = leaf_data_node() if depth == 1 else commit(fill_node_rec([], depth - 1))
            node.append(child)
        return node

    if done():
        return make_cid(CODEC_RAW, hashlib.sha256(b"").digest())
    root = leaf_data_node()
    depth = 1
    while not done():
        root = commit(fill_node_rec([root], depth))
        depth += 1
    return root[0]


@pytest.mark.parametrize("max_links", [2, 3, 5])
def test_layout_matches_boxo_for_every_size_through_depth_five(max_links: int) -> None:
    for size in range(max_links**4 + 2):
        data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
        assert build_dag(data, 1, max_links=max_links).root == boxo_balanced_root(
            data, 1, max_links
        ), size


@pytest.mark.parametrize(
    "leaves",
    [
        DEFAULT_MAX_LINKS,
        DEFAULT_MAX_LINKS + 1,
        DEFAULT_MAX_LINKS * 2 + 1,
        DEFAULT_MAX_LINKS**2,
        DEFAULT_MAX_LINKS**2 + 1,  # depth 3 with the real link limit
    ],
)
def test_layout_matches_boxo_at_the_real_link_limit(leaves: int) -> None:
    data = random.Random(leaves).randbytes(leaves * 2)
    assert build_dag(data, 2).root == boxo_balanced_root(data, 2, DEFAULT_MAX_LINKS)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=3000),
    chunk_size=st.integers(min_value=1, max_value=64),
    max_links=st.integers(min_value=2, max_value=7),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_random_files_round_trip_and_match_boxo(
    size: int, chunk_size: int, max_links: int, seed: int
) -> None:
    data = random.Random(seed).randbytes(size)
    dag = build_dag(data, chunk_size, max_links=max_links)
    assert dag.root == boxo_balanced_root(data, chunk_size, max_links)
    assert b"".join(iter_file(dag.root, dag.blocks.__getitem__)) == data
    assert dag.size == size
    check_invariants(dag, chunk_size, max_links)


# ----------------------------------------------------------------------------------------------
# Structure
# ----------------------------------------------------------------------------------------------


def check_invariants(dag: Dag, chunk_size: int, max_links: int) -> None:
    """Every node of a raw-leaves DAG: Tsize, blocksizes, filesize, names, depth, chunk sizes."""
    leaf_depths: set[int] = set()
    leaf_sizes: list[int] = []

    def walk(cid: bytes, depth: int) -> tuple[int, int]:  # (Tsize, file bytes)
        block = dag.blocks[cid]
        verify_block(cid, block)
        if parse_cid(cid).codec == CODEC_RAW:
            leaf_depths.add(depth)
            leaf_sizes.append(len(block))
            return len(block), len(block)
        node = decode_node(block)
        assert bytes(block)[:1] == b"\x12", "Links are written before Data"
        unixfs = node.unixfs()
        assert unixfs.type == UnixFSType.FILE
        assert unixfs.data is None
        assert 1 <= len(node.links) <= max_links
        subtree = 0
        for link, blocksize in zip(node.links, unixfs.blocksizes, strict=True):
            assert link.name == "", "Kubo writes an empty Name, not an absent one"
            tsize, size = walk(link.cid, depth + 1)
            assert link.tsize == tsize
            assert blocksize == size
            subtree += tsize
        assert unixfs.filesize == sum(unixfs.blocksizes)
        return len(block) + subtree, sum(unixfs.blocksizes)

    walk(dag.root, 0)
    assert len(leaf_depths) == 1, "balanced: every leaf at the same depth"
    assert all(size == chunk_size for size in leaf_sizes[:-1])
    assert 0 < leaf_sizes[-1] <= chunk_size or dag.size == 0


def test_one_full_node_at_174_chunks_of_256_kib() -> None:
    data = kubo_random(DEFAULT_MAX_LINKS * DEFAULT_CHUNK_SIZE, "shape")
    dag = build_dag(data)
    root = decode_node(dag.blocks[dag.root])
    assert parse_cid(dag.root).codec == CODEC_DAG_PB
    assert len(root.links) == DEFAULT_MAX_LINKS
    assert all(parse_cid(link.cid).codec == CODEC_RAW for link in root.links)
    assert all(link.tsize == DEFAULT_CHUNK_SIZE for link in root.links)
    unixfs = root.unixfs()
    assert unixfs.blocksizes == (DEFAULT_CHUNK_SIZE,) * DEFAULT_MAX_LINKS
    assert unixfs.filesize == len(data)
    assert dag.block_count == DEFAULT_MAX_LINKS + 1
    check_invariants(dag, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_LINKS)


def test_one_byte_more_adds_a_level_without_collapsing_the_lone_leaf() -> None:
    full = DEFAULT_MAX_LINKS * DEFAULT_CHUNK_SIZE
    data = kubo_random(full + 1, "shape")
    dag = build_dag(data)
    root = decode_node(dag.blocks[dag.root])
    assert len(root.links) == 2
    assert root.unixfs().blocksizes == (full, 1)
    assert root.unixfs().filesize == full + 1
    first, second = (decode_node(dag.blocks[link.cid]) for link in root.links)
    assert len(first.links) == DEFAULT_MAX_LINKS
    # The second subtree is a depth-1 node holding one 1-byte raw leaf: boxo never collapses it.
    assert len(second.links) == 1
    assert second.unixfs().blocksizes == (1,)
    assert dag.blocks[second.links[0].cid] == data[-1:]
    # The first subtree is the previous test's root, unchanged: the tree grew at the top.
    assert root.links[0].cid == build_dag(data[:full]).root
    check_invariants(dag, DEFAULT_CHUNK_SIZE, DEFAULT_MAX_LINKS)


@pytest.mark.parametrize(
    "size", [1, DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE + 1]
)
def test_chunk_boundaries(size: int) -> None:
    data = kubo_random(size, "boundary")
    dag = build_dag(data)
    if size <= DEFAULT_CHUNK_SIZE:
        assert dag.root == make_cid(CODEC_RAW, hashlib.sha256(data).digest())
        assert dag.block_count == 1
    else:
        node = decode_node(dag.blocks[dag.root])
        assert node.unixfs().blocksizes == (DEFAULT_CHUNK_SIZE, 1)
        assert dag.block_count == 3


def test_repeated_chunks_are_one_block() -> None:
    dag = build_dag(bytes(MIB))
    assert dag.block_count == 2  # one zero chunk, one root
    assert decode_node(dag.blocks[dag.root]).unixfs().blocksizes == (DEFAULT_CHUNK_SIZE,) * 4


def test_internal_node_wire_bytes() -> None:
    """The exact bytes of a two-leaf node, built by hand from the dag-pb and UnixFS protos."""
    dag = build_dag(b"abc", 2)
    left = make_cid(CODEC_RAW, hashlib.sha256(b"ab").digest())
    right = make_cid(CODEC_RAW, hashlib.sha256(b"c").digest())
    expected = (
        b"\x12\x2a" + b"\x0a\x24" + left + b"\x12\x00" + b"\x18\x02"
        + b"\x12\x2a" + b"\x0a\x24" + right + b"\x12\x00" + b"\x18\x01"
        + b"\x0a\x08" + b"\x08\x02" + b"\x18\x03" + b"\x20\x02" + b"\x20\x01"
    )  # fmt: skip
    assert dag.blocks[dag.root] == expected


# ----------------------------------------------------------------------------------------------
# Streaming
# ----------------------------------------------------------------------------------------------


class Trickle(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read, like a pipe or a socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        limit = self._step if size is None or size < 0 else min(size, self._step)
        piece, self._data = self._data[:limit], self._data[limit:]
        return bytes(piece)


@pytest.mark.parametrize("step", [1000, 65536, 10**9])
def test_streaming_equals_in_memory(step: int) -> None:
    data = kubo_random(3 * DEFAULT_CHUNK_SIZE + 12345, "stream")
    in_memory = build_dag(data)
    streamed = build_dag(Trickle(data, step))  # type: ignore[arg-type]
    assert streamed.root == in_memory.root
    assert dict(streamed.blocks) == {cid: bytes(block) for cid, block in in_memory.blocks.items()}


def test_in_memory_leaves_are_views_not_copies() -> None:
    data = kubo_random(2 * DEFAULT_CHUNK_SIZE, "views")
    dag = build_dag(data)
    leaves = [block for cid, block in dag.blocks.items() if parse_cid(cid).codec == CODEC_RAW]
    assert all(isinstance(block, memoryview) and block.obj is data for block in leaves)


def test_on_block_sees_every_block_once_leaves_before_parents() -> None:
    seen: list[bytes] = []
    data = bytes(3 * DEFAULT_CHUNK_SIZE) + b"x"
    dag = build_dag(data, on_block=lambda cid, _block: seen.append(cid), keep_blocks=False)
    assert dag.blocks == {}
    assert len(seen) == len(set(seen)) == dag.block_count == 3
    assert seen[-1] == dag.root


def test_bytearray_and_memoryview_inputs() -> None:
    data = kubo_random(DEFAULT_CHUNK_SIZE + 7, "types")
    expected = compute_cid(data)
    assert compute_cid(bytearray(data)) == expected
    assert compute_cid(memoryview(data)) == expected
    assert compute_cid(memoryview(data).cast("B", (len(data),))) == expected


@pytest.mark.parametrize(
    "options",
    [
        {"chunk_size": 0},
        {"chunk_size": 1024 * 1024 + 1},
        {"max_links": 1},
        {"cid_version": 2},
        {"cid_version": 0},  # raw leaves need CIDv1
    ],
)
def test_rejects_options_kubo_rejects(options: dict[str, int]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        build_dag(b"x", **options)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# Decoding
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        b"\x12",  # truncated length
        b"\x12\x05\x0a\x01",  # link longer than the block
        b"\x1a\x00",  # field 3: not in dag-pb
        b"\x12\x02\x18\x01",  # link without Hash
        b"\x0a\x00\x0a\x00",  # two Data fields
        b"\x12\x06\x0a\x04\x01\x55\x12\x20",  # link to a truncated CID
        b"\x0b",  # wire type 3 (groups)
    ],
)
def test_decode_node_rejects_malformed_blocks(block: bytes) -> None:
    with pytest.raises(MalformedBlockError):
        decode_node(block)


def test_decode_accepts_data_first_and_packed_blocksizes() -> None:
    leaf = make_cid(CODEC_RAW, hashlib.sha256(b"x").digest())
    links_first = encode_node([PBLink(leaf, "", 1)], b"\x08\x02\x18\x01\x20\x01")
    link_bytes, data_bytes = links_first[:-8], links_first[-8:]
    assert decode_node(data_bytes + link_bytes) == decode_node(links_first)
    assert decode_unixfs(b"\x08\x02\x18\x03\x22\x02\x02\x01").blocksizes == (2, 1)


def test_iter_file_rejects_inconsistent_sizes() -> None:
    leaf = make_cid(CODEC_RAW, hashlib.sha256(b"abc").digest())
    blocks = {leaf: b"abc"}
    for unixfs in (
        encode_unixfs(UnixFSType.FILE, filesize=3, blocksizes=[2]),  # blocksize lies
        encode_unixfs(UnixFSType.FILE, filesize=4, blocksizes=[3]),  # filesize lies
        encode_unixfs(UnixFSType.FILE, filesize=3, blocksizes=[3, 0]),  # more sizes than links
        encode_unixfs(UnixFSType.DIRECTORY),  # not a file
    ):
        node = encode_node([PBLink(leaf, "", 3)], unixfs)
        root = make_cid(CODEC_DAG_PB, hashlib.sha256(node).digest())
        with pytest.raises(MalformedBlockError):
            b"".join(iter_file(root, {**blocks, root: node}.__getitem__))


def test_iter_file_reads_dag_pb_leaves() -> None:
    data = kubo_random(2 * DEFAULT_CHUNK_SIZE + 1, "pb-leaves")
    dag = build_dag(data, raw_leaves=False, cid_version=0)
    assert b"".join(iter_file(dag.root, dag.blocks.__getitem__)) == data


def _walk(dag: Dag) -> Iterator[bytes]:
    pending = [dag.root]
    while pending:
        cid = pending.pop()
        yield cid
        if parse_cid(cid).codec == CODEC_DAG_PB:
            pending.extend(link.cid for link in decode_node(dag.blocks[cid]).links)


def test_blocks_are_exactly_the_reachable_ones() -> None:
    dag = build_dag(kubo_random(5 * DEFAULT_CHUNK_SIZE, "reach"), max_links=2)
    assert set(_walk(dag)) == set(dag.blocks)
