"""The newest statistics document, kept ready for requests (ADR 0030).

At a million certificates the first document at a new block takes about a second (the SQL
grouping); the service must answer in milliseconds. So requests get the document last computed,
and when it is older than the interval one background thread catches the index up and computes
the next; only the very first request waits for it. ``asOf`` says which block each answer is.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from ledger.stats.figures import stats_document
from ledger.stats.index import StatsIndex

__all__ = ["LatestDocument"]

_log = logging.getLogger(__name__)


class LatestDocument:
    """The last computed document of ``index`` at ``threshold``, refreshed at most every
    ``interval`` seconds, off the request's path."""

    def __init__(
        self,
        index: StatsIndex,
        *,
        threshold: int,
        interval: float,
        chain_lock: contextlib.AbstractContextManager[object] | None = None,
    ) -> None:
        self.index = index
        #: Held while the index reads the chain (the embedded chain takes one lock for all).
        self.chain_lock = chain_lock or contextlib.nullcontext()
        self.threshold = threshold
        self.interval = interval
        self._lock = threading.Lock()
        self._compute_lock = threading.Lock()
        self._document: dict[str, Any] | None = None
        self._computed_at = 0.0
        self._refreshing = False

    def get(self) -> dict[str, Any]:
        """The newest document computed (the first one computed now)."""
        with self._lock:
            document = self._document
            stale = time.monotonic() - self._computed_at >= self.interval
            start = document is not None and stale and not self._refreshing
            if start:
                self._refreshing = True
        if document is None:
            return self._compute()
        if start:
            threading.Thread(target=self._refresh, name="stats-refresh", daemon=True).start()
        return document

    def _compute(self) -> dict[str, Any]:
        with self._compute_lock:
            with self.chain_lock:
                self.index.catch_up()
            document = stats_document(self.index, threshold=self.threshold)
            with self._lock:
                self._document = document
                self._computed_at = time.monotonic()
            return document

    def _refresh(self) -> None:
        try:
            self._compute()
        except Exception:  # the last document stands; asOf says how old it is
            _log.warning("statistics refresh failed; the previous figures are served")
        finally:
            with self._lock:
                self._refreshing = False
