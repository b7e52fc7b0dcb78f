"""The open statistics' document (``GET /v1/stats``, ``ledger stats --json``) from a
:class:`~ledger.stats.index.StatsIndex`, with small cells suppressed (ADR 0030).

Suppression: a count from 1 to ``threshold - 1`` is published as ``"<k"``; zero is published
(it reveals nobody). Every figure belongs to additive groups: the cells of one column of a
breakdown add up to a published total (and the total of negative and positive credit events
to the events' total). A suppressed value that is the only unknown of a group could be
subtracted back, and two unknowns whose sum is known and under ``threshold`` would narrow a
small count down; so, until neither holds anywhere, the smallest published non-zero cell of
such a group is suppressed too (its total when no cell is left), published as
:data:`WITHHELD`: it is not small, so ``"<k"`` would be false, and knowing which cell is the
small one gives a range for it no narrower than ``"<k"`` already says. The test of this module
solves the published equations to check that nothing suppressed is determined.
"""

from __future__ import annotations

import copy
import functools
import statistics
from datetime import UTC, datetime
from typing import Any, Final

from ledger.catalogue import ReasonCode, scope_name
from ledger.regions import province_of, region_name
from ledger.stats.index import AsOf, StatsIndex

__all__ = [
    "DEFAULT_THRESHOLD",
    "WITHHELD",
    "Group",
    "Path",
    "additive_groups",
    "stats_document",
    "suppress",
]

#: The default threshold k: counts under it are suppressed.
DEFAULT_THRESHOLD: Final = 5
#: A count withheld only so that a small one cannot be worked out from it (complementary
#: suppression): its value is not under the threshold, so it is not written ``"<k"``.
WITHHELD: Final = "withheld"
_EXPIRY_WINDOW: Final = 90 * 86_400
_MONTH: Final = "strftime('%Y-%m', {}, 'unixepoch')"
_DISPUTE_OUTCOMES: Final = {5: "upheld", 2: "withdrawn", 3: "repaired"}

Path = tuple[str | int, ...]
#: (the path of a total, the paths of the cells adding up to it).
Group = tuple[Path, list[Path]]


@functools.cache
def _province(code: int) -> int:
    """The code's province, cached: a million rows fold into a few thousand codes."""
    return province_of(code)


def _region_names(code: int) -> tuple[str | None, str | None]:
    name = region_name(code)
    return (None, None) if name is None else (name.name_zh, name.name_en)


@functools.cache
def _type_name(code: int) -> str:
    return scope_name(code) or f"{code:#x}"


def _reason(code: int) -> str:
    try:
        return ReasonCode(code).label
    except ValueError:
        return str(code)


_MEASURES: Final = ("anchored", "revoked", "suspended", "superseded", "expiringWithin90Days")


