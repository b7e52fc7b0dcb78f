"""Contract invariants as Hypothesis stateful tests (issue #7, build item 1).

``invariant_machine.LedgerMachine`` drives the four contracts on eth-tester through random
sequences of governance changes, time travel, anchoring and lifecycle changes, credit records and
amendments, and bundle filings, attempted by department keys, spare keys, an outsider and
governance. Before every call the model (``invariant_model.py``) predicts success or the exact
custom error; after every step the invariants compare the chain with the model:

* only an issuer accredited at that moment (or its supervisor, as the contracts define it)
  changes a certificate record; unauthorized calls revert and leave state unchanged;
* revoked is final;
* a credit event is never changed or removed, only amended by appended records;
* counts and subject indexes agree with the emitted events;
* key validity windows hold, now and in the registry's history;
* a bundle is complete exactly when every part is filed and each filed certificate is active and
  unexpired.

Profiles (registered here, selected with HYPOTHESIS_PROFILE, see docs/testing-invariants.md):

* ``ci`` (default): 30 derandomized runs of up to 20 steps, no example database, the same steps
  on every run (at least 200 executed, asserted).
* ``nightly``: ``HYPOTHESIS_PROFILE=nightly .venv/bin/pytest tests/contracts/test_invariants.py``,
  300 random runs of up to 50 steps (at least 10,000, asserted).

A failure prints the shortest run Hypothesis found as ``state.<rule>(...)`` lines and a
``@reproduce_failure`` blob. The last test compiles a CertificateRegistry whose ``revoke`` lost
its access check and requires the same machine to catch it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.internal.conjecture import engine as hypothesis_engine
from hypothesis.stateful import run_state_machine_as_test

from ledger.contracts.artifacts import Artifact
from tests.contracts.conftest import Amendment, Polarity
from tests.contracts.invariant_machine import (
    DAY,
    ISSUER,
    MATCHING,
    NO_HOLDER,
    NOBODY,
    PART_DEPARTMENT,
    RECORDER,
    LedgerMachine,
    machine_on,
    with_cast,
)
from tests.contracts.invariant_variants import World, build_world, compile_broken_revoke

# ----------------------------------------------------------------------------------------------
# Profiles
# ----------------------------------------------------------------------------------------------

#: Environment variable that selects the profile (Hypothesis' own convention).
PROFILE_ENV: Final = "HYPOTHESIS_PROFILE"
#: Steps each profile must actually execute; the main test asserts it.
STEP_TARGETS: Final = {"ci": 200, "nightly": 10_000}
#: Seconds the broken-variant test lets Hypothesis shrink the failure it found.
SHRINKING_SECONDS: Final = 10
#: pytest-timeout stops a test after 600 s (pyproject.toml); the nightly profile needs longer.
NIGHTLY_TIMEOUT_SECONDS: Final = 2 * 60 * 60

_COMMON: Final[dict[str, Any]] = {
    # No "explain" phase: it traces every line the chain executes, minutes per failure.
    "phases": (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
    "deadline": None,
    "database": None,
    "print_blob": True,
    "report_multiple_bugs": False,
    "suppress_health_check": [HealthCheck.too_slow],
}
settings.register_profile(
    "ci", max_examples=30, stateful_step_count=20, derandomize=True, **_COMMON
)
# Random on purpose: each night explores new runs; a failure prints its reproduce_failure blob.
# Some random runs stop early (Hypothesis ends a run where its choices are new), so 300 runs of
# up to 48 counted steps (the two initialize rules are not counted) leave room over 10,000.
settings.register_profile(
    "nightly", max_examples=300, stateful_step_count=50, derandomize=False, **_COMMON
)
#: Small and fixed: the broken variant must be caught in seconds, the same way every time.
settings.register_profile(
    "broken-variant", max_examples=100, stateful_step_count=15, derandomize=True, **_COMMON
)


def selected_profile() -> str:
    """``ci`` unless HYPOTHESIS_PROFILE names another registered profile."""
    return os.environ.get(PROFILE_ENV) or "ci"


def allowing_the_nightly_run(test: Callable[..., None]) -> Callable[..., None]:
    """Lift pytest-timeout's limit for the nightly profile only (CI keeps the default)."""
    if selected_profile() == "nightly":
        marked: Callable[..., None] = pytest.mark.timeout(NIGHTLY_TIMEOUT_SECONDS)(test)
        return marked
    return test


