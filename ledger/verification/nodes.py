"""Node agreement (``chain.agreement``): one report from the same verification run against
several chain nodes (``ledger verify --rpc A --rpc B``).

Nothing here reads the chain: each node's report is computed by
:mod:`ledger.verification.document` or :mod:`~ledger.verification.bundle`, and compared here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ledger.verification.report import Check, CheckName, Outcome, VerificationReport

__all__ = ["agree"]


def _agreement_view(report: VerificationReport) -> tuple[object, ...]:
    """What two nodes must agree on: the verdict and every check, except the confirmation count
    (two healthy nodes may be a block apart) and the agreement line itself."""
    return (
        report.verdict,
        report.document_hash,
        tuple(
            (check.name, check.outcome, check.detail)
            for check in report.checks
            if check.name not in (CheckName.FINALITY, CheckName.AGREEMENT)
        ),
        tuple(c.outcome for c in report.checks if c.name is CheckName.FINALITY),
    )


def agree(reports: Sequence[VerificationReport], nodes: Sequence[str]) -> VerificationReport:
    """One report from the same verification run against several nodes (``ledger verify --rpc A
    --rpc B``): the first node's, with ``chain.agreement`` passed when every node reports the
    same, and failed, naming the first difference, when they do not."""
    if len(reports) != len(nodes) or not reports:
        raise ValueError("one report per node")
    first = reports[0]
    if len(reports) == 1:
        return first
    view = _agreement_view(first)
    detail = f"{len(reports)} nodes report the same"
    outcome = Outcome.PASSED
    for report, node in zip(reports[1:], nodes[1:], strict=True):
        if _agreement_view(report) != view:
            outcome = Outcome.FAILED
            detail = f"{node} disagrees with {nodes[0]}: " + _first_difference(first, report)
            break
    checks = tuple(
        Check(CheckName.AGREEMENT, outcome, detail) if c.name is CheckName.AGREEMENT else c
        for c in first.checks
    )
    return replace(first, checks=checks)


def _first_difference(first: VerificationReport, other: VerificationReport) -> str:
    theirs = {check.name: check for check in other.checks}
    for check in first.checks:
        if check.name in (CheckName.FINALITY, CheckName.AGREEMENT):
            continue
        their = theirs.get(check.name)
        if their is None or (their.outcome, their.detail) != (check.outcome, check.detail):
            shown = f"{their.outcome.value}: {their.detail}" if their else "missing"
            return f"{check.name.value} is {shown}"
    return f"verdict {other.verdict.value}"
