"""LicenceBundles: joint licensing — open, file parts, complete, and incompleteness after a
revocation; every refusal."""

from __future__ import annotations

from typing import Any

import pytest
from web3.contract import Contract

from ledger import errors
from tests.contracts.conftest import (
    BEIJING,
    BUSINESS_LICENCE,
    CITY,
    DISTRICT,
    DONGCHENG,
    FOOD_PERMIT,
    PROVINCE,
    Chain,
    digest,
    events,
    expect_revert,
)

DAY = 86_400
REASON = 11
SUBJECT = digest("enterprise subject reference")
#: Market regulation (district) issues the business licence, the province the food permit.
PARTS = [(DISTRICT, BUSINESS_LICENCE), (PROVINCE, FOOD_PERMIT)]


@pytest.fixture
def bundles(chain: Chain) -> Contract:
    return chain.deploy("LicenceBundles", chain.registry.address, chain.certificates.address)


def open_bundle(chain: Chain, bundles: Contract, label: str) -> bytes:
    bundle_id = digest(label)
    deadline = chain.now() + 30 * DAY
    chain.send(
        bundles.functions.openBundle(bundle_id, SUBJECT, deadline, PARTS), chain.keys[DISTRICT]
    )
    return bundle_id


def anchor(chain: Chain, department: int, cert_type: int, label: str, region: int) -> bytes:
    doc_hash = digest(label)
    chain.anchor(chain.keys[department], doc_hash, cert_type=cert_type, region=region)
    return doc_hash


def file_part(
    chain: Chain, bundles: Contract, bundle_id: bytes, index: int, doc_hash: bytes
) -> dict[str, Any]:
    department = PARTS[index][0]
    return dict(
        chain.send(bundles.functions.filePart(bundle_id, index, doc_hash), chain.keys[department])
    )


def test_a_bundle_completes_when_every_part_is_filed(chain: Chain, bundles: Contract) -> None:
    bundle_id = digest("complete")
    deadline = chain.now() + 30 * DAY
    receipt = chain.send(
        bundles.functions.openBundle(bundle_id, SUBJECT, deadline, PARTS), chain.keys[DISTRICT]
    )
    [(name, arguments)] = events(bundles, receipt)
    assert name == "BundleOpened"
    assert (arguments["bundleId"], arguments["subjectRef"], arguments["lead"]) == (
        bundle_id,
        SUBJECT,
        DISTRICT,
    )
    licence = anchor(chain, DISTRICT, BUSINESS_LICENCE, "bundle licence", DONGCHENG)
    permit = anchor(chain, PROVINCE, FOOD_PERMIT, "bundle permit", BEIJING)
    first = file_part(chain, bundles, bundle_id, 0, licence)
    assert events(bundles, first) == [
        (
            "BundlePartFiled",
            {"bundleId": bundle_id, "index": 0, "docHash": licence, "departmentId": DISTRICT},
        )
    ]
    assert bundles.functions.isComplete(bundle_id).call() is False
    last = file_part(chain, bundles, bundle_id, 1, permit)
    assert [name for name, _ in events(bundles, last)] == ["BundlePartFiled", "BundleCompleted"]
    assert bundles.functions.isComplete(bundle_id).call() is True
    lead, part_count, filed, opened, stored_deadline, completed, subject = (
        bundles.functions.bundleOf(bundle_id).call()
    )
    assert (lead, part_count, filed, stored_deadline, subject) == (
        DISTRICT,
        2,
        2,
        deadline,
        SUBJECT,
    )
    assert completed == chain.timestamp_of(last)
    assert opened > 0
    part, filed = bundles.functions.partOf(bundle_id, 1).call()
    assert (tuple(part), filed) == ((PROVINCE, FOOD_PERMIT), permit)


def test_a_part_revoked_later_makes_the_bundle_incomplete(chain: Chain, bundles: Contract) -> None:
    bundle_id = open_bundle(chain, bundles, "revoked later")
    licence = anchor(chain, DISTRICT, BUSINESS_LICENCE, "later licence", DONGCHENG)
    permit = anchor(chain, PROVINCE, FOOD_PERMIT, "later permit", BEIJING)
    file_part(chain, bundles, bundle_id, 0, licence)
    file_part(chain, bundles, bundle_id, 1, permit)
    assert bundles.functions.isComplete(bundle_id).call() is True
    chain.send(chain.certificates.functions.suspend(permit, REASON), chain.keys[PROVINCE])
    assert bundles.functions.isComplete(bundle_id).call() is False
    chain.send(chain.certificates.functions.reinstate(permit), chain.keys[PROVINCE])
    assert bundles.functions.isComplete(bundle_id).call() is True
    chain.send(chain.certificates.functions.revoke(licence, REASON), chain.keys[DISTRICT])
    assert bundles.functions.isComplete(bundle_id).call() is False


