"""The service's own SQLite database: API tokens (hashed), the audit log, the certificate index,
the departments' names, batch jobs and the write journal (:mod:`ledger.service.journal`).

One file (``DATA_DIR/service.sqlite3``) in WAL mode with ``synchronous=FULL``: an issued token or
an audit row that was acknowledged survives a crash. One connection behind a lock serves every
thread of the process; statements are short. Other processes (the CLI issuing a token while the
service runs) wait for the file lock up to ``busy_timeout`` seconds.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

from ledger.closing import Closing
from ledger.errors import ServiceDatabaseError, ServiceRunningError
from ledger.locks import SharedProcessLock

__all__ = ["ServiceDatabase", "ServiceDatabaseError", "lock_service_database", "service_lock_path"]

#: 2: batch jobs keep no file names (ADR 0016); a version-1 ledger would fail writing them.
#: 3: consents and the windows' failed redemptions (ledger/service/consents.py); a version-2
#: ledger would not know them.
#: 4: the citizens' access log (ledger/service/access_log.py) and the holders of batched
#: certificates (ledger/service/holdings.py).
_SCHEMA_VERSION: Final = 4
_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS tokens (
        token_id TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('admin', 'department')),
        department_id INTEGER,
        digest BLOB NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        CHECK ((role = 'department') = (department_id IS NOT NULL))
    )""",
    "CREATE INDEX IF NOT EXISTS tokens_by_department ON tokens (department_id)",
    """CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        outcome INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at)",
    """CREATE TABLE IF NOT EXISTS certificate_index (
        registry TEXT NOT NULL,
        doc_hash BLOB NOT NULL,
        issuer INTEGER NOT NULL,
        block INTEGER NOT NULL,
        log_index INTEGER NOT NULL,
        PRIMARY KEY (registry, doc_hash)
    )""",
    """CREATE INDEX IF NOT EXISTS certificates_by_issuer
        ON certificate_index (registry, issuer, block DESC, log_index DESC)""",
    """CREATE TABLE IF NOT EXISTS batch_jobs (
        job_id TEXT PRIMARY KEY,
        department_id INTEGER NOT NULL,
        cert_type TEXT NOT NULL,
        expires_at INTEGER,
        kinds TEXT NOT NULL,
        leaves BLOB NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('accepted', 'done', 'failed')),
        root BLOB,
        manifest TEXT,
        block INTEGER,
        transaction_hash TEXT,
        error_code TEXT,
        error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        holders TEXT
    )""",
    # A department's backlog is counted at every write (ADR 0018): without it, the count would
    # read every job's leaves to reach its status.
    """CREATE INDEX IF NOT EXISTS batch_jobs_unfinished
        ON batch_jobs (department_id) WHERE status = 'accepted'""",
    """CREATE TABLE IF NOT EXISTS department_names (
        department_id INTEGER PRIMARY KEY,
        name TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS index_cursor (
        registry TEXT PRIMARY KEY,
        block INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS operations (
        op_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        department_id INTEGER,
        request TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('accepted', 'sent', 'confirmed', 'failed')),
        signer TEXT,
        nonce INTEGER,
        tx_hash BLOB,
        raw_tx BLOB,
        replaced TEXT,
        block INTEGER,
        error_code TEXT,
        error TEXT,
        idem_scope TEXT,
        idem_key TEXT,
        request_digest BLOB,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        sent_at INTEGER,
        result TEXT,
        CHECK ((idem_scope IS NULL) = (idem_key IS NULL))
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS operations_by_key
        ON operations (idem_scope, idem_key) WHERE idem_key IS NOT NULL""",
    """CREATE INDEX IF NOT EXISTS operations_unfinished
        ON operations (state, created_at) WHERE state IN ('accepted', 'sent')""",
    """CREATE UNIQUE INDEX IF NOT EXISTS operations_by_nonce
        ON operations (signer, nonce) WHERE nonce IS NOT NULL""",
    # A consent keeps the subject's reference, never its identifier, and the code's keyed
    # digest, never the code (ADR 0025).
    """CREATE TABLE IF NOT EXISTS consents (
        consent_id TEXT PRIMARY KEY,
        code_digest BLOB NOT NULL UNIQUE,
        subject_ref BLOB NOT NULL,
        subject_kind TEXT NOT NULL CHECK (subject_kind IN ('citizen', 'enterprise')),
        service TEXT NOT NULL,
        department_id INTEGER NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('single', 'visit')),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER,
        uses INTEGER NOT NULL DEFAULT 0,
        last_used_at INTEGER
    )""",
    "CREATE INDEX IF NOT EXISTS consents_by_subject ON consents (subject_ref, created_at)",
    """CREATE TABLE IF NOT EXISTS consent_attempts (
        department_id INTEGER NOT NULL,
        at REAL NOT NULL
    )""",
    """CREATE INDEX IF NOT EXISTS consent_attempts_by_department
        ON consent_attempts (department_id, at)""",
    # Who read or used a subject's records, for the subject to see; by reference, never by
    # identifier. ``records`` is a JSON array of what was read (hashes, event ids).
    """CREATE TABLE IF NOT EXISTS access_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        subject_ref BLOB NOT NULL,
        action TEXT NOT NULL,
        department_id INTEGER,
        window TEXT NOT NULL DEFAULT '',
        service TEXT,
        records TEXT NOT NULL DEFAULT '[]'
    )""",
    "CREATE INDEX IF NOT EXISTS access_log_by_subject ON access_log (subject_ref, seq)",
    # The access log's batches (ADR 0028): consecutive entries whose Merkle root goes on chain.
    # ``pending`` until the journaled anchoring is confirmed; a failed one is deleted, and its
    # entries go into the next batch. ``batch_id`` is that anchoring's idempotency key.
    """CREATE TABLE IF NOT EXISTS access_log_batches (
        batch_id TEXT PRIMARY KEY,
        first_seq INTEGER NOT NULL UNIQUE,
        last_seq INTEGER NOT NULL,
        root BLOB NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'anchored')),
        op_id TEXT,
        block INTEGER,
        created_at INTEGER NOT NULL,
        CHECK (first_seq <= last_seq)
    )""",
    # The holders of batched certificates (ADR 0026): a batch anchors only its root, so who
    # holds each leaf is kept here, by subject reference, with the leaf's proof.
    """CREATE TABLE IF NOT EXISTS batch_holdings (
        registry TEXT NOT NULL,
        subject_ref BLOB NOT NULL,
        doc_hash BLOB NOT NULL,
        root BLOB NOT NULL,
        proof TEXT NOT NULL,
        block INTEGER NOT NULL,
        PRIMARY KEY (registry, subject_ref, doc_hash)
    )""",
)


def _has_column(connection: sqlite3.Connection, table: str, column: str) -> bool:
    return any(row[1] == column for row in connection.execute(f"PRAGMA table_info({table})"))


def service_lock_path(database: Path) -> Path:
    """The lock file beside the service database ``database``."""
    return database.with_name(database.name + ".lock")


def lock_service_database(database: Path) -> SharedProcessLock:
    """Claim ``database`` for this process's service; ServiceRunningError when another process
    serves it (ADR 0021).

    The database itself stays open to other processes (``ledger token issue`` writes to it
    while the service runs); what one process alone may do is *serve* it: run its write
    journal, recover its unfinished operations and answer for them. The claim is an
    ``flock`` the kernel drops when the process ends, however it ends. The data directory
    must exist (the ledger is open): a lock never creates it.
    """

    def busy(pid: str) -> ServiceRunningError:
        return ServiceRunningError(
            f"another `ledger serve` (pid {pid}) already serves this data directory's "
            "service database; stop it, or give this one its own data directory"
        )

    return SharedProcessLock(service_lock_path(database), busy=busy)


class ServiceDatabase(Closing):
    """A serialized connection to the service database."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.path.exists():
            self.path.touch(mode=0o600)
        try:
            self._connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
            )
        except sqlite3.Error as error:
            raise ServiceDatabaseError(f"cannot open the service database: {error}") from None
        try:
            self._configure()
        except BaseException:
            self._connection.close()
            raise

    def _configure(self) -> None:
        try:
            mode = self._connection.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                raise ServiceDatabaseError("the service database could not be switched to WAL")
            self._connection.execute("PRAGMA synchronous = FULL")
            with self.transaction() as connection:
                version = int(connection.execute("PRAGMA user_version").fetchone()[0])
                if version > _SCHEMA_VERSION:
                    raise ServiceDatabaseError(
                        "the service database was written by a newer version of the ledger"
                    )
                for statement in _SCHEMA:
                    connection.execute(statement)
                columns = {row[1] for row in connection.execute("PRAGMA table_info(operations)")}
                if "result" not in columns:  # journals written before answers were kept
                    connection.execute("ALTER TABLE operations ADD COLUMN result TEXT")
                if not _has_column(connection, "batch_jobs", "holders"):  # before ADR 0026
                    connection.execute("ALTER TABLE batch_jobs ADD COLUMN holders TEXT")
                forget_names = _has_column(connection, "batch_jobs", "names")
                if forget_names:
                    # Batch jobs written before ADR 0016 kept the uploaded file names, which can
                    # carry personal data: drop them with the freed pages zeroed.
                    connection.execute("PRAGMA secure_delete = ON")
                    connection.execute("ALTER TABLE batch_jobs DROP COLUMN names")
                connection.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            if forget_names:
                self._compact()
        except sqlite3.DatabaseError as error:
            raise ServiceDatabaseError(f"the service database is damaged: {error}") from None

    def _compact(self) -> None:
        """Rebuild the file and empty its write-ahead log, so that what was deleted (with
        ``secure_delete`` on) survives in neither: the old pages of a dropped column would
        otherwise stay in the WAL until its next checkpoint. A WAL that another process is
        reading cannot be truncated now; it is overwritten by the next checkpoints."""
        with self._lock:
            self._connection.execute("VACUUM")
            self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction, committed when the block ends normally."""
        with self._lock:
            connection = self._connection
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise ServiceDatabaseError(f"the service database is busy: {error}") from None
            try:
                yield connection
            except sqlite3.Error as error:
                connection.execute("ROLLBACK")
                raise ServiceDatabaseError(f"cannot write the service database: {error}") from None
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            try:
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                raise ServiceDatabaseError(f"cannot write the service database: {error}") from None

    def query(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read statement."""
        with self._lock:
            try:
                return [tuple(row) for row in self._connection.execute(sql, parameters)]
            except sqlite3.Error as error:
                raise ServiceDatabaseError(f"cannot read the service database: {error}") from None

    def close(self) -> None:
        with self._lock:
            self._connection.close()
