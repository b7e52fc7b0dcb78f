"""The behaviour every :class:`~ledger.storage.DocumentStore` backend shares, as one test suite.

Subclass :class:`DocumentStoreContract` in a test module (the name must start with ``Test`` for
pytest to collect it) and give it a ``store`` fixture; every test here then runs on that backend::

    class TestEmbeddedStore(DocumentStoreContract):
        @pytest.fixture
        def store(self, tmp_path: Path) -> Iterator[DocumentStore]:
            yield EmbeddedStore(tmp_path / "store")

The ``store`` may be shared between tests (one IPFS node for the session): every test stores
content of its own (random bytes), so pins and presence never depend on test order. Override
``missing_lookup_budget`` (seconds) if a backend needs longer to report a CID it does not hold.

The known answers below were printed by js-ipfs 0.66.1 (``ipfs add --cid-version=1 --raw-leaves
--chunker=size-262144``) on this project's machines; single-block CIDs are also derived here from
sha256 alone, which needs no node at all.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import time
from typing import ClassVar, Final

import pytest

from ledger.storage import DocumentNotFoundError, DocumentStat, DocumentStore
from ledger.storage.cid import InvalidCidError

CHUNK: Final = 262_144
MIB: Final = 1024 * 1024
EMPTY_FILE_CID: Final = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
_CODEC_RAW: Final = 0x55
_CODEC_DAG_PB: Final = 0x70


def cid_v1(codec: int, block: bytes) -> str:
    """CIDv1 base32 of ``block`` under sha2-256, built from the spec (no library): the CID of a
    one-chunk document when ``codec`` is raw."""
    binary = bytes((1, codec, 0x12, 0x20)) + hashlib.sha256(block).digest()
    return "b" + base64.b32encode(binary).decode("ascii").rstrip("=").lower()


def raw_cid(data: bytes) -> str:
    return cid_v1(_CODEC_RAW, data)


def seeded_bytes(size: int, seed: int | None = None) -> bytes:
    """``random.Random(seed).randbytes(size)`` (seed defaults to ``size``): reproducible input
    whose CIDs are recorded as known answers."""
    return random.Random(size if seed is None else seed).randbytes(size)


def pattern_bytes(size: int) -> bytes:
    """``bytes(range(256))`` repeated and cut to ``size``: the other recorded input."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


def unique_bytes(size: int) -> bytes:
    """Content no other test stores (so a shared store's pins cannot interfere)."""
    return os.urandom(size)


#: A raw and a dag-pb CID whose content no test stores.
ABSENT_RAW: Final = cid_v1(_CODEC_RAW, b"document-store-contract: never stored")
ABSENT_DAG_PB: Final = cid_v1(_CODEC_DAG_PB, b"document-store-contract: never stored")

