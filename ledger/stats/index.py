"""The open statistics' index: one row per certificate, credit event and bundle, kept in an
SQLite file and caught up from contract events (ADR 0030).

Every figure derives from the logs of the deployment's contracts, so anyone with a node can
recompute it (``ledger stats --rpc``). The index reads new blocks in spans of one
``eth_getLogs`` over the deployment's addresses, decodes each log by its topic, and reads what
an event does not carry from storage once: the packed terms of an anchored record (type,
region, expiry) and of a credit event (category, polarity, severity). It stops at the head
minus the deployment's confirmations, so a reorganisation shallower than that never reaches
it. The file is keyed by chain id, genesis hash and contract addresses: another deployment
starts afresh. It is a cache of the chain: deleting it loses nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time as clock
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from eth_utils.abi import event_abi_to_log_topic
from web3.types import LogReceipt

from ledger.chain.transactions import rpc_guard
from ledger.contracts import CertificateRegistryClient, CreditLedgerClient
from ledger.contracts.context import ChainContext
from ledger.contracts.deployment import contract
from ledger.contracts.values import Amendment, CertificateStatus

__all__ = ["AsOf", "StatsIndex"]

#: Blocks read per ``eth_getLogs`` request while catching up.
SPAN: Final = 2_000

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
    hash BLOB PRIMARY KEY, cert_type INTEGER NOT NULL, region INTEGER NOT NULL,
    anchored_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, batch INTEGER NOT NULL,
    status INTEGER NOT NULL, reason INTEGER NOT NULL, changed_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS leaf_revocations (
    root BLOB NOT NULL, hash BLOB NOT NULL, reason INTEGER NOT NULL, revoked_at INTEGER NOT NULL,
    PRIMARY KEY (root, hash));
CREATE TABLE IF NOT EXISTS credit (
    id BLOB PRIMARY KEY, category INTEGER NOT NULL, polarity INTEGER NOT NULL,
    severity INTEGER NOT NULL, recorded_at INTEGER NOT NULL, amendment INTEGER NOT NULL,
    disputed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bundles (
    id BLOB PRIMARY KEY, lead INTEGER NOT NULL, opened_at INTEGER NOT NULL,
    deadline INTEGER NOT NULL, completed_at INTEGER);
"""


@dataclass(frozen=True)
class AsOf:
    """The block the figures stand at, and its timestamp (UTC seconds)."""

    block: int
    time: int
    chain_id: int