# ----------------------------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> World:
    """The committed contracts, the accredited cast and its paperwork, at a fixed moment."""
    return with_cast(build_world("committed contracts"))


@allowing_the_nightly_run
def test_contracts_keep_their_invariants(world: World) -> None:
    """The committed contracts keep every invariant over the selected profile's runs, and the
    profile's steps are really executed (counted rule by rule, not inferred from settings)."""
    profile = selected_profile()
    world.steps = 0
    world.outcomes.clear()
    started = time.monotonic()
    run_state_machine_as_test(machine_on(world), settings=settings.get_profile(profile))
    elapsed = time.monotonic() - started
    print(f"\n{profile} profile: {world.steps} steps executed in {elapsed:.1f} s")
    for outcome, count in sorted(world.outcomes.items()):
        print(f"  {count:5d}  {outcome}")
    assert world.steps >= STEP_TARGETS.get(profile, 1), f"only {world.steps} steps ran"


def test_profiles_promise_enough_steps() -> None:
    """ci is reproducible and big enough for 200 steps; nightly for 10,000."""
    for name, target in STEP_TARGETS.items():
        profile = settings.get_profile(name)
        assert profile.max_examples * profile.stateful_step_count >= target
        assert profile.database is None
        assert profile.print_blob
    assert settings.get_profile("ci").derandomize