#: (input name, size) -> CID, as js-ipfs 0.66.1 printed them (see module doc). "seeded" is
#: :func:`seeded_bytes`, "pattern" :func:`pattern_bytes`. The embedded store's
#: ``ledger.storage.unixfs.build_dag`` computes the same (tests/integration/test_ipfs_store.py).
KNOWN_ANSWERS: Final[dict[tuple[str, int], str]] = {
    ("seeded", 0): EMPTY_FILE_CID,
    ("seeded", 1): "bafkreiekgmp53zydf4z2ohq3fysx3aawny2i4ah4wf4rj5el3nl2drrqa4",
    ("seeded", 262_143): "bafkreih2hom5mdt3hxznampdzj6ksv6o36vafqqctcrkoz5rfhpw3eodwu",
    ("seeded", 262_144): "bafkreih2bk74eu5axngebs6vftmmkcaqboysjjy726xzy5hksnqmfgw5fy",
    ("seeded", 262_145): "bafybeidbbs6ocod3v27jtr4uhvc6n55y3gbrtur3bvjsnraudtbxkozi2y",
    ("seeded", MIB): "bafybeigxrbq7fuchvgd6onff4gbsw5a2p2723maltvtkbglz3l5sak37gm",
    ("seeded", 10 * MIB): "bafybeib74xcwycrnh4c5oujzjjgudttc4y2nk6worz7gyw6dkus4f66rmy",
    ("seeded", 50 * MIB): "bafybeiczamoutpgwdw2prusvvucu4cwuzvszmujf5mm3yesjr3mqx7u6ty",
    ("pattern", 0): EMPTY_FILE_CID,
    ("pattern", 1): "bafkreidogqfzz75tpkmjzjke425xqcrmpcib2p5tg44hnbirumdbpl5adu",
    ("pattern", 262_143): "bafkreibc7q5r37m3unuq5urr2wrquow77mloszqwjclfgqax5f3indtzai",
    ("pattern", 262_144): "bafkreibdci4uxwmvixm54ey4etx3paphmwwbv3beh4xnsndvs6tzhjav5e",
    ("pattern", 262_145): "bafybeibp4affrl5svfd2wwp3l2srpu76awzmvyc37zmrtap5iqydfxffuy",
    ("pattern", MIB): "bafybeiclphklsx6bfzfb5aezogjldbkeicyyvma6wrfnielfg7haplwahy",
    ("pattern", 10 * MIB): "bafybeigjeqjgogkztkrt5w32riwyv6gdisc2ybxgnrd7myirgdne2a2mi4",
    ("pattern", 50 * MIB): "bafybeig4tkaci2tp26gmwohvc4kjyncvtein2behhgasislqmkswpcxoaa",
}
#: The known answers cheap enough for every backend's suite (the parity test runs them all).
SMALL_KNOWN_ANSWERS: Final = sorted(key for key in KNOWN_ANSWERS if key[1] <= MIB)


def known_input(name: str, size: int) -> bytes:
    return seeded_bytes(size) if name == "seeded" else pattern_bytes(size)


