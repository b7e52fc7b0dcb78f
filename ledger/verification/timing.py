"""The two checks that depend on the moment rather than on the chain alone: ``dates.valid``
(expiry) and ``finality.confirmations`` (depth under the head).

They are decided here once, for a fresh verification (:mod:`ledger.verification.document`) and
again on a report computed earlier (:func:`refresh_report`, the service's verification index,
ADR 0014). Every other check is not here: it depends on the chain alone.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, Final

from ledger.verification.report import CheckName, Outcome, Verdict

__all__ = ["dates_outcome", "finality_outcome", "refresh_report"]


def dates_outcome(
    anchored_at: datetime, expires_at: datetime | None, chain_now: datetime, now: datetime
) -> tuple[Outcome, str]:
    """``dates.valid``: not yet valid on the chain's clock ``chain_now``, or expired by ``now``."""
    if chain_now < anchored_at:
        return Outcome.FAILED, "not yet valid"
    if expires_at is not None and now >= expires_at:
        return Outcome.FAILED, f"expired at {expires_at.isoformat()}"
    until = expires_at.isoformat() if expires_at else "no expiry"
    return Outcome.PASSED, f"valid from {anchored_at.isoformat()}, {until}"


def finality_outcome(head: int, anchored_block: int, confirmations: int) -> tuple[Outcome, str]:
    """``finality.confirmations``: the anchor's depth under ``head`` against the required count."""
    depth = head - anchored_block + 1
    outcome = Outcome.PASSED if depth >= confirmations else Outcome.FAILED
    return outcome, f"{depth} confirmation(s), {confirmations} required"


#: The values refresh_report compares on every cached answer (an enum's ``.value`` is slow).
_FAILED: Final = Outcome.FAILED.value
_NOT_APPLICABLE: Final = Outcome.NOT_APPLICABLE.value
_DATES: Final = CheckName.DATES.value
_FINALITY: Final = CheckName.FINALITY.value


@functools.lru_cache(maxsize=8192)
def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def refresh_report(
    report: dict[str, Any], *, head: int, now: datetime, confirmations: int
) -> dict[str, Any]:
    """A report (``VerificationReport.to_json()``) computed earlier, with what depends on the
    moment computed again: ``dates.valid`` (expiry), ``finality.confirmations`` (depth under
    ``head``), the verdict and ``checkedAt``. Every other check depends on the chain alone.

    ``report`` is not changed; the checks not computed again are shared with it."""
    refreshed = dict(report)
    record = report.get("record")
    checks: list[dict[str, Any]] = list(report["checks"])
    if record is not None:
        for position, check in enumerate(checks):
            name = check["name"]
            if name not in (_DATES, _FINALITY) or check["outcome"] == _NOT_APPLICABLE:
                continue
            if name == _DATES:
                anchored_at = _instant(record["anchoredAt"])
                expires = record["expiresAt"]
                outcome, detail = dates_outcome(
                    anchored_at, _instant(expires) if expires else None, max(now, anchored_at), now
                )
            else:
                outcome, detail = finality_outcome(
                    head, int(record["anchoredBlock"]), confirmations
                )
            checks[position] = {**check, "outcome": outcome.value, "detail": detail}
    refreshed["checks"] = checks
    failed = any(check["outcome"] == _FAILED for check in checks)
    refreshed["verdict"] = (Verdict.INVALID if failed else Verdict.VALID).value
    refreshed["checkedAt"] = now.isoformat()
    return refreshed
