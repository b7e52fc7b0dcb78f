"""The statistics document kept for requests (ledger/stats/latest.py): the first request waits
for it, later ones get the kept one while a single background thread renews it."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ledger.stats import latest as module
from ledger.stats.latest import LatestDocument


class _Index:
    """Counts catch-ups; each can be held back to show that requests do not wait for it."""

    def __init__(self) -> None:
        self.block = 0
        self.release = threading.Event()
        self.release.set()

    def catch_up(self) -> None:
        self.release.wait(10)
        self.block += 1


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> _Index:
    def document(index: _Index, *, threshold: int) -> dict[str, Any]:
        return {"asOf": {"block": index.block}, "threshold": threshold}

    monkeypatch.setattr(module, "stats_document", document)
    return _Index()


def test_requests_get_the_kept_document_while_it_is_renewed(index: _Index) -> None:
    latest = LatestDocument(index, threshold=5, interval=0)  # type: ignore[arg-type]
    assert latest.get()["asOf"]["block"] == 1  # the first request computes it
    index.release.clear()  # the next catch-up hangs until released
    assert latest.get()["asOf"]["block"] == 1  # stale: a refresh starts, the old one is served
    assert latest.get()["asOf"]["block"] == 1  # one refresh at a time
    index.release.set()
    for _ in range(200):
        if latest.get()["asOf"]["block"] >= 2:
            break
        threading.Event().wait(0.01)
    assert latest.get()["asOf"]["block"] >= 2
    assert index.block <= 4


def test_a_fresh_document_is_not_renewed(index: _Index) -> None:
    latest = LatestDocument(index, threshold=3, interval=3_600)  # type: ignore[arg-type]
    assert latest.get() == {"asOf": {"block": 1}, "threshold": 3}
    assert latest.get()["asOf"]["block"] == 1
    assert index.block == 1
