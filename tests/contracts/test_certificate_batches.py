"""CertificateRegistry batches: one Merkle root for many certificates, leaf revocation, views."""

from __future__ import annotations

import pytest

from ledger import errors
from ledger.documents.merkle import MerkleTree, leaf_node
from tests.contracts.conftest import (
    BUSINESS_LICENCE,
    CITY,
    DISTRICT,
    DONGCHENG,
    PROVINCE,
    Chain,
    Status,
    certificate_terms,
    digest,
    events,
    expect_revert,
)

REASON = 11
BATCH_ROOT = 1


def batch(label: str, size: int = 7) -> MerkleTree:
    return MerkleTree.build([digest(f"{label} {index}") for index in range(size)])


def anchor_batch(chain: Chain, tree: MerkleTree, key: int = DISTRICT, expires_at: int = 0) -> dict:
    terms = certificate_terms(BUSINESS_LICENCE, DONGCHENG, expires_at)
    receipt = chain.send(
        chain.certificates.functions.anchorBatchedCertificates(tree.root, terms), chain.keys[key]
    )
    return dict(receipt)


def leaf_status(chain: Chain, tree: MerkleTree, index: int) -> tuple[int, int]:
    status, reason, _by, _at = chain.certificates.functions.leafStatusOf(
        tree.root, tree.leaves[index], tree.proof(index)
    ).call()
    return int(status), int(reason)


def revoke_leaf(chain: Chain, tree: MerkleTree, index: int, key: int = DISTRICT) -> dict:
    function = chain.certificates.functions.revokeLeaf(
        tree.root, tree.leaves[index], tree.proof(index), REASON
    )
    return dict(chain.send(function, chain.keys[key]))


def test_anchor_batch_is_one_record_of_kind_batch_root(chain: Chain) -> None:
    tree = batch("anchor")
    expires_at = chain.now() + 86_400 * 365
    receipt = anchor_batch(chain, tree, expires_at=expires_at)
    assert events(chain.certificates, receipt) == [
        ("CertificateBatchAnchored", {"root": tree.root})
    ]
    record = chain.certificate(tree.root)
    assert record["kind"] == BATCH_ROOT
    assert record["status"] == Status.ACTIVE
    assert (record["issuer"], record["certType"], record["region"]) == (
        DISTRICT,
        BUSINESS_LICENCE,
        DONGCHENG,
    )
    assert record["expiresAt"] == expires_at
    for index in range(len(tree)):
        assert leaf_status(chain, tree, index) == (Status.ACTIVE, 0)
        # A certificate of the batch is not a record of its own.
        assert chain.certificate(tree.leaves[index])["status"] == Status.NONE


def test_anchor_batch_refusals(chain: Chain) -> None:
    tree = batch("refusals")
    terms = certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
    functions = chain.certificates.functions
    with expect_revert(errors.CertificateRegistryInvalidTerms, terms=terms | 1 << 96):
        functions.anchorBatchedCertificates(tree.root, terms | 1 << 96).transact(
            {"from": chain.keys[DISTRICT]}
        )
    with expect_revert(errors.AccreditationUnknownSigner, signer=chain.outsider):
        functions.anchorBatchedCertificates(tree.root, terms).transact({"from": chain.outsider})
    with expect_revert(errors.CertificateRegistryInvalidHash):
        functions.anchorBatchedCertificates(bytes(32), terms).transact(
            {"from": chain.keys[DISTRICT]}
        )
    anchor_batch(chain, tree)
    with expect_revert(errors.CertificateRegistryAlreadyAnchored, docHash=tree.root):
        functions.anchorBatchedCertificates(tree.root, terms).transact(
            {"from": chain.keys[DISTRICT]}
        )


def test_revoking_one_leaf_revokes_exactly_that_leaf(chain: Chain) -> None:
    tree = batch("one leaf", 10)
    anchor_batch(chain, tree)
    receipt = revoke_leaf(chain, tree, 4)
    assert events(chain.certificates, receipt) == [
        (
            "CertificateLeafRevoked",
            {"root": tree.root, "docHash": tree.leaves[4], "reasonCode": REASON, "actor": DISTRICT},
        )
    ]
    for index in range(len(tree)):
        expected = (Status.REVOKED, REASON) if index == 4 else (Status.ACTIVE, 0)
        assert leaf_status(chain, tree, index) == expected
    functions = chain.certificates.functions
    revoked = functions.leafStatusOf(tree.root, tree.leaves[4], tree.proof(4)).call()
    assert revoked == [Status.REVOKED, REASON, DISTRICT, chain.timestamp_of(receipt)]
    untouched = functions.leafStatusOf(tree.root, tree.leaves[5], tree.proof(5)).call()
    assert untouched == [Status.ACTIVE, 0, 0, 0]
    # The batch itself stays active.
    assert chain.certificate(tree.root)["status"] == Status.ACTIVE