def expected_blocks(size: int) -> int:
    """Distinct blocks of random content of ``size`` bytes: one chunk is its own root; more
    chunks hang under one node while there are at most 174 of them."""
    if size <= CHUNK:
        return 1
    leaves = -(-size // CHUNK)
    assert leaves <= 174, "two-level trees only"
    return leaves + 1


class DocumentStoreContract:
    """Tests every DocumentStore backend must pass; subclasses provide the ``store`` fixture."""

    #: Seconds within which a backend must report a CID it does not hold.
    missing_lookup_budget: ClassVar[float] = 5.0

    @pytest.fixture
    def store(self) -> DocumentStore:
        raise NotImplementedError("a DocumentStoreContract subclass must define `store`")

    # -- shape -----------------------------------------------------------------------------------

    def test_is_a_document_store(self, store: DocumentStore) -> None:
        assert isinstance(store, DocumentStore)

    @pytest.mark.parametrize(
        "size",
        [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7],
    )
    def test_round_trip(self, store: DocumentStore, size: int) -> None:
        data = unique_bytes(size)
        cid = store.put(data)
        assert store.get(cid) == data
        assert store.has(cid)

    def test_single_chunk_cid_is_the_raw_block_cid(self, store: DocumentStore) -> None:
        for size in (1, 777, CHUNK):
            data = unique_bytes(size)
            cid = store.put(data)
            assert cid == raw_cid(data)
            assert cid.startswith("bafkrei")

    def test_multi_chunk_cid_is_a_dag_pb_root(self, store: DocumentStore) -> None:
        cid = store.put(unique_bytes(CHUNK + 1))
        assert cid.startswith("bafybei")
        assert cid == cid.lower()

    def test_empty_document(self, store: DocumentStore) -> None:
        assert store.put(b"") == EMPTY_FILE_CID
        assert store.get(EMPTY_FILE_CID) == b""
        assert store.stat(EMPTY_FILE_CID).size == 0

    @pytest.mark.parametrize(("name", "size"), SMALL_KNOWN_ANSWERS)
    def test_known_answers(self, store: DocumentStore, name: str, size: int) -> None:
        assert store.put(known_input(name, size)) == KNOWN_ANSWERS[name, size]

    def test_put_is_idempotent(self, store: DocumentStore) -> None:
        data = unique_bytes(CHUNK + 10)
        first = store.put(data)
        assert store.put(data) == first
        assert store.get(first) == data
        assert store.stat(first).pinned

    def test_different_bytes_different_cids(self, store: DocumentStore) -> None:
        data = unique_bytes(2 * CHUNK)
        changed = data[:-1] + bytes((data[-1] ^ 1,))
        assert store.put(data) != store.put(changed)

    # -- stat, pins ------------------------------------------------------------------------------

    @pytest.mark.parametrize("size", [1, CHUNK, CHUNK + 1, 3 * CHUNK + 7])
    def test_stat(self, store: DocumentStore, size: int) -> None:
        cid = store.put(unique_bytes(size))
        assert store.stat(cid) == DocumentStat(
            cid=cid, size=size, blocks=expected_blocks(size), pinned=True
        )

    def test_unpin_leaves_the_content_until_collected(self, store: DocumentStore) -> None:
        data = unique_bytes(CHUNK + 100)
        cid = store.put(data)
        store.unpin(cid)
        assert store.stat(cid).pinned is False
        assert store.has(cid)
        assert store.get(cid) == data

    def test_pin_after_unpin(self, store: DocumentStore) -> None:
        cid = store.put(unique_bytes(3000))
        store.unpin(cid)
        store.pin(cid)
        assert store.stat(cid).pinned is True
        store.pin(cid)  # pinning twice is fine
        assert store.stat(cid).pinned is True

    def test_unpin_is_idempotent(self, store: DocumentStore) -> None:
        cid = store.put(unique_bytes(CHUNK * 2 + 1))
        store.unpin(cid)
        store.unpin(cid)
        store.unpin(ABSENT_RAW)
        store.unpin(ABSENT_DAG_PB)
        assert store.stat(cid).pinned is False

    def test_documents_sharing_blocks_are_pinned_separately(self, store: DocumentStore) -> None:
        shared = unique_bytes(2 * CHUNK)  # chunk-aligned, so both DAGs hold the same leaves
        first = shared + unique_bytes(100)
        second = shared + unique_bytes(100)
        first_cid, second_cid = store.put(first), store.put(second)
        store.unpin(first_cid)
        assert store.stat(second_cid).pinned is True
        assert store.get(second_cid) == second
        assert store.get(first_cid) == first

    # -- absent and malformed CIDs ---------------------------------------------------------------

    @pytest.mark.parametrize("cid", [ABSENT_RAW, ABSENT_DAG_PB], ids=["raw", "dag-pb"])
    def test_absent_cid(self, store: DocumentStore, cid: str) -> None:
        started = time.monotonic()
        assert store.has(cid) is False
        with pytest.raises(DocumentNotFoundError):
            store.get(cid)
        with pytest.raises(DocumentNotFoundError):
            store.stat(cid)
        with pytest.raises(DocumentNotFoundError):
            store.pin(cid)
        elapsed = time.monotonic() - started
        assert elapsed < 4 * self.missing_lookup_budget, f"four lookups took {elapsed:.1f} s"

    def test_absent_cid_is_a_lookup_error(self, store: DocumentStore) -> None:
        with pytest.raises(LookupError):
            store.get(ABSENT_RAW)

    @pytest.mark.parametrize(
        "text",
        ["", "not-a-cid", "bafy", "QmNotBase58lI0O", "/ipfs/" + ABSENT_RAW, ABSENT_RAW.upper()],
    )
    def test_malformed_cid(self, store: DocumentStore, text: str) -> None:
        for operation in (store.get, store.has, store.stat, store.pin, store.unpin):
            with pytest.raises(InvalidCidError):
                operation(text)
        with pytest.raises(ValueError, match=r"."):
            store.get(text)
