"""CIDs as Kubo writes and reads them (ledger.storage.cid).

Known answers come from sources independent of this code: ``ipfs/kubo`` ``test/cli/add_test.go``
for the CID strings (CIDv1 base32, CIDv0 base58btc, a sha2-512 CID this store refuses) and the
``multiformats`` package (PyPI) for CIDv0 string encoding. Whole files and their DAGs are
tests/unit/test_unixfs.py.
"""

from __future__ import annotations

import hashlib

import pytest

from ledger.storage import StorageError
from ledger.storage.cid import (
    CODEC_DAG_PB,
    CODEC_RAW,
    CorruptBlockError,
    InvalidCidError,
    MalformedBlockError,
    cid_from_str,
    cid_to_str,
    decode_varint,
    encode_varint,
    make_cid,
    verify_block,
)
from ledger.storage.unixfs import EMPTY_FILE_CID


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16383, 16384, 2**32, 2**63 - 1])
def test_varint_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded) == (value, len(encoded))


def test_varint_known_bytes() -> None:
    assert encode_varint(300) == b"\xac\x02"
    assert encode_varint(262_144)  # Kubo's chunk size == b"\x80\x80\x10"
    with pytest.raises(MalformedBlockError):
        decode_varint(b"\x80")
    with pytest.raises(MalformedBlockError):
        decode_varint(b"\xff" * 10 + b"\x01")
    with pytest.raises(ValueError):  # noqa: PT011
        encode_varint(-1)


def test_cid_string_round_trip() -> None:
    for cid_str in (
        EMPTY_FILE_CID,
        "bafybeiapp6tzng2hpxzmopnplvg6hoxldufypompu6uzmhc6rdyw4m2qx4",
        "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
    ):
        assert cid_to_str(cid_from_str(cid_str)) == cid_str
    assert cid_from_str(EMPTY_FILE_CID) == b"\x01\x55\x12\x20" + hashlib.sha256(b"").digest()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        EMPTY_FILE_CID.upper(),  # 'B' is base32 upper: valid multibase, not canonical here
        EMPTY_FILE_CID + "=",
        EMPTY_FILE_CID[:-1],
        EMPTY_FILE_CID[:-1] + "1",  # not in the base32 alphabet
        "zdj7WWeQ43G6JJvLWQWZpyHuAMq6uYWRjkBXFad11vE2LHhQ7",  # base58btc CIDv1: not canonical
        "Qm" + "0" * 44,  # '0' is not base58
        # sha2-512 "hello world" from kubo add_test.go: a valid CID this store does not keep.
        "bafkrgqbqt3gerhas23vuzrapkdeqf4vu2dwxp3srdj6hvg6nhsug2tgyn6mj3u23yx7utftq3i2ckw2fwdh5qmhid5qf3t35yvkc5e5ottlw6",
        # dag-cbor codec (0x71)
        cid_to_str(b"\x01\x71\x12\x20" + bytes(32)),
    ],
)
def test_rejects_bad_cid_strings(text: str) -> None:
    with pytest.raises(InvalidCidError) as raised:
        cid_from_str(text)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, StorageError)


def test_verify_block() -> None:
    cid = make_cid(CODEC_RAW, hashlib.sha256(b"good").digest())
    verify_block(cid, b"good")
    with pytest.raises(CorruptBlockError):
        verify_block(cid, b"evil")


def test_cidv0_strings_match_multiformats() -> None:
    pytest.importorskip("multiformats")
    from multiformats import CID

    cid = make_cid(CODEC_DAG_PB, hashlib.sha256(b"x").digest(), version=0)
    assert cid_to_str(cid) == str(CID("base58btc", 0, "dag-pb", bytes(cid)))
