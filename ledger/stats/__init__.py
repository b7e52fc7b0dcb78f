"""Open statistics from the chain (ADR 0030): an incremental index of the deployment's events
and the suppressed figures the service and ``ledger stats`` publish."""

from ledger.stats.figures import DEFAULT_THRESHOLD, additive_groups, stats_document
from ledger.stats.index import AsOf, StatsIndex

__all__ = ["DEFAULT_THRESHOLD", "AsOf", "StatsIndex", "additive_groups", "stats_document"]
