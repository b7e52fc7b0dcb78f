"""Open statistics from the chain (ADR 0030): an incremental index of the deployment's events
and the suppressed figures the service and ``ledger stats`` publish."""

from ledger.stats.figures import DEFAULT_THRESHOLD, additive_groups, stats_document
from ledger.stats.index import AsOf, StatsIndex
from ledger.stats.latest import LatestDocument

__all__ = [
    "DEFAULT_THRESHOLD",
    "AsOf",
    "LatestDocument",
    "StatsIndex",
    "additive_groups",
    "stats_document",
]
