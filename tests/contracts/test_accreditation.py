"""AccreditationCache (shared by both consumers): replica writes, the hot-path authorization
checks on every write function, key windows, supervision depth, regions, and error coverage."""

from __future__ import annotations

import ast
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from eth_typing import ChecksumAddress
from hypothesis import given, settings
from hypothesis import strategies as st
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from ledger import errors
from ledger.documents.merkle import MerkleTree
from tests.contracts.conftest import (
    BEIJING,
    BUSINESS_LICENCE,
    CERTIFICATE_KIND,
    CITY,
    CREDIT_KIND,
    DEPARTMENTS,
    DISTRICT,
    DONGCHENG,
    OPEN_ENDED,
    PROVINCE,
    SHANGHAI,
    TAX_COMPLIANCE,
    ZERO32,
    Amendment,
    Chain,
    Denial,
    Status,
    abi_entries,
    abi_error_names,
    certificate_terms,
    credit_terms,
    digest,
    events,
    expect_revert,
)

REASON = 5
DAY = 86_400


# ----------------------------------------------------------------------------------------------
# Replica writes: syncGrants / syncSupervisor / grantOf
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sink_name", ["certificates", "credit"])
@pytest.mark.parametrize("function_name", ["syncGrants", "syncSupervisor"])
def test_only_the_registry_writes_the_replica(
    chain: Chain, sink_name: str, function_name: str
) -> None:
    sink: Contract = getattr(chain, sink_name)
    grant = (chain.outsider, BUSINESS_LICENCE, CITY, BEIJING, 0, OPEN_ENDED, True)
    function = (
        sink.functions.syncGrants([grant])
        if function_name == "syncGrants"
        else sink.functions.syncSupervisor(DISTRICT, CITY)
    )
    for caller in (chain.outsider, chain.governance, chain.keys[PROVINCE]):
        with expect_revert(errors.AccreditationUnauthorizedSync, caller=caller):
            function.transact({"from": caller})
    assert chain.grant(sink, chain.outsider, BUSINESS_LICENCE)["departmentId"] == 0


@dataclass
class StandIn:
    """Consumers whose ``DEPARTMENT_REGISTRY`` is a plain account, so a test can write the
    replica directly (the registry contract always writes whole, consistent grants)."""

    certificates: Contract
    credit: Contract
    registry: ChecksumAddress


@pytest.fixture(scope="module")
def consumer(module_chain: Chain) -> StandIn:
    """Deployed once per module, before any test's snapshot, so it is part of the baseline."""
    registry = module_chain.spare[3]
    return StandIn(
        certificates=module_chain.deploy("CertificateRegistry", registry),
        credit=module_chain.deploy("CreditLedger", registry),
        registry=registry,
    )


def test_sync_grants_and_supervisor_written_directly(chain: Chain, consumer: StandIn) -> None:
    assert consumer.certificates.functions.DEPARTMENT_REGISTRY().call() == consumer.registry
    issuer_key, supervisor_key = chain.spare[0], chain.spare[1]
    now = chain.now()
    updates = [
        (issuer_key, BUSINESS_LICENCE, 40, BEIJING, now - 10, now + DAY, True),
        (supervisor_key, BUSINESS_LICENCE, 41, BEIJING, now - 10, OPEN_ENDED, True),
    ]
    receipt = chain.send(consumer.certificates.functions.syncGrants(updates), consumer.registry)
    assert events(consumer.certificates, receipt) == []
    assert chain.grant(consumer.certificates, issuer_key, BUSINESS_LICENCE) == {
        "departmentId": 40,
        "region": BEIJING,
        "validFrom": now - 10,
        "validUntil": now + DAY,
        "active": True,
    }
    # The hot path trusts the replica alone: the issuer is the grant's department.
    doc_hash = digest("stand-in licence")
    terms = certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
    chain.send(consumer.certificates.functions.anchorCertificate(doc_hash, terms), issuer_key)
    assert consumer.certificates.functions.certificateOf(doc_hash).call()[0] == 40
    revoke = consumer.certificates.functions.revoke(doc_hash, REASON)
    with expect_revert(errors.AccreditationNotIssuer, signer=supervisor_key, issuer=40):
        revoke.transact({"from": supervisor_key})
    synced = chain.send(consumer.certificates.functions.syncSupervisor(40, 41), consumer.registry)
    assert events(consumer.certificates, synced) == []
    chain.send(revoke, supervisor_key)
    assert consumer.certificates.functions.certificateOf(doc_hash).call()[6] == Status.REVOKED
    # A later update replaces the grant for the same (signer, scope).
    updates[0] = (issuer_key, BUSINESS_LICENCE, 40, BEIJING, now - 10, now + DAY, False)
    chain.send(consumer.certificates.functions.syncGrants(updates[:1]), consumer.registry)
    assert chain.grant(consumer.certificates, issuer_key, BUSINESS_LICENCE)["active"] is False


