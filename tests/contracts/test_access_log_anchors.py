"""AccessLogAnchors: the access log's batches anchored by governance alone, one slot each, ranges
strictly increasing; every refusal with its named error; the client's calls and reads; and the
shared Merkle rule (a log entry proves against an anchored root, an altered one does not)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

import pytest
import rfc8785
from eth_tester.exceptions import TransactionFailed
from hexbytes import HexBytes
from hypothesis import given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from ledger import errors
from ledger.chain.transactions import rpc_guard
from ledger.contracts import AccessLogAnchor, AccessLogAnchorsClient, ChainContext, Deployment
from ledger.contracts.artifacts import load_artifact
from ledger.documents.keccak import keccak256
from ledger.documents.merkle import MerkleTree, verify_proof
from tests.contracts.conftest import (
    DISTRICT,
    ZERO32,
    ZERO_ADDRESS,
    Chain,
    decode_failure,
    digest,
    events,
    expect_revert,
    mapping_slot,
)

#: Storage slots: Ownable's owner (0), Ownable2Step's pending owner (1), then the contract's own.
ANCHORS_SLOT: Final = 2
LAST_SEQ_SLOT: Final = 3
ROOT: Final = digest("access-log batch 1")


@pytest.fixture
def anchors(chain: Chain) -> Contract:
    return chain.deploy("AccessLogAnchors", chain.governance)


@pytest.fixture
def client(chain: Chain, anchors: Contract) -> AccessLogAnchorsClient:
    return AccessLogAnchorsClient(ChainContext(chain.w3, deployment(chain, anchors.address)))


@pytest.fixture(scope="module")
def module_anchors(module_chain: Chain) -> Contract:
    """One contract for the module's Hypothesis test (each example runs isolated)."""
    return module_chain.deploy("AccessLogAnchors", module_chain.governance)


def deployment(chain: Chain, access_log: Any) -> Deployment:
    return Deployment(
        chain_id=chain.w3.eth.chain_id,
        department_registry=chain.registry.address,
        certificate_registry=chain.certificates.address,
        credit_ledger=chain.credit.address,
        block=0,
        genesis_hash=HexBytes(chain.w3.eth.get_block(0)["hash"]).to_0x_hex(),
        access_log=access_log,
    )


def anchor(chain: Chain, anchors: Contract, root: bytes, first: int, last: int) -> Any:
    return chain.send(anchors.functions.anchor(root, first, last), chain.governance)


def test_deploying_without_governance_is_refused(chain: Chain) -> None:
    artifact = load_artifact("AccessLogAnchors")
    factory = chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    with expect_revert(errors.OwnableInvalidOwner, owner=ZERO_ADDRESS):
        factory.constructor(ZERO_ADDRESS).transact({"from": chain.governance})


def test_an_anchor_records_its_range_time_and_event(chain: Chain, anchors: Contract) -> None:
    functions = anchors.functions
    assert functions.owner().call() == chain.governance
    assert functions.lastSeq().call() == 0
    assert functions.anchorOf(ROOT).call() == [0, 0, 0]

    receipt = anchor(chain, anchors, ROOT, 1, 5)
    assert events(anchors, receipt) == [
        ("AccessLogAnchored", {"root": ROOT, "firstSeq": 1, "lastSeq": 5})
    ]
    assert functions.anchorOf(ROOT).call() == [1, 5, chain.timestamp_of(receipt)]
    assert functions.lastSeq().call() == 5

    # One entry is a batch; a gap (sequence numbers the database skipped) is allowed.
    single, gap = digest("batch 2"), digest("batch 3")
    anchor(chain, anchors, single, 6, 6)
    anchor(chain, anchors, gap, 10, 2**64 - 1)
    assert functions.anchorOf(single).call()[:2] == [6, 6]
    assert functions.anchorOf(gap).call()[:2] == [10, 2**64 - 1]
    assert functions.lastSeq().call() == 2**64 - 1
    assert functions.anchorOf(digest("never anchored")).call() == [0, 0, 0]


def test_an_anchor_takes_one_storage_slot(chain: Chain, anchors: Contract) -> None:
    receipt = anchor(chain, anchors, ROOT, 7, 300)
    word = int.from_bytes(chain.mapping_word(anchors, ROOT, ANCHORS_SLOT), "big")
    # firstSeq, lastSeq and anchoredAt packed low to high into the one word; the next is unused.
    assert word == 7 | 300 << 64 | chain.timestamp_of(receipt) << 128
    next_slot = chain.w3.eth.get_storage_at(anchors.address, mapping_slot(ROOT, ANCHORS_SLOT) + 1)
    assert bytes(next_slot) == ZERO32
    last = chain.w3.eth.get_storage_at(anchors.address, LAST_SEQ_SLOT)
    assert int.from_bytes(bytes(last), "big") == 300