#: A fixed walk through the machine: (rule, the model's prediction or "" for no call, arguments).
#: Names in angle brackets stand for the cast's records and for what earlier steps returned.
LICENCE: Final = {"cert_type": "business licence", "region": "its own region"}
NEW: Final = {**LICENCE, "expiry": "never", "holder": "holder C"}
EVENT: Final = {"holder": "holder A", "polarity": Polarity.NEGATIVE, "evidence": 1}
TAX: Final = {**EVENT, "category": "tax compliance", "severity": 3, "with_cid": False}
AMEND: Final = {"identifier": "<tax event>", "with_reason": True}
BUNDLE: Final = {
    "holder": "holder A",
    "parts": [("district", "business licence"), ("province", "food permit")],
    "deadline": "in a month",
}
FILE: Final = {"actor": PART_DEPARTMENT, "bundle_id": "<bundle>"}
TOUR: Final[tuple[tuple[str, str, dict[str, Any]], ...]] = (
    ("anchor", "ok", {**LICENCE, "actor": "district", "document": 5, "expiry": "in an hour",
                      "holder": "holder B"}),
    ("anchor", "AccreditationUnknownSigner", {**NEW, "actor": "outsider", "document": 6}),
    ("anchor", "AccreditationScopeNotGranted",
     {**NEW, "actor": "district", "document": 6, "cert_type": "food permit"}),
    ("anchor", "AccreditationRegionNotCovered",
     {**NEW, "actor": "district", "document": 6, "region": "another province"}),
    ("anchor", "CertificateRegistryAlreadyAnchored", {**NEW, "actor": "district", "document": 5}),
    ("anchor", "CertificateRegistryInvalidExpiry",
     {**NEW, "actor": "district", "document": 6, "expiry": "already"}),
    ("suspend", "ok", {"actor": ISSUER, "doc_hash": "<district licence>", "reason": 11}),
    ("suspend", "AccreditationNotIssuer",
     {"actor": "city", "doc_hash": "<district licence>", "reason": 11}),
    # The province supervises the district.
    ("reinstate", "ok", {"actor": "province", "doc_hash": "<district licence>"}),
    ("revoke", "CertificateRegistryMissingReason",
     {"actor": ISSUER, "doc_hash": "<city licence>", "reason": 0}),
    ("revoke", "ok", {"actor": ISSUER, "doc_hash": "<city licence>", "reason": 11}),
    ("reinstate", "CertificateRegistryInvalidStatus",
     {"actor": ISSUER, "doc_hash": "<city licence>"}),
    ("supersede", "CertificateRegistryInvalidStatus",
     {"actor": ISSUER, "old_hash": "<city licence>", "document": 7, "expiry": "never",
      "holder": NO_HOLDER, "reason": 11}),
    ("supersede", "ok",
     {"actor": ISSUER, "old_hash": "<province licence>", "document": 7,
      "expiry": "in a month", "holder": "holder B", "reason": 11}),
    ("record", "ok", {**TAX, "actor": "province", "category": "commendation", "severity": 1,
                      "polarity": Polarity.POSITIVE, "occurred": "just now", "with_cid": True}),
    ("record", "AccreditationScopeNotGranted",
     {**TAX, "actor": "district", "category": "commendation", "occurred": "at the start"}),
    ("record", "CreditLedgerInvalidSeverity",
     {**TAX, "actor": "district", "severity": 0, "occurred": "at the start"}),
    ("record", "CreditLedgerOccurredInFuture",
     {**TAX, "actor": "district", "occurred": "in an hour"}),
    ("record", "ok", {**TAX, "actor": "district", "occurred": "at the start"}),
    ("record", "CreditLedgerDuplicateEvent",
     {**TAX, "actor": "district", "occurred": "at the start"}),
    ("amend", "ok", {**AMEND, "actor": RECORDER, "status": Amendment.DISPUTED}),
    ("amend", "ok", {**AMEND, "actor": RECORDER, "status": Amendment.UPHELD}),
    ("amend", "CreditLedgerMissingReason",
     {**AMEND, "actor": RECORDER, "status": Amendment.REPAIRED, "with_reason": False}),
    ("amend", "ok", {**AMEND, "actor": "province", "status": Amendment.REPAIRED}),
    ("amend", "CreditLedgerInvalidTransition",
     {**AMEND, "actor": RECORDER, "identifier": "<commendation>", "status": Amendment.REPAIRED}),
    ("amend", "AccreditationNotIssuer", {**AMEND, "actor": "city", "status": Amendment.WITHDRAWN}),
    ("open_bundle", "ok", {**BUNDLE, "actor": "district", "bundle": 0}),
    ("open_bundle", "LicenceBundlesInvalidBundle", {**BUNDLE, "actor": "district", "bundle": 0}),
    ("open_bundle", "LicenceBundlesNotAuthorized", {**BUNDLE, "actor": "outsider", "bundle": 1}),
    ("file_part", "LicenceBundlesWrongDepartment",
     {**FILE, "actor": "city", "index": 0, "doc_hash": MATCHING}),
    ("file_part", "LicenceBundlesPartMismatch",
     {**FILE, "index": 0, "doc_hash": "<province licence>"}),
    ("file_part", "ok", {**FILE, "index": 0, "doc_hash": MATCHING}),
    ("file_part", "LicenceBundlesPartAlreadyFiled", {**FILE, "index": 0, "doc_hash": MATCHING}),
    ("file_part", "ok", {**FILE, "index": 1, "doc_hash": MATCHING}),  # completes the bundle
    ("wait_for_expiry", "", {"doc_hash": "<food permit>", "edge": "just before it expires"}),
    ("wait_for_expiry", "", {"doc_hash": "<food permit>", "edge": "as it expires"}),
    ("add_signer", "ok",
     {"department": "city", "signer": "spare 1", "opens": "in an hour", "lasts": "a day"}),
    ("anchor", "AccreditationKeyNotYetValid", {**NEW, "actor": "spare 1", "document": 8}),
    ("wait_for_key_edge", "", {"actor": "spare 1", "edge": "as it opens"}),
    ("anchor", "ok", {**NEW, "actor": "spare 1", "document": 8}),
    ("wait_for_key_edge", "", {"actor": "spare 1", "edge": "as it closes"}),
    ("anchor", "AccreditationKeyExpired", {**NEW, "actor": "spare 1", "document": 9}),
    ("retire_signer", "ok", {"signer": "district", "successor": "spare 2", "lasts": "open-ended"}),
    ("anchor", "AccreditationKeyExpired", {**NEW, "actor": "district", "document": 9}),
    ("anchor", "ok", {**NEW, "actor": "spare 2", "document": 9}),
    ("retire_signer", "DepartmentRegistryUnknownSigner",
     {"signer": "district", "successor": NOBODY, "lasts": "a day"}),
    ("govern_department", "ok",
     {"department": "shanghai", "change": "suspend", "by": "governance"}),
    ("anchor", "AccreditationDepartmentSuspended", {**NEW, "actor": "shanghai", "document": 10}),
    ("govern_department", "OwnableUnauthorizedAccount",
     {"department": "shanghai", "change": "reinstate", "by": "district"}),
    ("govern_department", "ok",
     {"department": "shanghai", "change": "reinstate", "by": "governance"}),
    ("govern_department", "DepartmentRegistryInvalidSupervisor",
     {"department": "province", "change": "supervised by district", "by": "governance"}),
    ("govern_department", "ok",
     {"department": "city", "change": "withdraw business licence", "by": "governance"}),
    ("anchor", "AccreditationScopeNotGranted", {**NEW, "actor": "city", "document": 10}),
    ("wait", "", {"seconds": 30 * DAY}),
)  # fmt: skip


