"""Batch proofs read strictly (ledger.documents.batches.BatchProof), with no chain."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from eth_typing import ChecksumAddress

from ledger.documents import certificate_to_json, dump_certificate, salt_fields
from ledger.documents.batches import PROOF_VERSION, BatchProof, embedded_proof
from ledger.errors import InvalidDocumentError

REGISTRY = ChecksumAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
PROOF = BatchProof(
    root=bytes(range(32)),
    path=tuple(bytes([index]) * 32 for index in range(14)),
    chain_id=1337,
    registry=REGISTRY,
    manifest_cid="bafkreib",
)


def changed(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """PROOF's JSON with the member at ``path`` replaced (or removed, for ``...``)."""
    document: Any = copy.deepcopy(PROOF.to_json())
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if value is ...:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return document  # type: ignore[no-any-return]


def test_round_trip() -> None:
    assert BatchProof.from_json(PROOF.to_json()) == PROOF
    assert BatchProof.loads(PROOF.dumps()) == PROOF
    unnamed = BatchProof(PROOF.root, (), 1, REGISTRY)
    assert BatchProof.from_json(unnamed.to_json()) == unnamed


def test_a_proof_nested_past_any_parser_is_refused_before_parsing() -> None:
    """With the recursion limit py_ecc sets (100,000) ``json.loads`` would exhaust the C stack on
    this (a segfault of the whole service, not a RecursionError)."""
    import py_ecc  # noqa: F401  (raises the recursion limit, as in the service)

    deep = "[" * 100_000 + "]" * 100_000
    for data in (deep, deep.encode(), '{"root": ' + deep + "}"):
        with pytest.raises(InvalidDocumentError, match="must be JSON"):
            BatchProof.loads(data)


def test_hex_digits_of_either_case_are_read() -> None:
    upper = changed(("root",), "0x" + PROOF.root.hex().upper())
    upper["path"] = ["0x" + node.hex().upper() for node in PROOF.path]
    assert BatchProof.from_json(upper) == PROOF


HEX_PROBLEMS = [
    None,
    7,
    "",
    "0x",
    PROOF.root.hex(),  # no 0x
    "0X" + PROOF.root.hex(),
    "0x" + PROOF.root.hex()[:-2],
    "0x" + PROOF.root.hex() + "00",
    "0x" + "zz" * 32,
    "0x" + "é" * 64,
    # 66 characters that bytes.fromhex would read as fewer than 32 bytes
    "0x" + " ".join(["00"] * 21) + "0",
    "0x" + "00" * 31 + " 0",
    "0x" + "00" * 31 + "\n0",
]


@pytest.mark.parametrize("value", HEX_PROBLEMS)
def test_malformed_root_is_refused(value: object) -> None:
    with pytest.raises(InvalidDocumentError, match="root must be 0x and 64 hex digits"):
        BatchProof.from_json(changed(("root",), value))


@pytest.mark.parametrize("value", HEX_PROBLEMS)
def test_malformed_path_element_is_refused(value: object) -> None:
    with pytest.raises(InvalidDocumentError, match="path element must be 0x and 64 hex digits"):
        BatchProof.from_json(changed(("path", 5), value))


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (None, "an object with version"),
        ([], "an object with version"),
        (changed(("extra",), 1), "an object with version"),
        (changed(("version",), "gov-ledger/batch-proof/v2"), "unsupported batch proof version"),
        (changed(("version",), ...), "unsupported batch proof version"),
        (changed(("path",), "0x" + "00" * 32), "list of at most 64"),
        (changed(("path",), ["0x" + "00" * 32] * 65), "list of at most 64"),
        (changed(("path",), ...), "list of at most 64"),
        (changed(("anchor",), ...), "anchor names chainId and registry"),
        (changed(("anchor", "registry"), ...), "anchor names chainId and registry"),
        (changed(("anchor", "extra"), 1), "anchor names chainId and registry"),
        (changed(("anchor", "chainId"), 0), "chainId is a positive integer"),
        (changed(("anchor", "chainId"), True), "chainId is a positive integer"),
        (changed(("anchor", "chainId"), 1.0), "chainId is a positive integer"),
        (changed(("anchor", "registry"), REGISTRY.lower()), "checksummed address"),
        (changed(("anchor", "registry"), 5), "checksummed address"),
        (changed(("anchor", "manifest"), 5), "manifest is a CID string"),
        (changed(("anchor", "manifest"), "b" * 129), "manifest is a CID string"),
        (changed(("root",), ...), "root must be 0x"),
    ],
)
def test_malformed_proofs_are_refused(document: object, problem: str) -> None:
    with pytest.raises(InvalidDocumentError, match=problem):
        BatchProof.from_json(document)


def test_embedded_proof_is_read_from_a_certificate_and_checked() -> None:
    certificate = salt_fields({"name": "A"}, certificate_type="t")
    document = certificate_to_json(certificate)
    document["proof"] = PROOF.to_json()
    assert embedded_proof(json.dumps(document).encode()) == PROOF
    assert embedded_proof(dump_certificate(certificate)) is None
    assert embedded_proof(b"%PDF-1.7 not a certificate") is None
    document["proof"] = changed(("version",), PROOF_VERSION + "x")
    with pytest.raises(InvalidDocumentError, match="unsupported batch proof version"):
        embedded_proof(json.dumps(document).encode())