def _certificates(index: StatsIndex, now: int) -> dict[str, Any]:
    """Unsuppressed certificate figures; a batch root counts as a batch, not a certificate.

    Grouped in SQL by (type, region, month): one pass over the rows, then a few thousand groups
    folded here, so a million certificates take one scan, not a Python loop over each.
    """
    by_type: dict[str, dict[str, Any]] = {}
    by_region: dict[int, dict[str, Any]] = {}
    by_month: dict[str, dict[str, Any]] = {}
    totals: dict[str, Any] = dict.fromkeys(_MEASURES, 0) | {"batches": 0}

    def add(cert_type: int, region: int, month: str, measure: str, number: int) -> None:
        if not number:
            return
        by_type.setdefault(_type_name(cert_type), dict.fromkeys(_MEASURES, 0))[measure] += number
        totals[measure] += number
        if measure in ("anchored", "revoked"):
            row = by_region.setdefault(_province(region), {"anchored": 0, "revoked": 0})
            row[measure] += number
            by_month.setdefault(month, {"anchored": 0, "revoked": 0})[measure] += number

    anchored = index.query(
        f"SELECT cert_type, region, {_MONTH.format('anchored_at')}, COUNT(*), "  # noqa: S608
        "SUM(status = 1 AND expires_at > ? AND expires_at <= ?) "
        "FROM certificates WHERE batch = 0 GROUP BY 1, 2, 3",
        (now, now + _EXPIRY_WINDOW),
    )
    for cert_type, region, month, number, expiring in anchored:
        add(cert_type, region, month, "anchored", int(number))
        add(cert_type, region, month, "expiringWithin90Days", int(expiring or 0))
    changed = index.query(
        f"SELECT cert_type, region, {_MONTH.format('changed_at')}, status, COUNT(*) "  # noqa: S608
        "FROM certificates WHERE batch = 0 AND status IN (2, 3, 4) GROUP BY 1, 2, 3, 4"
    )
    measure_of = {2: "suspended", 3: "revoked", 4: "superseded"}
    for cert_type, region, month, status, number in changed:
        add(cert_type, region, month, measure_of[status], int(number))
    totals["batches"] = int(index.query("SELECT COUNT(*) FROM certificates WHERE batch = 1")[0][0])
    reasons: dict[str, int] = {}
    revoked = index.query(
        "SELECT reason, COUNT(*) FROM certificates WHERE status = 3 AND batch = 0 GROUP BY reason"
    )
    leaves = index.query(
        f"SELECT c.cert_type, c.region, {_MONTH.format('l.revoked_at')}, l.reason, COUNT(*) "  # noqa: S608
        "FROM leaf_revocations l JOIN certificates c ON c.hash = l.root GROUP BY 1, 2, 3, 4"
    )
    for cert_type, region, month, reason, number in leaves:
        add(cert_type, region, month, "revoked", int(number))
        revoked.append((reason, number))
    for reason, number in revoked:
        reasons[_reason(reason)] = reasons.get(_reason(reason), 0) + int(number)
    regions = []
    for code, row in sorted(by_region.items()):
        zh, en = _region_names(code)
        regions.append({"region": code, "nameZh": zh, "nameEn": en} | row)
    return {
        "totals": totals,
        "byType": [{"type": name} | row for name, row in sorted(by_type.items())],
        "byRegion": regions,
        "byMonth": [{"month": name} | row for name, row in sorted(by_month.items())],
        "revokedByReason": [
            {"reason": name, "count": number} for name, number in sorted(reasons.items())
        ],
    }


def _credit(index: StatsIndex) -> dict[str, Any]:
    """Unsuppressed credit figures; a dispute's outcome is the amendment after it."""
    total = index.query(
        "SELECT COUNT(*), COALESCE(SUM(polarity = 0), 0), COALESCE(SUM(polarity = 1), 0), "
        "COALESCE(SUM(disputed), 0) FROM credit"
    )[0]
    categories = index.query(
        "SELECT category, SUM(polarity = 0), SUM(polarity = 1) FROM credit "
        "GROUP BY category ORDER BY category"
    )
    severities = index.query(
        "SELECT severity, COUNT(*) FROM credit GROUP BY severity ORDER BY severity"
    )
    outcomes: dict[str, int] = {}
    for amendment, number in index.query(
        "SELECT amendment, COUNT(*) FROM credit WHERE disputed = 1 GROUP BY amendment"
    ):
        name = _DISPUTE_OUTCOMES.get(int(amendment), "pending")
        outcomes[name] = outcomes.get(name, 0) + int(number)
    months = index.query(
        f"SELECT {_MONTH.format('recorded_at')} AS m, COUNT(*) FROM credit GROUP BY m ORDER BY m"  # noqa: S608
    )
    return {
        "totals": dict(
            zip(("events", "negative", "positive", "disputed"), map(int, total), strict=True)
        ),
        "byCategory": [
            {"category": _type_name(c), "negative": int(n), "positive": int(p)}
            for c, n, p in categories
        ],
        "bySeverity": [{"severity": int(s), "count": int(n)} for s, n in severities],
        "disputes": [{"outcome": o, "count": n} for o, n in sorted(outcomes.items())],
        "byMonth": [{"month": m, "events": int(n)} for m, n in months],
    }


def _bundles(index: StatsIndex, now: int) -> dict[str, Any]:
    """Unsuppressed bundle figures: overdue is open past its deadline at the as-of time."""
    leads: dict[int, dict[str, Any]] = {}
    days: dict[int, list[float]] = {}
    for lead, opened_at, deadline, completed_at in index.query(
        "SELECT lead, opened_at, deadline, completed_at FROM bundles"
    ):
        row = leads.setdefault(lead, {"opened": 0, "completed": 0, "overdue": 0})
        row["opened"] += 1
        if completed_at is not None:
            row["completed"] += 1
            days.setdefault(lead, []).append((completed_at - opened_at) / 86_400)
        elif deadline < now:
            row["overdue"] += 1
    totals = {m: sum(row[m] for row in leads.values()) for m in ("opened", "completed", "overdue")}
    by_lead = [
        {"department": lead}
        | row
        | {
            "medianDaysToComplete": round(statistics.median(days[lead]), 2)
            if lead in days
            else None
        }
        for lead, row in sorted(leads.items())
    ]
    return {"totals": totals, "byLead": by_lead}