def test_credit_replica_written_directly(chain: Chain, consumer: StandIn) -> None:
    recorder_key, supervisor_key = chain.spare[0], chain.spare[1]
    now = chain.now()
    updates = [
        (recorder_key, TAX_COMPLIANCE, 50, SHANGHAI, now, OPEN_ENDED, True),
        (supervisor_key, TAX_COMPLIANCE, 51, BEIJING, now, OPEN_ENDED, True),
    ]
    chain.send(consumer.credit.functions.syncGrants(updates), consumer.registry)
    identifier, _ = record_on(chain, consumer.credit, recorder_key)
    assert consumer.credit.functions.eventOf(identifier).call()[0] == 50
    amend = consumer.credit.functions.amend(identifier, Amendment.WITHDRAWN, digest("why"))
    with expect_revert(errors.AccreditationNotIssuer, signer=supervisor_key, issuer=50):
        amend.transact({"from": supervisor_key})
    chain.send(consumer.credit.functions.syncSupervisor(50, 51), consumer.registry)
    receipt = chain.send(amend, supervisor_key)
    assert events(consumer.credit, receipt)[0][1]["actor"] == 51
    # Clearing the link (supervisor 0) withdraws the power again.
    chain.send(consumer.credit.functions.syncSupervisor(50, 0), consumer.registry)
    dispute = consumer.credit.functions.amend(identifier, Amendment.DISPUTED, digest("again"))
    with expect_revert(errors.AccreditationNotIssuer, signer=supervisor_key, issuer=50):
        dispute.transact({"from": supervisor_key})


def record_on(chain: Chain, credit: Contract, key: ChecksumAddress) -> tuple[bytes, TxReceipt]:
    """Record a negative tax event on ``credit`` (any CreditLedger) from ``key``."""
    terms = credit_terms(TAX_COMPLIANCE, 0, 2, chain.now() - DAY)
    receipt = chain.send(credit.functions.record(digest("s"), terms, digest("e")), key)
    ((_, arguments),) = events(credit, receipt)
    return bytes(arguments["eventId"]), receipt


@settings(max_examples=15, deadline=None)
@given(
    scope=st.integers(0, 2**32 - 1),
    department_id=st.integers(0, 2**32 - 1),
    region=st.integers(0, 2**24 - 1),
    valid_from=st.integers(0, 2**40 - 1),
    valid_until=st.integers(0, 2**40 - 1),
    active=st.booleans(),
)
def test_grant_of_round_trips_every_field(
    module_chain: Chain,
    consumer: StandIn,
    scope: int,
    department_id: int,
    region: int,
    valid_from: int,
    valid_until: int,
    active: bool,
) -> None:
    with module_chain.isolated() as chain:
        signer = chain.spare[0]
        neighbour = (signer, scope ^ 1, 7, 110000, 1, 2, True)
        update = (signer, scope, department_id, region, valid_from, valid_until, active)
        for sink in (consumer.certificates, consumer.credit):
            chain.send(sink.functions.syncGrants([neighbour, update]), consumer.registry)
            assert chain.grant(sink, signer, scope) == {
                "departmentId": department_id,
                "region": region,
                "validFrom": valid_from,
                "validUntil": valid_until,
                "active": active,
            }
            assert chain.grant(sink, signer, scope ^ 1)["departmentId"] == 7


def test_registry_pushes_grants_to_both_sinks(chain: Chain) -> None:
    for department_id, (region, scopes) in DEPARTMENTS.items():
        key = chain.keys[department_id]
        _, valid_from, valid_until, retired_early = chain.registry.functions.signerKey(key).call()
        assert retired_early is False
        for scope in scopes:
            sink = chain.certificates if scope >> 24 == CERTIFICATE_KIND else chain.credit
            other = chain.credit if sink is chain.certificates else chain.certificates
            assert chain.grant(sink, key, scope) == {
                "departmentId": department_id,
                "region": region,
                "validFrom": valid_from,
                "validUntil": valid_until,
                "active": True,
            }
            assert chain.grant(other, key, scope)["departmentId"] == 0


# ----------------------------------------------------------------------------------------------
# Every write function against every kind of denial
# ----------------------------------------------------------------------------------------------


@dataclass
class Records:
    """Records of DISTRICT that the write functions act on."""

    active: bytes
    suspended: bytes
    credit_event: bytes
    batch: MerkleTree


