"""One department's flood does not starve another (issue 13, ADR 0018), on a real ``ledger
serve`` process and the embedded chain.

Department 3 sends asynchronous anchorings (``Prefer: respond-async``) from many clients as fast
as the service answers them. Its backlog is capped: past ``LEDGER_MAX_UNFINISHED`` unfinished
operations it is answered 429 with ``Retry-After``. Meanwhile department 4 anchors one document
and waits for it: the transaction manager takes the queue round-robin across signing keys, so
department 4's anchoring waits for a turn, not for department 3's whole queue. Its latency is
compared with an anchoring on the idle service measured in the same test, with a generous
ratio (the issue saw 17.9 s instead of 0.2 s).
"""

from __future__ import annotations

import contextlib
import sqlite3
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Final

import httpx
import pytest

from api.problems import PROBLEM_MEDIA_TYPE
from tests.support.serve import ServeProcess
from tests.support.service import PreparedService, prepare_service

pytestmark = pytest.mark.slow

#: Department 3's cap in this test (``LEDGER_MAX_UNFINISHED``).
CAP: Final = 20
FLOODERS: Final = 8
#: Department 3's unfinished operations that end the wait for its first refusal (a service
#: without a cap, as before ADR 0018): a queue that takes many seconds to send.
FLOOD: Final = 300
#: Department 4's anchorings under the flood may take this many times the unloaded ones (or
#: the floor: an unloaded anchoring takes a fraction of a second), medians of three each.
RATIO: Final = 20
FLOOR_SECONDS: Final = 8.0


def anchor(
    client: httpx.Client, token: str, holder: str, prefer: str, label: str
) -> httpx.Response:
    return client.post(
        "/v1/certificates",
        headers={"Authorization": f"Bearer {token}", "Prefer": prefer},
        files={
            "file": ("licence.txt", f"营业执照 {label} {uuid.uuid4()}\n".encode(), "text/plain")
        },
        data={"type": "business-licence", "subject": holder},
    )


def timed_anchor(
    client: httpx.Client, prepared: PreparedService, label: str, give_up: float = 120
) -> float:
    """Seconds department 4 waits for one anchoring to be confirmed: answered 201, or 202 (not
    confirmed within the service's wait) and then polled; ``give_up`` when it is not confirmed
    by then (a starved queue)."""
    token = prepared.other_department_token
    started = time.perf_counter()
    response = anchor(client, token, prepared.enterprise, "wait=30", label)
    if response.status_code == 202:
        location = response.headers["location"]
        while (state := response.json()["state"]) not in ("confirmed", "failed"):
            if time.perf_counter() - started > give_up:
                return give_up
            time.sleep(0.1)
            response = client.get(location, headers={"Authorization": f"Bearer {token}"})
        assert state == "confirmed", response.text
    else:
        assert response.status_code == 201, response.text
    return time.perf_counter() - started


class Flood:
    """Department 3's clients: asynchronous anchorings, one after another, until stopped."""

    def __init__(self, server: ServeProcess, prepared: PreparedService) -> None:
        self.server = server
        self.prepared = prepared
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.accepted = 0
        self.refusals: list[httpx.Response] = []
        self.other: list[int] = []
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(FLOODERS)]

    def _client(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=120) as client:
            while not self.stop.is_set():
                response = anchor(
                    client,
                    self.prepared.department_token,
                    self.prepared.enterprise,
                    "respond-async",
                    "flood",
                )
                with self.lock:
                    if response.status_code == 202:
                        self.accepted += 1
                    elif response.status_code == 429:
                        self.refusals.append(response)
                    else:
                        self.other.append(response.status_code)
                if response.status_code == 429:
                    time.sleep(0.1)  # an eager client: it retries well before Retry-After

    def __enter__(self) -> Flood:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=180)

    def filled(self) -> bool:
        """The backlog is full (refusals began), or a service without a cap holds a flood."""
        with self.lock:
            if self.refusals:
                return True
        return self.backlog() >= FLOOD

    def backlog(self) -> int:
        """Department 3's unfinished operations, read from the running service's journal."""
        path = self.prepared.settings.service_db_path
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
            row = database.execute(
                "SELECT COUNT(*) FROM operations WHERE department_id = ? "
                "AND state IN ('accepted', 'sent')",
                (self.prepared.department_id,),
            ).fetchone()
        return int(row[0])


def test_a_flood_from_one_department_does_not_starve_another(tmp_path: Path) -> None:
    prepared = prepare_service(tmp_path)
    server = ServeProcess(
        prepared.settings.data_dir,
        tmp_path / "serve.log",
        environment={"LEDGER_RATE_LIMIT": "0", "LEDGER_MAX_UNFINISHED": str(CAP)},
    )
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=180) as client:
            timed_anchor(client, prepared, "warm-up")
            unloaded = statistics.median(
                timed_anchor(client, prepared, f"unloaded {n}") for n in range(3)
            )
            with Flood(server, prepared) as flood:
                deadline = time.monotonic() + 120
                while not flood.filled():
                    assert time.monotonic() < deadline, "the flood did not get going"
                    time.sleep(0.2)
                backlog_seen = flood.backlog()
                give_up = 2 * max(RATIO * unloaded, FLOOR_SECONDS)
                loaded = statistics.median(
                    timed_anchor(client, prepared, f"loaded {n}", give_up) for n in range(3)
                )
    finally:
        server.stop()

    assert not flood.other, flood.other
    # The other department's anchoring waited for its turn, not for the flood's queue.
    bound = max(RATIO * unloaded, FLOOR_SECONDS)
    assert loaded <= bound, (
        f"department 4 waited {loaded:.2f} s (median) under department 3's flood "
        f"({backlog_seen} unfinished), {unloaded:.2f} s unloaded"
    )
    # Past its cap the flooding department is refused, with a problem and a Retry-After.
    assert flood.refusals, f"{flood.accepted} anchorings accepted and none refused"
    for refused in flood.refusals[:20]:
        assert refused.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
        assert refused.json()["code"] == "too_many_operations"
        assert int(refused.headers["retry-after"]) >= 1