class StatsIndex:
    """Aggregable rows of one deployment, caught up incrementally from its logs."""

    def __init__(self, path: Path, context: ChainContext, *, confirmations: int = 0) -> None:
        self.path = path
        self.context = context
        self.confirmations = confirmations
        deployment = context.deployment
        self._certificates = CertificateRegistryClient(context)
        self._credit = CreditLedgerClient(context)
        contracts = [self._certificates.contract, self._credit.contract]
        if deployment.licence_bundles is not None:
            contracts.append(contract(context.web3, "LicenceBundles", deployment.licence_bundles))
        self._addresses = [str(c.address) for c in contracts]
        self._events: dict[bytes, Any] = {}
        for item in contracts:
            events: Any = item.all_events()
            for event in events:
                self._events[bytes(event_abi_to_log_topic(event.abi))] = event
        self._key = "|".join([str(deployment.chain_id), deployment.genesis_hash, *self._addresses])
        self._lock = threading.Lock()
        self._caught_up_at: float | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as connection:
            connection.executescript(_SCHEMA)
            row = connection.execute("SELECT value FROM meta WHERE key = 'deployment'").fetchone()
            if row is None or row[0] != self._key:
                for table in ("meta", "certificates", "leaf_revocations", "credit", "bundles"):
                    connection.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
                connection.execute(
                    "INSERT INTO meta (key, value) VALUES ('deployment', ?)", (self._key,)
                )

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """One connection per use (the service answers from worker threads), one transaction."""
        with closing(sqlite3.connect(self.path, timeout=30)) as connection, connection:
            yield connection

    def query(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query (the figures' aggregates)."""
        with self._connection() as connection:
            return connection.execute(sql, parameters).fetchall()

    def as_of(self) -> AsOf | None:
        """The block and time the index stands at; None before its first catch-up."""
        rows = dict(self.query("SELECT key, value FROM meta"))
        if "block" not in rows:
            return None
        return AsOf(int(rows["block"]), int(rows["time"]), self.context.deployment.chain_id)

    def refresh(self, *, min_interval: float) -> AsOf:
        """Catch up unless the last catch-up is under ``min_interval`` seconds old (the service
        answers every request from the index and reads the chain at most that often)."""
        with self._lock:
            current = self.as_of()
            last = self._caught_up_at
            if current is not None and last is not None and clock.monotonic() - last < min_interval:
                return current
            result = self.catch_up()
            self._caught_up_at = clock.monotonic()
            return result

    def catch_up(self, head: int | None = None) -> AsOf:
        """Index every log up to ``head`` minus the confirmations (the node's head when None);
        reads only blocks not read before, ``SPAN`` blocks per request, committing each span."""
        web3 = self.context.web3
        if head is None:
            head = int(rpc_guard(lambda: web3.eth.block_number))
        target = max(head - self.confirmations, self.context.deployment.block - 1)
        current = self.as_of()
        position = current.block if current else self.context.deployment.block - 1
        times: dict[int, int] = {}
        while position < target:
            last = min(target, position + SPAN)
            logs = self._logs(position + 1, last)
            time = self._block_time(last, times)
            with self._connection() as connection:
                for log in sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"])):
                    self._apply(connection, log, lambda n: self._block_time(n, times))
                connection.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [("block", str(last)), ("time", str(time))],
                )
            position = last
        result = self.as_of()
        if result is None:  # nothing deployed yet below the target: the deployment's block
            block = self.context.deployment.block
            return AsOf(block, self._block_time(block, times), self.context.deployment.chain_id)
        return result

    def _logs(self, first: int, last: int) -> list[LogReceipt]:
        """Every log of the deployment's contracts in blocks ``first``..``last``, one request."""
        web3 = self.context.web3
        addresses: Any = self._addresses
        return list(
            rpc_guard(
                lambda: web3.eth.get_logs(
                    {"fromBlock": first, "toBlock": last, "address": addresses}
                )
            )
        )

    def _block_time(self, number: int, cache: dict[int, int]) -> int:
        if number not in cache:
            block = rpc_guard(lambda: self.context.web3.eth.get_block(number))
            cache[number] = int(block["timestamp"])
        return cache[number]

    def _apply(
        self, connection: sqlite3.Connection, log: LogReceipt, time_of: Callable[[int], int]
    ) -> None:
        """Fold one log into the rows (logs come in chain order)."""
        event = self._events.get(bytes(log["topics"][0])) if log["topics"] else None
        if event is None:
            return
        name = event.event_name
        args = event.process_log(log)["args"]
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, connection, args, time_of(int(log["blockNumber"])))

    def _anchored(
        self, connection: sqlite3.Connection, args: Any, time: int, *, batch: bool
    ) -> None:
        digest = bytes(args["root"] if batch else args["docHash"])
        record = self._certificates.certificate(digest)
        if record is None:
            return
        expires = int(record.expires_at.timestamp()) if record.expires_at else 0
        connection.execute(
            "INSERT OR IGNORE INTO certificates VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            (
                digest,
                record.cert_type,
                record.region,
                int(record.anchored_at.timestamp()),
                expires,
                int(batch),
                int(CertificateStatus.ACTIVE),
                time,
            ),
        )

    def _status(self, connection: sqlite3.Connection, args: Any, time: int) -> None:
        connection.execute(
            "UPDATE certificates SET status = ?, reason = ?, changed_at = ? WHERE hash = ?",
            (int(args["status"]), int(args["reasonCode"]), time, bytes(args["docHash"])),
        )

    def _superseded(self, connection: sqlite3.Connection, args: Any, time: int) -> None:
        connection.execute(
            "UPDATE certificates SET status = ?, changed_at = ? WHERE hash = ?",
            (int(CertificateStatus.SUPERSEDED), time, bytes(args["oldHash"])),
        )

    def _leaf(self, connection: sqlite3.Connection, args: Any, time: int) -> None:
        connection.execute(
            "INSERT OR IGNORE INTO leaf_revocations VALUES (?, ?, ?, ?)",
            (bytes(args["root"]), bytes(args["docHash"]), int(args["reasonCode"]), time),
        )

    def _recorded(self, connection: sqlite3.Connection, args: Any, time: int) -> None:
        event_id = bytes(args["eventId"])
        raw = rpc_guard(lambda: self._credit.contract.functions.eventOf(event_id).call())
        _recorder, category, polarity, severity, _occurred, recorded_at = raw
        connection.execute(
            "INSERT OR IGNORE INTO credit VALUES (?, ?, ?, ?, ?, 0, 0)",
            (event_id, category, polarity, severity, recorded_at or time),
        )

    def _amended(self, connection: sqlite3.Connection, args: Any, _time: int) -> None:
        status = int(args["status"])
        connection.execute(
            "UPDATE credit SET amendment = ?, disputed = MAX(disputed, ?) WHERE id = ?",
            (status, int(status == Amendment.DISPUTED), bytes(args["eventId"])),
        )

    def _opened(self, connection: sqlite3.Connection, args: Any, time: int) -> None:
        connection.execute(
            "INSERT OR IGNORE INTO bundles VALUES (?, ?, ?, ?, NULL)",
            (bytes(args["bundleId"]), int(args["lead"]), time, int(args["deadline"])),
        )

    def _completed(self, connection: sqlite3.Connection, args: Any, time: int) -> None:
        connection.execute(
            "UPDATE bundles SET completed_at = ? WHERE id = ?", (time, bytes(args["bundleId"]))
        )


_Handler = Callable[[StatsIndex, sqlite3.Connection, Any, int], None]

_HANDLERS: Final[dict[str, _Handler]] = {
    "CertificateAnchored": lambda s, c, a, t: s._anchored(c, a, t, batch=False),
    "CertificateAnchoredFor": lambda s, c, a, t: s._anchored(c, a, t, batch=False),
    "CertificateBatchAnchored": lambda s, c, a, t: s._anchored(c, a, t, batch=True),
    "CertificateStatusChanged": StatsIndex._status,
    "CertificateSuperseded": StatsIndex._superseded,
    "CertificateLeafRevoked": StatsIndex._leaf,
    "CreditEventRecorded": StatsIndex._recorded,
    "CreditEventRecordedWithEvidence": StatsIndex._recorded,
    "CreditEventAmended": StatsIndex._amended,
    "BundleOpened": StatsIndex._opened,
    "BundleCompleted": StatsIndex._completed,
}