def prepare_records(chain: Chain) -> Records:
    key = chain.keys[DISTRICT]
    active, suspended = digest("active licence"), digest("suspended licence")
    chain.anchor(key, active)
    chain.anchor(key, suspended)
    chain.send(chain.certificates.functions.suspend(suspended, REASON), key)
    credit_event, _ = chain.record(key, digest("subject"))
    batch = MerkleTree.build([digest(f"batched licence {index}") for index in range(3)])
    chain.send(
        chain.certificates.functions.anchorBatchedCertificates(batch.root, LICENCE_TERMS), key
    )
    return Records(active=active, suspended=suspended, credit_event=credit_event, batch=batch)


WriteCall = Callable[[Chain, Records], ContractFunction]
LICENCE_TERMS = certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)

WRITE_CALLS: dict[str, WriteCall] = {
    "anchorCertificate": lambda c, r: c.certificates.functions.anchorCertificate(
        digest("new"), LICENCE_TERMS
    ),
    "anchorCertificateFor": lambda c, r: c.certificates.functions.anchorCertificateFor(
        digest("new"), LICENCE_TERMS, digest("holder"), b"\x01cid"
    ),
    "anchorBatchedCertificates": lambda c, r: c.certificates.functions.anchorBatchedCertificates(
        digest("new batch root"), LICENCE_TERMS
    ),
    "revokeLeaf": lambda c, r: c.certificates.functions.revokeLeaf(
        r.batch.root, r.batch.leaves[1], r.batch.proof(1), REASON
    ),
    "suspend": lambda c, r: c.certificates.functions.suspend(r.active, REASON),
    "reinstate": lambda c, r: c.certificates.functions.reinstate(r.suspended),
    "revoke": lambda c, r: c.certificates.functions.revoke(r.active, REASON),
    "supersede": lambda c, r: c.certificates.functions.supersede(
        r.active, digest("new"), 0, ZERO32, b"", REASON
    ),
    "record": lambda c, r: c.credit.functions.record(
        digest("subject"), credit_terms(TAX_COMPLIANCE, 0, 2, c.now() - DAY), digest("evidence")
    ),
    "recordWithEvidence": lambda c, r: c.credit.functions.recordWithEvidence(
        digest("subject"),
        credit_terms(TAX_COMPLIANCE, 0, 2, c.now() - DAY),
        digest("evidence"),
        b"\x01cid",
    ),
    "amend": lambda c, r: c.credit.functions.amend(
        r.credit_event, Amendment.DISPUTED, digest("reason")
    ),
}
WRITES = sorted(WRITE_CALLS)
CREDIT_WRITES = {"record", "recordWithEvidence", "amend"}


def test_write_table_lists_every_accredited_write(chain: Chain) -> None:
    replica = {"syncGrants", "syncSupervisor"}
    governance_only = {"setDisclosurePeriod"}
    found = {
        str(entry["name"])
        for contract in (chain.certificates, chain.credit)
        for entry in abi_entries(contract, "function")
        if entry["stateMutability"] == "nonpayable"
    }
    assert found == set(WRITE_CALLS) | replica | governance_only


@pytest.mark.parametrize("function_name", WRITES)
def test_writes_by_an_unknown_key(chain: Chain, function_name: str) -> None:
    call = WRITE_CALLS[function_name](chain, prepare_records(chain))
    for caller in (chain.outsider, chain.governance):
        with expect_revert(errors.AccreditationUnknownSigner, signer=caller):
            call.transact({"from": caller})


@pytest.mark.parametrize("function_name", WRITES)
def test_writes_by_a_suspended_department(chain: Chain, function_name: str) -> None:
    records = prepare_records(chain)
    key = chain.keys[DISTRICT]
    call = WRITE_CALLS[function_name](chain, records)
    chain.send(chain.registry.functions.suspendDepartment(DISTRICT), chain.governance)
    with expect_revert(errors.AccreditationDepartmentSuspended, signer=key):
        call.transact({"from": key})
    chain.send(chain.registry.functions.reinstateDepartment(DISTRICT), chain.governance)
    chain.send(WRITE_CALLS[function_name](chain, records), key)


@pytest.mark.parametrize("function_name", WRITES)
def test_writes_without_the_scope(chain: Chain, function_name: str) -> None:
    records = prepare_records(chain)
    key = chain.keys[DISTRICT]
    scope = TAX_COMPLIANCE if function_name in CREDIT_WRITES else BUSINESS_LICENCE
    chain.send(chain.registry.functions.revokeScopes(DISTRICT, [scope]), chain.governance)
    with expect_revert(errors.AccreditationScopeNotGranted, signer=key, scope=scope):
        WRITE_CALLS[function_name](chain, records).transact({"from": key})


