"""CertificateRegistry: anchoring, the lifecycle state machine, supervision and storage layout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web3.contract.contract import ContractFunction
from web3.types import TxParams

from ledger import errors
from ledger.contracts import CertificateRegistryClient
from tests.contracts.conftest import (
    BEIJING,
    BUSINESS_LICENCE,
    CITY,
    DISTRICT,
    DONGCHENG,
    FOOD_PERMIT,
    PROVINCE,
    PUDONG,
    SHANGHAI_BUREAU,
    XICHENG,
    ZERO32,
    Chain,
    Status,
    certificate_terms,
    digest,
    enum_id,
    events,
    expect_revert,
)

#: Storage slot of ``_records`` (slot 0 is AccreditationCache's ``_supervisors``).
RECORDS_SLOT = 1
SUCCESSORS_SLOT = 2
YEAR = 365 * 86_400
REASON = 11


def packed_record(record: dict[str, int]) -> int:
    """The one-word layout documented in CertificateRegistry (low to high bits)."""
    return (
        record["issuer"]
        | record["certType"] << 32
        | record["region"] << 64
        | record["anchoredAt"] << 88
        | record["expiresAt"] << 128
        | record["anchoredBlock"] << 168
        | record["status"] << 208
        | record["kind"] << 216
        | record["reasonCode"] << 224
    )


# ----------------------------------------------------------------------------------------------
# encodeTerms
# ----------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    cert_type=st.integers(1, 2**32 - 1),
    region=st.integers(100_000, 999_999),
    expires_at=st.none() | st.integers(1, 253_402_300_799),
)
def test_encode_terms_matches_python_packing(
    module_chain: Chain, cert_type: int, region: int, expires_at: int | None
) -> None:
    seconds = expires_at or 0
    moment = None if expires_at is None else datetime.fromtimestamp(expires_at, UTC)
    on_chain = module_chain.certificates.functions.encodeTerms(cert_type, region, seconds).call()
    assert CertificateRegistryClient.encode_terms(cert_type, region, moment) == on_chain
    assert certificate_terms(cert_type, region, seconds) == on_chain
    assert (on_chain >> 64, (on_chain >> 40) & 0xFFFFFF, on_chain & (2**40 - 1)) == (
        cert_type,
        region,
        seconds,
    )
    assert on_chain >> 96 == 0


# ----------------------------------------------------------------------------------------------
# Anchoring
# ----------------------------------------------------------------------------------------------


def test_anchor_certificate(chain: Chain) -> None:
    doc_hash = digest("business licence 1")
    expires_at = chain.now() + YEAR
    receipt = chain.anchor(chain.keys[DISTRICT], doc_hash, expires_at=expires_at)
    assert events(chain.certificates, receipt) == [("CertificateAnchored", {"docHash": doc_hash})]
    assert chain.certificate(doc_hash) == {
        "issuer": DISTRICT,
        "certType": BUSINESS_LICENCE,
        "region": DONGCHENG,
        "anchoredAt": chain.timestamp_of(receipt),
        "expiresAt": expires_at,
        "anchoredBlock": receipt["blockNumber"],
        "status": Status.ACTIVE,
        "kind": 0,
        "reasonCode": 0,
    }
    assert chain.certificates.functions.successorOf(doc_hash).call() == ZERO32


def test_anchor_certificate_for_holder_keeps_subject_and_cid_out_of_storage(chain: Chain) -> None:
    doc_hash, subject_ref = digest("licence for a holder"), digest("subject ref of holder")
    cid = bytes.fromhex("01551220") + digest("stored copy")
    terms = certificate_terms(BUSINESS_LICENCE, XICHENG, 0)
    receipt = chain.send(
        chain.certificates.functions.anchorCertificateFor(doc_hash, terms, subject_ref, cid),
        chain.keys[PROVINCE],
    )
    assert events(chain.certificates, receipt) == [
        ("CertificateAnchoredFor", {"subjectRef": subject_ref, "docHash": doc_hash, "cid": cid})
    ]
    (log,) = receipt["logs"]
    assert bytes(log["topics"][1]) == subject_ref  # indexed: a holder's certificates are listable

    record = chain.certificate(doc_hash)
    assert record["issuer"] == PROVINCE
    assert record["region"] == XICHENG
    assert record["anchoredBlock"] == receipt["blockNumber"]
    contract = chain.certificates
    word = chain.mapping_word(contract, doc_hash, RECORDS_SLOT)
    assert int.from_bytes(word, "big") == packed_record(record)
    assert subject_ref not in word
    assert subject_ref[:8] not in word
    assert cid[4:12] not in word
    for slot in (0, SUCCESSORS_SLOT, 3, 4):
        assert chain.mapping_word(contract, doc_hash, slot) == ZERO32
        assert chain.mapping_word(contract, subject_ref, slot) == ZERO32


def test_anchored_block_is_the_receipt_block(chain: Chain) -> None:
    first = chain.anchor(chain.keys[DISTRICT], digest("first"))
    chain.tester.mine_blocks(5)
    second = chain.anchor(chain.keys[DISTRICT], digest("second"))
    assert second["blockNumber"] == first["blockNumber"] + 6
    assert chain.certificate(digest("first"))["anchoredBlock"] == first["blockNumber"]
    assert chain.certificate(digest("second"))["anchoredBlock"] == second["blockNumber"]


def test_expiry_boundaries_and_derived_expiry(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    anchor = chain.certificates.functions.anchorCertificate
    now = chain.now()
    for expires_at in (now, now - 1, 1):
        with expect_revert(errors.CertificateRegistryInvalidExpiry, expiresAt=expires_at):
            anchor(
                digest("expired"), certificate_terms(BUSINESS_LICENCE, DONGCHENG, expires_at)
            ).transact({"from": key})
    doc_hash = digest("expires soon")
    chain.anchor(key, doc_hash, expires_at=now + 1)
    chain.travel(YEAR)
    # Expiry is derived from expiresAt: the stored status stays Active, and it can still be revoked.
    record = chain.certificate(doc_hash)
    assert record["expiresAt"] < chain.now()
    assert record["status"] == Status.ACTIVE
    chain.send(chain.certificates.functions.revoke(doc_hash, REASON), key)
    assert chain.certificate(doc_hash)["status"] == Status.REVOKED


def test_anchoring_refusals(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    functions = chain.certificates.functions
    terms = certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
    with expect_revert(errors.CertificateRegistryInvalidHash):
        functions.anchorCertificate(ZERO32, terms).transact({"from": key})
    with expect_revert(errors.CertificateRegistryInvalidHash):
        functions.anchorCertificateFor(ZERO32, terms, digest("s"), b"").transact({"from": key})
    for bad_terms in (terms | 1 << 96, terms | 1 << 255):
        with expect_revert(errors.CertificateRegistryInvalidTerms, terms=bad_terms):
            functions.anchorCertificate(digest("x"), bad_terms).transact({"from": key})
    with expect_revert(errors.CertificateRegistryInvalidRegion, region=0):
        functions.anchorCertificate(
            digest("x"), certificate_terms(BUSINESS_LICENCE, 0, 0)
        ).transact({"from": key})
    assert chain.certificate(digest("x"))["status"] == Status.NONE


def test_anchoring_twice_is_an_error_not_a_second_record(chain: Chain) -> None:
    doc_hash = digest("only once")
    first = chain.anchor(chain.keys[DISTRICT], doc_hash)
    functions = chain.certificates.functions
    terms = certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
    for key in (chain.keys[DISTRICT], chain.keys[PROVINCE]):
        with expect_revert(errors.CertificateRegistryAlreadyAnchored, docHash=doc_hash):
            functions.anchorCertificate(doc_hash, terms).transact({"from": key})
        with expect_revert(errors.CertificateRegistryAlreadyAnchored, docHash=doc_hash):
            functions.anchorCertificateFor(doc_hash, terms, digest("s"), b"c").transact(
                {"from": key}
            )
    assert chain.certificate(doc_hash)["anchoredBlock"] == first["blockNumber"]
    assert chain.certificate(doc_hash)["issuer"] == DISTRICT


def test_anchoring_checks_terms_then_accreditation_then_content(chain: Chain) -> None:
    functions = chain.certificates.functions
    outsider: TxParams = {"from": chain.outsider}
    terms = certificate_terms(BUSINESS_LICENCE, DONGCHENG, 0)
    with expect_revert(errors.CertificateRegistryInvalidTerms, terms=terms | 1 << 96):
        functions.anchorCertificate(ZERO32, terms | 1 << 96).transact(outsider)
    with expect_revert(errors.AccreditationUnknownSigner, signer=chain.outsider):
        functions.anchorCertificate(ZERO32, terms).transact(outsider)


def test_anchoring_outside_the_scope(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    with expect_revert(errors.AccreditationScopeNotGranted, signer=key, scope=FOOD_PERMIT):
        chain.certificates.functions.anchorCertificate(
            digest("outside"), certificate_terms(FOOD_PERMIT, DONGCHENG, 0)
        ).transact({"from": key})


@pytest.mark.parametrize(
    ("department", "region"),
    [
        (DISTRICT, XICHENG),  # a neighbouring county
        (CITY, BEIJING),  # the province above the prefecture
        (PROVINCE, PUDONG),  # another province's county
        (SHANGHAI_BUREAU, DONGCHENG),
    ],
)
def test_anchoring_outside_the_region(chain: Chain, department: int, region: int) -> None:
    key = chain.keys[department]
    with expect_revert(errors.AccreditationRegionNotCovered, signer=key, region=region):
        chain.certificates.functions.anchorCertificate(
            digest("outside"), certificate_terms(BUSINESS_LICENCE, region, 0)
        ).transact({"from": key})
    assert chain.certificate(digest("outside"))["status"] == Status.NONE


# ----------------------------------------------------------------------------------------------
# Lifecycle
# ----------------------------------------------------------------------------------------------

ACTIONS = ("suspend", "reinstate", "revoke", "supersede")
#: (state, action) -> resulting state; every other pair is CertificateRegistryInvalidStatus.
ALLOWED: dict[tuple[Status, str], Status] = {
    (Status.ACTIVE, "suspend"): Status.SUSPENDED,
    (Status.ACTIVE, "revoke"): Status.REVOKED,
    (Status.ACTIVE, "supersede"): Status.SUPERSEDED,
    (Status.SUSPENDED, "reinstate"): Status.ACTIVE,
    (Status.SUSPENDED, "revoke"): Status.REVOKED,
    (Status.SUSPENDED, "supersede"): Status.SUPERSEDED,
}


def renewal_of(doc_hash: bytes) -> bytes:
    return digest("renewal of " + doc_hash.hex())


def lifecycle_call(chain: Chain, action: str, doc_hash: bytes, reason: int) -> ContractFunction:
    functions = chain.certificates.functions
    if action == "suspend":
        return functions.suspend(doc_hash, reason)
    if action == "reinstate":
        return functions.reinstate(doc_hash)
    if action == "revoke":
        return functions.revoke(doc_hash, reason)
    return functions.supersede(doc_hash, renewal_of(doc_hash), 0, ZERO32, b"", reason)


def bring_to(chain: Chain, doc_hash: bytes, state: Status) -> None:
    """Anchor ``doc_hash`` as DISTRICT and move it to ``state`` by allowed transitions."""
    key = chain.keys[DISTRICT]
    chain.anchor(key, doc_hash)
    functions = chain.certificates.functions
    if state == Status.SUSPENDED:
        chain.send(functions.suspend(doc_hash, 1), key)
    elif state == Status.REVOKED:
        chain.send(functions.revoke(doc_hash, 2), key)
    elif state == Status.SUPERSEDED:
        chain.send(
            functions.supersede(doc_hash, digest("before " + doc_hash.hex()), 0, ZERO32, b"", 3),
            key,
        )
    assert chain.certificate(doc_hash)["status"] == state


def expected_events(
    action: str, doc_hash: bytes, reason: int, actor: int
) -> list[tuple[str, dict[str, object]]]:
    if action == "reinstate":
        changed = {"docHash": doc_hash, "status": Status.ACTIVE, "reasonCode": 0, "actor": actor}
        return [("CertificateStatusChanged", changed)]
    status = {"suspend": Status.SUSPENDED, "revoke": Status.REVOKED}.get(action, Status.SUPERSEDED)
    changed = {"docHash": doc_hash, "status": status, "reasonCode": reason, "actor": actor}
    if action != "supersede":
        return [("CertificateStatusChanged", changed)]
    new_hash = renewal_of(doc_hash)
    return [
        ("CertificateStatusChanged", changed),
        ("CertificateAnchored", {"docHash": new_hash}),
        ("CertificateSuperseded", {"oldHash": doc_hash, "newHash": new_hash}),
    ]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    "state", [Status.ACTIVE, Status.SUSPENDED, Status.REVOKED, Status.SUPERSEDED], ids=enum_id
)
def test_lifecycle_transition_table(chain: Chain, state: Status, action: str) -> None:
    doc_hash = digest(f"lifecycle {state.name} {action}")
    bring_to(chain, doc_hash, state)
    call = lifecycle_call(chain, action, doc_hash, REASON)
    key = chain.keys[DISTRICT]
    if (state, action) not in ALLOWED:
        with expect_revert(
            errors.CertificateRegistryInvalidStatus, docHash=doc_hash, current=state
        ):
            call.transact({"from": key})
        assert chain.certificate(doc_hash)["status"] == state
        return
    receipt = chain.send(call, key)
    assert events(chain.certificates, receipt) == expected_events(
        action, doc_hash, REASON, DISTRICT
    )
    record = chain.certificate(doc_hash)
    assert record["status"] == ALLOWED[(state, action)]
    assert record["reasonCode"] == (0 if action == "reinstate" else REASON)
    assert record["issuer"] == DISTRICT


def test_revoked_and_superseded_are_final_even_with_a_reason_missing(chain: Chain) -> None:
    for state in (Status.REVOKED, Status.SUPERSEDED):
        doc_hash = digest(f"final {state.name}")
        bring_to(chain, doc_hash, state)
        for action in ("suspend", "revoke", "supersede"):
            with expect_revert(
                errors.CertificateRegistryInvalidStatus, docHash=doc_hash, current=state
            ):
                lifecycle_call(chain, action, doc_hash, 0).transact({"from": chain.keys[DISTRICT]})


@pytest.mark.parametrize(
    ("state", "action"), [key for key in ALLOWED if key[1] != "reinstate"], ids=enum_id
)
def test_status_changes_need_a_reason(chain: Chain, state: Status, action: str) -> None:
    doc_hash = digest(f"reason {state.name} {action}")
    bring_to(chain, doc_hash, state)
    with expect_revert(errors.CertificateRegistryMissingReason):
        lifecycle_call(chain, action, doc_hash, 0).transact({"from": chain.keys[DISTRICT]})
    assert chain.certificate(doc_hash)["status"] == state


@pytest.mark.parametrize("action", ACTIONS)
def test_lifecycle_of_an_unknown_certificate(chain: Chain, action: str) -> None:
    doc_hash = digest("never anchored")
    for sender in (chain.keys[DISTRICT], chain.outsider):
        with expect_revert(errors.CertificateRegistryUnknownCertificate, docHash=doc_hash):
            lifecycle_call(chain, action, doc_hash, REASON).transact({"from": sender})


def test_certificate_of_unknown_hash_is_empty(chain: Chain) -> None:
    assert chain.certificate(digest("nothing")) == dict.fromkeys(
        (
            "issuer",
            "certType",
            "region",
            "anchoredAt",
            "expiresAt",
            "anchoredBlock",
            "status",
            "kind",
            "reasonCode",
        ),
        0,
    )
    assert chain.certificates.functions.successorOf(digest("nothing")).call() == ZERO32


# ----------------------------------------------------------------------------------------------
# Supersede
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("with_subject", "cid"),
    [(False, b""), (True, b"\x01\x55cid"), (False, b"\x01cid"), (True, b"")],
)
def test_supersede(chain: Chain, with_subject: bool, cid: bytes) -> None:
    key = chain.keys[DISTRICT]
    old_hash, new_hash = digest("licence 2024"), digest("licence 2025")
    subject_ref = digest("holder") if with_subject else ZERO32
    chain.anchor(key, old_hash, region=DONGCHENG, expires_at=chain.now() + YEAR)
    expires_at = chain.now() + 2 * YEAR
    receipt = chain.send(
        chain.certificates.functions.supersede(
            old_hash, new_hash, expires_at, subject_ref, cid, REASON
        ),
        key,
    )
    anchored = (
        ("CertificateAnchored", {"docHash": new_hash})
        if not with_subject and not cid
        else (
            "CertificateAnchoredFor",
            {"subjectRef": subject_ref, "docHash": new_hash, "cid": cid},
        )
    )
    assert events(chain.certificates, receipt) == [
        (
            "CertificateStatusChanged",
            {
                "docHash": old_hash,
                "status": Status.SUPERSEDED,
                "reasonCode": REASON,
                "actor": DISTRICT,
            },
        ),
        anchored,
        ("CertificateSuperseded", {"oldHash": old_hash, "newHash": new_hash}),
    ]
    assert chain.certificates.functions.successorOf(old_hash).call() == new_hash
    assert chain.certificates.functions.successorOf(new_hash).call() == ZERO32
    assert chain.certificate(old_hash)["status"] == Status.SUPERSEDED
    assert chain.certificate(old_hash)["reasonCode"] == REASON
    assert chain.certificate(new_hash) == {
        "issuer": DISTRICT,
        "certType": BUSINESS_LICENCE,
        "region": DONGCHENG,
        "anchoredAt": chain.timestamp_of(receipt),
        "expiresAt": expires_at,
        "anchoredBlock": receipt["blockNumber"],
        "status": Status.ACTIVE,
        "kind": 0,
        "reasonCode": 0,
    }


def test_supersede_refusals_leave_the_old_record_untouched(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    old_hash, other = digest("old"), digest("other")
    chain.anchor(key, old_hash)
    chain.anchor(key, other)
    supersede = chain.certificates.functions.supersede
    sender: TxParams = {"from": key}
    with expect_revert(errors.CertificateRegistryInvalidHash):
        supersede(old_hash, ZERO32, 0, ZERO32, b"", REASON).transact(sender)
    with expect_revert(errors.CertificateRegistryAlreadyAnchored, docHash=old_hash):
        supersede(old_hash, old_hash, 0, ZERO32, b"", REASON).transact(sender)
    with expect_revert(errors.CertificateRegistryAlreadyAnchored, docHash=other):
        supersede(old_hash, other, 0, ZERO32, b"", REASON).transact(sender)
    past = chain.now() - 1
    with expect_revert(errors.CertificateRegistryInvalidExpiry, expiresAt=past):
        supersede(old_hash, digest("new"), past, ZERO32, b"", REASON).transact(sender)
    assert chain.certificate(old_hash)["status"] == Status.ACTIVE
    assert chain.certificates.functions.successorOf(old_hash).call() == ZERO32
    assert chain.certificate(digest("new"))["status"] == Status.NONE


# ----------------------------------------------------------------------------------------------
# Who may change a status
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ACTIONS)
def test_supervisor_may_change_the_supervised_departments_records(
    chain: Chain, action: str
) -> None:
    doc_hash = digest(f"supervised {action}")
    state = Status.SUSPENDED if action == "reinstate" else Status.ACTIVE
    bring_to(chain, doc_hash, state)
    receipt = chain.send(lifecycle_call(chain, action, doc_hash, REASON), chain.keys[PROVINCE])
    assert events(chain.certificates, receipt) == expected_events(
        action, doc_hash, REASON, PROVINCE
    )
    if action == "supersede":
        # The successor's record names the department that issued it.
        assert chain.certificate(renewal_of(doc_hash))["issuer"] == PROVINCE


@pytest.mark.parametrize("action", ACTIONS)
def test_unrelated_departments_may_not_change_records(chain: Chain, action: str) -> None:
    doc_hash = digest(f"unrelated {action}")
    state = Status.SUSPENDED if action == "reinstate" else Status.ACTIVE
    bring_to(chain, doc_hash, state)
    call = lifecycle_call(chain, action, doc_hash, REASON)
    # CITY holds the type and covers Dongcheng, but neither issued nor supervises the record.
    with expect_revert(errors.AccreditationNotIssuer, signer=chain.keys[CITY], issuer=DISTRICT):
        call.transact({"from": chain.keys[CITY]})
    # Accreditation is checked before the issuer relation.
    key = chain.keys[SHANGHAI_BUREAU]
    with expect_revert(errors.AccreditationRegionNotCovered, signer=key, region=DONGCHENG):
        call.transact({"from": key})
    with expect_revert(errors.AccreditationUnknownSigner, signer=chain.outsider):
        call.transact({"from": chain.outsider})
    assert chain.certificate(doc_hash)["status"] == state


def test_supervision_is_one_way(chain: Chain) -> None:
    doc_hash = digest("provincial licence for Dongcheng")
    chain.anchor(chain.keys[PROVINCE], doc_hash, region=DONGCHENG)
    key = chain.keys[DISTRICT]
    with expect_revert(errors.AccreditationNotIssuer, signer=key, issuer=PROVINCE):
        chain.certificates.functions.revoke(doc_hash, REASON).transact({"from": key})


def test_supervisor_acts_for_a_suspended_department(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    doc_hash = digest("issued before the suspension")
    chain.anchor(key, doc_hash)
    chain.send(chain.registry.functions.suspendDepartment(DISTRICT), chain.governance)
    with expect_revert(errors.AccreditationDepartmentSuspended, signer=key):
        chain.certificates.functions.revoke(doc_hash, REASON).transact({"from": key})
    assert chain.certificate(doc_hash)["status"] == Status.ACTIVE
    receipt = chain.send(
        chain.certificates.functions.revoke(doc_hash, REASON), chain.keys[PROVINCE]
    )
    assert events(chain.certificates, receipt)[0][1]["actor"] == PROVINCE
    assert chain.certificate(doc_hash)["status"] == Status.REVOKED


def test_changing_the_supervisor_moves_the_power(chain: Chain) -> None:
    doc_hash = digest("moves with the supervisor")
    chain.anchor(chain.keys[DISTRICT], doc_hash)
    functions = chain.registry.functions
    chain.send(functions.setSupervisor(DISTRICT, CITY), chain.governance)
    revoke = chain.certificates.functions.revoke(doc_hash, REASON)
    with expect_revert(errors.AccreditationNotIssuer, signer=chain.keys[PROVINCE], issuer=DISTRICT):
        revoke.transact({"from": chain.keys[PROVINCE]})
    chain.send(chain.certificates.functions.suspend(doc_hash, REASON), chain.keys[CITY])
    chain.send(functions.setSupervisor(DISTRICT, 0), chain.governance)
    with expect_revert(errors.AccreditationNotIssuer, signer=chain.keys[CITY], issuer=DISTRICT):
        revoke.transact({"from": chain.keys[CITY]})
    chain.send(revoke, chain.keys[DISTRICT])
    assert chain.certificate(doc_hash)["status"] == Status.REVOKED


def test_lifecycle_needs_the_records_scope(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    doc_hash = digest("scope withdrawn later")
    chain.anchor(key, doc_hash)
    chain.send(
        chain.registry.functions.revokeScopes(DISTRICT, [BUSINESS_LICENCE]), chain.governance
    )
    with expect_revert(errors.AccreditationScopeNotGranted, signer=key, scope=BUSINESS_LICENCE):
        chain.certificates.functions.suspend(doc_hash, REASON).transact({"from": key})
    # The supervisor still holds the type and may act.
    chain.send(chain.certificates.functions.suspend(doc_hash, REASON), chain.keys[PROVINCE])
    assert chain.certificate(doc_hash)["status"] == Status.SUSPENDED