def test_only_governance_anchors(chain: Chain, anchors: Contract) -> None:
    call = anchors.functions.anchor(ROOT, 1, 1)
    with expect_revert(errors.OwnableUnauthorizedAccount, account=chain.outsider):
        call.transact({"from": chain.outsider})
    with expect_revert(errors.OwnableUnauthorizedAccount, account=chain.keys[DISTRICT]):
        call.transact({"from": chain.keys[DISTRICT]})
    assert anchors.functions.lastSeq().call() == 0


def test_every_refusal_names_its_error(chain: Chain, anchors: Contract) -> None:
    functions = anchors.functions

    def attempt(root: bytes, first: int, last: int) -> object:
        return functions.anchor(root, first, last).transact({"from": chain.governance})

    with expect_revert(errors.AccessLogAnchorsInvalidRoot, root=ZERO32):
        attempt(ZERO32, 1, 1)
    with expect_revert(errors.AccessLogAnchorsInvalidRange, firstSeq=0, lastSeq=3):
        attempt(ROOT, 0, 3)
    with expect_revert(errors.AccessLogAnchorsInvalidRange, firstSeq=5, lastSeq=4):
        attempt(ROOT, 5, 4)
    anchor(chain, anchors, ROOT, 1, 5)
    with expect_revert(errors.AccessLogAnchorsDuplicateRoot, root=ROOT):
        attempt(ROOT, 6, 9)
    other = digest("access-log batch 2")
    with expect_revert(errors.AccessLogAnchorsRangeNotAfter, firstSeq=5, anchoredLastSeq=5):
        attempt(other, 5, 9)  # overlaps the last batch
    with expect_revert(errors.AccessLogAnchorsRangeNotAfter, firstSeq=2, anchoredLastSeq=5):
        attempt(other, 2, 4)  # before it
    with expect_revert(errors.AccessLogAnchorsRangeNotAfter, firstSeq=1, anchoredLastSeq=5):
        attempt(other, 1, 5)  # the same range again under another root
    assert functions.anchorOf(other).call() == [0, 0, 0]
    assert functions.lastSeq().call() == 5
    anchor(chain, anchors, other, 6, 9)
    assert functions.lastSeq().call() == 9


def test_two_step_ownership_transfer(chain: Chain, anchors: Contract) -> None:
    functions = anchors.functions
    successor = chain.spare[0]
    started = chain.send(functions.transferOwnership(successor), chain.governance)
    assert events(anchors, started) == [
        ("OwnershipTransferStarted", {"previousOwner": chain.governance, "newOwner": successor})
    ]
    assert functions.owner().call() == chain.governance
    assert functions.pendingOwner().call() == successor
    # Until accepted, the old authority still anchors and the successor does not.
    with expect_revert(errors.OwnableUnauthorizedAccount, account=successor):
        functions.anchor(ROOT, 1, 1).transact({"from": successor})
    with expect_revert(errors.OwnableUnauthorizedAccount, account=chain.outsider):
        functions.acceptOwnership().transact({"from": chain.outsider})

    accepted = chain.send(functions.acceptOwnership(), successor)
    assert events(anchors, accepted) == [
        ("OwnershipTransferred", {"previousOwner": chain.governance, "newOwner": successor})
    ]
    assert functions.owner().call() == successor
    assert functions.pendingOwner().call() == ZERO_ADDRESS
    with expect_revert(errors.OwnableUnauthorizedAccount, account=chain.governance):
        functions.anchor(ROOT, 1, 1).transact({"from": chain.governance})
    chain.send(functions.anchor(ROOT, 1, 1), successor)
    assert functions.lastSeq().call() == 1


def test_renouncing_governance_is_disabled(chain: Chain, anchors: Contract) -> None:
    functions = anchors.functions
    with expect_revert(errors.AccessLogAnchorsRenounceDisabled):
        functions.renounceOwnership().transact({"from": chain.governance})
    with expect_revert(errors.OwnableUnauthorizedAccount, account=chain.outsider):
        functions.renounceOwnership().call({"from": chain.outsider})
    assert functions.owner().call() == chain.governance


def _expected_refusal(
    anchored: dict[bytes, tuple[int, int]], last: int, attempt: tuple[bytes, int, int]
) -> tuple[str, dict[str, object]] | None:
    """The contract's documented rule, in order: the refusal an attempt gets, or None."""
    root, first_seq, last_seq = attempt
    if root == ZERO32:
        return "AccessLogAnchorsInvalidRoot", {"root": root}
    if root in anchored:
        return "AccessLogAnchorsDuplicateRoot", {"root": root}
    if first_seq == 0 or last_seq < first_seq:
        return "AccessLogAnchorsInvalidRange", {"firstSeq": first_seq, "lastSeq": last_seq}
    if first_seq <= last:
        return "AccessLogAnchorsRangeNotAfter", {"firstSeq": first_seq, "anchoredLastSeq": last}
    return None


ROOTS: Final = (ZERO32, *(digest(f"root {index}") for index in range(4)))