def additive_groups(document: dict[str, Any]) -> list[Group]:
    """Every (total, cells) relation the document publishes: a reader can subtract along each."""
    groups: list[Group] = []

    def column(section: str, table: str, measure: str, total: str) -> None:
        rows = document[section][table]
        cells: list[Path] = [(section, table, i, measure) for i in range(len(rows))]
        groups.append(((section, "totals", total), cells))

    for measure in ("anchored", "revoked", "suspended", "superseded", "expiringWithin90Days"):
        column("certificates", "byType", measure, measure)
    for measure in ("anchored", "revoked"):
        column("certificates", "byRegion", measure, measure)
        column("certificates", "byMonth", measure, measure)
    column("certificates", "revokedByReason", "count", "revoked")
    groups.append((("certificates", "totals", "batches"), []))  # a count on its own
    groups.append(
        (
            ("credit", "totals", "events"),
            [("credit", "totals", "negative"), ("credit", "totals", "positive")],
        )
    )
    column("credit", "byCategory", "negative", "negative")
    column("credit", "byCategory", "positive", "positive")
    column("credit", "bySeverity", "count", "events")
    column("credit", "disputes", "count", "disputed")
    column("credit", "byMonth", "events", "events")
    for measure in ("opened", "completed", "overdue"):
        column("bundles", "byLead", measure, measure)
    return groups


def _get(document: dict[str, Any], path: Path) -> Any:
    value: Any = document
    for key in path:
        value = value[key]
    return value


def _set(document: dict[str, Any], path: Path, value: object) -> None:
    _get(document, path[:-1])[path[-1]] = value


def suppress(document: dict[str, Any], threshold: int) -> None:
    """Replace small counts by ``"<k"`` and their complements by :data:`WITHHELD`, in place
    (see the module)."""
    groups = additive_groups(document)
    values: dict[Path, int] = {}
    for total, cells in groups:
        for path in (total, *cells):
            values[path] = int(_get(document, path))
    small = {path for path, value in values.items() if 0 < value < threshold}
    hidden = set(small)
    changed = True
    while changed:
        changed = False
        for total, cells in groups:
            unknown = [p for p in (total, *cells) if p in hidden]
            if not unknown:
                continue
            narrowed = total not in hidden and sum(values[p] for p in unknown) < threshold
            if len(unknown) > 1 and not narrowed:
                continue
            candidates = sorted((values[p], p) for p in cells if p not in hidden and values[p] > 0)
            if not candidates and total not in hidden and values[total] > 0:
                candidates = [(values[total], total)]
            if candidates:
                hidden.add(candidates[0][1])
                changed = True
    for path in hidden:
        _set(document, path, f"<{threshold}" if path in small else WITHHELD)
    for row in document["bundles"]["byLead"]:
        if not isinstance(row["completed"], int) or row["completed"] < threshold:
            row["medianDaysToComplete"] = None


def stats_document(
    index: StatsIndex, *, threshold: int = DEFAULT_THRESHOLD, window: dict[str, int] | None = None
) -> dict[str, Any]:
    """The statistics as of the index's block, suppressed at ``threshold``; ``window`` (the
    service's consents and checks, not on chain) is added when given."""
    as_of = index.as_of()
    if as_of is None:
        as_of = index.catch_up()
    key = ("document", as_of.block, threshold)
    if key not in index.memo:
        index.memo[key] = _chain_document(index, as_of, threshold)
    document: dict[str, Any] = copy.deepcopy(index.memo[key])
    if window is not None:
        document["window"] = {
            name: value if value == 0 or value >= threshold else f"<{threshold}"
            for name, value in window.items()
        }
    return document


def _chain_document(index: StatsIndex, as_of: AsOf, threshold: int) -> dict[str, Any]:
    """The figures from the chain's events, suppressed: the same for every caller at a block."""
    document: dict[str, Any] = {
        "asOf": {
            "block": as_of.block,
            "time": datetime.fromtimestamp(as_of.time, UTC).isoformat(),
            "chainId": as_of.chain_id,
        },
        "threshold": threshold,
        "certificates": _certificates(index, as_of.time),
        "credit": _credit(index),
        "bundles": _bundles(index, as_of.time),
    }
    suppress(document, threshold)
    return document
