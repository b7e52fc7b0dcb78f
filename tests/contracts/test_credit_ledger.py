"""CreditLedger: recording, the amendment transition table, supervision and disclosure periods."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest
from eth_tester.exceptions import TransactionFailed
from eth_typing import ChecksumAddress
from hypothesis import given, settings
from hypothesis import strategies as st
from web3.types import TxParams

from ledger import errors
from ledger.contracts import CreditLedgerClient
from ledger.contracts import Polarity as ClientPolarity
from tests.contracts.conftest import (
    CITY,
    COMMENDATION,
    DISTRICT,
    PROVINCE,
    SHANGHAI_BUREAU,
    TAX_COMPLIANCE,
    ZERO32,
    Amendment,
    Chain,
    Polarity,
    credit_category,
    credit_terms,
    decode_failure,
    digest,
    enum_id,
    event_id,
    events,
    expect_revert,
)

#: Storage slots: 0 is AccreditationCache's ``_supervisors``.
EVENTS_SLOT = 1
AMENDMENTS_SLOT = 2
DAY = 86_400
YEAR = 365 * DAY

#: The table in CreditLedger's ``_TRANSITIONS`` comment: from -> allowed targets.
TRANSITIONS: dict[Amendment, set[Amendment]] = {
    Amendment.NONE: {
        Amendment.CORRECTED,
        Amendment.WITHDRAWN,
        Amendment.REPAIRED,
        Amendment.DISPUTED,
    },
    Amendment.CORRECTED: {Amendment.WITHDRAWN, Amendment.REPAIRED, Amendment.DISPUTED},
    Amendment.WITHDRAWN: set(),
    Amendment.REPAIRED: {Amendment.WITHDRAWN},
    Amendment.DISPUTED: {Amendment.CORRECTED, Amendment.WITHDRAWN, Amendment.UPHELD},
    Amendment.UPHELD: {Amendment.WITHDRAWN, Amendment.REPAIRED, Amendment.DISPUTED},
}
#: Allowed amendments that bring a fresh event into each state.
PATH_TO: dict[Amendment, list[Amendment]] = {
    Amendment.NONE: [],
    Amendment.CORRECTED: [Amendment.CORRECTED],
    Amendment.WITHDRAWN: [Amendment.WITHDRAWN],
    Amendment.REPAIRED: [Amendment.REPAIRED],
    Amendment.DISPUTED: [Amendment.DISPUTED],
    Amendment.UPHELD: [Amendment.DISPUTED, Amendment.UPHELD],
}


def credit_event(chain: Chain, identifier: bytes) -> dict[str, int]:
    fields = ("recorder", "category", "polarity", "severity", "occurredAt", "recordedAt")
    return dict(zip(fields, chain.credit.functions.eventOf(identifier).call(), strict=True))


def amendment_of(chain: Chain, identifier: bytes) -> dict[str, int]:
    fields = ("status", "amendedBy", "amendedAt", "count")
    return dict(zip(fields, chain.credit.functions.amendmentOf(identifier).call(), strict=True))


def amend(chain: Chain, identifier: bytes, status: Amendment, sender: ChecksumAddress) -> None:
    chain.send(chain.credit.functions.amend(identifier, status, digest(f"why {status}")), sender)


# ----------------------------------------------------------------------------------------------
# encodeTerms and event ids
# ----------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    category=st.integers(1, 2**32 - 1),
    polarity=st.sampled_from(Polarity),
    severity=st.integers(0, 255),
    occurred_at=st.integers(1, 253_402_300_799),
)
def test_encode_terms_matches_python_packing(
    module_chain: Chain, category: int, polarity: Polarity, severity: int, occurred_at: int
) -> None:
    on_chain = module_chain.credit.functions.encodeTerms(
        category, polarity, severity, occurred_at
    ).call()
    moment = datetime.fromtimestamp(occurred_at, UTC)
    client = CreditLedgerClient.encode_terms(
        category, ClientPolarity(int(polarity)), severity, moment
    )
    assert client == on_chain
    assert credit_terms(category, polarity, severity, occurred_at) == on_chain
    assert on_chain >> 88 == 0
    assert (
        on_chain >> 56,
        (on_chain >> 48) & 0xFF,
        (on_chain >> 40) & 0xFF,
        on_chain & (2**40 - 1),
    ) == (category, polarity, severity, occurred_at)


@settings(max_examples=10, deadline=None)
@given(
    subject_ref=st.binary(min_size=32, max_size=32).filter(any),
    evidence_hash=st.binary(min_size=32, max_size=32).filter(any),
    polarity=st.sampled_from(Polarity),
    severity=st.integers(1, 5),
    age=st.integers(0, 30 * YEAR),
)
def test_event_id_matches_the_client_and_the_emitted_id(
    module_chain: Chain,
    subject_ref: bytes,
    evidence_hash: bytes,
    polarity: Polarity,
    severity: int,
    age: int,
) -> None:
    with module_chain.isolated() as chain:
        occurred_at = chain.now() - age
        terms = CreditLedgerClient.encode_terms(
            TAX_COMPLIANCE,
            ClientPolarity(int(polarity)),
            severity,
            datetime.fromtimestamp(occurred_at, UTC),
        )
        function = chain.credit.functions.record(subject_ref, terms, evidence_hash)
        returned = bytes(function.call({"from": chain.keys[DISTRICT]}, block_identifier="pending"))
        receipt = chain.send(function, chain.keys[DISTRICT])
        ((_, arguments),) = events(chain.credit, receipt)
        expected = CreditLedgerClient.event_id(
            subject_ref, TAX_COMPLIANCE, datetime.fromtimestamp(occurred_at, UTC), evidence_hash
        )
        assert arguments["eventId"] == expected == returned
        assert credit_event(chain, expected)["polarity"] == polarity
        assert credit_event(chain, expected)["severity"] == severity


# ----------------------------------------------------------------------------------------------
# Recording
# ----------------------------------------------------------------------------------------------


def test_record(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    subject_ref, evidence_hash = digest("enterprise A"), digest("tax decision 17")
    occurred_at = chain.now() - 30 * DAY
    terms = credit_terms(TAX_COMPLIANCE, Polarity.NEGATIVE, 4, occurred_at)
    function = chain.credit.functions.record(subject_ref, terms, evidence_hash)
    expected_id = event_id(subject_ref, TAX_COMPLIANCE, occurred_at, evidence_hash)
    assert bytes(function.call({"from": key})) == expected_id
    receipt = chain.send(function, key)
    assert events(chain.credit, receipt) == [
        (
            "CreditEventRecorded",
            {"eventId": expected_id, "subjectRef": subject_ref, "evidenceHash": evidence_hash},
        )
    ]
    (log,) = receipt["logs"]
    assert [bytes(topic) for topic in log["topics"][1:]] == [expected_id, subject_ref]
    recorded = credit_event(chain, expected_id)
    assert recorded == {
        "recorder": DISTRICT,
        "category": TAX_COMPLIANCE,
        "polarity": Polarity.NEGATIVE,
        "severity": 4,
        "occurredAt": occurred_at,
        "recordedAt": chain.timestamp_of(receipt),
    }
    assert amendment_of(chain, expected_id) == {
        "status": 0,
        "amendedBy": 0,
        "amendedAt": 0,
        "count": 0,
    }
    # One word per event, in the documented layout; the subject stays in the log only.
    contract = chain.credit
    word = chain.mapping_word(contract, expected_id, EVENTS_SLOT)
    assert int.from_bytes(word, "big") == (
        DISTRICT
        | TAX_COMPLIANCE << 32
        | Polarity.NEGATIVE << 64
        | 4 << 72
        | occurred_at << 80
        | recorded["recordedAt"] << 120
    )
    assert subject_ref not in word
    assert subject_ref[:8] not in word
    assert evidence_hash[:8] not in word
    for slot in (0, AMENDMENTS_SLOT, 3):
        assert chain.mapping_word(contract, expected_id, slot) == ZERO32
        assert chain.mapping_word(contract, subject_ref, slot) == ZERO32


def test_record_with_evidence(chain: Chain) -> None:
    key = chain.keys[PROVINCE]
    subject_ref, evidence_hash = digest("citizen B"), digest("commendation letter")
    cid = bytes.fromhex("01701220") + digest("encrypted evidence")
    occurred_at = chain.now()
    terms = credit_terms(COMMENDATION, Polarity.POSITIVE, 1, occurred_at)
    receipt = chain.send(
        chain.credit.functions.recordWithEvidence(subject_ref, terms, evidence_hash, cid), key
    )
    expected_id = event_id(subject_ref, COMMENDATION, occurred_at, evidence_hash)
    assert events(chain.credit, receipt) == [
        (
            "CreditEventRecordedWithEvidence",
            {
                "eventId": expected_id,
                "subjectRef": subject_ref,
                "evidenceHash": evidence_hash,
                "evidenceCid": cid,
            },
        )
    ]
    assert credit_event(chain, expected_id)["recorder"] == PROVINCE
    assert credit_event(chain, expected_id)["polarity"] == Polarity.POSITIVE


def test_event_of_unknown_id_is_empty(chain: Chain) -> None:
    unknown = digest("no such event")
    assert set(credit_event(chain, unknown).values()) == {0}
    assert set(amendment_of(chain, unknown).values()) == {0}


@pytest.mark.parametrize("function_name", ["record", "recordWithEvidence"])
def test_recording_refusals(chain: Chain, function_name: str) -> None:
    key = chain.keys[DISTRICT]
    now = chain.now()

    def attempt(subject_ref: bytes, terms: int, evidence_hash: bytes) -> None:
        functions = chain.credit.functions
        if function_name == "record":
            functions.record(subject_ref, terms, evidence_hash).transact({"from": key})
        else:
            functions.recordWithEvidence(subject_ref, terms, evidence_hash, b"\x01cid").transact(
                {"from": key}
            )

    subject_ref, evidence_hash = digest("subject"), digest("evidence")
    good = credit_terms(TAX_COMPLIANCE, Polarity.NEGATIVE, 2, now - DAY)
    for bad_terms in (
        good | 1 << 88,
        good | 1 << 255,
        credit_terms(TAX_COMPLIANCE, 2, 2, now - DAY),
        credit_terms(TAX_COMPLIANCE, 255, 2, now - DAY),
    ):
        with expect_revert(errors.CreditLedgerInvalidTerms, terms=bad_terms):
            attempt(subject_ref, bad_terms, evidence_hash)
    with expect_revert(errors.CreditLedgerInvalidReference):
        attempt(ZERO32, good, evidence_hash)
    with expect_revert(errors.CreditLedgerInvalidReference):
        attempt(subject_ref, good, ZERO32)
    for severity in (0, 6, 255):
        with expect_revert(errors.CreditLedgerInvalidSeverity, severity=severity):
            attempt(
                subject_ref, credit_terms(TAX_COMPLIANCE, 0, severity, now - DAY), evidence_hash
            )
    for occurred_at in (now + 1, 2**40 - 1):
        with expect_revert(errors.CreditLedgerOccurredInFuture, occurredAt=occurred_at):
            attempt(subject_ref, credit_terms(TAX_COMPLIANCE, 0, 2, occurred_at), evidence_hash)
    with expect_revert(errors.AccreditationScopeNotGranted, signer=key, scope=COMMENDATION):
        attempt(subject_ref, credit_terms(COMMENDATION, 1, 2, now - DAY), evidence_hash)


def test_recording_boundaries(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    for severity, occurred_at in ((1, chain.now()), (5, 0)):
        identifier, _ = chain.record(
            key, digest(f"severity {severity}"), severity=severity, occurred_at=occurred_at
        )
        assert credit_event(chain, identifier)["severity"] == severity
        assert credit_event(chain, identifier)["occurredAt"] == occurred_at


def test_recording_checks_terms_then_accreditation_then_content(chain: Chain) -> None:
    record = chain.credit.functions.record
    outsider: TxParams = {"from": chain.outsider}
    bad_terms = 1 << 88
    with expect_revert(errors.CreditLedgerInvalidTerms, terms=bad_terms):
        record(ZERO32, bad_terms, ZERO32).transact(outsider)
    terms = credit_terms(TAX_COMPLIANCE, 0, 0, chain.now() + 10)
    with expect_revert(errors.AccreditationUnknownSigner, signer=chain.outsider):
        record(ZERO32, terms, ZERO32).transact(outsider)


def test_duplicate_events_are_refused(chain: Chain) -> None:
    subject_ref, evidence_hash = digest("subject"), digest("one decision")
    occurred_at = chain.now() - DAY
    identifier, _ = chain.record(
        chain.keys[DISTRICT], subject_ref, occurred_at=occurred_at, evidence_hash=evidence_hash
    )
    # Polarity and severity are not part of the identity; neither is the recording department.
    for key, polarity, severity in (
        (chain.keys[DISTRICT], Polarity.NEGATIVE, 3),
        (chain.keys[DISTRICT], Polarity.POSITIVE, 1),
        (chain.keys[CITY], Polarity.NEGATIVE, 5),
    ):
        terms = credit_terms(TAX_COMPLIANCE, polarity, severity, occurred_at)
        with expect_revert(errors.CreditLedgerDuplicateEvent, eventId=identifier):
            chain.credit.functions.recordWithEvidence(
                subject_ref, terms, evidence_hash, b"cid"
            ).transact({"from": key})
    assert credit_event(chain, identifier)["recorder"] == DISTRICT
    # Another category, time or evidence is another event.
    other, _ = chain.record(
        chain.keys[PROVINCE],
        subject_ref,
        category=COMMENDATION,
        polarity=Polarity.POSITIVE,
        occurred_at=occurred_at,
        evidence_hash=evidence_hash,
    )
    assert other != identifier


def test_recording_access(chain: Chain) -> None:
    terms = credit_terms(TAX_COMPLIANCE, 0, 2, chain.now() - DAY)
    record = chain.credit.functions.record(digest("s"), terms, digest("e"))
    with expect_revert(errors.AccreditationUnknownSigner, signer=chain.governance):
        record.transact({"from": chain.governance})
    chain.send(chain.registry.functions.suspendDepartment(CITY), chain.governance)
    with expect_revert(errors.AccreditationDepartmentSuspended, signer=chain.keys[CITY]):
        record.transact({"from": chain.keys[CITY]})
    # Credit events carry no region: a department of any region may record them.
    chain.send(record, chain.keys[SHANGHAI_BUREAU])


# ----------------------------------------------------------------------------------------------
# Amendments
# ----------------------------------------------------------------------------------------------


def _transition_cases() -> list[tuple[Polarity, Amendment, Amendment]]:
    cases = []
    for polarity, current, requested in product(Polarity, Amendment, Amendment):
        if polarity == Polarity.POSITIVE and Amendment.REPAIRED in PATH_TO[current]:
            continue  # a positive event never becomes Repaired
        cases.append((polarity, current, requested))
    return cases


@pytest.mark.parametrize(("polarity", "current", "requested"), _transition_cases(), ids=enum_id)
def test_amendment_transition_table(
    chain: Chain, polarity: Polarity, current: Amendment, requested: Amendment
) -> None:
    key = chain.keys[DISTRICT]
    identifier, _ = chain.record(key, digest("amended subject"), polarity=polarity)
    for step in PATH_TO[current]:
        amend(chain, identifier, step, key)
    assert amendment_of(chain, identifier)["status"] == current
    reason = digest("decision document")
    call = chain.credit.functions.amend(identifier, requested, reason)
    allowed = requested in TRANSITIONS[current] and not (
        requested == Amendment.REPAIRED and polarity == Polarity.POSITIVE
    )
    if not allowed:
        with expect_revert(
            errors.CreditLedgerInvalidTransition,
            eventId=identifier,
            current=current,
            requested=requested,
        ):
            call.transact({"from": key})
        assert amendment_of(chain, identifier)["status"] == current
        assert amendment_of(chain, identifier)["count"] == len(PATH_TO[current])
        return
    receipt = chain.send(call, key)
    assert events(chain.credit, receipt) == [
        (
            "CreditEventAmended",
            {"eventId": identifier, "status": requested, "reasonHash": reason, "actor": DISTRICT},
        )
    ]
    assert amendment_of(chain, identifier) == {
        "status": requested,
        "amendedBy": DISTRICT,
        "amendedAt": chain.timestamp_of(receipt),
        "count": len(PATH_TO[current]) + 1,
    }


def test_amendments_never_touch_the_event(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    identifier, _ = chain.record(key, digest("subject"))
    recorded = credit_event(chain, identifier)
    contract = chain.credit
    before = chain.mapping_word(contract, identifier, EVENTS_SLOT)
    for step in (Amendment.DISPUTED, Amendment.UPHELD, Amendment.DISPUTED, Amendment.CORRECTED):
        amend(chain, identifier, step, key)
    assert credit_event(chain, identifier) == recorded
    assert chain.mapping_word(contract, identifier, EVENTS_SLOT) == before
    state = amendment_of(chain, identifier)
    assert state["count"] == 4
    word = chain.mapping_word(contract, identifier, AMENDMENTS_SLOT)
    assert int.from_bytes(word, "big") == (
        Amendment.CORRECTED | DISTRICT << 8 | state["amendedAt"] << 40 | 4 << 80
    )


def test_amend_refusals(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    identifier, _ = chain.record(key, digest("subject"))
    unknown = digest("unknown event")
    amend_call = chain.credit.functions.amend
    for sender in (key, chain.outsider):
        with expect_revert(errors.CreditLedgerUnknownEvent, eventId=unknown):
            amend_call(unknown, Amendment.CORRECTED, digest("r")).transact({"from": sender})
    with expect_revert(errors.CreditLedgerMissingReason):
        amend_call(identifier, Amendment.CORRECTED, ZERO32).transact({"from": key})
    # The reason is checked before the transition.
    with expect_revert(errors.CreditLedgerMissingReason):
        amend_call(identifier, Amendment.NONE, ZERO32).transact({"from": key})
    assert amendment_of(chain, identifier)["count"] == 0


def test_amend_with_an_out_of_range_status_reverts_without_a_custom_error(chain: Chain) -> None:
    key = chain.keys[DISTRICT]
    identifier, _ = chain.record(key, digest("subject"))
    with pytest.raises(TransactionFailed) as caught:
        chain.credit.functions.amend(identifier, 6, digest("r")).transact({"from": key})
    assert type(decode_failure(caught.value)) is errors.UnknownContractError


def test_supervisor_amends_the_supervised_departments_events(chain: Chain) -> None:
    identifier, _ = chain.record(chain.keys[DISTRICT], digest("subject"))
    reason = digest("review by the province")
    receipt = chain.send(
        chain.credit.functions.amend(identifier, Amendment.WITHDRAWN, reason), chain.keys[PROVINCE]
    )
    assert events(chain.credit, receipt) == [
        (
            "CreditEventAmended",
            {
                "eventId": identifier,
                "status": Amendment.WITHDRAWN,
                "reasonHash": reason,
                "actor": PROVINCE,
            },
        )
    ]
    assert amendment_of(chain, identifier)["amendedBy"] == PROVINCE


def test_amend_access(chain: Chain) -> None:
    identifier, _ = chain.record(chain.keys[DISTRICT], digest("subject"))
    amend_call = chain.credit.functions.amend(identifier, Amendment.DISPUTED, digest("r"))
    for department in (CITY, SHANGHAI_BUREAU):
        key = chain.keys[department]
        with expect_revert(errors.AccreditationNotIssuer, signer=key, issuer=DISTRICT):
            amend_call.transact({"from": key})
    with expect_revert(errors.AccreditationUnknownSigner, signer=chain.outsider):
        amend_call.transact({"from": chain.outsider})
    # Supervision is one way, and the actor needs the event's category.
    province_tax, _ = chain.record(chain.keys[PROVINCE], digest("subject"))
    province_honour, _ = chain.record(
        chain.keys[PROVINCE], digest("subject"), category=COMMENDATION, polarity=Polarity.POSITIVE
    )
    key = chain.keys[DISTRICT]
    with expect_revert(errors.AccreditationNotIssuer, signer=key, issuer=PROVINCE):
        chain.credit.functions.amend(province_tax, Amendment.DISPUTED, digest("r")).transact(
            {"from": key}
        )
    with expect_revert(errors.AccreditationScopeNotGranted, signer=key, scope=COMMENDATION):
        chain.credit.functions.amend(province_honour, Amendment.DISPUTED, digest("r")).transact(
            {"from": key}
        )
    chain.send(chain.registry.functions.suspendDepartment(DISTRICT), chain.governance)
    with expect_revert(errors.AccreditationDepartmentSuspended, signer=key):
        amend_call.transact({"from": key})
    assert amendment_of(chain, identifier)["count"] == 0
    chain.send(amend_call, chain.keys[PROVINCE])


# ----------------------------------------------------------------------------------------------
# Disclosure
# ----------------------------------------------------------------------------------------------


def test_set_disclosure_period(chain: Chain) -> None:
    functions = chain.credit.functions
    assert functions.disclosurePeriodOf(TAX_COMPLIANCE).call() == 0
    receipt = chain.send(functions.setDisclosurePeriod(TAX_COMPLIANCE, 3 * YEAR), chain.governance)
    assert events(chain.credit, receipt) == [
        ("DisclosurePeriodChanged", {"category": TAX_COMPLIANCE, "period": 3 * YEAR})
    ]
    assert functions.disclosurePeriodOf(TAX_COMPLIANCE).call() == 3 * YEAR
    assert functions.disclosurePeriodOf(COMMENDATION).call() == 0
    cleared = chain.send(functions.setDisclosurePeriod(TAX_COMPLIANCE, 0), chain.governance)
    assert events(chain.credit, cleared) == [
        ("DisclosurePeriodChanged", {"category": TAX_COMPLIANCE, "period": 0})
    ]
    assert functions.disclosurePeriodOf(TAX_COMPLIANCE).call() == 0


def test_only_governance_sets_disclosure_periods(chain: Chain) -> None:
    set_period = chain.credit.functions.setDisclosurePeriod(TAX_COMPLIANCE, YEAR)
    pending = chain.spare[0]
    chain.send(chain.registry.functions.transferOwnership(pending), chain.governance)
    for account in (chain.outsider, chain.keys[PROVINCE], pending):
        with expect_revert(errors.CreditLedgerUnauthorizedAccount, account=account):
            set_period.transact({"from": account})
    assert chain.credit.functions.disclosurePeriodOf(TAX_COMPLIANCE).call() == 0


def test_negative_events_are_disclosed_for_the_period(chain: Chain) -> None:
    period = 2 * YEAR
    chain.send(chain.credit.functions.setDisclosurePeriod(TAX_COMPLIANCE, period), chain.governance)
    occurred_at = chain.now() - 30 * DAY
    identifier, _ = chain.record(chain.keys[DISTRICT], digest("s"), occurred_at=occurred_at)
    is_disclosed = chain.credit.functions.isDisclosed
    assert is_disclosed(identifier, chain.now()).call() is True
    assert is_disclosed(identifier, occurred_at).call() is True
    assert is_disclosed(identifier, occurred_at + period - 1).call() is True
    assert is_disclosed(identifier, occurred_at + period).call() is False
    # Live on the chain's own clock.
    chain.travel_to(occurred_at + period - 1)
    assert is_disclosed(identifier, chain.now()).call() is True
    chain.travel(1)
    assert is_disclosed(identifier, chain.now()).call() is False
    # The period applies retroactively; 0 means "no limit".
    chain.send(chain.credit.functions.setDisclosurePeriod(TAX_COMPLIANCE, 0), chain.governance)
    assert is_disclosed(identifier, 2**40 - 1).call() is True


def test_positive_events_are_always_disclosed(chain: Chain) -> None:
    chain.send(chain.credit.functions.setDisclosurePeriod(COMMENDATION, DAY), chain.governance)
    occurred_at = chain.now() - YEAR
    identifier, _ = chain.record(
        chain.keys[PROVINCE],
        digest("s"),
        category=COMMENDATION,
        polarity=Polarity.POSITIVE,
        occurred_at=occurred_at,
    )
    for moment in (occurred_at, occurred_at + DAY, chain.now(), 2**40 - 1):
        assert chain.credit.functions.isDisclosed(identifier, moment).call() is True


@pytest.mark.parametrize(
    ("polarity", "state"),
    [
        (Polarity.NEGATIVE, Amendment.WITHDRAWN),
        (Polarity.NEGATIVE, Amendment.CORRECTED),
        (Polarity.NEGATIVE, Amendment.REPAIRED),
        (Polarity.POSITIVE, Amendment.WITHDRAWN),
        (Polarity.POSITIVE, Amendment.CORRECTED),
    ],
    ids=enum_id,
)
def test_withdrawn_corrected_and_repaired_events_are_never_disclosed(
    chain: Chain, polarity: Polarity, state: Amendment
) -> None:
    key = chain.keys[PROVINCE]
    category = TAX_COMPLIANCE if polarity == Polarity.NEGATIVE else COMMENDATION
    identifier, _ = chain.record(key, digest("s"), category=category, polarity=polarity)
    assert chain.credit.functions.isDisclosed(identifier, chain.now()).call() is True
    for step in PATH_TO[state]:
        amend(chain, identifier, step, key)
    occurred_at = credit_event(chain, identifier)["occurredAt"]
    for moment in (occurred_at, chain.now(), 2**40 - 1):
        assert chain.credit.functions.isDisclosed(identifier, moment).call() is False


@pytest.mark.parametrize("state", [Amendment.DISPUTED, Amendment.UPHELD], ids=enum_id)
def test_disputed_and_upheld_events_follow_the_period(chain: Chain, state: Amendment) -> None:
    chain.send(chain.credit.functions.setDisclosurePeriod(TAX_COMPLIANCE, YEAR), chain.governance)
    key = chain.keys[DISTRICT]
    occurred_at = chain.now() - DAY
    identifier, _ = chain.record(key, digest("s"), occurred_at=occurred_at)
    for step in PATH_TO[state]:
        amend(chain, identifier, step, key)
    assert chain.credit.functions.isDisclosed(identifier, occurred_at + YEAR - 1).call() is True
    assert chain.credit.functions.isDisclosed(identifier, occurred_at + YEAR).call() is False


def test_unknown_events_are_not_disclosed(chain: Chain) -> None:
    assert chain.credit.functions.isDisclosed(digest("nothing"), chain.now()).call() is False


def test_disclosure_period_is_per_category(chain: Chain) -> None:
    other = credit_category(9)
    chain.send(chain.registry.functions.grantScopes(PROVINCE, [other]), chain.governance)
    chain.send(chain.credit.functions.setDisclosurePeriod(other, DAY), chain.governance)
    occurred_at = chain.now() - 2 * DAY
    short, _ = chain.record(
        chain.keys[PROVINCE], digest("s"), category=other, occurred_at=occurred_at
    )
    unlimited, _ = chain.record(chain.keys[PROVINCE], digest("s"), occurred_at=occurred_at)
    assert chain.credit.functions.isDisclosed(short, chain.now()).call() is False
    assert chain.credit.functions.isDisclosed(unlimited, chain.now()).call() is True
