"""Consent codes and the consent store (ledger/service/consents.py), with a fake clock."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest

from ledger.config import Settings
from ledger.errors import (
    ConsentCodeUnknownError,
    ConsentExpiredError,
    ConsentNotActiveError,
    ConsentNotFoundError,
    ConsentNotRedeemedError,
    ConsentOtherDepartmentError,
    ConsentRevokedError,
    ConsentUsedError,
    ServiceNotForSubjectError,
    TooManyAttemptsError,
    UnknownServiceError,
    ValidationError,
)
from ledger.identity import SubjectKind, make_citizen_id, parse_subject, subject_ref
from ledger.service.consents import (
    ALPHABET,
    ATTEMPT_WINDOW_SECONDS,
    CODE_BITS,
    MAX_FAILED_ATTEMPTS,
    ConsentStore,
    consent_key,
    format_code,
    new_code,
    normalize_code,
)
from ledger.service.database import ServiceDatabase

PEPPER = bytes.fromhex("5a" * 16 + "c3" * 16)
SERVICE = "residence-permit-endorsement"  # citizens only
ENTERPRISE_SERVICE = "food-business-licensing"  # enterprises only


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[ServiceDatabase]:
    with ServiceDatabase(tmp_path / "service.sqlite3") as opened:
        yield opened


@pytest.fixture
def store(database: ServiceDatabase, clock: Clock) -> ConsentStore:
    return ConsentStore(database, consent_key(PEPPER), max_minutes=30, clock=clock)


IDENTIFIER = make_citizen_id()
REF = subject_ref(PEPPER, parse_subject(IDENTIFIER))
OTHER_REF = subject_ref(PEPPER, parse_subject(make_citizen_id(sequence=456)))


# -- codes --------------------------------------------------------------------------------------


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)
    assert CODE_BITS == 50


def test_new_codes_draw_from_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []

    def choice(sequence: str) -> str:
        drawn.append(sequence)
        return sequence[-1]

    monkeypatch.setattr(secrets, "choice", choice)
    assert new_code() == "Z" * 10
    assert drawn == [ALPHABET] * 10


def test_new_codes_use_the_whole_alphabet() -> None:
    codes = [new_code() for _ in range(400)]
    assert all(len(code) == 10 and set(code) <= set(ALPHABET) for code in codes)
    assert set("".join(codes)) == set(ALPHABET)
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ABCDE-FGH12", "ABCDEFGH12"),
        ("abcde fgh12", "ABCDEFGH12"),
        (" ab-cde\tfgh-12 ", "ABCDEFGH12"),
        ("IlOoi-LLOO0", "1100111000"),
    ],
)
def test_normalize_code(text: str, code: str) -> None:
    assert normalize_code(text) == code


@pytest.mark.parametrize(
    "text", ["", "ABCDE-FGH1", "ABCDE-FGH123", "ABCDE-FGHU2", "ABCDE_FGH12", "ABCDÉ-FGH12"]
)
def test_normalize_refuses_what_is_not_a_code(text: str) -> None:
    assert normalize_code(text) is None


def test_format_code() -> None:
    assert format_code("ABCDEFGH12") == "ABCDE-FGH12"
    assert normalize_code(format_code("ABCDEFGH12")) == "ABCDEFGH12"


def test_key_is_derived_not_the_pepper() -> None:
    key = consent_key(PEPPER)
    assert len(key) == 32
    assert key != PEPPER
    assert PEPPER not in key
    assert consent_key(PEPPER) == key != consent_key(bytes(reversed(PEPPER)))


# -- the store ----------------------------------------------------------------------------------


def test_grant_and_list(store: ConsentStore, clock: Clock, database: ServiceDatabase) -> None:
    first, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3)
    assert normalize_code(code) == code
    assert len(first.consent_id) == 32
    assert int(first.consent_id, 16) >= 0
    assert (first.mode, first.uses, first.expires_at - first.created_at) == ("single", 0, 1800)
    clock.now += 1
    second, _ = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 4, mode="visit", minutes=5)
    assert second.expires_at - second.created_at == 300
    store.grant(OTHER_REF, SubjectKind.CITIZEN, SERVICE, 3)
    assert [record.consent_id for record in store.of_subject(REF)] == [
        second.consent_id,
        first.consent_id,
    ]
    # Neither the code nor anything but its keyed digest is stored.
    [(digest,)] = database.query(
        "SELECT code_digest FROM consents WHERE consent_id = ?", (first.consent_id,)
    )
    assert code.encode() not in bytes(digest)
    assert len(bytes(digest)) == 32
    raw = (database.path).read_bytes()
    assert code.encode() not in raw
    assert IDENTIFIER.encode() not in raw


def test_grant_refusals(store: ConsentStore) -> None:
    with pytest.raises(UnknownServiceError):
        store.grant(REF, SubjectKind.CITIZEN, "no-such-service", 3)
    with pytest.raises(ServiceNotForSubjectError):
        store.grant(REF, SubjectKind.CITIZEN, ENTERPRISE_SERVICE, 3)
    for minutes in (0, 31):
        with pytest.raises(ValidationError):
            store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3, minutes=minutes)


def test_single_consent_is_used_once(store: ConsentStore) -> None:
    record, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3)
    used = store.redeem(3, code.lower())
    assert (used.consent_id, used.uses) == (record.consent_id, 1)
    with pytest.raises(ConsentUsedError):
        store.redeem(3, format_code(code))
    [listed] = store.of_subject(REF)
    assert (listed.uses, listed.state(0)) == (1, "used")


def test_visit_consent_until_expiry(store: ConsentStore, clock: Clock) -> None:
    _, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3, mode="visit", minutes=2)
    assert [store.redeem(3, code).uses for _ in range(3)] == [1, 2, 3]
    clock.now += 119
    assert store.redeem(3, code).uses == 4
    clock.now += 1
    with pytest.raises(ConsentExpiredError):
        store.redeem(3, code)
    [listed] = store.of_subject(REF)
    assert listed.state(clock.now) == "expired"


def test_other_department_and_unknown(store: ConsentStore) -> None:
    _, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3)
    with pytest.raises(ConsentOtherDepartmentError):
        store.redeem(4, code)
    with pytest.raises(ConsentCodeUnknownError):
        store.redeem(3, "".join(secrets.choice(ALPHABET) for _ in range(10)))
    with pytest.raises(ConsentCodeUnknownError):
        store.redeem(3, "UUUUU-UUUUU")
    assert store.redeem(3, code).uses == 1


def test_revoke(store: ConsentStore, clock: Clock) -> None:
    record, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3, mode="visit")
    with pytest.raises(ConsentNotFoundError):
        store.revoke(OTHER_REF, record.consent_id)
    with pytest.raises(ConsentNotFoundError):
        store.revoke(REF, "0" * 32)
    revoked = store.revoke(REF, record.consent_id)
    assert revoked.revoked_at == int(clock.now)
    assert revoked.state(clock.now) == "revoked"
    with pytest.raises(ConsentNotActiveError):
        store.revoke(REF, record.consent_id)
    with pytest.raises(ConsentRevokedError):
        store.redeem(3, code)
    expired, _ = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3, minutes=1)
    clock.now += 60
    with pytest.raises(ConsentNotActiveError):
        store.revoke(REF, expired.consent_id)


def test_attempt_limit_and_reset(
    store: ConsentStore, clock: Clock, database: ServiceDatabase
) -> None:
    _, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3, mode="visit", minutes=30)
    for _ in range(MAX_FAILED_ATTEMPTS):
        clock.now += 1
        with pytest.raises(ConsentCodeUnknownError):
            store.redeem(3, "00000-00000")
    # Past the limit even the right code is refused, so a guesser learns nothing more.
    with pytest.raises(TooManyAttemptsError) as refused:
        store.redeem(3, code)
    assert refused.value.retry_after == ATTEMPT_WINDOW_SECONDS - MAX_FAILED_ATTEMPTS + 1
    # A restart (a new store over the same database) does not reset the count.
    reopened = ConsentStore(database, consent_key(PEPPER), clock=clock)
    with pytest.raises(TooManyAttemptsError):
        reopened.redeem(3, code)
    clock.now += ATTEMPT_WINDOW_SECONDS - MAX_FAILED_ATTEMPTS + 1
    assert reopened.redeem(3, code).uses == 1


def test_attempts_are_per_department(store: ConsentStore) -> None:
    _, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 4)
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(ConsentCodeUnknownError):
            store.redeem(3, "00000-00000")
    with pytest.raises(TooManyAttemptsError):
        store.redeem(3, "00000-00000")
    assert store.redeem(4, code).uses == 1


# -- liveness (the window's later actions under a redeemed consent) -------------------------------


def test_a_single_consent_stays_live_for_the_visit(store: ConsentStore, clock: Clock) -> None:
    record, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3, minutes=5)
    with pytest.raises(ConsentNotRedeemedError) as refused:
        store.live(3, record.consent_id)
    assert refused.value.code == "consent_not_redeemed"
    store.redeem(3, code)
    # Used up for redemption, live for what the window does next in the same visit.
    with pytest.raises(ConsentUsedError):
        store.redeem(3, code)
    live = store.live(3, record.consent_id)
    assert (live.consent_id, live.subject_ref, live.uses) == (record.consent_id, REF, 1)
    clock.now += 5 * 60 - 1
    assert store.live(3, record.consent_id).consent_id == record.consent_id
    clock.now += 1
    with pytest.raises(ConsentExpiredError):
        store.live(3, record.consent_id)


def test_live_refusals(store: ConsentStore) -> None:
    record, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3, mode="visit")
    store.redeem(3, code)
    with pytest.raises(ConsentOtherDepartmentError):
        store.live(4, record.consent_id)
    with pytest.raises(ConsentCodeUnknownError):
        store.live(3, "0" * 32)
    store.revoke(REF, record.consent_id)
    with pytest.raises(ConsentRevokedError):
        store.live(3, record.consent_id)
    # Revoked before it was ever redeemed: the revocation is what the window is told.
    fresh, _ = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3)
    store.revoke(REF, fresh.consent_id)
    with pytest.raises(ConsentRevokedError):
        store.live(3, fresh.consent_id)


def test_live_refusals_are_not_counted_as_guesses(store: ConsentStore) -> None:
    _, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3)
    for _ in range(MAX_FAILED_ATTEMPTS + 1):
        with pytest.raises(ConsentCodeUnknownError):
            store.live(3, "0" * 32)
    assert store.redeem(3, code).uses == 1


def test_a_version_2_database_gains_the_consent_tables(tmp_path: Path) -> None:
    path = tmp_path / "service.sqlite3"
    with ServiceDatabase(path) as opened, opened.transaction() as connection:
        connection.execute("DROP TABLE consents")
        connection.execute("DROP TABLE consent_attempts")
        connection.execute("PRAGMA user_version = 2")
    with ServiceDatabase(path) as reopened:
        assert reopened.query("PRAGMA user_version") == [(4,)]
        store = ConsentStore(reopened, consent_key(PEPPER))
        _, code = store.grant(REF, SubjectKind.CITIZEN, SERVICE, 3)
        assert store.redeem(3, code).uses == 1


@pytest.mark.parametrize(
    ("value", "valid"),
    [("0", False), ("1", True), ("30", True), ("1440", True), ("1441", False), ("x", False)],
)
def test_the_consent_lifetime_is_a_setting_of_one_minute_to_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, valid: bool
) -> None:
    """LEDGER_CONSENT_MINUTES (docs/api.md): 1 to 1440, anything else refused at start."""
    monkeypatch.setenv("LEDGER_CONSENT_MINUTES", value)
    if valid:
        assert Settings(data_dir=tmp_path).consent_minutes == int(value)
    else:
        with pytest.raises(pydantic.ValidationError):
            Settings(data_dir=tmp_path)
