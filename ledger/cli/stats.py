"""``ledger stats``: the open statistics recomputed from a chain node (ADR 0030).

The same figures as ``GET /v1/stats`` (less the window's counts, which live in a service's
database, not on chain), from this command's own index file: another region points it at its
own node with ``--rpc`` and the deployments file, and gets the same numbers as the page.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Final

import click

from ledger.cli.app import cli
from ledger.cli.common import State, emit, json_option
from ledger.cli.verify import _chain_context

__all__ = ["stats"]

#: The index file's name in the data directory (the service keeps its own, ``stats.sqlite3``).
INDEX_FILE: Final = "stats-cli.sqlite3"


@cli.command()
@click.option("--rpc", "rpc_url", help="Read this JSON-RPC node (another region's own node).")
@click.option(
    "--deployments",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Deployments file naming the contracts (default: the data directory's).",
)
@click.option(
    "--threshold",
    type=click.IntRange(2, 1_000),
    default=None,
    help="Withhold counts under this (default: LEDGER_STATS_THRESHOLD, 5).",
)
@click.option(
    "--index",
    "index_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"The index file to keep (default: DATA_DIR/{INDEX_FILE}).",
)
@json_option
@click.pass_obj
def stats(
    state: State,
    rpc_url: str | None,
    deployments: Path | None,
    threshold: int | None,
    index_path: Path | None,
) -> None:
    """Certificates, credit events and bundles counted from the chain's events, small cells
    withheld; the index is caught up with the node's new blocks first."""
    from ledger.stats import StatsIndex, stats_document

    settings = state.settings(rpc_url=rpc_url)
    with contextlib.ExitStack() as stack:
        context = _chain_context(state, stack, rpc_url, deployments)
        index = StatsIndex(
            index_path or settings.data_dir / INDEX_FILE,
            context,
            confirmations=settings.confirmations,
        )
        index.catch_up()
        document = stats_document(index, threshold=threshold or settings.stats_threshold)
    emit(state, document, stats_text(document))


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _table(title: str, rows: list[dict[str, Any]], key: str, columns: tuple[str, ...]) -> str:
    """One breakdown as aligned columns under its title."""
    header = [key, *columns]
    body = [[_cell(row.get(name)) for name in header] for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        title,
        ("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))).rstrip(),
    ]
    lines += [
        "  " + "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in body
    ]
    return "\n".join(lines)


def stats_text(document: dict[str, Any]) -> str:
    """The readable form: the block the figures stand at, the totals, then each breakdown."""
    as_of = document["asOf"]
    certificates, credit, bundles = (document[k] for k in ("certificates", "credit", "bundles"))
    measures = ("anchored", "revoked", "suspended", "superseded", "expiringWithin90Days")
    parts = [
        f"As of block {as_of['block']} ({as_of['time']}), chain {as_of['chainId']}; "
        f'counts under {document["threshold"]} are shown "<{document["threshold"]}", and counts '
        '"withheld" would let one be worked out.',
        _table("Certificates", [certificates["totals"]], "batches", measures),
        _table("  by type", certificates["byType"], "type", measures),
        _table(
            "  by province", certificates["byRegion"], "region", ("nameZh", "anchored", "revoked")
        ),
        _table("  by month", certificates["byMonth"], "month", ("anchored", "revoked")),
        _table("  revoked by reason", certificates["revokedByReason"], "reason", ("count",)),
        _table("Credit events", [credit["totals"]], "events", ("negative", "positive", "disputed")),
        _table("  by category", credit["byCategory"], "category", ("negative", "positive")),
        _table("  by severity", credit["bySeverity"], "severity", ("count",)),
        _table("  disputes", credit["disputes"], "outcome", ("count",)),
        _table("  by month", credit["byMonth"], "month", ("events",)),
        _table("Bundles", [bundles["totals"]], "opened", ("completed", "overdue")),
        _table(
            "  by lead department",
            bundles["byLead"],
            "department",
            ("opened", "completed", "overdue", "medianDaysToComplete"),
        ),
    ]
    return "\n\n".join(parts)