def test_revoke_leaf_refusals(chain: Chain) -> None:
    tree = batch("leaf refusals")
    functions = chain.certificates.functions
    key = chain.keys[DISTRICT]
    with expect_revert(errors.CertificateRegistryUnknownCertificate, docHash=tree.root):
        functions.revokeLeaf(tree.root, tree.leaves[0], tree.proof(0), REASON).transact(
            {"from": key}
        )
    single = digest("a single document")
    chain.anchor(key, single)
    with expect_revert(errors.CertificateRegistryNotABatch, root=single):
        functions.revokeLeaf(single, tree.leaves[0], [], REASON).transact({"from": key})
    anchor_batch(chain, tree)
    outsider = digest("not in the batch")
    with expect_revert(errors.CertificateRegistryNotInBatch, root=tree.root, docHash=outsider):
        functions.revokeLeaf(tree.root, outsider, tree.proof(0), REASON).transact({"from": key})
    with expect_revert(
        errors.CertificateRegistryNotInBatch, root=tree.root, docHash=tree.leaves[1]
    ):
        functions.revokeLeaf(tree.root, tree.leaves[1], tree.proof(0), REASON).transact(
            {"from": key}
        )
    with expect_revert(errors.CertificateRegistryMissingReason):
        functions.revokeLeaf(tree.root, tree.leaves[0], tree.proof(0), 0).transact({"from": key})
    with expect_revert(errors.AccreditationNotIssuer, signer=chain.keys[CITY], issuer=DISTRICT):
        functions.revokeLeaf(tree.root, tree.leaves[0], tree.proof(0), REASON).transact(
            {"from": chain.keys[CITY]}
        )
    revoke_leaf(chain, tree, 0)
    with expect_revert(
        errors.CertificateRegistryLeafAlreadyRevoked, root=tree.root, docHash=tree.leaves[0]
    ):
        functions.revokeLeaf(tree.root, tree.leaves[0], tree.proof(0), REASON).transact(
            {"from": key}
        )


def test_supervisor_revokes_a_leaf(chain: Chain) -> None:
    tree = batch("supervised")
    anchor_batch(chain, tree)
    receipt = revoke_leaf(chain, tree, 2, key=PROVINCE)
    assert events(chain.certificates, receipt)[0][1]["actor"] == PROVINCE
    assert leaf_status(chain, tree, 2) == (Status.REVOKED, REASON)


def test_whole_batch_status_changes_apply_to_every_leaf(chain: Chain) -> None:
    tree = batch("whole batch")
    anchor_batch(chain, tree)
    revoke_leaf(chain, tree, 1)
    functions = chain.certificates.functions
    key = chain.keys[DISTRICT]
    chain.send(functions.suspend(tree.root, 7), key)
    assert leaf_status(chain, tree, 0) == (Status.SUSPENDED, 7)
    assert leaf_status(chain, tree, 1) == (Status.REVOKED, REASON)
    chain.send(functions.reinstate(tree.root), key)
    assert leaf_status(chain, tree, 0) == (Status.ACTIVE, 0)
    chain.send(functions.revoke(tree.root, 2), key)
    for index in range(len(tree)):
        assert leaf_status(chain, tree, index) == (Status.REVOKED, 2)
    # A revoked batch takes no more leaf revocations.
    with expect_revert(
        errors.CertificateRegistryInvalidStatus, docHash=tree.root, current=Status.REVOKED
    ):
        functions.revokeLeaf(tree.root, tree.leaves[0], tree.proof(0), REASON).transact(
            {"from": key}
        )


def test_leaf_status_is_none_without_a_valid_proof_or_batch(chain: Chain) -> None:
    tree = batch("views")
    functions = chain.certificates.functions
    assert leaf_status(chain, tree, 0) == (Status.NONE, 0)  # not anchored yet
    anchor_batch(chain, tree)
    other = batch("another batch")
    assert functions.leafStatusOf(tree.root, other.leaves[0], other.proof(0)).call() == [0, 0, 0, 0]
    assert functions.leafStatusOf(tree.root, tree.leaves[0], tree.proof(1)).call() == [0, 0, 0, 0]
    single = digest("a single document for views")
    chain.anchor(chain.keys[DISTRICT], single)
    assert functions.leafStatusOf(single, single, []).call() == [0, 0, 0, 0]


def test_an_inner_node_is_not_a_leaf(chain: Chain) -> None:
    tree = batch("inner node", 4)
    anchor_batch(chain, tree)
    inner, sibling = tree.levels[1][0], tree.levels[1][1]
    # The inner node as a "document hash" with the rest of a proof does not reach the root.
    status = chain.certificates.functions.leafStatusOf(tree.root, inner, [sibling]).call()
    assert status == [0, 0, 0, 0]
    assert leaf_node(tree.leaves[0]) == tree.levels[0][0]


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_every_leaf_of_any_size_verifies_on_chain(chain: Chain, size: int) -> None:
    tree = batch(f"size {size}", size)
    anchor_batch(chain, tree)
    for index in range(size):
        assert leaf_status(chain, tree, index) == (Status.ACTIVE, 0)
