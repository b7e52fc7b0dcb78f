"""When a window may suspect forgery (ledger/service/forgery.py, ADR 0029): only for an INVALID
report of a document that parsed, and only when a check about the document itself failed for a
reason other than the chain not answering."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.service.forgery import FALSE_INFORMATION, REASONS, forgery_suspected
from ledger.verification import CheckName, Outcome, VerificationReport
from ledger.verification.report import CHAIN_READ_FAILED, ReportBuilder


def report(*failed: tuple[CheckName, str], parsed: bool = True) -> VerificationReport:
    builder = ReportBuilder()
    builder.add(CheckName.PARSED, Outcome.PASSED if parsed else Outcome.FAILED, "file")
    for name in CheckName:
        if name is not CheckName.PARSED:
            builder.add(name, Outcome.PASSED, "ok")
    for name, detail in failed:
        builder.add(name, Outcome.FAILED, detail)
    return builder.finish(b"\x01" * 32, "file", datetime.now(UTC), None)


@pytest.mark.parametrize(
    "name",
    [
        CheckName.ANCHORED,
        CheckName.MERKLE,
        CheckName.ACCREDITED,
        CheckName.STATUS,
        CheckName.DATES,
        CheckName.BUNDLE,
    ],
)
def test_a_failure_about_the_document_is_suspected(name: CheckName) -> None:
    assert forgery_suspected(report((name, "no such anchor")))


def test_a_valid_document_is_not_suspected() -> None:
    assert not forgery_suspected(report())


def test_a_document_that_does_not_parse_is_not_suspected() -> None:
    assert not forgery_suspected(report(parsed=False))


@pytest.mark.parametrize("name", [CheckName.FINALITY, CheckName.AGREEMENT, CheckName.STORED_COPY])
def test_a_failure_about_the_chain_or_the_copy_is_not_suspected(name: CheckName) -> None:
    assert not forgery_suspected(report((name, "not yet")))


def test_a_chain_that_did_not_answer_is_not_suspected() -> None:
    failed = (CheckName.ANCHORED, f"{CHAIN_READ_FAILED}: the node did not answer")
    assert not forgery_suspected(report(failed))
    # Even beside another failure about the chain's answer, nothing about the document failed.
    assert not forgery_suspected(report(failed, (CheckName.FINALITY, "not final")))


def test_the_category_and_the_reasons() -> None:
    assert FALSE_INFORMATION.name == "false-information"
    assert (FALSE_INFORMATION.default_polarity, FALSE_INFORMATION.default_severity) == (
        "negative",
        3,
    )
    assert REASONS == ("forged-document", "altered-document", "false-statement")
