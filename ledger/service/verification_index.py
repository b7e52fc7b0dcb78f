"""The fast path of verification by hash (issue #7): reports kept in SQLite, invalidated by chain
events, never staler than the confirmation depth.

``POST /v1/verify`` with a bare document hash runs the same checks every time, and most of them
depend only on the chain: whether the hash is anchored, by whom, whether that department was
accredited when it anchored, the record's status. This index keeps the report of each hash
asked for, with the block it was computed at, and drops it when a later block logs anything that
names the hash:

* Before answering, the index is brought up to ``head - LEDGER_CONFIRMATIONS``: the logs of the
  certificate registry since the last block it read are scanned, and every cached report whose
  hash appears in a log (as an indexed topic or a 32-byte word of the data: anchors, status
  changes, supersessions, revocations within a batch, which name both root and leaf) is dropped.
  Over-eager dropping costs one recomputation; missing one would be a stale answer, so every
  word counts.
* A cached report answers with its time-dependent checks recomputed for now: ``dates.valid``
  (expiry) and ``finality.confirmations`` (depth under the current head).
* What is not on chain — the stored copy, which an erasure removes without a chain event — is as
  fresh as ``max_age`` seconds: an entry older than that is recomputed.

Reports for another registry, with a batch proof, or of a presented document are not cached.

The rows are in SQLite (they outlive a restart); the most recently used ``memory`` reports are
also kept parsed in memory, dropped with their rows, so that a hit reads no row and parses no
JSON.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from hexbytes import HexBytes
from web3.types import FilterParams

from ledger.chain.transactions import rpc_guard
from ledger.contracts import ChainContext
from ledger.service.database import ServiceDatabase
from ledger.verification import refresh_report

__all__ = ["VerificationIndex"]

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS verify_index (
        registry TEXT NOT NULL,
        doc_hash BLOB NOT NULL,
        block INTEGER NOT NULL,
        stored_at REAL NOT NULL,
        report TEXT NOT NULL,
        PRIMARY KEY (registry, doc_hash)
    )""",
    """CREATE TABLE IF NOT EXISTS verify_cursor (
        registry TEXT PRIMARY KEY,
        block INTEGER NOT NULL
    )""",
)
#: Most blocks read with one ``eth_getLogs`` while catching up.
_LOG_SPAN: Final = 2_000


