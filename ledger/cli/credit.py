"""``ledger credit``: recording and amending credit events, a subject's history with its score,
and the disclosure period of each category (governance).

Not here: the score policy (:mod:`ledger.score`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import click

from ledger.catalogue import CREDIT_CATEGORIES, credit_category
from ledger.cli.app import cli
from ledger.cli.common import (
    State,
    department_for,
    department_option,
    emit,
    json_option,
    open_session,
    subject_kind_of,
    to_hex,
)
from ledger.contracts import Amendment, Polarity
from ledger.errors import ValidationError
from ledger.identity import SubjectKind
from ledger.parsing import CHINA_STANDARD_TIME, parse_day_start, parse_hash
from ledger.writes import credit as writes

__all__ = ["credit"]

#: The certificate's "valid until" date is read in China Standard Time (UTC+8).
_CST: Final = CHINA_STANDARD_TIME


@cli.group()
def credit() -> None:
    """Record, amend and list credit events."""


@credit.command("record")
@click.option("--subject", required=True, help="Identity number or credit code of the subject.")
@click.option("--subject-kind", type=click.Choice([k.value for k in SubjectKind]), default=None)
@click.option("--category", required=True, help="Credit category, e.g. tax-violation.")
@click.option(
    "--polarity", type=click.Choice(["negative", "positive"]), default="negative", show_default=True
)
@click.option("--severity", type=click.IntRange(1, 5), required=True)
@click.option("--occurred", required=True, help="Date of the fact (YYYY-MM-DD).")
@click.option(
    "--evidence", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True
)
@department_option
@json_option
@click.pass_obj
def credit_record(
    state: State,
    subject: str,
    subject_kind: str | None,
    category: str,
    polarity: str,
    severity: int,
    occurred: str,
    evidence: Path,
    department_id: int | None,
) -> None:
    """Record a credit event backed by an evidence document."""
    from ledger.documents import document_hash_of

    entry = credit_category(category)
    occurred_at = parse_day_start(occurred, "--occurred")
    if occurred_at > datetime.now(UTC):
        raise ValidationError("--occurred is in the future")
    evidence_hash = document_hash_of(evidence).hash
    with open_session(state) as session:
        reference = session.subject_ref(subject, subject_kind_of(subject_kind))
        write = writes.record(
            session,
            reference,
            entry.code,
            Polarity[polarity.upper()],
            severity,
            occurred_at,
            evidence_hash,
            department_id=department_for(session, department_id),
        )
        receipt = session.send(write)
        event_id = write.facts.event_id
        emit(
            state,
            {"eventId": to_hex(event_id), "category": entry.name, "block": receipt["blockNumber"]},
            f"recorded credit event {to_hex(event_id)} ({entry.name}) "
            f"in block {receipt['blockNumber']}",
        )


@credit.command("amend")
@click.argument("event_id", metavar="EVENT_ID")
@click.option(
    "--status",
    type=click.Choice(["corrected", "withdrawn", "repaired", "disputed", "upheld"]),
    required=True,
)
@click.option(
    "--reason",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Decision document explaining the amendment (its hash goes on chain).",
)
@department_option
@json_option
@click.pass_obj
def credit_amend(
    state: State, event_id: str, status: str, reason: Path, department_id: int | None
) -> None:
    """Amend a credit event (the event itself never changes)."""
    from ledger.documents import document_hash_of

    digest = parse_hash(event_id)
    reason_hash = document_hash_of(reason).hash
    with open_session(state) as session:
        write = writes.amend(
            session,
            digest,
            Amendment[status.upper()],
            reason_hash,
            department_id=department_for(session, department_id),
        )
        receipt = session.send(write)
        emit(
            state,
            {"eventId": to_hex(digest), "status": status, "block": receipt["blockNumber"]},
            f"credit event {to_hex(digest)} marked {status}",
        )


@credit.command("history")
@click.option("--subject", required=True, help="Identity number or credit code of the subject.")
@click.option("--subject-kind", type=click.Choice([k.value for k in SubjectKind]), default=None)
@click.option(
    "--include-undisclosed",
    is_flag=True,
    help="Also list events no longer disclosed, marked (what the subject itself sees).",
)
@json_option
@click.pass_obj
def credit_history(
    state: State, subject: str, subject_kind: str | None, include_undisclosed: bool
) -> None:
    """List a subject's credit events, oldest occurrence first, with the score they give.

    Only events disclosed now are listed and scored (ADR 0020), as a department sees them.
    """
    from ledger.score import Audience, read_history

    audience = Audience.SUBJECT if include_undisclosed else Audience.THIRD_PARTY
    with open_session(state, read_only=True) as session:
        reference = session.subject_ref(subject, subject_kind_of(subject_kind))
        view = read_history(session.credit(), reference, audience)
        names = {c.code: c.name for c in CREDIT_CATEGORIES}
        entries = [_history_entry(item, names) for item in view.events]
        rows = [row for row, _ in entries]
        lines = [line for _, line in entries]
        score = view.score
        lines.append(
            f"score {score.value} (policy {score.policy}, from {len(score.counted)} event(s))"
        )
        emit(
            state,
            {
                "asOf": view.as_of.isoformat(),
                "events": rows,
                "score": {
                    "value": score.value,
                    "policy": score.policy,
                    "counted": [to_hex(i) for i in score.counted],
                },
            },
            "\n".join(lines),
        )


def _history_entry(item: Any, names: dict[int, str]) -> tuple[dict[str, Any], str]:
    """One event of ``credit history`` (an item of the history view): its JSON row and its line
    of text, dates in China time."""
    e, until = item.event, item.disclosure.until
    row: dict[str, Any] = {
        "eventId": to_hex(e.event_id),
        "category": names.get(e.category, hex(e.category)),
        "polarity": e.polarity.name.lower(),
        "severity": e.severity,
        "occurredAt": e.occurred_at.astimezone(_CST).isoformat(),
        "recordedAt": e.recorded_at.astimezone(_CST).isoformat(),
        "recorder": e.recorder,
        "amendment": e.amendment.name.lower(),
        "disclosed": item.disclosure.disclosed,
        "disclosedUntil": until.astimezone(_CST).isoformat() if until else None,
    }
    line = (
        f"{row['occurredAt'][:10]}  {row['category']:<24} {row['polarity']:<8} "
        f"severity {row['severity']}  "
        f"{row['amendment'] if row['amendment'] != 'none' else ''}  {row['eventId']}"
        + (
            ""
            if until is None or item.disclosure.disclosed
            else f"  not disclosed since {row['disclosedUntil'][:10]}"
        )
    )
    return row, line


@credit.group("disclosure")
def credit_disclosure() -> None:
    """Show and set how long negative events of each category are disclosed (governance)."""


def _disclosure_rows(session: Any) -> list[dict[str, Any]]:
    from ledger.catalogue import SECONDS_PER_DAY

    periods = session.credit().disclosure_periods(c.code for c in CREDIT_CATEGORIES)
    return [
        {
            "category": c.name,
            "code": c.code,
            "days": periods[c.code] // SECONDS_PER_DAY,
            "seconds": periods[c.code],
            "defaultDays": c.disclosure_days,
        }
        for c in CREDIT_CATEGORIES
    ]


def _days_text(days: int) -> str:
    return "no limit" if days == 0 else f"{days} days"


@credit_disclosure.command("show")
@json_option
@click.pass_obj
def credit_disclosure_show(state: State) -> None:
    """Each category's disclosure period on chain, with the catalogue's default."""
    with open_session(state, read_only=True) as session:
        rows = _disclosure_rows(session)
    emit(
        state,
        {"periods": rows},
        "\n".join(
            f"{r['category']:<24} {_days_text(r['days']):<10} "
            f"(default {_days_text(r['defaultDays'])})"
            for r in rows
        ),
    )


@credit_disclosure.command("set")
@click.argument("category")
@click.argument("days", type=click.IntRange(0, 36_500))
@json_option
@click.pass_obj
def credit_disclosure_set(state: State, category: str, days: int) -> None:
    """Set CATEGORY's disclosure period to DAYS (0: no limit), counted from when an event
    occurred; it applies at once to every event of the category."""
    from ledger.catalogue import SECONDS_PER_DAY

    entry = credit_category(category)
    with open_session(state) as session:
        write = writes.set_disclosure_period(session, entry.code, days * SECONDS_PER_DAY)
        receipt = session.send(write)
        emit(
            state,
            {"category": entry.name, "days": days, "block": receipt["blockNumber"]},
            f"disclosure period of {entry.name} set to {_days_text(days)} "
            f"in block {receipt['blockNumber']}",
        )
