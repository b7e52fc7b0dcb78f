"""``GET /v1/stats``: the open statistics (ADR 0030), public like the verification.

The figures come from the statistics index (:mod:`ledger.stats`): a request gets the document
last computed (:class:`~ledger.stats.LatestDocument`), which a background thread renews at most
every :data:`CATCH_UP_SECONDS`; only the first request waits for it. The window's
counts (consents given, checks made) are the service's own, not on chain: ``ledger stats``
cannot recompute them and leaves them out.
"""

from __future__ import annotations

import weakref
from typing import Any, Final

from fastapi import APIRouter

from api.deps import ServiceDep
from api.problems import problem_responses
from api.service import Service
from ledger.stats import LatestDocument, StatsIndex

__all__ = ["CATCH_UP_SECONDS", "router", "window_counts"]

router = APIRouter(tags=["statistics"])

#: Seconds between two catch-ups of the index with the chain; requests between them are
#: answered from the index alone.
CATCH_UP_SECONDS: Final = 5.0

#: The document kept per service's index (one service per app; a test may open several).
_latest: weakref.WeakKeyDictionary[StatsIndex, LatestDocument] = weakref.WeakKeyDictionary()


def window_counts(service: Service) -> dict[str, int]:
    """Consents given and checks made at the window, from the service database."""
    consents = service.database.query("SELECT COUNT(*) FROM consents")[0][0]
    checks = service.database.query(
        "SELECT COUNT(*) FROM access_log WHERE action = 'window.check'"
    )[0][0]
    return {"consents": int(consents), "checks": int(checks)}


@router.get("/stats", responses=problem_responses(429, 500, 503))
async def stats(service: ServiceDep) -> dict[str, Any]:
    """Counts of certificates, credit events and bundles as of a block, small cells
    suppressed (every number is an integer or ``"<k"``)."""
    index = service.stats
    assert index is not None, "the service always opens its statistics index"
    latest = _latest.get(index)
    if latest is None:
        threshold = service.settings.stats_threshold
        latest = LatestDocument(
            index, threshold=threshold, interval=CATCH_UP_SECONDS, chain_lock=service.read_lock
        )
        _latest[index] = latest

    def read() -> dict[str, Any]:
        document = dict(latest.get())  # a copy: the kept one is shared
        window = window_counts(service)
        threshold = latest.threshold
        document["window"] = {
            name: value if value == 0 or value >= threshold else f"<{threshold}"
            for name, value in window.items()
        }
        return document

    return await service.read(read)
