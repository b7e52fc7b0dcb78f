"""Disclosure periods (ADR 0020) and the order of a history, on the embedded chain and on anvil,
and through the ``ledger`` command line.

The rule of ``ledger.score`` must give the answer of the contract's own ``isDisclosed`` for
the same event and moment, so a verifier holding only a node agrees with the service.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

from eth_utils.crypto import keccak

from ledger.catalogue import CREDIT_CATEGORIES, SECONDS_PER_DAY
from ledger.contracts import Amendment, Polarity
from ledger.identity import make_citizen_id
from ledger.score import Audience, disclosure_of, read_history
from ledger.session import LedgerSession
from tests.integration.conftest import (
    COMMENDATION,
    CONTRACT_DEFAULT,
    TAX_VIOLATION,
    RegisteredDepartment,
)
from tests.support.cli import json_of, ledger, one_error_line, prepare, succeeded, write
from tests.support.credit import record_event

CITIZEN: Final = make_citizen_id("110105", date(1988, 8, 8), 201)
REASON: Final = keccak(text="decision 2026-042 of the credit review board")
DAY: Final = timedelta(days=1)


def test_deployment_sets_the_catalogue_periods(ledger_session: LedgerSession) -> None:
    credit = ledger_session.credit()
    for category in CREDIT_CATEGORIES:
        assert credit.disclosure_period(category.code) == category.disclosure_days * SECONDS_PER_DAY
    assert credit.disclosure_period(TAX_VIOLATION) == 3 * 365 * SECONDS_PER_DAY
    assert credit.disclosure_period(COMMENDATION) == 0


def test_the_rule_agrees_with_the_contract_and_third_parties_see_disclosed_events_only(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    subject = ledger_session.subject_ref(CITIZEN)
    governance = ledger_session.governance_sender()
    credit = ledger_session.credit()
    governance.transact(credit.set_disclosure_period(TAX_VIOLATION, 30 * SECONDS_PER_DAY))
    sender = ledger_session.department_sender(department.department_id)
    today = datetime.now(UTC).replace(microsecond=0)

    def record(category: int, polarity: Polarity, days_ago: int, label: str) -> bytes:
        occurred_at = today - days_ago * DAY
        event_id, _receipt = record_event(
            sender, credit, subject, category, polarity, 2, occurred_at, keccak(text=label)
        )
        return event_id

    expired = record(TAX_VIOLATION, Polarity.NEGATIVE, 60, "expired")
    current = record(TAX_VIOLATION, Polarity.NEGATIVE, 10, "current")
    withdrawn = record(CONTRACT_DEFAULT, Polarity.NEGATIVE, 10, "withdrawn")
    sender.transact(credit.amend(withdrawn, Amendment.WITHDRAWN, REASON))
    disputed = record(TAX_VIOLATION, Polarity.NEGATIVE, 5, "disputed")
    sender.transact(credit.amend(disputed, Amendment.DISPUTED, REASON))
    reopened = record(CONTRACT_DEFAULT, Polarity.NEGATIVE, 2, "corrected, then disputed")
    sender.transact(credit.amend(reopened, Amendment.CORRECTED, REASON))
    sender.transact(credit.amend(reopened, Amendment.DISPUTED, REASON))
    award = record(COMMENDATION, Polarity.POSITIVE, 3000, "award")

    reader = ledger_session.credit()
    events = reader.history(subject)
    assert len(events) == 6
    periods = reader.disclosure_periods(event.category for event in events)
    for moment in (today, today + 22 * DAY, today + 40 * DAY, today + 4000 * DAY):
        for event in events:
            ours = disclosure_of(event, periods[event.category], moment).disclosed
            assert ours == reader.is_disclosed(event.event_id, moment), (event, moment)

    public = read_history(reader, subject, Audience.THIRD_PARTY, now=today)
    shown = [item.event.event_id for item in public.events]
    assert shown == [award, current, disputed, reopened]  # oldest occurrence first
    assert public.score.counted == (award, current, disputed, reopened)
    assert public.score.value == 100 + 2 - 5 * 3

    own = read_history(reader, subject, Audience.SUBJECT, now=today)
    assert [item.event.event_id for item in own.events] == [
        award,
        expired,
        current,
        withdrawn,
        disputed,
        reopened,
    ]
    marks = {item.event.event_id: item.disclosure for item in own.events}
    assert not marks[expired].disclosed
    assert marks[expired].until == today - 60 * DAY + 30 * DAY
    assert not marks[withdrawn].disclosed
    assert marks[withdrawn].until == reader.event(withdrawn).amended_at  # type: ignore[union-attr]
    assert marks[award].until is None
    assert own.score == public.score

    # Governance lifts the period: the event is disclosed again, at once.
    governance.transact(credit.set_disclosure_period(TAX_VIOLATION, 0))
    again = read_history(reader, subject, Audience.THIRD_PARTY, now=today)
    assert expired in [item.event.event_id for item in again.events]


def test_history_is_oldest_occurrence_first_ties_in_recording_order(
    ledger_session: LedgerSession, department: RegisteredDepartment
) -> None:
    subject = ledger_session.subject_ref(CITIZEN)
    sender = ledger_session.department_sender(department.department_id)
    credit = ledger_session.credit()

    def record(category: int, polarity: Polarity, occurred_at: datetime, evidence: bytes) -> bytes:
        event_id, _receipt = record_event(
            sender, credit, subject, category, polarity, 1, occurred_at, evidence
        )
        return event_id

    june = datetime(2025, 6, 1, tzinfo=UTC)
    recorded = [
        record(CONTRACT_DEFAULT, Polarity.NEGATIVE, june, keccak(text=label))
        for label in ("june, recorded first", "june, recorded second")
    ]
    january = record(TAX_VIOLATION, Polarity.NEGATIVE, datetime(2025, 1, 10, tzinfo=UTC), REASON)
    later = record(COMMENDATION, Polarity.POSITIVE, datetime(2025, 6, 2, tzinfo=UTC), REASON)
    history = ledger_session.credit().history(subject)
    assert [event.event_id for event in history] == [january, *recorded, later]


# -- the command line -------------------------------------------------------------------------


def test_cli_history_hides_events_past_their_period_and_orders_by_occurrence(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    prepare(data_dir)  # `ledger init`: tax-violation is disclosed for 3 years
    today = date.today()
    old_fact = today - timedelta(days=4 * 365)
    recent_fact = today - timedelta(days=20)
    ids = {}
    # The recent fact is recorded first: recording order is not the order shown.
    for name, occurred in (("recent", recent_fact), ("old", old_fact)):
        evidence = write(tmp_path / f"{name}.txt", f"稽查报告 {name}\n")
        ids[name] = json_of(
            ledger(
                data_dir,
                *("credit", "record", "--subject", CITIZEN, "--category", "tax-violation"),
                *("--severity", "2", "--occurred", occurred.isoformat()),
                *("--evidence", str(evidence), "--json"),
            )
        )["eventId"]

    public = json_of(ledger(data_dir, "credit", "history", "--subject", CITIZEN, "--json"))
    assert [e["eventId"] for e in public["events"]] == [ids["recent"]]
    assert public["score"]["counted"] == [ids["recent"]]
    assert public["score"]["value"] == 100 - 5

    own = json_of(
        ledger(
            data_dir,
            *("credit", "history", "--subject", CITIZEN, "--include-undisclosed", "--json"),
        )
    )
    assert [e["eventId"] for e in own["events"]] == [ids["old"], ids["recent"]]
    assert [e["disclosed"] for e in own["events"]] == [False, True]
    ended = old_fact + timedelta(days=3 * 365)
    assert own["events"][0]["disclosedUntil"] == f"{ended.isoformat()}T00:00:00+08:00"
    assert own["score"] == public["score"]
    text = succeeded(
        ledger(data_dir, "credit", "history", "--subject", CITIZEN, "--include-undisclosed")
    )
    assert f"not disclosed since {ended.isoformat()}" in text.splitlines()[0]
    assert CITIZEN not in text


def test_cli_disclosure_show_and_set_and_init_keeps_them(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    succeeded(ledger(data_dir, "init"))
    shown = json_of(ledger(data_dir, "credit", "disclosure", "show", "--json"))["periods"]
    assert {row["category"]: row["days"] for row in shown} == {
        c.name: c.disclosure_days for c in CREDIT_CATEGORIES
    }
    out = succeeded(ledger(data_dir, "credit", "disclosure", "set", "tax-violation", "730"))
    assert out.startswith("disclosure period of tax-violation set to 730 days")
    succeeded(ledger(data_dir, "credit", "disclosure", "set", "contract-default", "0"))
    succeeded(ledger(data_dir, "init"))  # idempotent: governance's choices stand
    rows = json_of(ledger(data_dir, "credit", "disclosure", "show", "--json"))["periods"]
    days = {row["category"]: (row["days"], row["defaultDays"]) for row in rows}
    assert days["tax-violation"] == (730, 3 * 365)
    assert days["contract-default"] == (0, 3 * 365)
    assert days["court-judgment-default"] == (5 * 365, 5 * 365)
    text = succeeded(ledger(data_dir, "credit", "disclosure", "show"))
    [line] = [line for line in text.splitlines() if line.startswith("contract-default ")]
    assert "no limit" in line

    unknown = one_error_line(ledger(data_dir, "credit", "disclosure", "set", "gossip", "10"), 2)
    assert "unknown credit category" in unknown
    for days_text in ("-1", "36501", "ten"):
        refused = ledger(data_dir, "credit", "disclosure", "set", "tax-violation", days_text)
        assert refused.returncode == 2, refused.stderr
    after = json_of(ledger(data_dir, "credit", "disclosure", "show", "--json"))["periods"]
    assert after == rows
