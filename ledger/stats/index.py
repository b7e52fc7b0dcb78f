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
        self._records: dict[bytes, Any] = {}
        #: Documents computed at the current block (figures.stats_document), dropped when the
        #: index moves on: between two blocks a request costs a dictionary look-up.
        self.memo: dict[object, Any] = {}
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
            decoded = self._decoded(self._logs(position + 1, last))
            self._records = self._read_records(decoded)
            time = self._block_time(last, times)
            with self._connection() as connection:
                for name, args, block in decoded:
                    # Anchors and recordings carry their time in storage: no block is read.
                    moment = 0 if name in _ANCHORS | _RECORDINGS else self._block_time(block, times)
                    _HANDLERS[name](self, connection, args, moment)
                connection.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [("block", str(last)), ("time", str(time))],
                )
            position = last
            self.memo.clear()
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

    def _decoded(self, logs: list[LogReceipt]) -> list[tuple[str, Any, int]]:
        """(event name, arguments, block) of the logs the figures use, in chain order."""
        found = []
        for log in sorted(logs, key=lambda log: (log["blockNumber"], log["logIndex"])):
            event = self._events.get(bytes(log["topics"][0])) if log["topics"] else None
            if event is not None and event.event_name in _HANDLERS:
                args = event.process_log(log)["args"]
                found.append((str(event.event_name), args, int(log["blockNumber"])))
        return found

    def _read_records(self, decoded: list[tuple[str, Any, int]]) -> dict[bytes, Any]:
        """The stored records of a span's new anchors and credit events, read in JSON-RPC
        batches (ADR 0030 measured this against one call per record and against decoding the
        anchoring transactions' inputs); one call per record where the node takes no batch."""
        calls: list[tuple[bytes, Any]] = []
        for name, args, _block in decoded:
            if name in _ANCHORS:
                digest = bytes(
                    args["root"] if name == "CertificateBatchAnchored" else args["docHash"]
                )
                calls.append((digest, self._certificates.contract.functions.certificateOf(digest)))
            elif name in _RECORDINGS:
                event_id = bytes(args["eventId"])
                calls.append((event_id, self._credit.contract.functions.eventOf(event_id)))
        records: dict[bytes, Any] = {}
        web3 = self.context.web3
        for start in range(0, len(calls), _BATCH):
            chunk = calls[start : start + _BATCH]
            try:
                with web3.batch_requests() as batch:
                    for _key, call in chunk:
                        batch.add(call)
                    answers = rpc_guard(batch.execute)
            except (NotImplementedError, ValueError, TypeError):
                answers = [rpc_guard(call.call) for _key, call in chunk]
            records.update(
                (key, answer) for (key, _call), answer in zip(chunk, answers, strict=True)
            )
        return records

    def _anchored(
        self, connection: sqlite3.Connection, args: Any, _time: int, *, batch: bool
    ) -> None:
        digest = bytes(args["root"] if batch else args["docHash"])
        _issuer, cert_type, region, anchored_at, expires_at, _block, status, *_rest = self._records[
            digest
        ]
        if status == CertificateStatus.NONE:  # not (or no longer) on the node's chain
            return
        connection.execute(
            "INSERT OR IGNORE INTO certificates VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
            (digest, cert_type, region, anchored_at, expires_at, int(batch), 1, anchored_at),
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

    def _recorded(self, connection: sqlite3.Connection, args: Any, _time: int) -> None:
        event_id = bytes(args["eventId"])
        raw = self._records[event_id]
        _recorder, category, polarity, severity, _occurred, recorded_at = raw
        connection.execute(
            "INSERT OR IGNORE INTO credit VALUES (?, ?, ?, ?, ?, 0, 0)",
            (event_id, category, polarity, severity, recorded_at),
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

_ANCHORS: Final = {"CertificateAnchored", "CertificateAnchoredFor", "CertificateBatchAnchored"}
_RECORDINGS: Final = {"CreditEventRecorded", "CreditEventRecordedWithEvidence"}
#: Storage reads per JSON-RPC batch request: what a service's `/v1/rpc` takes (api.routes.rpc).
_BATCH: Final = 20

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