def test_a_scripted_tour_takes_every_path(world: World) -> None:
    """Hypothesis' runs are random walks, lumpy at CI size; this fixed walk through the same
    machine takes every rule's success path and each kind of refusal on every run, with the
    model's prediction pinned and every invariant checked after each step."""
    machine = machine_on(world)()
    assert world.cast is not None
    district, province, city, _, permit = world.cast.documents
    tax_event, commendation, _ = world.cast.events
    names: dict[str, Any] = {
        "<district licence>": district,
        "<province licence>": province,
        "<city licence>": city,
        "<food permit>": permit,
        "<tax event>": tax_event,
        "<commendation>": commendation,
    }
    for number, (rule, expected, arguments) in enumerate(TOUR):
        resolved = {
            key: names[value] if isinstance(value, str) and value.startswith("<") else value
            for key, value in arguments.items()
        }
        result = getattr(machine, rule)(**resolved)
        if expected:
            assert machine.last_outcome == expected, f"step {number} ({rule}): the model says"
        if rule == "open_bundle" and expected == "ok":
            names["<bundle>"] = result
        for check in machine.invariants:
            check.function(machine)
    bundle = machine.licensing.bundles[names["<bundle>"]]
    assert len(bundle.filed) == len(bundle.parts), "the tour completed the bundle"
    assert not bundle.complete_at(machine.certificates, machine.now()), "until the permit expired"
    machine.teardown()


@pytest.fixture(scope="session")
def broken_revoke(tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """CertificateRegistry without revoke's access check, compiled once per session."""
    return compile_broken_revoke(Path(tmp_path_factory.mktemp("broken-revoke")))


@pytest.mark.xdist_group("solc")  # compiles: one solc at a time, as tests/unit/test_artifacts.py
def test_a_broken_access_check_is_caught(
    broken_revoke: Artifact, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The acceptance check of the machine itself: against a registry whose ``revoke`` lets
    anyone revoke, the same machine fails on an unauthorized revoke and prints the steps that
    reproduce it."""
    broken_world = with_cast(build_world("revoke without access check", broken_revoke))
    machine: type[LedgerMachine] = machine_on(broken_world, "BrokenRevokeMachine")
    # Shrinking replays the chain many times and Hypothesis allows it five minutes. Cap it (an
    # internal constant, read when shrinking starts) so the test stays fast: the example printed
    # is then the shortest found within the cap, still a failing run that reproduces.
    monkeypatch.setattr(hypothesis_engine, "MAX_SHRINKING_SECONDS", SHRINKING_SECONDS)
    started = time.monotonic()
    with pytest.raises(AssertionError) as caught:
        run_state_machine_as_test(machine, settings=settings.get_profile("broken-variant"))
    elapsed = time.monotonic() - started
    message = str(caught.value)
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    print(f"\ncaught in {elapsed:.1f} s:\n{notes}\n{type(caught.value).__name__}: {message}")
    assert message.startswith("revoke of "), "the machine must fail on the broken revoke"
    assert "the model expected Accreditation" in message, "and on its access check"
    assert "state.revoke(" in notes
