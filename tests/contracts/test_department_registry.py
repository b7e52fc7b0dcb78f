"""DepartmentRegistry: governance writes, their events and errors, grant pushes and history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from web3.contract.contract import ContractFunction
from web3.types import TxParams

from ledger import errors
from ledger.contracts.artifacts import load_artifact
from tests.contracts.conftest import (
    BEIJING,
    BEIJING_DISTRICTS,
    BUSINESS_LICENCE,
    CERTIFICATE_KIND,
    CITY,
    COMMENDATION,
    CREDIT_KIND,
    DEPARTMENTS,
    DISTRICT,
    DONGCHENG,
    FOOD_PERMIT,
    OPEN_ENDED,
    PROVINCE,
    PUDONG,
    SHANGHAI,
    SHANGHAI_BUREAU,
    TAX_COMPLIANCE,
    XICHENG,
    ZERO_ADDRESS,
    Chain,
    Denial,
    Status,
    abi_entries,
    certificate_terms,
    certificate_type,
    credit_category,
    digest,
    events,
    expect_revert,
    name_hash,
)

NEW_DEPARTMENT = 7


def department(chain: Chain, department_id: int) -> dict[str, Any]:
    """``departmentOf`` as one dict (the struct's fields plus ``nameHash``)."""
    record, name = chain.registry.functions.departmentOf(department_id).call()
    fields = ("region", "supervisor", "registeredAt", "suspended", "scopeCount", "signerCount")
    return {**dict(zip(fields, record, strict=True)), "nameHash": bytes(name)}


def signer_key(chain: Chain, signer: str) -> tuple[int, int, int, bool]:
    """``signerKey``: (departmentId, validFrom, validUntil, retiredEarly)."""
    department_id, valid_from, valid_until, retired_early = chain.registry.functions.signerKey(
        signer
    ).call()
    return department_id, valid_from, valid_until, retired_early


# ----------------------------------------------------------------------------------------------
# Deployment, constants and ownership
# ----------------------------------------------------------------------------------------------


def test_constants_owner_and_sinks_after_deployment(chain: Chain) -> None:
    functions = chain.registry.functions
    assert functions.MAX_SCOPES().call() == 32
    assert functions.MAX_SIGNERS().call() == 4
    assert functions.MAX_KIND().call() == 2
    assert functions.owner().call() == chain.governance
    assert functions.pendingOwner().call() == ZERO_ADDRESS
    assert functions.sinkOf(CERTIFICATE_KIND).call() == chain.certificates.address
    assert functions.sinkOf(CREDIT_KIND).call() == chain.credit.address
    assert functions.sinkOf(0).call() == ZERO_ADDRESS
    assert functions.sinkOf(3).call() == ZERO_ADDRESS
    assert chain.certificates.functions.DEPARTMENT_REGISTRY().call() == chain.registry.address
    assert chain.credit.functions.DEPARTMENT_REGISTRY().call() == chain.registry.address


def test_deploying_without_governance_is_refused(chain: Chain) -> None:
    artifact = load_artifact("DepartmentRegistry")
    factory = chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    with expect_revert(errors.OwnableInvalidOwner, owner=ZERO_ADDRESS):
        factory.constructor(ZERO_ADDRESS).transact({"from": chain.governance})


def test_two_step_ownership_transfer(chain: Chain) -> None:
    functions = chain.registry.functions
    successor = chain.spare[0]
    started = chain.send(functions.transferOwnership(successor), chain.governance)
    assert events(chain.registry, started) == [
        ("OwnershipTransferStarted", {"previousOwner": chain.governance, "newOwner": successor})
    ]
    assert functions.owner().call() == chain.governance
    assert functions.pendingOwner().call() == successor

    with expect_revert(errors.OwnableUnauthorizedAccount, account=chain.outsider):
        functions.acceptOwnership().transact({"from": chain.outsider})

    accepted = chain.send(functions.acceptOwnership(), successor)
    assert events(chain.registry, accepted) == [
        ("OwnershipTransferred", {"previousOwner": chain.governance, "newOwner": successor})
    ]
    assert functions.owner().call() == successor
    assert functions.pendingOwner().call() == ZERO_ADDRESS

    # The old authority lost every governance power; the new one has them, in both consumers.
    with expect_revert(errors.OwnableUnauthorizedAccount, account=chain.governance):
        functions.suspendDepartment(DISTRICT).transact({"from": chain.governance})
    with expect_revert(errors.CreditLedgerUnauthorizedAccount, account=chain.governance):
        chain.credit.functions.setDisclosurePeriod(TAX_COMPLIANCE, 60).transact(
            {"from": chain.governance}
        )
    chain.send(functions.suspendDepartment(DISTRICT), successor)
    chain.send(chain.credit.functions.setDisclosurePeriod(TAX_COMPLIANCE, 60), successor)
    assert chain.credit.functions.disclosurePeriodOf(TAX_COMPLIANCE).call() == 60


def test_pending_transfer_can_be_replaced_and_cancelled(chain: Chain) -> None:
    functions = chain.registry.functions
    first, second = chain.spare[0], chain.spare[1]
    chain.send(functions.transferOwnership(first), chain.governance)
    chain.send(functions.transferOwnership(second), chain.governance)
    assert functions.pendingOwner().call() == second
    with expect_revert(errors.OwnableUnauthorizedAccount, account=first):
        functions.acceptOwnership().transact({"from": first})
    cancelled = chain.send(functions.transferOwnership(ZERO_ADDRESS), chain.governance)
    assert events(chain.registry, cancelled) == [
        ("OwnershipTransferStarted", {"previousOwner": chain.governance, "newOwner": ZERO_ADDRESS})
    ]
    assert functions.pendingOwner().call() == ZERO_ADDRESS
    with expect_revert(errors.OwnableUnauthorizedAccount, account=second):
        functions.acceptOwnership().transact({"from": second})
    assert functions.owner().call() == chain.governance


def test_renouncing_governance_is_disabled(chain: Chain) -> None:
    functions = chain.registry.functions
    with expect_revert(errors.DepartmentRegistryRenounceDisabled):
        functions.renounceOwnership().call({"from": chain.governance})
    with expect_revert(errors.DepartmentRegistryRenounceDisabled):
        functions.renounceOwnership().transact({"from": chain.governance})
    with expect_revert(errors.OwnableUnauthorizedAccount, account=chain.outsider):
        functions.renounceOwnership().call({"from": chain.outsider})
    assert functions.owner().call() == chain.governance


GOVERNANCE_CALLS: dict[str, Callable[[Chain], ContractFunction]] = {
    "registerDepartment": lambda c: c.registry.functions.registerDepartment(
        NEW_DEPARTMENT, BEIJING, name_hash(NEW_DEPARTMENT), [BUSINESS_LICENCE]
    ),
    "grantScopes": lambda c: c.registry.functions.grantScopes(DISTRICT, [FOOD_PERMIT]),
    "revokeScopes": lambda c: c.registry.functions.revokeScopes(DISTRICT, [BUSINESS_LICENCE]),
    "addSigner": lambda c: c.registry.functions.addSigner(DISTRICT, c.spare[0], 0, 0),
    "retireSigner": lambda c: c.registry.functions.retireSigner(c.keys[DISTRICT]),
    "rotateSigner": lambda c: c.registry.functions.rotateSigner(c.keys[DISTRICT], c.spare[0], 0),
    "suspendDepartment": lambda c: c.registry.functions.suspendDepartment(DISTRICT),
    "reinstateDepartment": lambda c: c.registry.functions.reinstateDepartment(DISTRICT),
    "setSupervisor": lambda c: c.registry.functions.setSupervisor(DISTRICT, CITY),
    "setSink": lambda c: c.registry.functions.setSink(CERTIFICATE_KIND, c.credit.address),
    "transferOwnership": lambda c: c.registry.functions.transferOwnership(c.outsider),
    "renounceOwnership": lambda c: c.registry.functions.renounceOwnership(),
}
#: State-changing functions anyone may call.
PUBLIC_WRITES = {"resync", "acceptOwnership"}


def test_governance_table_lists_every_restricted_write(chain: Chain) -> None:
    writes = {
        str(entry["name"])
        for entry in abi_entries(chain.registry, "function")
        if entry["stateMutability"] == "nonpayable"
    }
    assert writes | {"renounceOwnership"} == set(GOVERNANCE_CALLS) | PUBLIC_WRITES


@pytest.mark.parametrize("caller", ["outsider", "department key"])
@pytest.mark.parametrize("function_name", sorted(GOVERNANCE_CALLS))
def test_governance_functions_refuse_other_callers(
    chain: Chain, function_name: str, caller: str
) -> None:
    account = chain.outsider if caller == "outsider" else chain.keys[PROVINCE]
    before = department(chain, DISTRICT)
    with expect_revert(errors.OwnableUnauthorizedAccount, account=account):
        GOVERNANCE_CALLS[function_name](chain).transact({"from": account})
    assert department(chain, DISTRICT) == before


# ----------------------------------------------------------------------------------------------
# registerDepartment / grantScopes / revokeScopes
# ----------------------------------------------------------------------------------------------


def test_register_department(chain: Chain) -> None:
    scopes = [BUSINESS_LICENCE, TAX_COMPLIANCE]
    receipt = chain.send(
        chain.registry.functions.registerDepartment(
            NEW_DEPARTMENT, PUDONG, name_hash(NEW_DEPARTMENT), scopes
        ),
        chain.governance,
    )
    assert events(chain.registry, receipt) == [
        (
            "DepartmentRegistered",
            {
                "departmentId": NEW_DEPARTMENT,
                "region": PUDONG,
                "nameHash": name_hash(NEW_DEPARTMENT),
            },
        ),
        ("ScopeGranted", {"departmentId": NEW_DEPARTMENT, "scope": BUSINESS_LICENCE}),
        ("ScopeGranted", {"departmentId": NEW_DEPARTMENT, "scope": TAX_COMPLIANCE}),
    ]
    assert department(chain, NEW_DEPARTMENT) == {
        "region": PUDONG,
        "supervisor": 0,
        "registeredAt": chain.timestamp_of(receipt),
        "suspended": False,
        "scopeCount": 2,
        "signerCount": 0,
        "nameHash": name_hash(NEW_DEPARTMENT),
    }
    assert chain.registry.functions.scopesOf(NEW_DEPARTMENT).call() == scopes
    assert chain.registry.functions.signersOf(NEW_DEPARTMENT).call() == []


def test_register_department_with_the_maximum_number_of_scopes(chain: Chain) -> None:
    scopes = [certificate_type(n) for n in range(1, 17)]
    scopes += [credit_category(n) for n in range(1, 17)]
    chain.send(
        chain.registry.functions.registerDepartment(NEW_DEPARTMENT, BEIJING, digest("x"), scopes),
        chain.governance,
    )
    assert department(chain, NEW_DEPARTMENT)["scopeCount"] == 32
    with expect_revert(errors.DepartmentRegistryLimitReached, departmentId=NEW_DEPARTMENT):
        chain.registry.functions.grantScopes(NEW_DEPARTMENT, [certificate_type(17)]).transact(
            {"from": chain.governance}
        )


def test_register_department_refusals(chain: Chain) -> None:
    register = chain.registry.functions.registerDepartment
    governance: TxParams = {"from": chain.governance}
    with expect_revert(errors.DepartmentRegistryUnknownDepartment, departmentId=0):
        register(0, BEIJING, digest("x"), []).transact(governance)
    with expect_revert(errors.DepartmentRegistryDuplicateDepartment, departmentId=DISTRICT):
        register(DISTRICT, BEIJING, digest("x"), []).transact(governance)
    for region in (0, 99_999, 1_000_000):
        with expect_revert(errors.DepartmentRegistryInvalidRegion, region=region):
            register(NEW_DEPARTMENT, region, digest("x"), []).transact(governance)
    for scope in (0, 1, (3 << 24) | 1, 1 << 24, 2 << 24, 0xFF << 24 | 5):
        with expect_revert(errors.DepartmentRegistryInvalidScope, scope=scope):
            register(NEW_DEPARTMENT, BEIJING, digest("x"), [scope]).transact(governance)
    with expect_revert(
        errors.DepartmentRegistryDuplicateScope,
        departmentId=NEW_DEPARTMENT,
        scope=BUSINESS_LICENCE,
    ):
        register(
            NEW_DEPARTMENT, BEIJING, digest("x"), [BUSINESS_LICENCE, BUSINESS_LICENCE]
        ).transact(governance)
    too_many = [certificate_type(n) for n in range(1, 34)]
    with expect_revert(errors.DepartmentRegistryLimitReached, departmentId=NEW_DEPARTMENT):
        register(NEW_DEPARTMENT, BEIJING, digest("x"), too_many).transact(governance)
    assert department(chain, NEW_DEPARTMENT)["registeredAt"] == 0


def test_grant_scopes_pushes_grants_to_the_matching_sink(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    receipt = chain.send(
        chain.registry.functions.grantScopes(DISTRICT, [FOOD_PERMIT, COMMENDATION]),
        chain.governance,
    )
    assert events(chain.registry, receipt) == [
        ("ScopeGranted", {"departmentId": DISTRICT, "scope": FOOD_PERMIT}),
        ("ScopeGranted", {"departmentId": DISTRICT, "scope": COMMENDATION}),
    ]
    assert sorted(chain.registry.functions.scopesOf(DISTRICT).call()) == sorted(
        [BUSINESS_LICENCE, TAX_COMPLIANCE, FOOD_PERMIT, COMMENDATION]
    )
    assert department(chain, DISTRICT)["scopeCount"] == 4
    _, valid_from, valid_until, _ = signer_key(chain, key)
    expected = {
        "departmentId": DISTRICT,
        "region": DONGCHENG,
        "validFrom": valid_from,
        "validUntil": valid_until,
        "active": True,
    }
    assert chain.grant(chain.certificates, key, FOOD_PERMIT) == expected
    assert chain.grant(chain.credit, key, COMMENDATION) == expected
    # Each sink receives only the scopes of its own kind.
    assert chain.grant(chain.certificates, key, COMMENDATION)["departmentId"] == 0
    assert chain.grant(chain.credit, key, FOOD_PERMIT)["departmentId"] == 0
    chain.anchor(key, digest("food permit"), cert_type=FOOD_PERMIT)


def test_grant_scopes_refusals(chain: Chain) -> None:
    grant = chain.registry.functions.grantScopes
    governance: TxParams = {"from": chain.governance}
    with expect_revert(errors.DepartmentRegistryUnknownDepartment, departmentId=99):
        grant(99, [FOOD_PERMIT]).transact(governance)
    with expect_revert(
        errors.DepartmentRegistryDuplicateScope, departmentId=DISTRICT, scope=BUSINESS_LICENCE
    ):
        grant(DISTRICT, [BUSINESS_LICENCE]).transact(governance)
    with expect_revert(errors.DepartmentRegistryInvalidScope, scope=(3 << 24) | 9):
        grant(DISTRICT, [FOOD_PERMIT, (3 << 24) | 9]).transact(governance)
    assert FOOD_PERMIT not in chain.registry.functions.scopesOf(DISTRICT).call()


def test_revoke_scopes_stops_new_records_and_keeps_history(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    doc_hash = digest("licence before revocation")
    anchored = chain.anchor(key, doc_hash)
    receipt = chain.send(
        chain.registry.functions.revokeScopes(DISTRICT, [BUSINESS_LICENCE]), chain.governance
    )
    revoked_at = chain.timestamp_of(receipt)
    assert events(chain.registry, receipt) == [
        ("ScopeRevoked", {"departmentId": DISTRICT, "scope": BUSINESS_LICENCE})
    ]
    assert chain.registry.functions.scopesOf(DISTRICT).call() == [TAX_COMPLIANCE]
    assert department(chain, DISTRICT)["scopeCount"] == 1
    assert chain.grant(chain.certificates, key, BUSINESS_LICENCE)["active"] is False
    assert chain.grant(chain.credit, key, TAX_COMPLIANCE)["active"] is True

    with expect_revert(errors.AccreditationScopeNotGranted, signer=key, scope=BUSINESS_LICENCE):
        chain.certificates.functions.anchorCertificate(
            digest("after"), certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
        ).transact({"from": key})
    assert chain.certificate(doc_hash)["status"] == Status.ACTIVE

    functions = chain.registry.functions
    # Asked about the current second (the revocation's), denialOf answers from the live state.
    assert chain.w3.eth.get_block("latest")["timestamp"] == revoked_at
    assert functions.denialOf(key, BUSINESS_LICENCE, 0, revoked_at).call() == (
        Denial.SCOPE_NOT_GRANTED
    )
    # History counts the second of the withdrawal on the earlier side: the window ends at
    # revoked_at + 1.
    chain.travel(60)
    before = chain.timestamp_of(anchored)
    for moment, authorized in (
        (before, True),
        (revoked_at - 1, True),
        (revoked_at, True),
        (revoked_at + 1, False),
    ):
        assert functions.isAuthorized(key, BUSINESS_LICENCE, moment).call() is authorized
        assert (
            functions.isDepartmentAuthorized(DISTRICT, BUSINESS_LICENCE, 0, moment).call()
            is authorized
        )
    assert functions.denialOf(key, BUSINESS_LICENCE, 0, revoked_at).call() == Denial.NONE
    assert functions.denialOf(key, BUSINESS_LICENCE, 0, revoked_at + 1).call() == (
        Denial.SCOPE_NOT_GRANTED
    )


def test_regranting_a_revoked_scope_opens_a_new_window(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    functions = chain.registry.functions
    revoked = chain.send(functions.revokeScopes(DISTRICT, [BUSINESS_LICENCE]), chain.governance)
    chain.travel(100)
    regranted = chain.send(functions.grantScopes(DISTRICT, [BUSINESS_LICENCE]), chain.governance)
    gap_start, gap_end = chain.timestamp_of(revoked), chain.timestamp_of(regranted)
    assert chain.grant(chain.certificates, key, BUSINESS_LICENCE)["active"] is True
    chain.anchor(key, digest("after regrant"))
    # The gap is [gap_start + 1, gap_end): a revocation's second counts before it, a grant's
    # second after it.
    for moment, authorized in (
        (gap_start - 1, True),
        (gap_start, True),
        (gap_start + 1, False),
        (gap_start + 50, False),
        (gap_end - 1, False),
        (gap_end, True),
    ):
        assert functions.isAuthorized(key, BUSINESS_LICENCE, moment).call() is authorized


def test_revoke_scopes_refusals(chain: Chain) -> None:
    revoke = chain.registry.functions.revokeScopes
    governance: TxParams = {"from": chain.governance}
    with expect_revert(errors.DepartmentRegistryUnknownDepartment, departmentId=99):
        revoke(99, [BUSINESS_LICENCE]).transact(governance)
    with expect_revert(
        errors.DepartmentRegistryScopeNotGranted, departmentId=DISTRICT, scope=FOOD_PERMIT
    ):
        revoke(DISTRICT, [FOOD_PERMIT]).transact(governance)
    with expect_revert(
        errors.DepartmentRegistryScopeNotGranted, departmentId=DISTRICT, scope=BUSINESS_LICENCE
    ):
        revoke(DISTRICT, [BUSINESS_LICENCE, BUSINESS_LICENCE]).transact(governance)
    assert BUSINESS_LICENCE in chain.registry.functions.scopesOf(DISTRICT).call()


# ----------------------------------------------------------------------------------------------
# Signing keys
# ----------------------------------------------------------------------------------------------


def test_add_signer_open_ended(chain: Chain) -> None:
    signer = chain.spare[0]
    now = chain.now()
    receipt = chain.send(
        chain.registry.functions.addSigner(SHANGHAI_BUREAU, signer, 0, 0), chain.governance
    )
    assert events(chain.registry, receipt) == [
        (
            "SignerAdded",
            {
                "departmentId": SHANGHAI_BUREAU,
                "signer": signer,
                "validFrom": now,
                "validUntil": OPEN_ENDED,
            },
        )
    ]
    assert signer_key(chain, signer) == (SHANGHAI_BUREAU, now, OPEN_ENDED, False)
    assert chain.registry.functions.signersOf(SHANGHAI_BUREAU).call() == [
        chain.keys[SHANGHAI_BUREAU],
        signer,
    ]
    assert department(chain, SHANGHAI_BUREAU)["signerCount"] == 2
    expected = {
        "departmentId": SHANGHAI_BUREAU,
        "region": SHANGHAI,
        "validFrom": now,
        "validUntil": OPEN_ENDED,
        "active": True,
    }
    assert chain.grant(chain.certificates, signer, BUSINESS_LICENCE) == expected
    assert chain.grant(chain.credit, signer, TAX_COMPLIANCE) == expected
    chain.anchor(signer, digest("pudong licence"), region=PUDONG)


def test_add_signer_with_an_explicit_window(chain: Chain) -> None:
    signer = chain.spare[0]
    start, end = chain.now() + 1_000, chain.now() + 5_000
    receipt = chain.send(
        chain.registry.functions.addSigner(DISTRICT, signer, start, end), chain.governance
    )
    assert events(chain.registry, receipt) == [
        (
            "SignerAdded",
            {"departmentId": DISTRICT, "signer": signer, "validFrom": start, "validUntil": end},
        )
    ]
    assert signer_key(chain, signer) == (DISTRICT, start, end, False)
    grant = chain.grant(chain.certificates, signer, BUSINESS_LICENCE)
    assert (grant["validFrom"], grant["validUntil"], grant["active"]) == (start, end, True)
    functions = chain.registry.functions
    assert functions.denialOf(signer, BUSINESS_LICENCE, 0, start - 1).call() == (
        Denial.KEY_NOT_YET_VALID
    )
    assert functions.isAuthorized(signer, BUSINESS_LICENCE, start).call() is True
    assert functions.isAuthorized(signer, BUSINESS_LICENCE, end - 1).call() is True
    assert functions.denialOf(signer, BUSINESS_LICENCE, 0, end).call() == Denial.KEY_EXPIRED


def test_add_signer_backdated_start_is_kept(chain: Chain) -> None:
    signer = chain.spare[0]
    start = chain.now() - 10
    chain.send(chain.registry.functions.addSigner(DISTRICT, signer, start, 0), chain.governance)
    assert signer_key(chain, signer) == (DISTRICT, start, OPEN_ENDED, False)


def test_add_signer_refusals(chain: Chain) -> None:
    add = chain.registry.functions.addSigner
    governance: TxParams = {"from": chain.governance}
    signer = chain.spare[0]
    now = chain.now()
    with expect_revert(errors.DepartmentRegistryUnknownDepartment, departmentId=99):
        add(99, signer, 0, 0).transact(governance)
    with expect_revert(errors.DepartmentRegistryInvalidSigner, signer=ZERO_ADDRESS):
        add(DISTRICT, ZERO_ADDRESS, 0, 0).transact(governance)
    with expect_revert(errors.DepartmentRegistryInvalidSigner, signer=chain.keys[PROVINCE]):
        add(DISTRICT, chain.keys[PROVINCE], 0, 0).transact(governance)
    with expect_revert(errors.DepartmentRegistryInvalidWindow, validFrom=now, validUntil=now):
        add(DISTRICT, signer, 0, now).transact(governance)
    with expect_revert(
        errors.DepartmentRegistryInvalidWindow, validFrom=now + 100, validUntil=now + 50
    ):
        add(DISTRICT, signer, now + 100, now + 50).transact(governance)
    with expect_revert(
        errors.DepartmentRegistryInvalidWindow, validFrom=now - 100, validUntil=now - 1
    ):
        add(DISTRICT, signer, now - 100, now - 1).transact(governance)
    assert signer_key(chain, signer) == (0, 0, 0, False)


def test_retired_keys_are_never_reused(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    chain.send(chain.registry.functions.retireSigner(key), chain.governance)
    for department_id in (DISTRICT, CITY):
        with expect_revert(errors.DepartmentRegistryInvalidSigner, signer=key):
            chain.registry.functions.addSigner(department_id, key, 0, 0).transact(
                {"from": chain.governance}
            )


def test_signer_limit(chain: Chain) -> None:
    add = chain.registry.functions.addSigner
    for signer in chain.spare[:3]:
        chain.send(add(DISTRICT, signer, 0, 0), chain.governance)
    assert department(chain, DISTRICT)["signerCount"] == 4
    with expect_revert(errors.DepartmentRegistryLimitReached, departmentId=DISTRICT):
        add(DISTRICT, chain.spare[3], 0, 0).transact({"from": chain.governance})
    # Rotation at the limit frees the old slot before taking the new one.
    chain.send(
        chain.registry.functions.rotateSigner(chain.keys[DISTRICT], chain.spare[3], 0),
        chain.governance,
    )
    assert department(chain, DISTRICT)["signerCount"] == 4
    assert chain.keys[DISTRICT] not in chain.registry.functions.signersOf(DISTRICT).call()


def test_retire_signer(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    doc_hash = digest("before retirement")
    anchored_at = chain.timestamp_of(chain.anchor(key, doc_hash))
    # The key tries to anchor again right after its retirement, in the same block.
    late_anchor = chain.certificates.functions.anchorCertificate(
        digest("after retirement"), certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
    )
    receipt, refused = chain.mine_in_one_block(
        (chain.registry.functions.retireSigner(key), chain.governance), (late_anchor, key)
    )
    assert (receipt["status"], refused["status"]) == (1, 0)
    retired_at = chain.timestamp_of(receipt)
    assert events(chain.registry, receipt) == [
        ("SignerRetired", {"departmentId": DISTRICT, "signer": key, "validUntil": retired_at})
    ]
    _, valid_from, valid_until, retired_early = signer_key(chain, key)
    assert (valid_until, retired_early) == (retired_at, True)
    assert valid_from < retired_at
    assert chain.registry.functions.signersOf(DISTRICT).call() == []
    assert department(chain, DISTRICT)["signerCount"] == 0
    # validUntil gates new signatures: the replicas refuse the key from retired_at on.
    assert chain.grant(chain.certificates, key, BUSINESS_LICENCE)["validUntil"] == retired_at
    assert chain.grant(chain.credit, key, TAX_COMPLIANCE)["validUntil"] == retired_at
    with expect_revert(errors.AccreditationKeyExpired, signer=key):
        late_anchor.call({"from": key})  # replayed at the end of that block, in its second
    assert chain.certificate(digest("after retirement"))["status"] == Status.NONE
    functions = chain.registry.functions
    assert functions.denialOf(key, TAX_COMPLIANCE, 0, retired_at).call() == Denial.KEY_EXPIRED
    # History: what the key signed up to and within its retirement's second stays authorized.
    chain.travel(60)
    for moment, authorized in (
        (anchored_at, True),
        (retired_at - 1, True),
        (retired_at, True),
        (retired_at + 1, False),
    ):
        assert functions.isAuthorized(key, BUSINESS_LICENCE, moment).call() is authorized
    assert functions.denialOf(key, TAX_COMPLIANCE, 0, retired_at).call() == Denial.NONE
    assert functions.denialOf(key, TAX_COMPLIANCE, 0, retired_at + 1).call() == (Denial.KEY_EXPIRED)
    assert chain.certificate(doc_hash)["status"] == Status.ACTIVE


def test_retiring_a_key_before_its_window_empties_the_window(chain: Chain) -> None:
    signer = chain.spare[0]
    start = chain.now() + 10_000
    chain.send(chain.registry.functions.addSigner(DISTRICT, signer, start, 0), chain.governance)
    receipt = chain.send(chain.registry.functions.retireSigner(signer), chain.governance)
    retired_at = chain.timestamp_of(receipt)
    assert signer_key(chain, signer) == (DISTRICT, retired_at, retired_at, False)
    grant = chain.grant(chain.certificates, signer, BUSINESS_LICENCE)
    assert (grant["validFrom"], grant["validUntil"]) == (retired_at, retired_at)
    chain.travel_to(start + 1)
    functions = chain.registry.functions
    for moment in (retired_at - 1, retired_at + 1, start, start + 1):
        assert not functions.isAuthorized(signer, BUSINESS_LICENCE, moment).call()
    with expect_revert(errors.AccreditationKeyExpired, signer=signer):
        chain.certificates.functions.anchorCertificate(
            digest("never valid"), certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
        ).transact({"from": signer})


def test_a_key_retired_before_its_window_was_never_authorized(chain: Chain) -> None:
    signer = chain.spare[0]
    start = chain.now() + 10_000
    chain.send(chain.registry.functions.addSigner(DISTRICT, signer, start, 0), chain.governance)
    receipt = chain.send(chain.registry.functions.retireSigner(signer), chain.governance)
    retired_at = chain.timestamp_of(receipt)
    chain.travel(60)
    assert not chain.registry.functions.isAuthorized(signer, BUSINESS_LICENCE, retired_at).call()


def test_retire_signer_refusals(chain: Chain) -> None:
    retire = chain.registry.functions.retireSigner
    governance: TxParams = {"from": chain.governance}
    with expect_revert(errors.DepartmentRegistryUnknownSigner, signer=chain.outsider):
        retire(chain.outsider).transact(governance)
    chain.send(retire(chain.keys[CITY]), chain.governance)
    with expect_revert(errors.DepartmentRegistryUnknownSigner, signer=chain.keys[CITY]):
        retire(chain.keys[CITY]).transact(governance)


def test_rotate_signer(chain: Chain) -> None:
    old, new = chain.keys[DISTRICT], chain.spare[0]
    doc_hash = digest("signed by the old key")
    anchored_at = chain.timestamp_of(chain.anchor(old, doc_hash))
    valid_until = chain.now() + 86_400
    receipt = chain.send(
        chain.registry.functions.rotateSigner(old, new, valid_until), chain.governance
    )
    rotated_at = chain.timestamp_of(receipt)
    assert events(chain.registry, receipt) == [
        ("SignerRetired", {"departmentId": DISTRICT, "signer": old, "validUntil": rotated_at}),
        (
            "SignerAdded",
            {
                "departmentId": DISTRICT,
                "signer": new,
                "validFrom": rotated_at,
                "validUntil": valid_until,
            },
        ),
    ]
    assert chain.registry.functions.signersOf(DISTRICT).call() == [new]
    assert signer_key(chain, new) == (DISTRICT, rotated_at, valid_until, False)
    assert signer_key(chain, old)[2:] == (rotated_at, True)
    functions = chain.registry.functions
    assert functions.isAuthorized(old, BUSINESS_LICENCE, anchored_at).call() is True
    assert functions.isAuthorized(new, BUSINESS_LICENCE, anchored_at).call() is False
    # Live (the rotation's own second): the old key may no longer sign.
    assert functions.denialOf(old, BUSINESS_LICENCE, 0, rotated_at).call() == Denial.KEY_EXPIRED
    with expect_revert(errors.AccreditationKeyExpired, signer=old):
        chain.certificates.functions.anchorCertificate(
            digest("old key, rotation second"), certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
        ).call({"from": old})
    # History: both keys count as valid in the rotation's second, only the new one after it.
    assert functions.isAuthorized(old, BUSINESS_LICENCE, rotated_at).call() is True
    assert functions.isAuthorized(old, BUSINESS_LICENCE, rotated_at + 1).call() is False
    assert functions.isAuthorized(new, BUSINESS_LICENCE, rotated_at - 1).call() is False
    assert functions.isAuthorized(new, BUSINESS_LICENCE, rotated_at).call() is True
    assert functions.isAuthorized(new, BUSINESS_LICENCE, rotated_at + 1).call() is True
    assert chain.certificate(doc_hash)["status"] == Status.ACTIVE
    chain.anchor(new, digest("signed by the new key"))


def test_rotate_signer_refusals_leave_the_old_key_in_place(chain: Chain) -> None:
    rotate = chain.registry.functions.rotateSigner
    governance: TxParams = {"from": chain.governance}
    old = chain.keys[DISTRICT]
    now = chain.now()
    with expect_revert(errors.DepartmentRegistryUnknownSigner, signer=chain.outsider):
        rotate(chain.outsider, chain.spare[0], 0).transact(governance)
    with expect_revert(errors.DepartmentRegistryInvalidSigner, signer=chain.keys[CITY]):
        rotate(old, chain.keys[CITY], 0).transact(governance)
    with expect_revert(errors.DepartmentRegistryInvalidSigner, signer=old):
        rotate(old, old, 0).transact(governance)
    with expect_revert(errors.DepartmentRegistryInvalidWindow, validFrom=now, validUntil=now - 5):
        rotate(old, chain.spare[0], now - 5).transact(governance)
    assert signer_key(chain, old)[2:] == (OPEN_ENDED, False)
    assert chain.registry.functions.signersOf(DISTRICT).call() == [old]


# ----------------------------------------------------------------------------------------------
# Suspension
# ----------------------------------------------------------------------------------------------


def test_suspend_and_reinstate_department(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    functions = chain.registry.functions
    doc_hash = digest("before suspension")
    anchored_at = chain.timestamp_of(chain.anchor(key, doc_hash))

    suspended = chain.send(functions.suspendDepartment(DISTRICT), chain.governance)
    assert events(chain.registry, suspended) == [
        ("DepartmentSuspended", {"departmentId": DISTRICT})
    ]
    assert department(chain, DISTRICT)["suspended"] is True
    assert chain.grant(chain.certificates, key, BUSINESS_LICENCE)["active"] is False
    assert chain.grant(chain.credit, key, TAX_COMPLIANCE)["active"] is False
    assert chain.certificate(doc_hash)["status"] == Status.ACTIVE
    # The suspension applies to new writes at once, within its own second: asked about the
    # current second, denialOf answers from the live state.
    assert chain.w3.eth.get_block("latest")["timestamp"] == chain.timestamp_of(suspended)
    assert functions.denialOf(key, TAX_COMPLIANCE, 0, chain.timestamp_of(suspended)).call() == (
        Denial.DEPARTMENT_SUSPENDED
    )
    with expect_revert(errors.AccreditationDepartmentSuspended, signer=key):
        chain.certificates.functions.anchorCertificate(
            digest("in the suspension's second"), certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
        ).call({"from": key})

    chain.travel(3_600)
    reinstated = chain.send(functions.reinstateDepartment(DISTRICT), chain.governance)
    assert events(chain.registry, reinstated) == [
        ("DepartmentReinstated", {"departmentId": DISTRICT})
    ]
    assert department(chain, DISTRICT)["suspended"] is False
    assert chain.grant(chain.certificates, key, BUSINESS_LICENCE)["active"] is True
    assert chain.grant(chain.credit, key, TAX_COMPLIANCE)["active"] is True
    chain.anchor(key, digest("after reinstatement"))

    # The suspension's own second counts before it (the window is [start + 1, end)); the
    # reinstatement's second counts after it.
    start, end = chain.timestamp_of(suspended), chain.timestamp_of(reinstated)
    for moment, authorized in (
        (anchored_at, True),
        (start - 1, True),
        (start, True),
        (start + 1, False),
        (end - 1, False),
        (end, True),
    ):
        assert functions.isAuthorized(key, BUSINESS_LICENCE, moment).call() is authorized
        assert (
            functions.isDepartmentAuthorized(DISTRICT, BUSINESS_LICENCE, DONGCHENG, moment).call()
            is authorized
        )
    assert functions.denialOf(key, TAX_COMPLIANCE, 0, start).call() == Denial.NONE
    assert functions.denialOf(key, TAX_COMPLIANCE, 0, start + 1).call() == (
        Denial.DEPARTMENT_SUSPENDED
    )


def test_changes_while_suspended_are_pushed_inactive(chain: Chain) -> None:
    functions = chain.registry.functions
    chain.send(functions.suspendDepartment(DISTRICT), chain.governance)
    chain.send(functions.grantScopes(DISTRICT, [FOOD_PERMIT]), chain.governance)
    chain.send(functions.addSigner(DISTRICT, chain.spare[0], 0, 0), chain.governance)
    chain.send(functions.rotateSigner(chain.keys[DISTRICT], chain.spare[1], 0), chain.governance)
    for signer in chain.spare[:2]:
        assert chain.grant(chain.certificates, signer, FOOD_PERMIT)["active"] is False
        assert chain.grant(chain.certificates, signer, BUSINESS_LICENCE)["active"] is False
        assert chain.grant(chain.credit, signer, TAX_COMPLIANCE)["active"] is False
    chain.send(functions.reinstateDepartment(DISTRICT), chain.governance)
    for signer in chain.spare[:2]:
        assert chain.grant(chain.certificates, signer, FOOD_PERMIT)["active"] is True
        assert chain.grant(chain.credit, signer, TAX_COMPLIANCE)["active"] is True


def test_suspension_refusals(chain: Chain) -> None:
    functions = chain.registry.functions
    governance: TxParams = {"from": chain.governance}
    for function in (functions.suspendDepartment, functions.reinstateDepartment):
        with expect_revert(errors.DepartmentRegistryUnknownDepartment, departmentId=99):
            function(99).transact(governance)
    with expect_revert(
        errors.DepartmentRegistrySuspensionUnchanged, departmentId=DISTRICT, suspended=False
    ):
        functions.reinstateDepartment(DISTRICT).transact(governance)
    chain.send(functions.suspendDepartment(DISTRICT), chain.governance)
    with expect_revert(
        errors.DepartmentRegistrySuspensionUnchanged, departmentId=DISTRICT, suspended=True
    ):
        functions.suspendDepartment(DISTRICT).transact(governance)


# ----------------------------------------------------------------------------------------------
# Supervisors, sinks and resync
# ----------------------------------------------------------------------------------------------


def test_set_supervisor_replaces_and_clears(chain: Chain) -> None:
    functions = chain.registry.functions
    assert department(chain, DISTRICT)["supervisor"] == PROVINCE
    receipt = chain.send(functions.setSupervisor(DISTRICT, CITY), chain.governance)
    assert events(chain.registry, receipt) == [
        ("SupervisorChanged", {"departmentId": DISTRICT, "supervisor": CITY})
    ]
    assert department(chain, DISTRICT)["supervisor"] == CITY
    cleared = chain.send(functions.setSupervisor(DISTRICT, 0), chain.governance)
    assert events(chain.registry, cleared) == [
        ("SupervisorChanged", {"departmentId": DISTRICT, "supervisor": 0})
    ]
    assert department(chain, DISTRICT)["supervisor"] == 0


def test_set_supervisor_refuses_self_and_cycles(chain: Chain) -> None:
    functions = chain.registry.functions
    governance: TxParams = {"from": chain.governance}
    with expect_revert(
        errors.DepartmentRegistryInvalidSupervisor, departmentId=CITY, supervisor=CITY
    ):
        functions.setSupervisor(CITY, CITY).transact(governance)
    # PROVINCE supervises DISTRICT: DISTRICT may not supervise PROVINCE.
    with expect_revert(
        errors.DepartmentRegistryInvalidSupervisor, departmentId=PROVINCE, supervisor=DISTRICT
    ):
        functions.setSupervisor(PROVINCE, DISTRICT).transact(governance)
    # A longer chain: CITY -> PROVINCE -> ... DISTRICT -> PROVINCE -> CITY would close a loop.
    chain.send(functions.setSupervisor(PROVINCE, CITY), chain.governance)
    with expect_revert(
        errors.DepartmentRegistryInvalidSupervisor, departmentId=CITY, supervisor=DISTRICT
    ):
        functions.setSupervisor(CITY, DISTRICT).transact(governance)
    assert department(chain, CITY)["supervisor"] == 0
    assert department(chain, PROVINCE)["supervisor"] == CITY


def test_set_supervisor_unknown_departments(chain: Chain) -> None:
    set_supervisor = chain.registry.functions.setSupervisor
    governance: TxParams = {"from": chain.governance}
    with expect_revert(errors.DepartmentRegistryUnknownDepartment, departmentId=99):
        set_supervisor(99, PROVINCE).transact(governance)
    with expect_revert(errors.DepartmentRegistryUnknownDepartment, departmentId=0):
        set_supervisor(0, PROVINCE).transact(governance)
    with expect_revert(errors.DepartmentRegistryUnknownDepartment, departmentId=99):
        set_supervisor(DISTRICT, 99).transact(governance)


def test_set_sink(chain: Chain) -> None:
    replacement = chain.deploy("CertificateRegistry", chain.registry.address)
    receipt = chain.send(
        chain.registry.functions.setSink(CERTIFICATE_KIND, replacement.address), chain.governance
    )
    assert events(chain.registry, receipt) == [
        ("SinkChanged", {"kind": CERTIFICATE_KIND, "sink": replacement.address})
    ]
    assert chain.registry.functions.sinkOf(CERTIFICATE_KIND).call() == replacement.address
    assert chain.registry.functions.sinkOf(CREDIT_KIND).call() == chain.credit.address


@pytest.mark.parametrize(("kind", "sink"), [(0, "certificates"), (3, "certificates"), (1, None)])
def test_set_sink_refusals(chain: Chain, kind: int, sink: str | None) -> None:
    address = chain.certificates.address if sink else ZERO_ADDRESS
    with expect_revert(errors.DepartmentRegistryInvalidSink, kind=kind, sink=address):
        chain.registry.functions.setSink(kind, address).transact({"from": chain.governance})


def test_resync_copies_grants_and_supervisor_to_new_sinks(chain: Chain) -> None:
    certificates = chain.deploy("CertificateRegistry", chain.registry.address)
    credit = chain.deploy("CreditLedger", chain.registry.address)
    functions = chain.registry.functions
    chain.send(functions.setSink(CERTIFICATE_KIND, certificates.address), chain.governance)
    chain.send(functions.setSink(CREDIT_KIND, credit.address), chain.governance)
    key = chain.keys[DISTRICT]
    assert chain.grant(certificates, key, BUSINESS_LICENCE)["departmentId"] == 0

    receipt = chain.send(functions.resync(DISTRICT), chain.outsider)
    assert events(chain.registry, receipt) == []
    assert chain.grant(certificates, key, BUSINESS_LICENCE) == chain.grant(
        chain.certificates, key, BUSINESS_LICENCE
    )
    assert chain.grant(credit, key, TAX_COMPLIANCE) == chain.grant(
        chain.credit, key, TAX_COMPLIANCE
    )
    # The supervisor link came along: once PROVINCE's own grants are there, it acts on DISTRICT's.
    doc_hash = digest("anchored in the new registry")
    terms = certificates.functions.encodeTerms(BUSINESS_LICENCE, DONGCHENG, 0).call()
    chain.send(certificates.functions.anchorCertificate(doc_hash, terms), key)
    chain.send(functions.resync(PROVINCE), chain.outsider)
    revoked = chain.send(certificates.functions.revoke(doc_hash, 7), chain.keys[PROVINCE])
    assert events(certificates, revoked) == [
        (
            "CertificateStatusChanged",
            {"docHash": doc_hash, "status": Status.REVOKED, "reasonCode": 7, "actor": PROVINCE},
        )
    ]


def test_grant_pushes_are_atomic_with_the_governance_action(chain: Chain) -> None:
    functions = chain.registry.functions
    governance: TxParams = {"from": chain.governance}
    # A sink wired to another registry refuses the push, and the governance action reverts with
    # the sink's error: the registry never gets ahead of its replicas.
    foreign = chain.deploy("CertificateRegistry", chain.outsider)
    chain.send(functions.setSink(CERTIFICATE_KIND, foreign.address), chain.governance)
    with expect_revert(errors.AccreditationUnauthorizedSync, caller=chain.registry.address):
        functions.suspendDepartment(DISTRICT).transact(governance)
    assert department(chain, DISTRICT)["suspended"] is False
    # Changes of the other kind never reach that sink; replacing the sink recovers.
    chain.send(functions.grantScopes(DISTRICT, [COMMENDATION]), chain.governance)
    chain.send(functions.setSink(CERTIFICATE_KIND, chain.certificates.address), chain.governance)
    chain.send(functions.suspendDepartment(DISTRICT), chain.governance)
    assert (
        chain.grant(chain.certificates, chain.keys[DISTRICT], BUSINESS_LICENCE)["active"] is False
    )


def test_resync_of_a_suspended_department_pushes_inactive_grants(chain: Chain) -> None:
    certificates = chain.deploy("CertificateRegistry", chain.registry.address)
    functions = chain.registry.functions
    chain.send(functions.suspendDepartment(CITY), chain.governance)
    chain.send(functions.setSink(CERTIFICATE_KIND, certificates.address), chain.governance)
    chain.send(functions.resync(CITY), chain.outsider)
    grant = chain.grant(certificates, chain.keys[CITY], BUSINESS_LICENCE)
    assert (grant["departmentId"], grant["active"]) == (CITY, False)


def test_resync_unknown_department(chain: Chain) -> None:
    with expect_revert(errors.DepartmentRegistryUnknownDepartment, departmentId=99):
        chain.registry.functions.resync(99).transact({"from": chain.outsider})


# ----------------------------------------------------------------------------------------------
# Views
# ----------------------------------------------------------------------------------------------


def test_views_of_unknown_department_and_key(chain: Chain) -> None:
    assert department(chain, 99) == {
        "region": 0,
        "supervisor": 0,
        "registeredAt": 0,
        "suspended": False,
        "scopeCount": 0,
        "signerCount": 0,
        "nameHash": bytes(32),
    }
    assert chain.registry.functions.scopesOf(99).call() == []
    assert chain.registry.functions.signersOf(99).call() == []
    assert signer_key(chain, chain.outsider) == (0, 0, 0, False)
    now = chain.now()
    assert not chain.registry.functions.isDepartmentAuthorized(99, BUSINESS_LICENCE, 0, now).call()


def test_cast_is_registered_as_specified(chain: Chain) -> None:
    for department_id, (region, scopes) in DEPARTMENTS.items():
        record = department(chain, department_id)
        assert record["region"] == region
        assert record["nameHash"] == name_hash(department_id)
        assert record["signerCount"] == 1
        assert sorted(chain.registry.functions.scopesOf(department_id).call()) == sorted(scopes)
        assert chain.registry.functions.signersOf(department_id).call() == [
            chain.keys[department_id]
        ]


def _denial_scenarios() -> dict[str, tuple[Callable[[Chain], tuple[str, int, int]], Denial]]:
    def unknown(c: Chain) -> tuple[str, int, int]:
        return c.outsider, BUSINESS_LICENCE, 0

    def not_yet_valid(c: Chain) -> tuple[str, int, int]:
        c.send(c.registry.functions.addSigner(DISTRICT, c.spare[0], c.now() + 600, 0), c.governance)
        return c.spare[0], BUSINESS_LICENCE, 0

    def expired(c: Chain) -> tuple[str, int, int]:
        c.send(c.registry.functions.retireSigner(c.keys[DISTRICT]), c.governance)
        return c.keys[DISTRICT], BUSINESS_LICENCE, 0

    def scope(c: Chain) -> tuple[str, int, int]:
        return c.keys[DISTRICT], FOOD_PERMIT, 0

    def suspended(c: Chain) -> tuple[str, int, int]:
        c.send(c.registry.functions.suspendDepartment(DISTRICT), c.governance)
        return c.keys[DISTRICT], BUSINESS_LICENCE, DONGCHENG

    def region(c: Chain) -> tuple[str, int, int]:
        return c.keys[DISTRICT], BUSINESS_LICENCE, XICHENG

    def authorized(c: Chain) -> tuple[str, int, int]:
        return c.keys[CITY], TAX_COMPLIANCE, DONGCHENG

    def scope_before_suspension(c: Chain) -> tuple[str, int, int]:
        c.send(c.registry.functions.suspendDepartment(DISTRICT), c.governance)
        return c.keys[DISTRICT], FOOD_PERMIT, XICHENG

    return {
        "unknown signer": (unknown, Denial.UNKNOWN_SIGNER),
        "key not yet valid": (not_yet_valid, Denial.KEY_NOT_YET_VALID),
        "key expired": (expired, Denial.KEY_EXPIRED),
        "scope not granted": (scope, Denial.SCOPE_NOT_GRANTED),
        "department suspended": (suspended, Denial.DEPARTMENT_SUSPENDED),
        "region not covered": (region, Denial.REGION_NOT_COVERED),
        "authorized": (authorized, Denial.NONE),
        "first failing condition wins": (scope_before_suspension, Denial.SCOPE_NOT_GRANTED),
    }


DENIAL_SCENARIOS = _denial_scenarios()


@pytest.mark.parametrize("scenario", sorted(DENIAL_SCENARIOS))
def test_denial_of_and_is_authorized(chain: Chain, scenario: str) -> None:
    prepare, expected = DENIAL_SCENARIOS[scenario]
    signer, scope, region = prepare(chain)
    now = chain.now()
    functions = chain.registry.functions
    assert functions.denialOf(signer, scope, region, now).call() == expected
    # isAuthorized ignores the region; every other denial makes it false.
    region_free = functions.denialOf(signer, scope, 0, now).call()
    assert functions.isAuthorized(signer, scope, now).call() is (region_free == Denial.NONE)
    assert (region_free == Denial.NONE) is (expected in (Denial.NONE, Denial.REGION_NOT_COVERED))


@pytest.mark.parametrize(
    ("department_id", "region", "covered"),
    [
        (PROVINCE, 0, True),
        (PROVINCE, BEIJING, True),
        (PROVINCE, BEIJING_DISTRICTS, True),
        (PROVINCE, DONGCHENG, True),
        (PROVINCE, SHANGHAI, False),
        (CITY, BEIJING_DISTRICTS, True),
        (CITY, XICHENG, True),
        (CITY, BEIJING, False),
        (CITY, 110200, False),
        (DISTRICT, DONGCHENG, True),
        (DISTRICT, XICHENG, False),
        (DISTRICT, BEIJING_DISTRICTS, False),
        (SHANGHAI_BUREAU, PUDONG, True),
        (SHANGHAI_BUREAU, DONGCHENG, False),
    ],
)
def test_is_department_authorized_regions(
    chain: Chain, department_id: int, region: int, covered: bool
) -> None:
    now = chain.now()
    assert (
        chain.registry.functions.isDepartmentAuthorized(
            department_id, BUSINESS_LICENCE, region, now
        ).call()
        is covered
    )
    # Without the scope the region does not matter.
    assert not chain.registry.functions.isDepartmentAuthorized(
        department_id, certificate_type(200), region, now
    ).call()


def test_is_department_authorized_before_registration(chain: Chain) -> None:
    registered_at = department(chain, PROVINCE)["registeredAt"]
    functions = chain.registry.functions
    assert functions.isDepartmentAuthorized(PROVINCE, BUSINESS_LICENCE, 0, registered_at).call()
    assert not functions.isDepartmentAuthorized(
        PROVINCE, BUSINESS_LICENCE, 0, registered_at - 1
    ).call()