@settings(max_examples=40, deadline=None)
@given(
    attempts=st.lists(
        st.tuples(st.sampled_from(ROOTS), st.integers(0, 12), st.integers(0, 12)), max_size=8
    )
)
def test_any_sequence_of_anchors_follows_the_rule(
    module_chain: Chain, module_anchors: Contract, attempts: list[tuple[bytes, int, int]]
) -> None:
    """Whatever governance sends, batches are unique, non-empty and strictly increasing, and the
    contract agrees with the rule call by call."""
    anchored: dict[bytes, tuple[int, int]] = {}
    last = 0
    with module_chain.isolated() as chain:
        functions = module_anchors.functions
        for attempt in attempts:
            expected = _expected_refusal(anchored, last, attempt)
            call = functions.anchor(*attempt)
            if expected is None:
                chain.send(call, chain.governance)
                anchored[attempt[0]] = attempt[1:]
                last = attempt[2]
                continue
            with pytest.raises(TransactionFailed) as refused:
                call.transact({"from": chain.governance})
            decoded = decode_failure(refused.value)
            assert decoded is not None
            assert (decoded.error_name, decoded.arguments) == expected
        assert functions.lastSeq().call() == last
        for root in ROOTS:
            first_seq, last_seq, at = functions.anchorOf(root).call()
            assert (first_seq, last_seq) == anchored.get(root, (0, 0))
            assert (at != 0) is (root in anchored)


# ----------------------------------------------------------------------------------------------
# The client
# ----------------------------------------------------------------------------------------------


def test_the_client_builds_the_anchor_call_and_reads_it_back(
    chain: Chain, client: AccessLogAnchorsClient
) -> None:
    assert client.version() == "1.0.0"
    assert client.last_seq() == 0
    assert client.anchor_of(ROOT) is None
    receipt = chain.send(client.anchor(ROOT, 1, 3), chain.governance)
    anchored = datetime.fromtimestamp(chain.timestamp_of(receipt), UTC)
    assert client.anchor_of(ROOT) == AccessLogAnchor(1, 3, anchored)
    assert client.anchor_of(ROOT, block=receipt["blockNumber"] - 1) is None
    assert client.last_seq() == 3
    found = client.anchor_of(ROOT)
    assert found is not None
    assert [found.covers(seq) for seq in (0, 1, 3, 4)] == [False, True, True, False]


def test_the_client_refuses_bad_arguments_and_decodes_reverts(
    chain: Chain, client: AccessLogAnchorsClient
) -> None:
    with pytest.raises(errors.ValidationError, match="Merkle root"):
        client.anchor(b"short", 1, 1)
    for first, last in ((-1, 1), (1, 2**64), (True, 1)):
        with pytest.raises(errors.ValidationError, match="sequence number"):
            client.anchor(ROOT, first, last)
    with expect_revert(errors.AccessLogAnchorsInvalidRange, firstSeq=3, lastSeq=2):
        client.anchor(ROOT, 3, 2).transact({"from": chain.governance})
    # What a sender does with a refused call: the named ledger error, with its arguments.
    call = client.anchor(ROOT, 3, 2)
    with pytest.raises(errors.AccessLogAnchorsInvalidRange) as refused:
        rpc_guard(lambda: call.call({"from": chain.governance}))
    assert refused.value.arguments == {"firstSeq": 3, "lastSeq": 2}


def test_a_deployment_without_the_contract_has_no_client(chain: Chain) -> None:
    with pytest.raises(errors.NotDeployedError, match="ledger init"):
        AccessLogAnchorsClient(ChainContext(chain.w3, deployment(chain, None)))


# ----------------------------------------------------------------------------------------------
# The Merkle rule of the log (shared with ledger.service.access_log)
# ----------------------------------------------------------------------------------------------


def _leaf(entry: dict[str, Any]) -> bytes:
    """keccak256 of the entry's RFC 8785 text: the leaf value the tree hashes into its node."""
    return keccak256(rfc8785.dumps(entry))


def test_an_entry_proves_against_the_anchored_root_and_an_altered_one_does_not(
    chain: Chain, client: AccessLogAnchorsClient
) -> None:
    entries = [
        {
            "seq": seq,
            "at": 1_760_000_000 + seq,
            "subject": "0x" + digest(f"subject {seq % 2}").hex(),
            "action": "window.check",
            "department": {"id": 2, "name": "东城区市场监督管理局"},
            "window": "window 3",
            "service": "enterprise-opening",
            "records": ["0x" + digest(f"certificate {seq}").hex()],
        }
        for seq in range(1, 6)
    ]
    tree = MerkleTree.build([_leaf(entry) for entry in entries])
    chain.send(client.anchor(tree.root, 1, 5), chain.governance)
    anchored = client.anchor_of(tree.root)
    assert anchored is not None
    assert anchored.covers(3)

    proof = tree.proof(2)
    assert verify_proof(_leaf(entries[2]), proof, tree.root)
    altered = {**entries[2], "window": "another window"}
    assert not verify_proof(_leaf(altered), proof, tree.root)
    # An entry removed from the database leaves a tree with another root, unknown on chain.
    without = MerkleTree.build([_leaf(entry) for index, entry in enumerate(entries) if index != 2])
    assert client.anchor_of(without.root) is None