@pytest.mark.parametrize("function_name", WRITES)
def test_writes_by_a_rotated_out_key(chain: Chain, function_name: str) -> None:
    old, new = chain.keys[DISTRICT], chain.spare[0]
    records = prepare_records(chain)
    made_at = chain.now() - 1
    rotated = chain.send(chain.registry.functions.rotateSigner(old, new, 0), chain.governance)
    rotated_at = chain.timestamp_of(rotated)
    with expect_revert(errors.AccreditationKeyExpired, signer=old):
        WRITE_CALLS[function_name](chain, records).transact({"from": old})
    # What the old key made stays as it was, and stays attributable to an authorized key.
    assert chain.certificate(records.active)["status"] == Status.ACTIVE
    assert chain.certificate(records.suspended)["status"] == Status.SUSPENDED
    assert chain.credit.functions.eventOf(records.credit_event).call()[0] == DISTRICT
    assert chain.registry.functions.isAuthorized(old, BUSINESS_LICENCE, made_at).call() is True
    assert chain.registry.functions.isAuthorized(old, TAX_COMPLIANCE, made_at).call() is True
    # History counts the second of the rotation on the earlier side.
    assert chain.registry.functions.isAuthorized(old, BUSINESS_LICENCE, rotated_at).call() is True
    assert (
        chain.registry.functions.isAuthorized(old, TAX_COMPLIANCE, rotated_at + 1).call() is False
    )
    chain.send(WRITE_CALLS[function_name](chain, records), new)


@pytest.mark.parametrize("function_name", WRITES)
def test_writes_before_and_after_the_key_window(chain: Chain, function_name: str) -> None:
    records = prepare_records(chain)
    key = chain.spare[0]
    valid_from, valid_until = chain.now() + DAY, chain.now() + 3 * DAY
    chain.send(
        chain.registry.functions.addSigner(DISTRICT, key, valid_from, valid_until),
        chain.governance,
    )
    call = WRITE_CALLS[function_name]
    with expect_revert(errors.AccreditationKeyNotYetValid, signer=key):
        call(chain, records).transact({"from": key})
    chain.travel_to(valid_from - 1)
    with expect_revert(errors.AccreditationKeyNotYetValid, signer=key):
        call(chain, records).transact({"from": key})
    with chain.isolated():
        chain.travel_to(valid_from)
        chain.send(call(chain, records), key)
    with chain.isolated():
        chain.travel_to(valid_until - 1)
        chain.send(call(chain, records), key)
    chain.travel_to(valid_until)
    with expect_revert(errors.AccreditationKeyExpired, signer=key):
        call(chain, records).transact({"from": key})


def test_naturally_expired_key_retires_with_its_own_end(chain: Chain) -> None:
    key = chain.spare[0]
    valid_from, valid_until = chain.now(), chain.now() + 100
    chain.send(chain.registry.functions.addSigner(CITY, key, 0, valid_until), chain.governance)
    chain.travel(1_000)
    receipt = chain.send(chain.registry.functions.retireSigner(key), chain.governance)
    assert events(chain.registry, receipt) == [
        ("SignerRetired", {"departmentId": CITY, "signer": key, "validUntil": valid_until})
    ]
    # The retirement did not shorten the window: no extra second of history.
    assert tuple(chain.registry.functions.signerKey(key).call()) == (
        CITY,
        valid_from,
        valid_until,
        False,
    )
    assert chain.registry.functions.isAuthorized(key, BUSINESS_LICENCE, valid_until - 1).call()
    assert not chain.registry.functions.isAuthorized(key, BUSINESS_LICENCE, valid_until).call()


# ----------------------------------------------------------------------------------------------
# History: what was authorized stays authorized
# ----------------------------------------------------------------------------------------------