def test_an_expired_part_makes_the_bundle_incomplete(chain: Chain, bundles: Contract) -> None:
    bundle_id = open_bundle(chain, bundles, "expiring")
    expires = chain.now() + 10 * DAY
    licence = digest("expiring licence")
    chain.anchor(chain.keys[DISTRICT], licence, expires_at=expires)
    permit = anchor(chain, PROVINCE, FOOD_PERMIT, "expiring permit", BEIJING)
    file_part(chain, bundles, bundle_id, 0, licence)
    file_part(chain, bundles, bundle_id, 1, permit)
    assert bundles.functions.isComplete(bundle_id).call() is True
    chain.travel_to(expires)
    # The pending block runs at the travelled-to time.
    assert bundles.functions.isComplete(bundle_id).call(block_identifier="pending") is False


def test_open_refusals(chain: Chain, bundles: Contract) -> None:
    functions = bundles.functions
    key = chain.keys[DISTRICT]
    deadline = chain.now() + DAY
    with expect_revert(errors.LicenceBundlesNotAuthorized, signer=chain.outsider):
        functions.openBundle(digest("x"), SUBJECT, deadline, PARTS).transact(
            {"from": chain.outsider}
        )
    with expect_revert(errors.LicenceBundlesInvalidBundle, bundleId=bytes(32)):
        functions.openBundle(bytes(32), SUBJECT, deadline, PARTS).transact({"from": key})
    with expect_revert(errors.LicenceBundlesInvalidDeadline, deadline=chain.now() - 1):
        functions.openBundle(digest("x"), SUBJECT, chain.now() - 1, PARTS).transact({"from": key})
    for parts in ([], [PARTS[0], PARTS[0]], [(77, BUSINESS_LICENCE)], [(CITY, 0)], PARTS * 9):
        with expect_revert(errors.LicenceBundlesInvalidParts):
            functions.openBundle(digest("x"), SUBJECT, deadline, list(parts)).transact(
                {"from": key}
            )
    open_bundle(chain, bundles, "taken")
    with expect_revert(errors.LicenceBundlesInvalidBundle, bundleId=digest("taken")):
        functions.openBundle(digest("taken"), SUBJECT, deadline, PARTS).transact({"from": key})
    chain.send(chain.registry.functions.suspendDepartment(CITY), chain.governance)
    with expect_revert(errors.LicenceBundlesNotAuthorized, signer=chain.keys[CITY]):
        functions.openBundle(digest("y"), SUBJECT, deadline, PARTS).transact(
            {"from": chain.keys[CITY]}
        )


def test_file_refusals(chain: Chain, bundles: Contract) -> None:
    functions = bundles.functions
    bundle_id = open_bundle(chain, bundles, "refusals")
    licence = anchor(chain, DISTRICT, BUSINESS_LICENCE, "refusal licence", DONGCHENG)
    district, province = chain.keys[DISTRICT], chain.keys[PROVINCE]
    with expect_revert(errors.LicenceBundlesUnknownBundle, bundleId=digest("nope")):
        functions.filePart(digest("nope"), 0, licence).transact({"from": district})
    with expect_revert(errors.LicenceBundlesUnknownPart, bundleId=bundle_id, index=2):
        functions.filePart(bundle_id, 2, licence).transact({"from": district})
    with expect_revert(errors.LicenceBundlesNotAuthorized, signer=chain.outsider):
        functions.filePart(bundle_id, 0, licence).transact({"from": chain.outsider})
    with expect_revert(
        errors.LicenceBundlesWrongDepartment, bundleId=bundle_id, index=0, departmentId=PROVINCE
    ):
        functions.filePart(bundle_id, 0, licence).transact({"from": province})
    # Not the part's type, not the part's issuer, not anchored, revoked: a mismatch each.
    other_issuer = anchor(chain, CITY, BUSINESS_LICENCE, "city licence", DONGCHENG)
    wrong_type = anchor(chain, PROVINCE, BUSINESS_LICENCE, "province licence", BEIJING)
    revoked = anchor(chain, PROVINCE, FOOD_PERMIT, "revoked permit", BEIJING)
    chain.send(chain.certificates.functions.revoke(revoked, REASON), province)
    for index, doc_hash, key in (
        (0, other_issuer, district),
        (1, wrong_type, province),
        (1, digest("never anchored"), province),
        (1, revoked, province),
    ):
        with expect_revert(
            errors.LicenceBundlesPartMismatch, bundleId=bundle_id, index=index, docHash=doc_hash
        ):
            functions.filePart(bundle_id, index, doc_hash).transact({"from": key})
    file_part(chain, bundles, bundle_id, 0, licence)
    with expect_revert(errors.LicenceBundlesPartAlreadyFiled, bundleId=bundle_id, index=0):
        functions.filePart(bundle_id, 0, licence).transact({"from": district})
    deadline = bundles.functions.bundleOf(bundle_id).call()[4]
    chain.travel_to(deadline + 1)
    permit = anchor(chain, PROVINCE, FOOD_PERMIT, "late permit", BEIJING)
    with expect_revert(errors.LicenceBundlesDeadlinePassed, bundleId=bundle_id, deadline=deadline):
        functions.filePart(bundle_id, 1, permit).transact({"from": province})
    assert bundles.functions.isComplete(bundle_id).call() is False


def test_unknown_bundle_views(bundles: Contract) -> None:
    assert bundles.functions.isComplete(digest("unknown")).call() is False
    assert bundles.functions.bundleOf(digest("unknown")).call()[3] == 0