class VerificationIndex:
    """Verification reports by document hash, for one deployment's certificate registry."""

    def __init__(
        self,
        database: ServiceDatabase,
        context: ChainContext,
        *,
        confirmations: int = 0,
        max_age: float = 60.0,
        head: Callable[[], int] | None = None,
        memory: int = 4096,
    ) -> None:
        self.database = database
        self.context = context
        self.confirmations = confirmations
        self.max_age = max_age
        self.registry = context.deployment.certificate_registry
        self._head = head or (lambda: int(rpc_guard(lambda: context.web3.eth.block_number)))
        self._lock = threading.Lock()
        # doc_hash -> (stored_at, report): a copy of rows, most recently used last.
        self._memory: OrderedDict[bytes, tuple[float, dict[str, Any]]] = OrderedDict()
        self._memory_size = memory
        with database.transaction() as connection:
            for statement in _SCHEMA:
                connection.execute(statement)
        self._cursor = self._read_cursor()
        self.hits = 0
        self.misses = 0

    def _read_cursor(self) -> int | None:
        rows = self.database.query(
            "SELECT block FROM verify_cursor WHERE registry = ?", (self.registry,)
        )
        return int(rows[0][0]) if rows else None

    def cached(
        self, doc_hash: bytes, *, now: datetime, head: int | None = None, scan: bool = True
    ) -> tuple[dict[str, Any] | None, int]:
        """(the current report of ``doc_hash`` from the index or None, the head it was checked
        against). Cheap: one ``eth_blockNumber``, a log scan only when blocks have passed, one
        row read.

        ``head``: a head the caller read after it was asked (instead of reading one here).
        ``scan=False``: None when blocks have passed since the last scan, instead of scanning
        (for a caller that must not wait on the node)."""
        head = self._head() if head is None else head
        if scan:
            self.catch_up(head)
        elif self._cursor is None or self._cursor < head - self.confirmations:
            return None, head
        with self._lock:  # no drop between the row read and its copy in memory
            entry = self._memory.get(doc_hash)
            if entry is not None:
                self._memory.move_to_end(doc_hash)
            else:
                rows = self.database.query(
                    "SELECT stored_at, report FROM verify_index "
                    "WHERE registry = ? AND doc_hash = ?",
                    (self.registry, doc_hash),
                )
                if rows:
                    entry = (float(rows[0][0]), json.loads(rows[0][1]))
                    self._keep(doc_hash, entry)
        if entry is not None and time.time() - entry[0] <= self.max_age:
            self.hits += 1
            report = refresh_report(entry[1], head=head, now=now, confirmations=self.confirmations)
            return report, head
        return None, head

    def _keep(self, doc_hash: bytes, entry: tuple[float, dict[str, Any]]) -> None:
        """Keep ``entry`` in memory (the caller holds the lock)."""
        self._memory[doc_hash] = entry
        self._memory.move_to_end(doc_hash)
        while len(self._memory) > self._memory_size:
            self._memory.popitem(last=False)

    def report(
        self,
        doc_hash: bytes,
        compute: Callable[[], dict[str, Any]],
        *,
        now: datetime,
    ) -> dict[str, Any]:
        """The report of ``doc_hash``: from the index when it holds a current one, else
        ``compute()`` (the full verification), which is then kept."""
        found, head = self.cached(doc_hash, now=now)
        if found is not None:
            return found
        self.misses += 1
        computed = compute()
        stored_at = time.time()
        with self._lock, self.database.transaction() as connection:
            connection.execute(
                "INSERT INTO verify_index (registry, doc_hash, block, stored_at, report) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (registry, doc_hash) DO UPDATE SET "
                "block = excluded.block, stored_at = excluded.stored_at, report = excluded.report",
                (
                    self.registry,
                    doc_hash,
                    head,
                    stored_at,
                    json.dumps(computed, separators=(",", ":")),
                ),
            )
            self._keep(doc_hash, (stored_at, computed))
        return computed

    def catch_up(self, head: int) -> None:
        """Read the registry's logs up to ``head - confirmations`` and drop every report they
        name. A report kept at block B may describe blocks up to B: dropping is by the logs of
        every block after the cursor, which is never after B."""
        target = head - self.confirmations
        with self._lock:
            cursor = self._cursor
            if cursor is None:
                # Nothing cached yet: start from here (every report is computed after this).
                self._save_cursor(max(target, 0))
                return
            while cursor < target:
                last = min(target, cursor + _LOG_SPAN)
                self._drop_named(cursor + 1, last)
                cursor = last
                self._save_cursor(cursor)

    def _drop_named(self, first: int, last: int) -> None:
        params: FilterParams = {"address": self.registry, "fromBlock": first, "toBlock": last}
        logs = rpc_guard(lambda: self.context.web3.eth.get_logs(params))
        named: set[bytes] = set()
        for log in logs:
            named.update(bytes(topic) for topic in log["topics"][1:])
            data = bytes(HexBytes(log["data"]))
            named.update(data[i : i + 32] for i in range(0, len(data) - 31, 32))
        if not named:
            return
        for word in named:  # the caller holds the lock
            self._memory.pop(word, None)
        with self.database.transaction() as connection:
            connection.executemany(
                "DELETE FROM verify_index WHERE registry = ? AND doc_hash = ?",
                [(self.registry, word) for word in named],
            )

    def _save_cursor(self, block: int) -> None:
        with self.database.transaction() as connection:
            connection.execute(
                "INSERT INTO verify_cursor (registry, block) VALUES (?, ?) "
                "ON CONFLICT (registry) DO UPDATE SET block = excluded.block",
                (self.registry, block),
            )
        self._cursor = block
