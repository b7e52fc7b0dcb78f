"""Small-cell suppression of the open statistics (ADR 0030): what is withheld cannot be
subtracted back from what is published.

The check is an attacker's: every additive relation the document publishes (a column of a
breakdown adds up to its total) is an equation over the withheld values; the equations are
solved exactly (Gaussian elimination over fractions), and a withheld value is revealed when it
is determined by them, by one subtraction or by any combination.
"""

from __future__ import annotations

import copy
from fractions import Fraction
from itertools import combinations
from typing import Any

from ledger.stats.figures import Path, additive_groups, suppress


def _document(regions: dict[int, int], types: dict[str, int]) -> dict[str, Any]:
    """A raw document: certificates anchored per province and per type, nothing else."""
    zero = dict.fromkeys(("revoked", "suspended", "superseded", "expiringWithin90Days"), 0)
    total = sum(regions.values())
    assert total == sum(types.values())
    return {
        "certificates": {
            "totals": {"anchored": total, **zero, "batches": 0},
            "byType": [{"type": t, "anchored": n, **zero} for t, n in types.items()],
            "byRegion": [
                {"region": r, "nameZh": None, "nameEn": None, "anchored": n, "revoked": 0}
                for r, n in regions.items()
            ],
            "byMonth": [{"month": "2026-12", "anchored": total, "revoked": 0}],
            "revokedByReason": [],
        },
        "credit": {
            "totals": {"events": 0, "negative": 0, "positive": 0, "disputed": 0},
            "byCategory": [],
            "bySeverity": [],
            "disputes": [],
            "byMonth": [],
        },
        "bundles": {"totals": {"opened": 0, "completed": 0, "overdue": 0}, "byLead": []},
    }


def _get(document: dict[str, Any], path: Path) -> Any:
    value: Any = document
    for key in path:
        value = value[key]
    return value


def _determined(published: dict[str, Any]) -> set[Path]:
    """The withheld values the published equations determine (row-reduce, then a variable is
    determined when a reduced row has it alone)."""
    groups = additive_groups(published)
    unknown = sorted(
        {
            p
            for total, cells in groups
            for p in (total, *cells)
            if isinstance(_get(published, p), str)
        },
        key=str,
    )
    column = {path: i for i, path in enumerate(unknown)}
    rows: list[list[Fraction]] = []
    for total, cells in groups:
        # sum(cells) - total = 0, known terms moved to the constant in the last column.
        row = [Fraction(0)] * (len(unknown) + 1)
        for path, sign in [(total, -1), *((cell, 1) for cell in cells)]:
            value = _get(published, path)
            if isinstance(value, str):
                row[column[path]] += sign
            else:
                row[-1] -= sign * value
        if any(row[:-1]):
            rows.append(row)
    pivot_row = 0
    for col in range(len(unknown)):
        pivot = next((r for r in range(pivot_row, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[pivot_row], rows[pivot] = rows[pivot], rows[pivot_row]
        lead = rows[pivot_row][col]
        rows[pivot_row] = [x / lead for x in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
    return {
        unknown[next(i for i, x in enumerate(row[:-1]) if x != 0)]
        for row in rows
        if sum(1 for x in row[:-1] if x != 0) == 1
    }


def test_a_province_with_three_events_is_withheld_and_cannot_be_subtracted_back() -> None:
    raw = _document({110000: 40, 440000: 3, 310000: 12}, {"business-licence": 52, "id-card": 3})
    published = copy.deepcopy(raw)
    suppress(published, 5)
    regions = {row["region"]: row["anchored"] for row in published["certificates"]["byRegion"]}
    assert regions[440000] == "<5"
    # Its complement is withheld too: the total minus the other provinces is no longer 3.
    assert sum(isinstance(n, str) for n in regions.values()) >= 2
    assert published["certificates"]["totals"]["anchored"] == 55
    # Every subtraction a reader could try: the total minus any combination of published cells.
    cells = [n for n in regions.values() if isinstance(n, int)]
    for size in range(len(cells) + 1):
        for chosen in combinations(cells, size):
            assert 55 - sum(chosen) != 3
    assert _determined(published) == set()


def test_without_suppression_the_same_subtraction_gives_the_count_back() -> None:
    """The attacker's check finds what an unprotected table gives away (so its silence above
    means something)."""
    raw = _document({110000: 40, 440000: 3, 310000: 12}, {"business-licence": 52, "id-card": 3})
    naive = copy.deepcopy(raw)
    naive["certificates"]["byRegion"][1]["anchored"] = "<5"  # primary suppression alone
    naive["certificates"]["byType"][1]["anchored"] = "<5"
    determined = _determined(naive)
    assert ("certificates", "byRegion", 1, "anchored") in determined
    assert ("certificates", "byType", 1, "anchored") in determined


def test_two_small_cells_whose_sum_is_small_pull_in_a_third() -> None:
    raw = _document({110000: 40, 440000: 1, 310000: 2}, {"business-licence": 43})
    published = copy.deepcopy(raw)
    suppress(published, 5)
    withheld = [r for r in published["certificates"]["byRegion"] if isinstance(r["anchored"], str)]
    assert len(withheld) == 3  # 1 + 2 is under 5: Beijing's 40 is withheld too
    assert _determined(published) == set()


def test_a_total_under_the_threshold_is_withheld_with_every_cell() -> None:
    published = _document({440000: 3}, {"id-card": 3})
    suppress(published, 5)
    assert published["certificates"]["totals"]["anchored"] == "<5"
    assert published["certificates"]["byMonth"][0]["anchored"] == "<5"
    assert _determined(published) == set()


def test_zero_is_published() -> None:
    published = _document({110000: 40, 440000: 10}, {"business-licence": 50})
    suppress(published, 5)
    assert published["certificates"]["totals"]["revoked"] == 0
    assert [r["anchored"] for r in published["certificates"]["byRegion"]] == [40, 10]