def test_records_outlive_rotation_suspension_and_scope_withdrawal(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    doc_hash = digest("issued before everything changed")
    receipt = chain.anchor(key, doc_hash)
    credit_event, _ = chain.record(key, digest("subject"))
    anchored_at = chain.timestamp_of(receipt)
    functions = chain.registry.functions
    chain.send(functions.rotateSigner(key, chain.spare[0], 0), chain.governance)
    chain.send(functions.suspendDepartment(DISTRICT), chain.governance)
    chain.send(functions.revokeScopes(DISTRICT, [BUSINESS_LICENCE]), chain.governance)
    later = chain.travel(DAY)

    assert chain.certificate(doc_hash)["status"] == Status.ACTIVE
    assert chain.credit.functions.isDisclosed(credit_event, later).call() is True
    assert functions.isAuthorized(key, BUSINESS_LICENCE, anchored_at).call() is True
    assert functions.denialOf(key, BUSINESS_LICENCE, DONGCHENG, anchored_at).call() == Denial.NONE
    assert functions.isDepartmentAuthorized(
        DISTRICT, BUSINESS_LICENCE, DONGCHENG, anchored_at
    ).call()
    assert functions.denialOf(key, BUSINESS_LICENCE, DONGCHENG, later).call() == (
        Denial.KEY_EXPIRED
    )
    assert functions.denialOf(chain.spare[0], BUSINESS_LICENCE, 0, later).call() == (
        Denial.SCOPE_NOT_GRANTED
    )
    assert functions.denialOf(chain.spare[0], TAX_COMPLIANCE, 0, later).call() == (
        Denial.DEPARTMENT_SUSPENDED
    )
    assert not functions.isDepartmentAuthorized(DISTRICT, TAX_COMPLIANCE, 0, later).call()


SAME_BLOCK_CHANGES: dict[str, Callable[[Chain], ContractFunction]] = {
    "suspendDepartment": lambda c: c.registry.functions.suspendDepartment(DISTRICT),
    "revokeScopes": lambda c: c.registry.functions.revokeScopes(DISTRICT, [BUSINESS_LICENCE]),
    "rotateSigner": lambda c: c.registry.functions.rotateSigner(c.keys[DISTRICT], c.spare[0], 0),
}


@pytest.mark.parametrize("change", sorted(SAME_BLOCK_CHANGES))
def test_a_change_in_a_later_block_keeps_the_record_authorized(chain: Chain, change: str) -> None:
    key = chain.keys[DISTRICT]
    doc_hash = digest("anchored one block before the change")
    chain.anchor(key, doc_hash)
    chain.send(SAME_BLOCK_CHANGES[change](chain), chain.governance)
    anchored_at = chain.certificate(doc_hash)["anchoredAt"]
    functions = chain.registry.functions
    assert functions.isAuthorized(key, BUSINESS_LICENCE, anchored_at).call() is True
    assert functions.isDepartmentAuthorized(
        DISTRICT, BUSINESS_LICENCE, DONGCHENG, anchored_at
    ).call()


#: What ``denialOf`` says of DISTRICT's key and a Dongcheng licence once the change applies.
DENIAL_AFTER_THE_CHANGE: dict[str, Denial] = {
    "suspendDepartment": Denial.DEPARTMENT_SUSPENDED,
    "revokeScopes": Denial.SCOPE_NOT_GRANTED,
    "rotateSigner": Denial.KEY_EXPIRED,
}


def refused_after(change: str, key: ChecksumAddress) -> AbstractContextManager[None]:
    """The precise refusal of a licence anchored by ``key`` once ``change`` applies."""
    if change == "suspendDepartment":
        return expect_revert(errors.AccreditationDepartmentSuspended, signer=key)
    if change == "revokeScopes":
        return expect_revert(
            errors.AccreditationScopeNotGranted, signer=key, scope=BUSINESS_LICENCE
        )
    assert change == "rotateSigner"
    return expect_revert(errors.AccreditationKeyExpired, signer=key)


@pytest.mark.parametrize("change", sorted(SAME_BLOCK_CHANGES))
def test_a_change_later_in_the_same_block_keeps_the_record_authorized(
    chain: Chain, change: str
) -> None:
    key = chain.keys[DISTRICT]
    doc_hash = digest("anchored just before the change")
    terms = certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
    _, changed = chain.send_in_one_block(
        (chain.certificates.functions.anchorCertificate(doc_hash, terms), key),
        (SAME_BLOCK_CHANGES[change](chain), chain.governance),
    )
    record = chain.certificate(doc_hash)
    assert record["status"] == Status.ACTIVE  # the anchor itself was accepted
    second = record["anchoredAt"]
    assert second == chain.timestamp_of(changed)
    functions = chain.registry.functions
    # History counts the whole second of the change on the earlier side: the record is
    # authorized at its own anchoredAt ...
    assert functions.isAuthorized(key, BUSINESS_LICENCE, second).call() is True
    assert functions.isDepartmentAuthorized(DISTRICT, BUSINESS_LICENCE, DONGCHENG, second).call()
    # ... while denialOf, asked about the current block's second, answers from the live state
    # (the consumers' failure path asks it that), where the change already applies.
    assert chain.w3.eth.get_block("latest")["timestamp"] == second
    assert (
        functions.denialOf(key, BUSINESS_LICENCE, DONGCHENG, second).call()
        == (DENIAL_AFTER_THE_CHANGE[change])
    )
    with refused_after(change, key):  # replayed at the end of that block, in its second
        chain.certificates.functions.anchorCertificate(digest("later"), terms).call({"from": key})
    # Once that second is past, history answers for it, and from the next second on the change
    # applies.
    chain.travel(DAY)
    assert functions.denialOf(key, BUSINESS_LICENCE, DONGCHENG, second).call() == Denial.NONE
    assert functions.isAuthorized(key, BUSINESS_LICENCE, second + 1).call() is False
    assert (
        functions.denialOf(key, BUSINESS_LICENCE, DONGCHENG, second + 1).call()
        == (DENIAL_AFTER_THE_CHANGE[change])
    )
    department_unaffected = change == "rotateSigner"  # only the key changed
    assert (
        functions.isDepartmentAuthorized(DISTRICT, BUSINESS_LICENCE, DONGCHENG, second + 1).call()
        is department_unaffected
    )


@pytest.mark.parametrize("change", sorted(SAME_BLOCK_CHANGES))
def test_a_write_later_in_the_same_block_as_a_change_is_refused(chain: Chain, change: str) -> None:
    key = chain.keys[DISTRICT]
    doc_hash = digest("anchored just after the change")
    anchor = chain.certificates.functions.anchorCertificate(doc_hash, LICENCE_TERMS)
    changed, refused = chain.mine_in_one_block(
        (SAME_BLOCK_CHANGES[change](chain), chain.governance), (anchor, key)
    )
    assert (changed["status"], refused["status"]) == (1, 0)
    assert chain.certificate(doc_hash)["status"] == Status.NONE
    # The precise reason, never AccreditationCacheStale: the registry's answer about the current
    # second reflects the change made earlier in it.
    with refused_after(change, key):
        anchor.call({"from": key})


# ----------------------------------------------------------------------------------------------
# Replica freshness
# ----------------------------------------------------------------------------------------------


def test_an_unsynced_sink_reports_a_stale_cache_until_resync(chain: Chain) -> None:
    certificates = chain.deploy("CertificateRegistry", chain.registry.address)
    credit = chain.deploy("CreditLedger", chain.registry.address)
    functions = chain.registry.functions
    chain.send(functions.setSink(CERTIFICATE_KIND, certificates.address), chain.governance)
    chain.send(functions.setSink(CREDIT_KIND, credit.address), chain.governance)
    key = chain.keys[CITY]
    anchor = certificates.functions.anchorCertificate(digest("x"), LICENCE_TERMS)
    record = credit.functions.record(
        digest("s"), credit_terms(TAX_COMPLIANCE, 0, 2, chain.now() - DAY), digest("e")
    )
    with expect_revert(errors.AccreditationCacheStale, signer=key, scope=BUSINESS_LICENCE):
        anchor.transact({"from": key})
    with expect_revert(errors.AccreditationCacheStale, signer=key, scope=TAX_COMPLIANCE):
        record.transact({"from": key})
    # Denials the registry agrees with are still named precisely.
    with expect_revert(errors.AccreditationUnknownSigner, signer=chain.outsider):
        anchor.transact({"from": chain.outsider})
    chain.send(functions.resync(CITY), chain.outsider)
    chain.send(anchor, key)
    chain.send(record, key)


def test_cross_kind_scopes_are_refused(chain: Chain) -> None:
    key = chain.keys[PROVINCE]  # holds both kinds
    functions = chain.certificates.functions
    with expect_revert(errors.AccreditationScopeNotGranted, signer=key, scope=TAX_COMPLIANCE):
        functions.anchorCertificate(
            digest("x"), certificate_terms(TAX_COMPLIANCE, DONGCHENG, 0)
        ).transact({"from": key})
    with expect_revert(errors.AccreditationScopeNotGranted, signer=key, scope=BUSINESS_LICENCE):
        chain.credit.functions.record(
            digest("s"), credit_terms(BUSINESS_LICENCE, 0, 2, chain.now()), digest("e")
        ).transact({"from": key})
    assert chain.certificate(digest("x"))["status"] == Status.NONE


@pytest.mark.parametrize("consumer", ["certificates", "credit"])
def test_cross_kind_scope_is_reported_as_not_granted(chain: Chain, consumer: str) -> None:
    key = chain.keys[PROVINCE]
    chain.send(chain.registry.functions.resync(PROVINCE), chain.outsider)
    if consumer == "certificates":
        call = chain.certificates.functions.anchorCertificate(
            digest("x"), certificate_terms(TAX_COMPLIANCE, DONGCHENG, 0)
        )
        scope, sink = TAX_COMPLIANCE, chain.credit
    else:
        call = chain.credit.functions.record(
            digest("s"), credit_terms(BUSINESS_LICENCE, 0, 2, chain.now()), digest("e")
        )
        scope, sink = BUSINESS_LICENCE, chain.certificates
    # The registry grants the scope, but to the sink of its own kind: the replica asked never
    # receives it, and a resync cannot change that, so the cache is not called stale.
    registry = chain.registry.functions
    assert registry.denialOf(key, scope, DONGCHENG, chain.now()).call() == Denial.NONE
    assert registry.sinkOf(scope >> 24).call() == sink.address
    assert chain.grant(sink, key, scope)["active"] is True
    with expect_revert(errors.AccreditationScopeNotGranted, signer=key, scope=scope):
        call.transact({"from": key})


# ----------------------------------------------------------------------------------------------
# Supervision depth
# ----------------------------------------------------------------------------------------------


def test_supervisors_up_to_four_links_may_act(chain: Chain) -> None:
    functions = chain.registry.functions
    chain_of_command = [21, 22, 23, 24, 25, 26]
    for department_id in chain_of_command:
        chain.send(
            functions.registerDepartment(
                department_id, BEIJING, digest(str(department_id)), [BUSINESS_LICENCE]
            ),
            chain.governance,
        )
    for lower, upper in pairwise(chain_of_command):
        chain.send(functions.setSupervisor(lower, upper), chain.governance)
    issuer_key, fourth_key, fifth_key = chain.spare[0], chain.spare[1], chain.spare[2]
    chain.send(functions.addSigner(21, issuer_key, 0, 0), chain.governance)
    chain.send(functions.addSigner(25, fourth_key, 0, 0), chain.governance)
    chain.send(functions.addSigner(26, fifth_key, 0, 0), chain.governance)
    doc_hash = digest("deep")
    chain.anchor(issuer_key, doc_hash)
    suspend = chain.certificates.functions.suspend(doc_hash, REASON)
    # The registry accepts the five-link chain, but the replica follows at most four links.
    with expect_revert(errors.AccreditationNotIssuer, signer=fifth_key, issuer=21):
        suspend.transact({"from": fifth_key})
    receipt = chain.send(suspend, fourth_key)
    assert events(chain.certificates, receipt)[0][1]["actor"] == 25


# ----------------------------------------------------------------------------------------------
# Regions (GB/T 2260)
# ----------------------------------------------------------------------------------------------


def reference_covers(served: int, region: int) -> bool:
    """GB/T 2260 coverage, from the code's meaning rather than the contract's arithmetic: a
    province (XX0000) covers every code starting XX, a prefecture (XXYY00) every code starting
    XXYY, a county only itself; region 0 means "no region stated"."""
    if region == 0:
        return True
    code, served_code = str(region), f"{served:06d}"
    if len(code) != 6:
        return False
    if served_code.endswith("0000"):
        return code.startswith(served_code[:2])
    if served_code.endswith("00"):
        return code.startswith(served_code[:4])
    return code == served_code


def gbt_codes() -> st.SearchStrategy[int]:
    """Six-digit codes biased towards shared prefixes, so both outcomes are common."""
    province = st.sampled_from([11, 31]) | st.integers(10, 99)
    lower = st.sampled_from([0, 0, 1]) | st.integers(0, 99)
    return st.builds(lambda p, c, d: p * 10_000 + c * 100 + d, province, lower, lower)


RECORD_REGIONS = gbt_codes() | st.just(0) | st.integers(0, 2**24 - 1)


@settings(max_examples=30, deadline=None)
@given(region=RECORD_REGIONS)
def test_region_coverage_of_the_cast_matches_the_reference(
    module_chain: Chain, region: int
) -> None:
    now = module_chain.now()
    functions = module_chain.registry.functions
    for department_id in (PROVINCE, CITY, DISTRICT):  # one of each GB/T 2260 level
        served = DEPARTMENTS[department_id][0]
        covered = reference_covers(served, region)
        assert (
            functions.isDepartmentAuthorized(department_id, BUSINESS_LICENCE, region, now).call()
            is covered
        )
        denial = functions.denialOf(
            module_chain.keys[department_id], BUSINESS_LICENCE, region, now
        ).call()
        assert denial == (Denial.NONE if covered else Denial.REGION_NOT_COVERED)


@settings(max_examples=25, deadline=None)
@given(served=gbt_codes(), region=RECORD_REGIONS)
def test_anchoring_region_coverage_matches_the_reference(
    module_chain: Chain, served: int, region: int
) -> None:
    with module_chain.isolated() as chain:
        functions = chain.registry.functions
        chain.send(
            functions.registerDepartment(30, served, digest("random"), [BUSINESS_LICENCE]),
            chain.governance,
        )
        key = chain.spare[0]
        chain.send(functions.addSigner(30, key, 0, 0), chain.governance)
        doc_hash = digest(f"region {served} {region}")
        anchor = chain.certificates.functions.anchorCertificate(
            doc_hash, certificate_terms(BUSINESS_LICENCE, region, 0)
        )
        if region == 0:
            with expect_revert(errors.CertificateRegistryInvalidRegion, region=0):
                anchor.transact({"from": key})
        elif reference_covers(served, region):
            chain.send(anchor, key)
            assert chain.certificate(doc_hash)["region"] == region
            assert chain.certificate(doc_hash)["issuer"] == 30
        else:
            with expect_revert(errors.AccreditationRegionNotCovered, signer=key, region=region):
                anchor.transact({"from": key})


def test_reference_covers_examples() -> None:
    assert reference_covers(110000, 110101)
    assert reference_covers(110100, 110101)
    assert reference_covers(110101, 110101)
    assert reference_covers(110101, 0)
    assert not reference_covers(110101, 110102)
    assert not reference_covers(110100, 110000)
    assert not reference_covers(110000, 310000)
    assert not reference_covers(110000, 1_100_000)
    assert not reference_covers(110000, 11_000)


# ----------------------------------------------------------------------------------------------
# Every custom error of the three ABIs is triggered by the suite
# ----------------------------------------------------------------------------------------------


def _is_xfail(node: ast.FunctionDef) -> bool:
    return any("xfail" in ast.unparse(decorator) for decorator in node.decorator_list)


def errors_asserted_by_the_suite() -> set[str]:
    """Names passed as ``expect_revert(errors.<Name>, ...)`` outside xfail-marked tests.

    ``expect_revert`` fails unless the call reverts with exactly that error, so with the suite
    green every name here was triggered (statically collected: xdist splits the suite over
    processes, so a runtime set would only see one worker's share).
    """
    found: set[str] = set()
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in (node for node in tree.body if isinstance(node, ast.FunctionDef)):
            if _is_xfail(function) or function.name.startswith("_"):
                continue  # xfail tests do not pass; _helpers pass the error class through
            for call in (node for node in ast.walk(function) if isinstance(node, ast.Call)):
                if isinstance(call.func, ast.Name) and call.func.id == "expect_revert":
                    target = call.args[0]
                    assert isinstance(target, ast.Attribute), ast.unparse(call)
                    assert ast.unparse(target.value) == "errors", ast.unparse(call)
                    found.add(target.attr)
    return found


def test_every_abi_error_is_triggered_by_some_test() -> None:
    asserted = errors_asserted_by_the_suite()
    declared = abi_error_names()
    assert declared - asserted == set(), "errors no test triggers"
    assert asserted - declared == set(), "asserted errors that no ABI declares"
    assert len(declared) == 60


def _checked(
    error: type[errors.ContractError], arguments: dict[str, object], action: Callable[[], object]
) -> None:
    with expect_revert(error, **arguments):
        action()


def test_expect_revert_itself_can_fail(chain: Chain) -> None:
    unknown = digest("not anchored")
    revoke = chain.certificates.functions.revoke(unknown, REASON)

    def attempt() -> object:
        return revoke.transact({"from": chain.keys[DISTRICT]})

    with pytest.raises(AssertionError, match="expected CertificateRegistryInvalidHash"):
        _checked(errors.CertificateRegistryInvalidHash, {}, attempt)
    with pytest.raises(AssertionError, match="arguments differ"):
        _checked(errors.CertificateRegistryUnknownCertificate, {"docHash": digest("x")}, attempt)
    with pytest.raises(AssertionError, match="arguments differ"):
        _checked(errors.CertificateRegistryUnknownCertificate, {}, attempt)
    with pytest.raises(pytest.fail.Exception, match="succeeded"):
        _checked(errors.CertificateRegistryUnknownCertificate, {"docHash": unknown}, lambda: None)
    _checked(errors.CertificateRegistryUnknownCertificate, {"docHash": unknown}, attempt)


def test_every_abi_function_is_called_by_the_suite(chain: Chain) -> None:
    called: set[str] = set()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # `<contract>.functions.<name>` or `functions.<name>` (a local alias of the former).
            if isinstance(node, ast.Attribute) and (
                (isinstance(node.value, ast.Attribute) and node.value.attr == "functions")
                or (isinstance(node.value, ast.Name) and node.value.id == "functions")
            ):
                called.add(node.attr)
    declared = {
        str(entry["name"])
        for contract in (chain.registry, chain.certificates, chain.credit)
        for entry in abi_entries(contract, "function")
    }
    assert declared - called == set()
